#!/bin/bash
# chroots.sh: print the path of a cached chroot tarball, creating it with
# mmdebstrap when it is not in the cache yet.
#
#   chroots.sh build DISTRO        multiarch (amd64 + arm64) buildd chroot with
#                                  debhelper, the arm64 cross toolchain and lintian
#   chroots.sh test DISTRO ARCH    minbase chroot with Debian's LuaJIT CLI and
#                                  consumers (nginx + lua module, lua-resty-core;
#                                  neovim, wrk and jq on amd64; binutils, which
#                                  luajit-reclaim-swap check needs) installed,
#                                  for check-packages
#
# Invariants:
# - The cache key is kind, distro, arch, the exact mmdebstrap arguments
#   (package list and hooks) and the month (PKG_CHROOT_STAMP, default YYYYMM),
#   so a changed package list or a new month never reuses an old tarball.
#   Tarballs live in $PKG_CACHE/chroots/; older ones of the same kind, distro
#   and arch are removed when a new one is written.
# - A tarball is written to a temporary name and renamed when complete, so an
#   interrupted run never leaves a broken cache entry.
# - Test chroots keep apt's lists and the .debs of Debian's LuaJIT packages
#   (and, on bookworm, of the stock flavour) so switching flavours and going
#   back to Debian's packages works without downloading them again.
set -eu
. "$(dirname "$0")/lib.sh"

kind=${1:?usage: chroots.sh build DISTRO | test DISTRO ARCH}
distro=${2:?usage: chroots.sh build DISTRO | test DISTRO ARCH}
arch=${3:-amd64}
stamp=${PKG_CHROOT_STAMP:-$(date +%Y%m)}
need mmdebstrap
need_root "mmdebstrap runs in root mode"

case "$distro" in bookworm|trixie) ;; *) die "unknown distro '$distro'" ;; esac

common=(--mode=root --format=tar --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
	--dpkgopt=force-unsafe-io --aptopt='APT::Install-Recommends "false"')

case "$kind" in
build)
	arch=amd64
	# shellcheck disable=SC2054 # the comma is mmdebstrap's list separator
	args=("${common[@]}" --variant=buildd --architectures=amd64,arm64
		--include=debhelper,crossbuild-essential-arm64,libc6-dev:arm64,lintian)
	;;
test)
	case "$arch" in amd64|arm64) ;; *) die "unknown arch '$arch'" ;; esac
	stock=
	if [ "$distro" = bookworm ]; then
		pkgs=nginx-light,libnginx-mod-http-lua,lua-resty-core,luajit2
		# The stock-flavour scenario (explicit switch) runs on amd64 only.
		[ "$arch" = amd64 ] && stock='libluajit-5.1-2 libluajit-5.1-common luajit'
	else
		pkgs=nginx,libnginx-mod-http-lua,lua-resty-core,luajit
	fi
	# binutils (readelf, nm) for luajit-reclaim-swap check, which our CLI
	# package recommends. neovim, and wrk and jq for the nginx idle test, only
	# on amd64: arm64 runs under qemu-user and is kept minimal.
	pkgs=$pkgs,binutils
	[ "$arch" = amd64 ] && pkgs=$pkgs,neovim,wrk,jq
	# Keep the lists and only the LuaJIT .debs from the download cache.
	keep='find "$1/var/cache/apt/archives" -name "*.deb" ! -name "*luajit*" -delete'
	fetch="chroot \"\$1\" sh -c 'cd /var/cache/apt/archives && apt-get -q -o APT::Sandbox::User=root download $stock'"
	# No docs, man pages or translations: fewer files for dpkg under qemu-user.
	args=("${common[@]}" --variant=minbase --architectures="$arch" --include="$pkgs"
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
		--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
		--dpkgopt='path-exclude=/usr/share/info/*'
		--skip=cleanup/apt/lists --skip=cleanup/apt/cache --customize-hook="$keep")
	[ -n "$stock" ] && args+=(--customize-hook="$fetch")
	;;
*) die "unknown chroot kind '$kind'" ;;
esac

key=$(printf '%s\n' "$kind" "$distro" "$arch" "$stamp" "${args[@]}" | sha256sum | cut -c1-12)
dir=$PKG_CACHE/chroots
tarball=$dir/$kind-$distro-$arch-$stamp-$key.tar
if [ -f "$tarball" ]; then
	echo "$tarball"
	exit 0
fi

mkdir -p "$dir"
# mmdebstrap's temporary root goes to a private tmpfs: no disk writes for the
# tens of thousands of files dpkg unpacks (this matters most under qemu-user).
private_mounts chroots "$0" "$@"
tmp=$dir/tmp.$$
mkdir -p "$tmp"
at_exit 'umount -l "$tmp" 2>/dev/null; rmdir "$tmp"; rm -f "$tarball.part"'
mount -t tmpfs -o size="${PKG_TMPFS_SIZE:-6g}" tmpfs "$tmp"
export TMPDIR=$tmp
log=$dir/$kind-$distro-$arch.log
say "creating $kind chroot $distro/$arch (log: $log)"
start=$(date +%s)
if ! mmdebstrap "${args[@]}" "$distro" "$tarball.part" "$(apt_archive_uri)" >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	rm -f "$tarball.part"
	die "mmdebstrap failed for $kind $distro/$arch"
fi
find "$dir" -maxdepth 1 -name "$kind-$distro-$arch-*.tar" ! -name "$(basename "$tarball")" -delete
mv "$tarball.part" "$tarball"
say "$kind chroot $distro/$arch created in $(( $(date +%s) - start ))s"
echo "$tarball"
