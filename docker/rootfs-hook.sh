#!/bin/bash
# rootfs-hook.sh: mmdebstrap customize hook of docker/rootfs.sh; runs on the
# host with the new root as $1, after Debian's minbase set is installed.
#
#   rootfs-hook.sh ROOT
#
# Environment (from rootfs.sh): IMG_REPO (our apt repository, host path),
# IMG_VERSIONS ("name=version" of the packages that must be installed, read
# from the .debs), IMG_UID, IMG_PLAIN_OUT (where to write the
# plain slim rootfs tar; empty = do not write it), SOURCE_DATE_EPOCH.
#
# Steps, in this order:
#  1. slimify: what debian:*-slim removes (docs except copyright, man, info,
#     locales except locale.alias, lintian overrides), apt lists and caches,
#     logs, *-old files, ldconfig's aux-cache.
#  2. The plain slim rootfs (the same Debian set, nothing of ours) is written
#     to IMG_PLAIN_OUT: the size reference of check-images.
#  3. docker/install-runtime.sh inside the root (as docker/Dockerfile runs
#     it): our packages from a copy of our repository, with its signature
#     checked; the keyring package brings the baked .sources, key and pin.
#     Their versions must be those of the .debs (IMG_VERSIONS).
#  4. (install-runtime.sh) the user and group luajit, UID = GID = IMG_UID.
#  5. slimify again; the repository copy and its temporary apt source are gone;
#     /etc/hostname and /etc/resolv.conf no longer those of the build machine.
# Invariant: the result depends only on the Debian packages, our .debs and
# SOURCE_DATE_EPOCH (mmdebstrap clamps every mtime to it).
set -eu

root=${1:?usage: rootfs-hook.sh ROOT}
: "${IMG_REPO:?}" "${IMG_VERSIONS:?}" "${IMG_UID:?}" "${SOURCE_DATE_EPOCH:?}"
fail() { echo "rootfs-hook: $*" >&2; exit 1; }
in_root() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"
}

slimify() {
	local d
	if [ -d "$root/usr/share/doc" ]; then
		find "$root/usr/share/doc" -xdev ! -type d ! -name copyright -delete
		find "$root/usr/share/doc" -xdev -mindepth 1 -type d -empty -delete
	fi
	for d in man info groff lintian linda; do
		rm -rf "${root:?}/usr/share/$d"
	done
	if [ -d "$root/usr/share/locale" ]; then
		find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
	fi
	# The lists go; lists/partial and its owner (apt's) stay.
	find "$root/var/lib/apt/lists" -mindepth 1 -maxdepth 1 ! -name partial ! -name lock -exec rm -rf {} +
	find "$root/var/lib/apt/lists/partial" "$root/var/cache/apt/archives/partial" -mindepth 1 -delete
	rm -f "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
	rm -f "$root"/var/log/dpkg.log "$root"/var/log/alternatives.log "$root"/var/log/bootstrap.log
	rm -f "$root"/var/log/apt/*.log "$root"/var/log/apt/eipp.log.xz
	rm -f "$root"/var/lib/dpkg/*-old "$root"/var/cache/debconf/*-old "$root/var/cache/ldconfig/aux-cache"
}

# 1, 2
slimify
if [ -n "${IMG_PLAIN_OUT:-}" ]; then
	tar -C "$root" --one-file-system --numeric-owner --sort=name -cf "$IMG_PLAIN_OUT" . ||
		fail "cannot write the plain rootfs to $IMG_PLAIN_OUT"
fi

# 3, 4
build=/tmp/luajit-reclaim-build
mkdir -p "$root$build"
cp -a "$IMG_REPO" "$root$build/apt"
cp "$(dirname "$0")/install-runtime.sh" "$root$build/"
in_root env LUAJIT_UID="$IMG_UID" SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" \
	/bin/sh "$build/install-runtime.sh" "$build/apt" || fail "install-runtime.sh"
for pv in $IMG_VERSIONS; do
	got=$(in_root dpkg-query -W -f='${Version}' "${pv%%=*}") || fail "${pv%%=*} is not installed"
	[ "$got" = "${pv#*=}" ] || fail "${pv%%=*} is $got, want ${pv#*=}"
done
rm -rf "${root:?}$build"

# 5
slimify
# mmdebstrap copied these two from the build machine; a container runtime
# provides its own at run time.
printf 'localhost\n' >"$root/etc/hostname"
: >"$root/etc/resolv.conf"
chmod 0644 "$root/etc/hostname" "$root/etc/resolv.conf"
