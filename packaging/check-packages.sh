#!/bin/bash
# check-packages.sh: the package tests (make check-packages).
#
#   check-packages.sh APT_REPO YUM_REPO
#
# Environment (from packaging.mk): PKG_OUT, PKG_CACHE, RECLAIM_VERSION,
# UPSTREAM_VERSION, UPSTREAM_RELVER; optional PKG_CHECK_DISTROS (default
# "bookworm trixie"), PKG_CHECK_ARCHES (default "amd64 arm64"), PKG_TEST_PORT
# (default 18089, loopback only).
#
# Parts, each timed (step; the table of their times is printed at the end):
#  1. compare-debian.sh per distro: versions above Debian's, nm -D and symbols
#     supersets, control fields, file lists (no chroot); apt-signature.sh:
#     apt takes the repository only with a valid signature.
#  2. Test chroots (cached mmdebstrap tarballs; missing ones are created two at
#     a time): tests/in-chroot.sh per distro and arch, "full" on amd64 and
#     "minimal" on arm64 (qemu-user through binfmt_misc, registered here if
#     the kernel has it but it is not mounted), with check-nginx's
#     tests/nginx/ (site.lua, the burst of the idle-worker test) mounted.
#  3. rpm/check-rpms.sh: dnf resolves our packages from the signed yum repo;
#     an rpm --root payload install runs luajit -v.
#
# Invariants: a missing tool or an unusable binfmt is a loud failure, never a
# skip; chroot copies live on a tmpfs in a private mount namespace and
# vanish with this script; every failure names the check.
set -eu
. "$(dirname "$0")/lib.sh"

apt_repo=$(cd "${1:?usage: check-packages.sh APT_REPO YUM_REPO}" && pwd)
yum_repo=$(cd "${2:?usage: check-packages.sh APT_REPO YUM_REPO}" && pwd)
: "${PKG_OUT:?}" "${RECLAIM_VERSION:?}" "${UPSTREAM_VERSION:?}"
export RECLAIM_VERSION UPSTREAM_VERSION
distros=${PKG_CHECK_DISTROS:-bookworm trixie}
arches=${PKG_CHECK_ARCHES:-amd64 arm64}
port=${PKG_TEST_PORT:-18089}
need mmdebstrap unshare:util-linux chroot:coreutils dpkg-deb:dpkg nm:binutils apt-ftparchive:apt-utils gpg:gnupg rpm dnf
need_root "the tests run in mmdebstrap chroots with private mounts"

work=$PKG_TOP/build/packages/work/check
mkdir -p "$work"
private_mounts check-packages "$0" "$@"
mount -t tmpfs -o size="${PKG_TMPFS_SIZE:-6g}" tmpfs "$work"
start=$SECONDS
at_exit step_summary

# ensure_arm64: qemu-user through binfmt_misc must run arm64 binaries.
ensure_arm64() {
	need arch-test update-binfmts:binfmt-support
	if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
			die "binfmt_misc is not mounted and cannot be mounted (arm64 tests need qemu-user)"
	fi
	[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
	arch-test arm64 >/dev/null 2>&1 ||
		die "arm64 binaries do not run here: install qemu-user-static and binfmt-support (arch-test arm64 failed)"
}

for distro in $distros; do
	step "$distro: compare with Debian" "$PKG_DIR/tests/compare-debian.sh" "$distro" "$PKG_OUT"
done

step "apt: repository signatures" "$PKG_DIR/tests/apt-signature.sh" "$apt_repo" "$work/apt-signature"

case " $arches " in *" arm64 "*) ensure_arm64 ;; esac

# Test chroot tarballs: create the missing ones, two at a time.
make_chroots() {
	local d a
	pool_start "$work/chroot-logs" 2
	for a in $arches; do
		for d in $distros; do pool_add "chroot $d/$a" test_chroot "$d" "$a"; done
	done
	pool_wait
}
test_chroot() { "$PKG_DIR/chroots.sh" test "$1" "$2" >"$work/chroot-$1-$2.path"; }
step "test chroots (cached or created)" make_chroots

# run_chroot DISTRO ARCH: tests/in-chroot.sh in a fresh copy of the test chroot.
run_chroot() {
	local distro=$1 arch=$2 root=$work/root-$1-$2 mode=full ref debian_version
	[ "$arch" = amd64 ] || mode=minimal
	(
		# shellcheck source=distros/trixie.conf
		. "$PKG_DIR/distros/$distro.conf"
		ref=$PKG_CACHE/debian-ref/$distro
		debian_version=$(awk -v p="$DEB_LIB" -v a="$arch" '$1 == p && $2 == a { print $3 }' "$ref/versions.txt")
		chroot_unpack "$(cat "$work/chroot-$distro-$arch.path")" "$root"
		CHROOT_BINDS="$apt_repo:/srv/luajit-reclaim/apt $PKG_DIR/tests:/srv/luajit-reclaim/tests $PKG_TOP/tests/nginx:/srv/luajit-reclaim/nginx" \
			in_chroot "$root" env DISTRO="$distro" ARCH="$arch" MODE="$mode" PORT="$port" \
			OUR_VERSION="$DEB_VERSION" RECLAIM_VERSION="$RECLAIM_VERSION" \
			DEBIAN_VERSION="$debian_version" DEB_CLI="$DEB_CLI" DEB_LIB="$DEB_LIB" \
			DEB_COMMON="$DEB_COMMON" /bin/bash /srv/luajit-reclaim/tests/in-chroot.sh
		rm -rf "$root"
	)
}
for arch in $arches; do
	for distro in $distros; do
		step "$distro/$arch: install tests" run_chroot "$distro" "$arch"
	done
done

step "rpm: repository and payload" "$PKG_DIR/rpm/check-rpms.sh" "$yum_repo" "$work/rpm"

say "all passed in $((SECONDS - start))s"
