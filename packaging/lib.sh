# shellcheck shell=bash
# lib.sh: shell functions shared by the packaging scripts (sourced, not run).
#
# What lives here: step timing and logging, the Debian archive URI taken from
# the machine's own apt sources, a private apt configuration for reading
# Debian's archive, and running commands inside an unpacked chroot.
#
# Invariants:
# - The system's apt configuration is never modified and no mirror host name is
#   written anywhere: the archive URI is read from /etc/apt at run time.
# - A chroot command runs in private mount and PID namespaces: every mount and
#   every process it started (nginx daemons included) is gone when it returns,
#   whether it succeeded or not.
# - A failing step stops the caller (scripts use `set -eu`); `die` names why.

PKG_TOP=${PKG_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck disable=SC2034 # used by the scripts that source this file
PKG_DIR=$PKG_TOP/packaging
PKG_CACHE=${PKG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/luajit-reclaim}

die() { echo "packaging: $*" >&2; exit 1; }
say() { echo "packaging: $*" >&2; }

# step NAME CMD...: run CMD, then print how long it took (also on failure).
step() {
	local name=$1 start rc=0
	shift
	start=$(date +%s)
	say "[$name] ..."
	"$@" || rc=$?
	if [ $rc = 0 ]; then
		say "[$name] done in $(( $(date +%s) - start ))s"
	else
		say "[$name] FAILED (exit $rc) in $(( $(date +%s) - start ))s"
	fi
	return $rc
}

# need_tools TOOL...: fail loudly naming every missing tool (no silent skips).
need_tools() {
	local t missing=
	for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing="$missing $t"; done
	[ -z "$missing" ] || die "missing tools:$missing (run \`make deps\` as root)"
}

# need_root WHY: fail unless running as root (mmdebstrap --mode=root, mounts).
need_root() {
	[ "$(id -u)" = 0 ] || die "must run as root: $*"
}

# archive_uri [security]: the URI of Debian's main archive (or, with
# "security", of the security archive) in the machine's apt sources (deb822
# .sources first, then the one-line sources.list). Empty for a missing
# security archive; a missing main archive is an error.
archive_uri() {
	local f uri='' want=${1:-main}
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk -v want="$want" '
			BEGIN { RS = ""; FS = "\n" }
			{
				uris = ""; suites = ""; types = ""
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^#/) continue
					key = $i; sub(/:.*/, "", key)
					val = $i; sub(/^[^:]*:[ \t]*/, "", val)
					if (key == "URIs") uris = val
					if (key == "Suites") suites = val
					if (key == "Types") types = val
				}
				sec = (suites ~ /security/)
				if (types ~ /(^| )deb( |$)/ && uris != "" && sec == (want == "security")) {
					split(uris, u, " "); print u[1]; exit
				}
			}' "$f")
		[ -z "$uri" ] || break
	done
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk -v want="$want" '$1 == "deb" && (($0 ~ /security/) == (want == "security")) {
			for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' /etc/apt/sources.list)
	fi
	[ -n "$uri" ] || [ "$want" = security ] ||
		die "no Debian archive in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
	echo "$uri"
}

# private_apt DIR SUITE: set up a private apt configuration in DIR that reads
# SUITE, SUITE-updates and SUITE-security main (amd64 and arm64) from the
# machine's archives, and define APT_OPTS for apt-get/apt-cache. Lists
# persist in DIR, so a second `apt-get update` is quick.
private_apt() {
	local dir=$1 suite=$2 keyring=/usr/share/keyrings/debian-archive-keyring.gpg sec
	[ -f "$keyring" ] || die "$keyring missing (package debian-archive-keyring)"
	mkdir -p "$dir/sources.list.d" "$dir/lists/partial" "$dir/cache/archives/partial"
	cat >"$dir/sources.list.d/debian.sources" <<-EOF
	Types: deb
	URIs: $(archive_uri)
	Suites: $suite $suite-updates
	Components: main
	Architectures: amd64 arm64
	Signed-By: $keyring
	EOF
	sec=$(archive_uri security)
	[ -z "$sec" ] || cat >>"$dir/sources.list.d/debian.sources" <<-EOF

	Types: deb
	URIs: $sec
	Suites: $suite-security
	Components: main
	Architectures: amd64 arm64
	Signed-By: $keyring
	EOF
	: >"$dir/status"
	# shellcheck disable=SC2034 # used by the callers
	APT_OPTS="-o Dir::Etc::SourceParts=$dir/sources.list.d -o Dir::Etc::SourceList=/dev/null
 -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
 -o Dir::State::Lists=$dir/lists -o Dir::Cache=$dir/cache -o Dir::State::status=$dir/status
 -o APT::Architecture=amd64 -o APT::Architectures::=amd64 -o APT::Architectures::=arm64
 -o APT::Sandbox::User=root -o Debug::NoLocking=1"
}

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
