# shellcheck shell=bash
# docker/lib.sh: what only the image scripts need (sourced, not run). It
# sources packaging/lib.sh (in_chroot, chroot_unpack, private_mounts; the
# packaging paths), which sources lib/shell.sh (say, die, need, step, the
# apt helpers, the job pool).
#
# Invariants:
# - Which of our .debs go into an image is decided here only (image_debs):
#   the CLI, library, arch-independent module package and the archive keyring
#   package of the distro, read from the apt repository the image is built
#   from, exactly one file each or a loud failure.
# - Versions are always read from the .debs (dpkg-deb -f), never written down.

IMG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../packaging/lib.sh
. "$IMG_DIR/../packaging/lib.sh"

# shellcheck disable=SC2034 # used by the scripts that source this file
IMG_DISTROS=${IMAGES_DISTROS:-bookworm trixie}
# shellcheck disable=SC2034
IMG_ARCHES=${IMAGES_ARCHES:-amd64 arm64}
IMG_LATEST=trixie       # the newest Debian stable: gets the `latest` tag
# shellcheck disable=SC2034
IMG_UID=10001           # the non-root user `luajit` (UID = GID)

# image_distro_conf DISTRO: define DEB_CLI, DEB_LIB, DEB_COMMON for DISTRO.
image_distro_conf() {
	case "$1" in bookworm|trixie) ;; *) die "unknown distro '$1' (bookworm or trixie)" ;; esac
	UPSTREAM_VERSION=${UPSTREAM_VERSION:-} RECLAIM_VERSION=${RECLAIM_VERSION:-}
	# shellcheck source=../packaging/distros/trixie.conf
	. "$PKG_DIR/distros/$1.conf"
}

# image_debs REPO DISTRO ARCH: the .debs installed into the DISTRO/ARCH image,
# one path per line: CLI, library, common, keyring.
image_debs() {
	local repo=$1 distro=$2 arch=$3 name a f n
	image_distro_conf "$distro"
	for name in "$DEB_CLI:$arch" "$DEB_LIB:$arch" "$DEB_COMMON:all" "luajit-reclaim-archive-keyring:all"; do
		a=${name#*:}
		name=${name%:*}
		n=0
		for f in "$repo/pool/$distro"/main/*/*/"${name}_"*"_$a.deb"; do
			[ -f "$f" ] || continue
			n=$((n + 1))
			echo "$f"
		done
		[ $n = 1 ] || die "want exactly one ${name}_*_$a.deb in $repo/pool/$distro, found $n (run make apt-repo)"
	done
}

# deb_field DEB FIELD: a control field of a .deb.
deb_field() { dpkg-deb -f "$1" "$2"; }

# mirror_state DISTRO ARCH: what the Debian archive offers for DISTRO/ARCH right
# now: one line per suite (DISTRO, -updates, -security) with the sha256 of its
# main/binary-ARCH/Packages.xz from the suite's InRelease. A changed line means
# a rootfs built now may differ from one built before.
mirror_state() {
	local distro=$1 arch=$2 uri sec suite base tmp
	uri=$(apt_archive_uri)
	sec=$(apt_archive_uri security)
	tmp=$(mktemp)
	for suite in "$distro" "$distro-updates" "$distro-security"; do
		base=$uri
		case "$suite" in *-security) base=$sec ;; esac
		[ -n "$base" ] || continue
		/usr/lib/apt/apt-helper download-file "$base/dists/$suite/InRelease" "$tmp" >/dev/null 2>&1 ||
			die "cannot download $base/dists/$suite/InRelease"
		awk -v s="$suite" -v p="main/binary-$arch/Packages.xz" '
			/^SHA256:/ { in256 = 1; next }
			/^[^ ]/ { in256 = 0 }
			in256 && $3 == p { print s, $1; found = 1 }
			END { if (!found) { print "no " p " in InRelease of " s > "/dev/stderr"; exit 1 } }' "$tmp" ||
			{ rm -f "$tmp"; die "cannot read the Packages.xz hash of $suite"; }
	done
	rm -f "$tmp"
}

# image_sources DISTRO: the Debian sources (one-line format) an image is built
# from and keeps: DISTRO, DISTRO-updates, DISTRO-security main, from the
# machine's archives (IMAGES_DEBIAN_URI / IMAGES_SECURITY_URI override them).
image_sources() {
	local uri sec
	uri=${IMAGES_DEBIAN_URI:-$(apt_archive_uri)}
	sec=${IMAGES_SECURITY_URI:-$(apt_archive_uri security)}
	echo "deb $uri $1 main"
	echo "deb $uri $1-updates main"
	[ -z "$sec" ] || echo "deb $sec $1-security main"
}

# image_created: SOURCE_DATE_EPOCH as RFC 3339 (UTC): every image timestamp.
image_created() { date -u -d "@${SOURCE_DATE_EPOCH:?}" +%Y-%m-%dT%H:%M:%SZ; }

# image_labels DISTRO VERSION PACKAGES: the image's labels (config) and index
# annotations, one key=value per line. Needs RECLAIM_VERSION, IMAGE_REVISION,
# IMAGE_SOURCE, SOURCE_DATE_EPOCH.
image_labels() {
	cat <<-EOF
	org.opencontainers.image.title=luajit-reclaim
	org.opencontainers.image.description=OpenResty's LuaJIT with luajit-reclaim's allocator (returns freed memory to the OS), on Debian $1 slim
	org.opencontainers.image.version=${RECLAIM_VERSION:?}
	org.opencontainers.image.revision=${IMAGE_REVISION:?}
	org.opencontainers.image.created=$(image_created)
	org.opencontainers.image.source=${IMAGE_SOURCE:?}
	org.opencontainers.image.licenses=MIT
	org.opencontainers.image.base.name=debian:$1-slim
	luajit-reclaim.package-version=$2
	luajit-reclaim.packages=$3
	EOF
}

# platform_args ARCH: skopeo options selecting ARCH out of an index.
platform_args() {
	echo "--override-os linux --override-arch $1"
	[ "$1" != arm64 ] || echo "--override-variant v8"
}

# image_tags DISTRO: the tags of DISTRO's multi-platform index.
image_tags() {
	echo "${RECLAIM_VERSION:?}-$1"
	echo "$1"
	[ "$1" != "$IMG_LATEST" ] || echo latest
}

# A function called on the left of || (as step calls its command) runs with
# `set -e` switched off, in subshells too (pool jobs started from there as
# well). So the image scripts run their parts as new processes of themselves:
#   self_cmd FUNC ARGS...  runs FUNC ARGS that way
#   self_dispatch "$@"     at the end of the definitions of such a script:
#                          when started by `self`, run FUNC ARGS and exit
# A script using them sets IMG_SELF_ARGS=("$@") (its own arguments) first;
# IMG_SELF tells the new process its name and how many of them there are.
self_cmd() { env "IMG_SELF=$(basename "$0"):${#IMG_SELF_ARGS[@]}" "$0" "${IMG_SELF_ARGS[@]}" "$@"; }
self_dispatch() {
	[ "${IMG_SELF:-}" ] && [ "${IMG_SELF%:*}" = "$(basename "$0")" ] || return 0
	shift "${IMG_SELF##*:}"
	unset IMG_SELF
	"$@"
	exit 0
}
