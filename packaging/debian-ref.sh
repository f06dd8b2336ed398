#!/bin/bash
# debian-ref.sh: download Debian's current binary packages of the LuaJIT
# flavour we replace on DISTRO (amd64, arm64 and the arch-all one), to compare
# ours against: symbols, exported symbols, control fields, versions.
#
#   debian-ref.sh DISTRO     prints the directory holding the .debs and
#                            versions.txt ("package arch version" per line)
#
# Invariants:
# - Reads Debian's archive through a private apt configuration (lib.sh); the
#   system's apt state is untouched.
# - "Current" means the candidate of DISTRO + -updates + -security; the lists
#   are refreshed when older than PKG_REF_MAX_AGE minutes (default 60), the
#   .debs are downloaded once per version (cached in $PKG_CACHE/debian-ref/DISTRO/).
set -eu
. "$(dirname "$0")/lib.sh"

distro=${1:?usage: debian-ref.sh DISTRO}
conf=$PKG_DIR/distros/$distro.conf
[ -f "$conf" ] || die "no $conf"
UPSTREAM_VERSION=${UPSTREAM_VERSION:-} RECLAIM_VERSION=${RECLAIM_VERSION:-}
. "$conf"
need_tools apt-get apt-cache dpkg-deb

ref=$PKG_CACHE/debian-ref/$distro
private_apt "$ref/apt" "$distro"
if [ -z "$(find "$ref/updated" -mmin "-${PKG_REF_MAX_AGE:-60}" 2>/dev/null)" ]; then
	# shellcheck disable=SC2086
	apt-get -q $APT_OPTS update >"$ref/update.log" 2>&1 ||
		{ cat "$ref/update.log" >&2; die "apt-get update ($distro) failed"; }
	touch "$ref/updated"
fi

mkdir -p "$ref/debs"
: >"$ref/versions.txt.part"
for spec in "$DEB_CLI:amd64" "$DEB_CLI:arm64" "$DEB_LIB:amd64" "$DEB_LIB:arm64" \
	"$DEB_DEV:amd64" "$DEB_DEV:arm64" "$DEB_COMMON:all"; do
	pkg=${spec%%:*} arch=${spec#*:}
	q=$pkg:$arch
	[ "$arch" = all ] && q=$pkg
	# shellcheck disable=SC2086
	ver=$(apt-cache $APT_OPTS policy "$q" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "Debian $distro has no $q"
	echo "$pkg $arch $ver" >>"$ref/versions.txt.part"
	file=$ref/debs/${pkg}_${ver#*:}_$arch.deb
	[ -f "$file" ] && continue
	# shellcheck disable=SC2086
	(cd "$ref/debs" && apt-get -q $APT_OPTS download "$q=$ver" >"$ref/download.log" 2>&1) ||
		{ cat "$ref/download.log" >&2; die "apt-get download $q=$ver failed"; }
	[ -f "$file" ] || die "apt-get download did not produce $file"
done
mv "$ref/versions.txt.part" "$ref/versions.txt"
echo "$ref"
