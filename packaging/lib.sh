# shellcheck shell=bash
# packaging/lib.sh: what the packaging scripts (and docker/lib.sh) share beyond
# lib/shell.sh (sourced, not run): the tree's paths, running commands inside an
# unpacked chroot, and filling the debian/ templates.
#
# Invariants:
# - A chroot command runs in private mount and PID namespaces: every mount and
#   every process it started (nginx daemons included) is gone when it returns,
#   whether it succeeded or not.

# shellcheck source=../lib/shell.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/shell.sh"
PKG_TOP=${PKG_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck disable=SC2034 # used by the scripts that source this file
PKG_DIR=$PKG_TOP/packaging
PKG_CACHE=${PKG_CACHE:-$CACHE_DIR}

# private_mounts NAME SCRIPT ARGS...: unless already done for NAME, re-run
# SCRIPT in a private mount namespace, so the tmpfs and bind mounts it makes
# are invisible to the system and vanish with it. Call as the script's first
# action: private_mounts build-debs "$0" "$@".
private_mounts() {
	local var
	var=PKG_NS_$(echo "$1" | tr 'a-z-' 'A-Z_')
	shift
	[ -n "${!var:-}" ] && return 0
	exec env "$var=1" unshare --mount --propagation private "$@"
}

# fill_template FILE: print FILE with every @NAME@ replaced by the value of
# the shell variable NAME; a placeholder without a value is an error.
fill_template() {
	local text name
	text=$(cat "$1")
	for name in $(grep -o '@[A-Z0-9_]*@' "$1" | sort -u | tr -d @); do
		[ -n "${!name:-}" ] || die "$1: no value for @$name@"
		text=${text//@$name@/${!name}}
	done
	printf '%s\n' "$text"
}

# chroot_unpack TARBALL DIR: a fresh root from a cached chroot tarball.
chroot_unpack() {
	rm -rf "$2"
	mkdir -p "$2"
	tar -C "$2" -xf "$1"
}

# in_chroot DIR CMD...: run CMD inside the chroot DIR with /proc, /dev and
# /sys mounted, in private mount and PID namespaces (see the invariants).
# Extra bind mounts: CHROOT_BINDS="host_path:chroot_path ...".
in_chroot() {
	local root=$1
	shift
	CHROOT_BINDS=${CHROOT_BINDS:-} unshare --mount --pid --fork --propagation private /bin/sh -eu -c '
		root=$1; shift
		mount -t proc proc "$root/proc"
		mount --rbind /dev "$root/dev"
		mount -t sysfs sysfs "$root/sys"
		for b in $CHROOT_BINDS; do
			mkdir -p "$root/${b#*:}"
			mount --bind "${b%%:*}" "$root/${b#*:}"
		done
		cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' in_chroot "$root" "$@"
}
