#!/bin/bash
# source.sh: write the source tree of luajit-reclaim-archive-keyring for DISTRO.
#
#   keyring/source.sh DISTRO DEST
#
# Environment: PKG_KEYRING (the repository's public key, binary OpenPGP, as
# apt's Signed-By wants it), PKG_APT_URI, RECLAIM_VERSION, PKG_MAINTAINER,
# PKG_DATE.
#
# Invariants: DEST is recreated; the version is RECLAIM_VERSION~debNNu1 (NN
# from the distro), so each suite has its own file name and a dist-upgrade
# from bookworm to trixie replaces the package; the .sources names DISTRO.
set -eu
. "$(dirname "$0")/../lib.sh"

distro=${1:?usage: keyring/source.sh DISTRO DEST}
dest=${2:?usage: keyring/source.sh DISTRO DEST}
: "${PKG_KEYRING:?}" "${PKG_APT_URI:?}" "${RECLAIM_VERSION:?}" "${PKG_MAINTAINER:?}" "${PKG_DATE:?}"
UPSTREAM_VERSION=${UPSTREAM_VERSION:-}
# shellcheck source=distros/trixie.conf
. "$PKG_DIR/distros/$distro.conf"
[ -s "$PKG_KEYRING" ] || die "no public key at $PKG_KEYRING"
case "$distro" in bookworm) n=12 ;; trixie) n=13 ;; *) die "unknown distro '$distro'" ;; esac
# shellcheck disable=SC2034 # read by fill_template through @DISTRO@ and @KEYRING_VERSION@
DISTRO=$distro
# shellcheck disable=SC2034
KEYRING_VERSION=$RECLAIM_VERSION~deb${n}u1
src=$PKG_DIR/keyring

rm -rf "$dest"
mkdir -p "$dest/debian/source"
cp "$src/debian/rules" "$src/debian/install" "$src/debian/copyright" \
	"$src/debian/lintian-overrides" "$dest/debian/"
cp "$src/debian/source/format" "$dest/debian/source/"
fill_template "$src/debian/control.in" >"$dest/debian/control"
fill_template "$src/debian/changelog.in" >"$dest/debian/changelog"
fill_template "$src/luajit-reclaim.sources.in" >"$dest/luajit-reclaim.sources"
cp "$src/luajit-reclaim.pref" "$dest/"
cp "$PKG_KEYRING" "$dest/luajit-reclaim-archive-keyring.gpg"
