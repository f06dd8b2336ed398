#!/bin/bash
# compare-debian.sh: compare our built .debs of DISTRO with Debian's current
# packages of the same names (no chroot needed).
#
#   compare-debian.sh DISTRO PKG_OUT
#
# Checks, each printing "ok: ..." or failing with "FAIL: ...":
# - versions: each of our packages sorts above Debian's current version
#   (dpkg --compare-versions), and the pin-free upgrade path exists;
# - exports: nm -D of our libluajit-5.1.so.2 is a superset of Debian's, per arch;
# - symbols files: ours is a superset of Debian's (symbols-check.sh), and the
#   check itself rejects a symbols file with one of Debian's symbols removed;
# - control: Package, Multi-Arch, Conflicts, Replaces and Provides equal Debian's;
#   Depends and Pre-Depends name no package Debian's do not name (apt-get
#   upgrade installs no new package: one would hold ours back);
# - files: Debian's file list is contained in ours, after normalizing the two
#   names that move with the upstream version (the library's real file name
#   and, on bookworm, /usr/share/luajit-2.1.0-beta3 -> /usr/share/luajit-2.1);
#   lintian override files are not payload and are left out (ours carry only
#   the overrides lintian actually needs for our packages); files listed in
#   DEB_FILES_NOT_SHIPPED of distros/DISTRO.conf are reported, not failed.
set -eu
. "$(dirname "$0")/../lib.sh"

distro=${1:?usage: compare-debian.sh DISTRO PKG_OUT}
out=${2:?usage: compare-debian.sh DISTRO PKG_OUT}/$distro
: "${RECLAIM_VERSION:?}" "${UPSTREAM_VERSION:?}"
# shellcheck source=distros/trixie.conf
. "$PKG_DIR/distros/$distro.conf"
need dpkg-deb:dpkg nm:binutils
ref=$("$PKG_DIR/debian-ref.sh" "$distro")
tmp=$(mktemp -d)
at_exit 'rm -rf "$tmp"'
fail() { echo "FAIL [$distro]: $*" >&2; exit 1; }
ok() { echo "ok [$distro]: $*"; }

# ours PKG ARCH / debian PKG ARCH: the .deb files.
ours() { ls "$out/${1}_${DEB_VERSION#*:}_$2.deb" 2>/dev/null || fail "no $1 $2 in $out (run make debs)"; }
debian() {
	local v
	v=$(awk -v p="$1" -v a="$2" '$1 == p && $2 == a { print $3 }' "$ref/versions.txt")
	[ -n "$v" ] || fail "no Debian version of $1 $2"
	echo "$ref/debs/${1}_${v#*:}_$2.deb"
}

# versions
while read -r pkg arch dver; do
	over=$(dpkg-deb -f "$(ours "$pkg" "$arch")" Version)
	dpkg --compare-versions "$over" gt "$dver" || fail "$pkg $arch: ours $over is not above Debian's $dver"
	ok "$pkg:$arch $over > Debian's $dver"
done <"$ref/versions.txt"

# exported symbols
for arch in amd64 arm64; do
	for side in ours debian; do
		mkdir -p "$tmp/$side-$arch"
		dpkg-deb -x "$($side "$DEB_LIB" "$arch")" "$tmp/$side-$arch"
		lib=$(ls "$tmp/$side-$arch"/usr/lib/*/libluajit-5.1.so.2)
		nm -D --defined-only "$lib" | awk '{ print $NF }' | sort -u >"$tmp/$side-$arch.syms"
	done
	missing=$(comm -23 "$tmp/debian-$arch.syms" "$tmp/ours-$arch.syms")
	[ -z "$missing" ] || fail "$arch: exports of Debian's library missing from ours: $missing"
	ok "$arch: nm -D: ours exports all $(wc -l <"$tmp/debian-$arch.syms") of Debian's symbols, plus: $(comm -13 "$tmp/debian-$arch.syms" "$tmp/ours-$arch.syms" | tr '\n' ' ')"
done

# symbols files (and a check that the check can fail)
PKG_MAINTAINER=${PKG_MAINTAINER:-x <x@x.invalid>} PKG_DATE=${PKG_DATE:-$(date -R)} \
	"$PKG_DIR/debian-dir.sh" "$distro" "$tmp/tree"
"$PKG_DIR/symbols-check.sh" "$tmp/tree/debian/$DEB_LIB.symbols" "$ref" "$distro"
grep -v '^ lua_setexdata@Base' "$tmp/tree/debian/$DEB_LIB.symbols" >"$tmp/broken.symbols"
if "$PKG_DIR/symbols-check.sh" "$tmp/broken.symbols" "$ref" "$distro" >/dev/null 2>&1; then
	fail "symbols-check.sh accepted a symbols file without lua_setexdata"
fi
ok "symbols file is a superset of Debian's; a file missing lua_setexdata is rejected"

# control fields
for spec in "$DEB_CLI amd64" "$DEB_CLI arm64" "$DEB_LIB amd64" "$DEB_LIB arm64" \
	"$DEB_DEV amd64" "$DEB_DEV arm64" "$DEB_COMMON all"; do
	set -- $spec
	for field in Package Multi-Arch Conflicts Replaces Provides Section; do
		o=$(dpkg-deb -f "$(ours "$1" "$2")" "$field")
		d=$(dpkg-deb -f "$(debian "$1" "$2")" "$field")
		[ "$o" = "$d" ] || fail "$1 $2: $field is '$o', Debian's is '$d'"
	done
done
ok "Package, Multi-Arch, Conflicts, Replaces, Provides and Section equal Debian's"

# dep_names DEB: the package names in DEB's Depends and Pre-Depends, one a line.
dep_names() {
	{ dpkg-deb -f "$1" Depends; dpkg-deb -f "$1" Pre-Depends; } | sed 's/[,|]/\n/g' |
		sed -e 's/[[:space:]]*(.*//' -e 's/^[[:space:]]*//' -e 's/:any$//' | grep -v '^$' | sort -u
}
for spec in "$DEB_CLI amd64" "$DEB_CLI arm64" "$DEB_LIB amd64" "$DEB_LIB arm64" \
	"$DEB_DEV amd64" "$DEB_DEV arm64" "$DEB_COMMON all"; do
	set -- $spec
	new=$(comm -23 <(dep_names "$(ours "$1" "$2")") <(dep_names "$(debian "$1" "$2")") | tr '\n' ' ')
	[ -z "$new" ] || fail "$1 $2: Depends names $new which Debian's does not: apt-get upgrade would keep ours back where it is not installed (make it a Recommends)"
done
ok "Depends and Pre-Depends name only packages Debian's name (apt-get upgrade needs no new package)"

# file lists
normalize() {
	dpkg-deb -c "$1" | awk '{ print $6 }' | sed -e 's|/$||' \
		-e 's|libluajit-5\.1\.so\.2\.1\.[0-9]*$|libluajit-5.1.so.2.1.REL|' \
		-e 's|/usr/share/luajit-2\.1\.0-beta3|/usr/share/luajit-2.1|' | grep -v '^\./usr/share/lintian' | sort -u
}
for spec in "$DEB_CLI amd64" "$DEB_CLI arm64" "$DEB_LIB amd64" "$DEB_LIB arm64" \
	"$DEB_DEV amd64" "$DEB_DEV arm64" "$DEB_COMMON all"; do
	set -- $spec
	normalize "$(ours "$1" "$2")" >"$tmp/o.files"
	normalize "$(debian "$1" "$2")" >"$tmp/d.files"
	missing=$(comm -23 "$tmp/d.files" "$tmp/o.files")
	known=
	for f in $missing; do
		case " $DEB_FILES_NOT_SHIPPED " in
		*" $f "*) known="$known $f" ;;
		*) fail "$1 $2: Debian's package has $f, ours does not" ;;
		esac
	done
	[ -z "$known" ] || echo "note [$distro]: $1 $2: not shipped (distros/$distro.conf explains):$known"
	extra=$(comm -13 "$tmp/d.files" "$tmp/o.files" | tr '\n' ' ')
	ok "$1 $2: ours has the $(wc -l <"$tmp/d.files") paths of Debian's package${known:+ except the ones noted}${extra:+; ours adds: $extra}"
done
