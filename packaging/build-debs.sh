#!/bin/bash
# build-debs.sh: build our .debs for one distro: the four LuaJIT packages for
# amd64 (native) and arm64 (cross-built), plus the archive keyring package.
#
#   build-debs.sh DISTRO
#
# Environment (from packaging.mk): TARBALL, RECLAIM_VERSION, UPSTREAM_VERSION,
# PKG_MAINTAINER, PKG_DATE, PKG_OUT (output root), PKG_ARCHES (default
# "amd64 arm64"), PKG_KEYRING (public key file for the keyring package),
# PKG_APT_URI (the repository URI the keyring package's .sources names), JOBS.
#
# Steps (each timed): Debian's reference packages -> symbols superset check ->
# cached multiarch build chroot (mmdebstrap) -> source tree from
# runtime/prepare-tree.sh + our debian/ -> dpkg-buildpackage per arch ->
# lintian (errors fail) -> results to $PKG_OUT/DISTRO/.
#
# Invariants:
# - Builds happen inside a fresh copy of the distro's chroot, so the packages
#   are built against that distro (compiler, libc, debhelper, lintian).
# - The output directory holds exactly one build's files: it is replaced only
#   after every step succeeded.
# - The chroot copy lives on a tmpfs in a private mount namespace: it is gone
#   when the script ends, however it ends, and costs no disk writes.
set -eu
. "$(dirname "$0")/lib.sh"

distro=${1:?usage: build-debs.sh DISTRO}
: "${TARBALL:?}" "${RECLAIM_VERSION:?}" "${UPSTREAM_VERSION:?}" "${PKG_OUT:?}"
: "${PKG_KEYRING:?}" "${PKG_APT_URI:?}"
export RECLAIM_VERSION UPSTREAM_VERSION
export PKG_MAINTAINER=${PKG_MAINTAINER:-luajit-reclaim developers <packaging@luajit-reclaim.invalid>}
export PKG_DATE=${PKG_DATE:-$(date -R)}
arches=${PKG_ARCHES:-amd64 arm64}
jobs=${JOBS:-2}
# shellcheck source=distros/trixie.conf
. "$PKG_DIR/distros/$distro.conf"
need unshare:util-linux chroot:coreutils tar dpkg-deb:dpkg
need_root "builds run in mmdebstrap chroots with private mounts"
case " $arches " in *" amd64 "*) ;; *) die "PKG_ARCHES must include amd64 (it builds the arch-all package)" ;; esac

work=$PKG_TOP/build/packages/work/$distro
root=$work/root
mkdir -p "$work"
private_mounts build-debs "$0" "$@"
mount -t tmpfs -o size="${PKG_TMPFS_SIZE:-6g}" tmpfs "$work"
upstream=${DEB_VERSION%-*}
tree_in_root=/build/$DEB_SOURCE-${upstream#*:}
tree=$root$tree_in_root
start=$(date +%s)

ref=$(step "$distro: Debian's packages" "$PKG_DIR/debian-ref.sh" "$distro")
chroot_tar=$(step "$distro: build chroot" "$PKG_DIR/chroots.sh" build "$distro")
step "$distro: unpack chroot" chroot_unpack "$chroot_tar" "$root"

prepare() {
	"$PKG_TOP/runtime/prepare-tree.sh" "$TARBALL" "$tree"
	"$PKG_DIR/debian-dir.sh" "$distro" "$tree"
	"$PKG_DIR/symbols-check.sh" "$tree/debian/$DEB_LIB.symbols" "$ref" "$distro"
	"$PKG_DIR/keyring/source.sh" "$distro" "$root/build/keyring"
}
step "$distro: source tree" prepare

# chroot_build DIR CMD CHANGES NAME: run the build command CMD in DIR inside
# the chroot, then lintian on CHANGES as an unprivileged user; any lintian
# error fails, everything else it says is shown. Logs: /build/*-NAME.log.
chroot_build() {
	in_chroot "$root" /bin/sh -euc '
		cd "$1"
		sh -c "$2" >"/build/build-$4.log" 2>&1 || { tail -n 60 "/build/build-$4.log"; exit 1; }
		chmod -R a+rX /build
		runuser -u nobody -- env HOME=/tmp lintian --fail-on error --display-info \
			--tag-display-limit 0 $3 >"/build/lintian-$4.log" 2>&1 ||
			{ cat "/build/lintian-$4.log"; echo "lintian found errors (above)"; exit 1; }
		sed "s/^/  lintian: /" "/build/lintian-$4.log"
	' chroot_build "$@"
}

# build_arch ARCH: the LuaJIT packages for ARCH (amd64 also builds the arch-all one).
build_arch() {
	local arch=$1 cmd
	if [ "$arch" = amd64 ]; then
		cmd="dpkg-buildpackage -b -uc -us -j$jobs"
	else
		cmd="DEB_BUILD_PROFILES='cross nocheck' DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -a $arch -B -uc -us -j$jobs"
	fi
	chroot_build "$tree_in_root" "$cmd" "/build/${DEB_SOURCE}_${DEB_VERSION#*:}_$arch.changes" "$arch"
}
for arch in $arches; do
	step "$distro: build $arch" build_arch "$arch"
done

build_keyring() {
	chroot_build /build/keyring "dpkg-buildpackage -b -uc -us" "/build/luajit-reclaim-archive-keyring_*.changes" keyring
}
step "$distro: keyring package" build_keyring

collect() {
	local out=$PKG_OUT/$distro
	rm -rf "$out.new"
	mkdir -p "$out.new/logs"
	cp "$root"/build/*.deb "$out.new/"
	cp "$root"/build/*.changes "$root"/build/*.buildinfo "$root"/build/*.log "$out.new/logs/"
	rm -rf "$out"
	mv "$out.new" "$out"
	find "$out" -name '*.deb' | sort | sed "s|^$PKG_TOP/||" >&2
}
step "$distro: collect" collect
say "$distro: all .debs built in $(( $(date +%s) - start ))s"
