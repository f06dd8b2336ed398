#!/bin/bash
# run.sh: make check-memstat: luajit-memstat against live processes
# (tests/memstat/test_memstat.py).
#
#   tests/memstat/run.sh MEMSTAT BUILD_DIR
#
# Needs root (it starts processes as nobody and makes a memory cgroup),
# Debian's python3 with python3-jsonschema, and promtool (prometheus): all in
# the top Makefile's DEPS. A missing one fails naming the package.
set -eu

memstat=${1:?usage: run.sh MEMSTAT BUILD_DIR}
build=${2:?usage: run.sh MEMSTAT BUILD_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1

fail() { echo "check-memstat: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (processes as nobody, a memory cgroup)"
if ! [ -x "$py" ] || ! "$py" -c 'import jsonschema' 2>/dev/null; then
	fail "$py cannot import jsonschema: apt-get install python3-jsonschema (make deps)"
fi
command -v promtool >/dev/null || fail "promtool not found: apt-get install prometheus (make deps)"
command -v setpriv >/dev/null || fail "setpriv not found: apt-get install util-linux"

version=$(sed -n 's/^RECLAIM_VERSION := //p' "$top/runtime/version.mk")
start=$(date +%s)
status=0
"$py" "$top/tests/memstat/test_memstat.py" --memstat "$memstat" --build "$build" \
	--version "$version" || status=$?
echo "check-memstat: $(( $(date +%s) - start )) s"
exit "$status"
