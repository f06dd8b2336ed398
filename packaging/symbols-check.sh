#!/bin/bash
# symbols-check.sh: check that our symbols file is a superset of Debian's.
#
#   symbols-check.sh OUR_SYMBOLS DEBIAN_REF_DIR DISTRO
#
# OUR_SYMBOLS is our instantiated debian/<lib>.symbols (arch tags unresolved);
# DEBIAN_REF_DIR comes from debian-ref.sh. For amd64 and arm64, Debian's
# DEBIAN/symbols of its library package is compared with ours resolved for
# that architecture.
#
# Invariants: fails (naming each problem) when Debian's header line or
# Build-Depends-Package line differs from ours, or when any symbol of Debian's
# is missing from ours or has another minimum version. Extra symbols in ours
# are allowed (they are our additions) and counted.
set -eu
. "$(dirname "$0")/lib.sh"

ours=${1:?usage: symbols-check.sh OUR_SYMBOLS DEBIAN_REF_DIR DISTRO}
ref=${2:?usage: symbols-check.sh OUR_SYMBOLS DEBIAN_REF_DIR DISTRO}
distro=${3:?usage: symbols-check.sh OUR_SYMBOLS DEBIAN_REF_DIR DISTRO}
UPSTREAM_VERSION=${UPSTREAM_VERSION:-} RECLAIM_VERSION=${RECLAIM_VERSION:-}
# shellcheck source=distros/trixie.conf
. "$PKG_DIR/distros/$distro.conf"
tmp=$(mktemp -d)
at_exit 'rm -rf "$tmp"'
bad=0

for arch in amd64 arm64; do
	ver=$(awk -v p="$DEB_LIB" -v a="$arch" '$1 == p && $2 == a { print $3 }' "$ref/versions.txt")
	[ -n "$ver" ] || die "$ref/versions.txt has no $DEB_LIB $arch"
	dpkg-deb --ctrl-tarfile "$ref/debs/${DEB_LIB}_${ver}_$arch.deb" |
		tar -xO ./symbols >"$tmp/debian" || die "no symbols file in Debian's $DEB_LIB $ver $arch"
	# Ours for this arch: comments dropped, other arches' symbols dropped, tags removed.
	awk -v a="$arch" '
		/^#/ { next }
		/^ \(arch=/ {
			tag = $1; sub(/^\(arch=/, "", tag); sub(/\).*/, "", tag)
			if ((" " tag " ") !~ (" " a " ")) next
			sub(/\(arch=[^)]*\)/, "")
		}
		{ print }' "$ours" >"$tmp/ours"
	for n in 1 2; do
		d=$(sed -n "${n}p" "$tmp/debian") o=$(sed -n "${n}p" "$tmp/ours")
		if [ "$d" != "$o" ]; then
			echo "symbols-check: $distro $arch: line $n differs: Debian '$d', ours '$o'" >&2
			bad=1
		fi
	done
	missing=$(sed 1,2d "$tmp/debian" | awk '{ print $1, $2 }' | sort >"$tmp/d.list"
		sed 1,2d "$tmp/ours" | awk '{ print $1, $2 }' | sort >"$tmp/o.list"
		comm -23 "$tmp/d.list" "$tmp/o.list")
	if [ -n "$missing" ]; then
		echo "symbols-check: $distro $arch: Debian's symbols missing from ours or with another version:" >&2
		echo "$missing" | sed 's/^/  /' >&2
		bad=1
	fi
	say "symbols $distro $arch: Debian $(wc -l <"$tmp/d.list"), ours $(wc -l <"$tmp/o.list"), ours only: $(comm -13 "$tmp/d.list" "$tmp/o.list" | awk '{ printf "%s%s", sep, $1; sep = " " }')"
done
[ "$bad" = 0 ] || die "our symbols file is not a superset of Debian's ($distro)"
