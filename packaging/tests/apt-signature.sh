#!/bin/bash
# apt-signature.sh: apt accepts our repository only through its signature.
#
#   apt-signature.sh APT_REPO WORKDIR
#
# With a private apt configuration (apt_private; the system's is untouched) and a deb822
# source whose Signed-By is the repository's exported key, for each suite:
# `apt-get update` succeeds on the repository as built, and fails on a copy
# whose InRelease was altered after signing (and Release.gpg removed).
# Invariant: prints "ok: ..." per check or fails naming the suite.
set -eu
. "$(dirname "$0")/../lib.sh"

repo=$(cd "${1:?usage: apt-signature.sh APT_REPO WORKDIR}" && pwd)
work=${2:?usage: apt-signature.sh APT_REPO WORKDIR}
need apt-get:apt
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
fail() { echo "FAIL [apt]: $*" >&2; exit 1; }

# update_from DIR SUITE: apt-get update with only DIR/SUITE as source.
update_from() {
	local d
	d=$work/apt-$2-$(basename "$1")
	apt_private "$d"
	cat >"$d/sources.list.d/luajit-reclaim.sources" <<-EOF
	Types: deb
	URIs: file:$1
	Suites: $2
	Components: main
	Signed-By: $repo/luajit-reclaim-archive-keyring.gpg
	EOF
	apt-get -q "${APT_OPTS[@]}" update >"$d/update.log" 2>&1 &&
		! grep -q '^[WE]:' "$d/update.log"
}

for dist in "$repo"/dists/*/; do
	suite=$(basename "$dist")
	update_from "$repo" "$suite" || { cat "$work"/apt-"$suite"-*/update.log; fail "$suite: apt-get update refused our repository"; }
	cp -a "$repo" "$work/tampered"
	sed -i 's/^Label: luajit-reclaim$/Label: tampered/' "$work/tampered/dists/$suite/InRelease"
	rm -f "$work/tampered/dists/$suite/Release.gpg"
	if update_from "$work/tampered" "$suite"; then
		fail "$suite: apt-get update accepted an InRelease altered after signing"
	fi
	grep -q 'NOSPLIT\|BADSIG\|not signed\|signature' "$work/apt-$suite-tampered/update.log" ||
		{ cat "$work/apt-$suite-tampered/update.log"; fail "$suite: the altered repository failed, but not on its signature"; }
	rm -rf "$work/tampered"
	echo "ok [apt]: $suite: apt verifies InRelease with Signed-By (altered InRelease refused)"
done
