#!/bin/bash
# debian-dir.sh: write the debian/ directory for one distro into a source tree.
#
#   debian-dir.sh DISTRO TREE
#
# The files in packaging/debian/ are shared by all distros; role-named files
# (cli.*, lib.*, common.*, dev.*, and distros/DISTRO.<role>.* for one distro
# only) become the package-named files debhelper reads, and @NAME@ in *.in files is replaced by the value of NAME from
# distros/DISTRO.conf or the environment (RECLAIM_VERSION, UPSTREAM_VERSION,
# PKG_MAINTAINER, PKG_DATE).
#
# Invariants: TREE/debian is recreated from scratch; an @NAME@ left without a
# value stops the script (no half-filled control files).
set -eu
. "$(dirname "$0")/lib.sh"

distro=${1:?usage: debian-dir.sh DISTRO TREE}
tree=${2:?usage: debian-dir.sh DISTRO TREE}
: "${RECLAIM_VERSION:?}" "${UPSTREAM_VERSION:?}" "${PKG_MAINTAINER:?}" "${PKG_DATE:?}"
conf=$PKG_DIR/distros/$distro.conf
[ -f "$conf" ] || die "no $conf"
# shellcheck source=distros/trixie.conf
. "$conf"
# shellcheck disable=SC2034 # read by fill_template through @DISTRO@
DISTRO=$distro
src=$PKG_DIR/debian
out=$tree/debian

# package_of ROLE: the package name of a role (cli, lib, common, dev).
package_of() {
	case "$1" in
	cli) echo "$DEB_CLI" ;;
	lib) echo "$DEB_LIB" ;;
	common) echo "$DEB_COMMON" ;;
	dev) echo "$DEB_DEV" ;;
	*) die "unknown role '$1'" ;;
	esac
}

rm -rf "$out"
mkdir -p "$out/source" "$out/patches"
cp "$src/rules" "$src/copyright" "$out/"
cp "$src/source/format" "$out/source/"
cp "$src/patches/"* "$out/patches/"
fill_template "$src/control.in" >"$out/control"
fill_template "$src/changelog.in" >"$out/changelog"
for f in "$src"/cli.* "$src"/lib.* "$src"/common.* "$src"/dev.* "$PKG_DIR/distros/$distro".*.*; do
	[ -f "$f" ] || continue
	base=$(basename "$f")
	base=${base#"$distro".}
	role=${base%%.*} rest=${base#*.}
	case "$rest" in
	*.in) fill_template "$f" >"$out/$(package_of "$role").${rest%.in}" ;;
	*) cp "$f" "$out/$(package_of "$role").$rest" ;;
	esac
done
