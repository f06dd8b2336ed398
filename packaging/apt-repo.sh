#!/bin/bash
# apt-repo.sh: assemble and sign the apt repository from the built .debs.
#
#   apt-repo.sh PKG_OUT REPO_DIR DISTRO...
#
# Layout: pool/DISTRO/main/l/SOURCE/*.deb, dists/DISTRO/main/binary-{amd64,arm64}/
# Packages(.gz), dists/DISTRO/{Release,InRelease,Release.gpg}, plus the public
# key (luajit-reclaim-archive-keyring.gpg, binary, for Signed-By; .asc armored).
# Signing key: PKG_OUT/signing/env (signing-key.sh).
#
# Invariants:
# - Rebuilt from scratch every time (apt-ftparchive, no database), written
#   next to REPO_DIR and swapped in only when complete and verified.
# - Release carries Origin/Label "luajit-reclaim" (what the apt pin matches),
#   Suite = Codename = DISTRO, Components main, Architectures amd64 arm64.
# - InRelease and Release.gpg are verified with gpgv against the exported
#   public key before the repository is swapped in.
# - -dbgsym packages are not published (they stay in PKG_OUT).
set -eu
. "$(dirname "$0")/lib.sh"

out=${1:?usage: apt-repo.sh PKG_OUT REPO_DIR DISTRO...}
repo=${2:?usage: apt-repo.sh PKG_OUT REPO_DIR DISTRO...}
shift 2
[ $# -gt 0 ] || die "no distro given"
need apt-ftparchive:apt-utils gpg:gnupg gpgv gzip
[ -f "$out/signing/env" ] || die "no signing key ($out/signing/env): run signing-key.sh"
. "$out/signing/env"
export GNUPGHOME

new=$repo.new
rm -rf "$new"
mkdir -p "$new"
cp "$out/signing/luajit-reclaim-archive-keyring.gpg" "$out/signing/luajit-reclaim.asc" "$new/"

for distro in "$@"; do
	ls "$out/$distro"/*.deb >/dev/null 2>&1 || die "no .debs in $out/$distro (run make debs)"
	for deb in "$out/$distro"/*.deb; do
		case "$deb" in *-dbgsym_*) continue ;; esac
		src=$(dpkg-deb -f "$deb" Source | awk '{ print $1 }')
		[ -n "$src" ] || src=$(dpkg-deb -f "$deb" Package)
		mkdir -p "$new/pool/$distro/main/${src:0:1}/$src"
		cp "$deb" "$new/pool/$distro/main/${src:0:1}/$src/"
	done
	for arch in amd64 arm64; do
		d=$new/dists/$distro/main/binary-$arch
		mkdir -p "$d"
		(cd "$new" && apt-ftparchive --arch "$arch" packages "pool/$distro") >"$d/Packages"
		grep -q "^Architecture: $arch" "$d/Packages" || die "$distro: no $arch packages"
		gzip -9nk "$d/Packages"
	done
	(cd "$new" && apt-ftparchive \
		-o APT::FTPArchive::Release::Origin=luajit-reclaim \
		-o APT::FTPArchive::Release::Label=luajit-reclaim \
		-o APT::FTPArchive::Release::Suite="$distro" \
		-o APT::FTPArchive::Release::Codename="$distro" \
		-o APT::FTPArchive::Release::Architectures="amd64 arm64" \
		-o APT::FTPArchive::Release::Components=main \
		-o APT::FTPArchive::Release::Description="luajit-reclaim: OpenResty's LuaJIT that returns freed memory to the OS ($distro)" \
		release "dists/$distro") >"$new/Release-$distro.tmp"
	mv "$new/Release-$distro.tmp" "$new/dists/$distro/Release"
	rel=$new/dists/$distro/Release
	gpg --batch --yes --quiet --local-user "$PKG_SIGNING_FPR" --clearsign -o "${rel%Release}InRelease" "$rel"
	gpg --batch --yes --quiet --local-user "$PKG_SIGNING_FPR" --detach-sign -o "$rel.gpg" "$rel"
	gpgv --quiet --keyring "$new/luajit-reclaim-archive-keyring.gpg" "${rel%Release}InRelease" 2>/dev/null ||
		die "$distro: InRelease does not verify"
	gpgv --quiet --keyring "$new/luajit-reclaim-archive-keyring.gpg" "$rel.gpg" "$rel" 2>/dev/null ||
		die "$distro: Release.gpg does not verify"
	say "apt repo: $distro: $(grep -c '^Package:' "$new/dists/$distro/main/binary-amd64/Packages") packages (amd64), $(grep -c '^Package:' "$new/dists/$distro/main/binary-arm64/Packages") (arm64), signed by $PKG_SIGNING_FPR"
done

rm -rf "$repo"
mv "$new" "$repo"
