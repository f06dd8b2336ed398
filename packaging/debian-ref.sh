#!/bin/bash
# debian-ref.sh: download Debian's current binary packages of the LuaJIT
# flavour we replace on DISTRO (amd64, arm64 and the arch-all one), to compare
# ours against: symbols, exported symbols, control fields, versions.
#
#   debian-ref.sh DISTRO     prints the directory holding the .debs and
#                            versions.txt ("package arch version" per line)
#
# Invariants:
# - Reads Debian's archive through a private apt configuration (apt_private of
#   lib/shell.sh); the system's apt state is untouched.
# - "Current" means the candidate of DISTRO + -updates + -security; the lists
#   are refreshed when older than PKG_REF_MAX_AGE minutes (default 60), the
#   .debs are downloaded once per version (cached in $PKG_CACHE/debian-ref/DISTRO/).
set -eu
. "$(dirname "$0")/lib.sh"

distro=${1:?usage: debian-ref.sh DISTRO}
conf=$PKG_DIR/distros/$distro.conf
[ -f "$conf" ] || die "no $conf"
UPSTREAM_VERSION=${UPSTREAM_VERSION:-} RECLAIM_VERSION=${RECLAIM_VERSION:-}
# shellcheck source=distros/trixie.conf
. "$conf"
need apt-get:apt apt-cache:apt dpkg-deb:dpkg

ref=$PKG_CACHE/debian-ref/$distro
apt_private "$ref/apt" amd64 arm64
apt_debian_sources "$distro" amd64 arm64 >"$ref/apt/sources.list.d/debian.sources"
if [ -z "$(find "$ref/updated" -mmin "-${PKG_REF_MAX_AGE:-60}" 2>/dev/null)" ]; then
	apt-get -q "${APT_OPTS[@]}" update >"$ref/update.log" 2>&1 ||
		{ cat "$ref/update.log" >&2; die "apt-get update ($distro) failed"; }
	touch "$ref/updated"
fi

mkdir -p "$ref/debs"
specs="$DEB_CLI:amd64 $DEB_CLI:arm64 $DEB_LIB:amd64 $DEB_LIB:arm64 $DEB_DEV:amd64 $DEB_DEV:arm64 $DEB_COMMON:all"
queries=()
for spec in $specs; do queries+=("${spec%:all}"); done
# One apt-cache call for all candidates ("pkg:arch:" header, then "Candidate:").
apt-cache "${APT_OPTS[@]}" policy "${queries[@]}" >"$ref/policy.txt" 2>&1 ||
	{ cat "$ref/policy.txt" >&2; die "apt-cache policy failed"; }
: >"$ref/versions.txt.part"
for spec in $specs; do
	pkg=${spec%%:*} arch=${spec#*:}
	q=$pkg:$arch
	[ "$arch" = all ] && q=$pkg
	# amd64 is the native architecture of the private config: its header has no ":amd64".
	ver=$(awk -v q="$q:" -v p="$pkg:" -v a="$arch" '
		$0 == q || ($0 == p && (a == "amd64" || a == "all")) { f = 1; next }
		/^[^ ]/ { f = 0 }
		f && $1 == "Candidate:" { print $2 }' "$ref/policy.txt")
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "Debian $distro has no $q"
	echo "$pkg $arch $ver" >>"$ref/versions.txt.part"
	file=$ref/debs/${pkg}_${ver#*:}_$arch.deb
	[ -f "$file" ] && continue
	(cd "$ref/debs" && apt-get -q "${APT_OPTS[@]}" download "$q=$ver" >"$ref/download.log" 2>&1) ||
		{ cat "$ref/download.log" >&2; die "apt-get download $q=$ver failed"; }
	[ -f "$file" ] || die "apt-get download did not produce $file"
done
mv "$ref/versions.txt.part" "$ref/versions.txt"
echo "$ref"
