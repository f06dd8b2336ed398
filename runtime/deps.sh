#!/bin/bash
# deps.sh: check for or install the Debian packages the build and tests need.
#
#   deps.sh missing PKG...   print the packages that are not installed
#   deps.sh install PKG...   install the missing ones (root; runs apt-get update
#                            first, since a fresh machine may have no lists)
#   deps.sh ensure PKG...    install if root, else print the exact command and fail
#
# The package list itself lives in the top Makefile (DEPS), in one place.
set -eu

cmd=${1:?usage: deps.sh missing|install|ensure PKG...}
shift

missing() {
	local p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		case "$st" in *" installed") ;; *) printf '%s ' "$p" ;; esac
	done
}

install() {
	local m
	m=$(missing "$@")
	[ -n "$m" ] || return 0
	echo "deps: installing: $m"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $m
}

case "$cmd" in
missing) missing "$@"; echo ;;
install) install "$@" ;;
ensure)
	m=$(missing "$@")
	[ -n "$m" ] || exit 0
	if [ "$(id -u)" = 0 ]; then
		install "$@"
	else
		echo "deps: missing Debian packages. Run as root:" >&2
		echo "  apt-get update && apt-get install -y --no-install-recommends $m" >&2
		exit 1
	fi
	;;
*) echo "deps.sh: unknown command '$cmd'" >&2; exit 2 ;;
esac
