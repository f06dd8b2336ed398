#!/bin/bash
# fetch-upstream.sh: put the pinned upstream orig tarball into the cache and
# print its path.
#
# Invariants:
# - The result always has the pinned sha256; a mismatch stops with a message
#   naming both sums and the file, and the bad file is never cached.
# - The system's apt configuration is never modified: apt runs with a private
#   configuration (lists, cache, sources) in a temporary directory. Its one
#   deb-src entry is derived from the machine's own /etc/apt sources (same URI
#   and keyring, suite $UPSTREAM_SUITE); no mirror name is written anywhere.
# - LUAJIT_SRC_TARBALL=/path uses a local copy (offline builds); it is checked
#   against the same sum.
#
# Usage: fetch-upstream.sh CACHE_DIR   (reads UPSTREAM_* from the environment)
set -eu

cache=${1:?usage: fetch-upstream.sh CACHE_DIR}
: "${UPSTREAM_SRCPKG:?}" "${UPSTREAM_VERSION:?}" "${UPSTREAM_SUITE:?}"
: "${UPSTREAM_TARBALL:?}" "${UPSTREAM_SHA256:?}"

die() { echo "fetch-upstream: $*" >&2; exit 1; }

# check_sum FILE: fail loudly unless FILE has the pinned sha256.
check_sum() {
	local got
	got=$(sha256sum "$1" | cut -d' ' -f1)
	if [ "$got" != "$UPSTREAM_SHA256" ]; then
		die "sha256 mismatch for $1: expected $UPSTREAM_SHA256, got $got"
	fi
}

mkdir -p "$cache"
dest=$cache/$UPSTREAM_TARBALL

if [ -n "${LUAJIT_SRC_TARBALL:-}" ]; then
	[ -f "$LUAJIT_SRC_TARBALL" ] || die "LUAJIT_SRC_TARBALL=$LUAJIT_SRC_TARBALL: no such file"
	check_sum "$LUAJIT_SRC_TARBALL"
	echo "$LUAJIT_SRC_TARBALL"
	exit 0
fi

if [ -f "$dest" ]; then
	check_sum "$dest"
	echo "$dest"
	exit 0
fi

# first_source_field FIELD: the value of FIELD in the first deb822 stanza of
# the system's sources that carries Debian's main archive (suite names a release).
first_source_field() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v want="$1" '
			BEGIN { RS = ""; FS = "\n" }
			{
				val = ""; suites = ""; types = ""
				for (i = 1; i <= NF; i++) {
					line = $i
					if (line ~ /^#/) continue
					split(line, kv, ":")
					key = kv[1]
					sub(/^[^:]*:[ \t]*/, "", line)
					if (key == want) val = line
					if (key == "Suites") suites = line
					if (key == "Types") types = line
				}
				if (types ~ /deb/ && suites !~ /security/ && val != "") { print val; exit }
			}' "$f"
	done | head -n 1
}

uri=$(first_source_field URIs | awk '{print $1}')
keyring=$(first_source_field Signed-By)
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
	# One-line format: deb [options] URI suite components
	uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' /etc/apt/sources.list)
fi
[ -n "$uri" ] || die "no Debian archive found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
[ -n "$keyring" ] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "keyring $keyring (from the system's apt sources) does not exist"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/sources.list.d" "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/dl"
cat >"$tmp/sources.list.d/upstream-src.sources" <<EOF
Types: deb-src
URIs: $uri
Suites: $UPSTREAM_SUITE
Components: main
Signed-By: $keyring
EOF
apt_opts="-o Dir::Etc::SourceParts=$tmp/sources.list.d -o Dir::Etc::SourceList=/dev/null
 -o Dir::State::Lists=$tmp/lists -o Dir::Cache=$tmp/cache -o APT::Sandbox::User=root
 -o Debug::NoLocking=1"
echo "fetch-upstream: apt-get source $UPSTREAM_SRCPKG=$UPSTREAM_VERSION ($UPSTREAM_SUITE)" >&2
# shellcheck disable=SC2086
apt-get -q $apt_opts update >"$tmp/update.log" 2>&1 || { cat "$tmp/update.log" >&2; die "apt-get update failed"; }
# shellcheck disable=SC2086
(cd "$tmp/dl" && apt-get -q $apt_opts source --download-only --tar-only \
	"$UPSTREAM_SRCPKG=$UPSTREAM_VERSION") >"$tmp/source.log" 2>&1 ||
	{ cat "$tmp/source.log" >&2; die "apt-get source failed"; }
[ -f "$tmp/dl/$UPSTREAM_TARBALL" ] || die "apt-get source did not produce $UPSTREAM_TARBALL"
check_sum "$tmp/dl/$UPSTREAM_TARBALL"
mv "$tmp/dl/$UPSTREAM_TARBALL" "$dest.part"
mv "$dest.part" "$dest"
echo "$dest"
