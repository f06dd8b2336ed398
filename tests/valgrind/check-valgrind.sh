#!/bin/bash
# check-valgrind.sh: run tests/lua under valgrind memcheck with the
# RCL_VALGRIND build, JIT on (each test also runs interpreted until its
# traces compile). memcheck's --error-exitcode makes any memory error a failed
# test run; the runner prints "N passed, N failed".
#
# Test files that start child interpreters themselves (the banner test) run
# them under valgrind too, through LUAJIT_TEST_LUAJIT.
# The runner self-test is left out: it tests the runner, not the runtime.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
command -v valgrind >/dev/null || { echo "check-valgrind: valgrind is not installed (make deps)" >&2; exit 1; }
B=build/x86_64-valgrind
export LUA_PATH="$B/share/luajit-2.1/?.lua;;"
# --smc-check: the JIT writes and then runs machine code.
vg="valgrind --quiet --error-exitcode=97 --smc-check=all-non-file --leak-check=no"
vg="$vg --suppressions=tests/valgrind/luajit.supp"
files=()
for f in tests/lua/*.lua; do
	case $f in */runner.lua | */runner_selftest.lua) ;; *) files+=("$f") ;; esac
done
exec "$B/bin/luajit" tests/lua/runner.lua --mode on --timeout 900 \
	--luajit "$vg $B/bin/luajit" "${files[@]}"
