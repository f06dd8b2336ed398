#!/bin/bash
# rootfs.sh: the root filesystem of one image (a tar), from the cache or built
# with mmdebstrap; prints the path prefix P of P.rootfs.tar (the image layer),
# P.plain.tar (the plain slim Debian rootfs of the same run: the size
# reference) and P.env (VERSION=<our library package's version>, PACKAGES=
# "name=version ..." of every package of ours installed).
#
#   rootfs.sh DISTRO ARCH               cached in $PKG_CACHE/images/
#   rootfs.sh --fresh DISTRO ARCH DIR   built now, whatever the cache holds, into DIR
#
# Environment: IMG_REPO (our apt repository, build/apt-repo), SOURCE_DATE_EPOCH,
# optional IMAGES_STAMP (default YYYYMM), IMAGES_DEBIAN_URI/IMAGES_SECURITY_URI.
#
# The build: mmdebstrap --variant=minbase --mode=root with the merged-usr hook,
# dpkg path-excludes like debian:*-slim (kept in the image, so a derived
# image's apt-get install stays slim too), Debian's DISTRO, -updates and
# -security as sources, and docker/rootfs-hook.sh as customize hook (slimify,
# plain tar, our packages, user luajit). Our packages are installed inside
# this mmdebstrap run. The plain rootfs comes from the same run, tarred right
# before our install and after the same slimify the image gets, so it is the
# slim Debian system built exactly the same way (not an older or differently
# built one), and the size difference is what our install adds; building it
# separately would double the cold time (the arm64 runs take minutes).
#
# Cache invariants:
# - The key hashes everything that determines the tar: distro, arch,
#   SOURCE_DATE_EPOCH, the sources, this script, the hook, install-runtime.sh,
#   the library functions it uses (their text, not the whole lib.sh), the
#   mmdebstrap version, the sha256 of each of our .debs installed, the archive's Packages.xz hashes for DISTRO/ARCH (mirror_state)
#   and the month. Our LuaJIT .debs are bit-identical when rebuilt from the
#   same inputs (checked: make debs twice, cmp), so keying on their sha256
#   does not miss on a rebuild; the keyring .deb changes with the signing key
#   (one per build/ tree), and then the image really differs.
# - Files are written under .part names and renamed when complete (the
#   rootfs tar last: its presence marks a complete entry); older entries of
#   the same distro and arch are removed then.
# - mmdebstrap's temporary root is a private tmpfs, readable by _apt.
set -eu
. "$(dirname "$0")/lib.sh"

fresh=
if [ "${1:-}" = --fresh ]; then fresh=1; shift; fi
distro=${1:?usage: rootfs.sh [--fresh] DISTRO ARCH [DIR]}
arch=${2:?usage: rootfs.sh [--fresh] DISTRO ARCH [DIR]}
: "${IMG_REPO:?}" "${SOURCE_DATE_EPOCH:?}"
export SOURCE_DATE_EPOCH
case "$arch" in amd64|arm64) ;; *) die "unknown arch '$arch' (amd64 or arm64)" ;; esac
need mmdebstrap sha256sum:coreutils tar dpkg-deb:dpkg chroot:coreutils
need_root "mmdebstrap runs in root mode"
private_mounts "images-rootfs-$distro-$arch" "$0" ${fresh:+--fresh} "$@"
image_distro_conf "$distro"
[ -d "$IMG_REPO/dists/$distro" ] || die "no $IMG_REPO/dists/$distro (run make apt-repo)"

debs=$(image_debs "$IMG_REPO" "$distro" "$arch")
versions=''
for deb in $debs; do
	p=$(deb_field "$deb" Package)
	versions="$versions $p=$(deb_field "$deb" Version)"
done
version=$(deb_field "$(echo "$debs" | sed -n 2p)" Version)   # the library's

mapfile -t sources < <(image_sources "$distro")
# shellcheck disable=SC2054 # commas are mmdebstrap's list separators
args=(--mode=root --variant=minbase --format=tar --architectures="$arch"
	--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/groff/*'
	--dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/lintian/*'
	--dpkgopt='path-exclude=/usr/share/linda/*' --dpkgopt='path-exclude=/usr/share/locale/*'
	--dpkgopt='path-include=/usr/share/locale/locale.alias'
	--customize-hook="$IMG_DIR/rootfs-hook.sh \"\$1\"")

if [ -n "$fresh" ]; then
	dir=${3:?usage: rootfs.sh --fresh DISTRO ARCH DIR}
	mkdir -p "$dir"
	prefix=$(cd "$dir" && pwd)/$distro-$arch
else
	key=$( {
		printf '%s\n' "$distro" "$arch" "$SOURCE_DATE_EPOCH" "${IMAGES_STAMP:-$(date +%Y%m)}" \
			"${args[@]}" "${sources[@]}" "$(mmdebstrap --version)"
		cat "$0" "$IMG_DIR/rootfs-hook.sh" "$IMG_DIR/install-runtime.sh"
		declare -f image_distro_conf image_debs image_sources apt_archive_uri
		# shellcheck disable=SC2086
		sha256sum $debs | awk '{ print $1 }'
		mirror_state "$distro" "$arch"
	} | sha256sum | cut -c1-16)
	dir=$PKG_CACHE/images
	mkdir -p "$dir"
	prefix=$dir/$distro-$arch-$key
	if [ -f "$prefix.rootfs.tar" ] && [ -f "$prefix.plain.tar" ] && [ -f "$prefix.env" ]; then
		say "rootfs $distro/$arch: cached ($prefix.rootfs.tar)"
		echo "$prefix"
		exit 0
	fi
fi

# World-readable (mode 0755 under /tmp): mmdebstrap lets apt drop to the _apt
# user only when _apt can read the new root; otherwise apt runs as root and
# /var/{lib/apt/lists,cache/apt/archives}/partial end up owned by root, i.e.
# the image would depend on where it was built (found by the reproducibility
# test: a build under /root/.cache differed from one under build/).
tmp=$(mktemp -d /tmp/luajit-reclaim-rootfs.XXXXXX)
at_exit 'umount -l "$tmp" 2>/dev/null; rmdir "$tmp"; rm -f "$prefix".*.part'
mount -t tmpfs -o size="${PKG_TMPFS_SIZE:-6g}",mode=0755 tmpfs "$tmp"
export TMPDIR=$tmp
log=$prefix.log
say "rootfs $distro/$arch: building with mmdebstrap (log: $log)"
start=$(date +%s)
if ! IMG_REPO=$IMG_REPO IMG_VERSIONS=$versions IMG_UID=$IMG_UID \
	IMG_PLAIN_OUT=$prefix.plain.tar.part \
	mmdebstrap "${args[@]}" "$distro" "$prefix.rootfs.tar.part" "${sources[@]}" >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	die "mmdebstrap failed for $distro/$arch (log: $log)"
fi
printf 'VERSION=%q\nPACKAGES=%q\n' "$version" "${versions# }" >"$prefix.env.part"
mv "$prefix.plain.tar.part" "$prefix.plain.tar"
mv "$prefix.env.part" "$prefix.env"
mv "$prefix.rootfs.tar.part" "$prefix.rootfs.tar"
if [ -z "$fresh" ]; then
	find "$dir" -maxdepth 1 -name "$distro-$arch-*" ! -name "$(basename "$prefix").*" -delete
fi
say "rootfs $distro/$arch: built in $(( $(date +%s) - start ))s"
echo "$prefix"
