#!/bin/bash
# check-valgrind.sh: run tests/lua under valgrind memcheck with the
# RCL_VALGRIND build, JIT on (each test also runs interpreted until its
# traces compile). memcheck's --error-exitcode makes any memory error a failed
# test run; the runner prints "N passed, N failed".
#
# Test files that start child interpreters themselves (the banner test) run
# them under valgrind too, through LUAJIT_TEST_LUAJIT.
# The runner self-test is left out: it tests the runner, not the runtime.
# Then the mesh probe (tests/valgrind/mesh_probe.lua) with mesh=on, as root:
# no error reading live blocks on meshed pages, one invalid read per read of
# a block freed on a meshed page.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
# shellcheck source=lib/shell.sh
. lib/shell.sh
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
"$B/bin/luajit" tests/lua/runner.lua --mode on --timeout 900 \
	--luajit "$vg $B/bin/luajit" "${files[@]}"

# Meshing under memcheck (tests/valgrind/mesh_probe.lua): blocks meshed onto
# another page stay defined (live: no error), and a read of a block freed on a
# meshed page is an invalid read (freed: one error per read). Needs root (the
# probe reads physical page numbers from /proc/self/pagemap).
need_root "check-valgrind's mesh probe reads /proc/self/pagemap"
probe() {
	local mode=$1 out err errors reads
	out=$B/mesh-probe-$mode.out err=$B/mesh-probe-$mode.err
	LUAJIT_RECLAIM=mesh=on timeout 600 valgrind --error-exitcode=97 --smc-check=all-non-file --leak-check=no \
		--suppressions=tests/valgrind/luajit.supp "$B/bin/luajit" tests/valgrind/mesh_probe.lua "$mode" 60000 \
		>"$out" 2>"$err" || true
	errors=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$err")
	reads=$(sed -n 's/^reads=//p' "$out")
	if [ -z "$errors" ] || [ -z "$reads" ] || ! grep -q '^checksum=' "$out"; then
		cat "$out" "$err"
		die "mesh probe ($mode): no ERROR SUMMARY, reads= or checksum= line (output above)"
	fi
	[ "$(sed -n 's/^meshed_pages=//p' "$out")" -gt 0 ] ||
		{ cat "$out"; die "mesh probe ($mode): no survivor's page is meshed"; }
	[ "$reads" -gt 0 ] || { cat "$out"; die "mesh probe ($mode): nothing read"; }
	echo "mesh probe ($mode): $(tr '\n' ' ' <"$out")memcheck errors $errors"
	case $mode in
	live)
		[ "$errors" = 0 ] || { cat "$err"; die "mesh probe (live): memcheck reported $errors errors reading live meshed blocks"; }
		[ "$(sed -n 's/^intact=//p' "$out")" = "$reads" ] ||
			{ cat "$out"; die "mesh probe (live): a survivor read back wrong"; } ;;
	freed)
		[ "$errors" = "$reads" ] || { grep -m 20 'Invalid\|free' "$err"; die "mesh probe (freed): $reads reads of freed blocks on meshed pages, memcheck reported $errors errors"; }
		grep -q 'Invalid read of size 4' "$err" || { cat "$err"; die "mesh probe (freed): no 'Invalid read' in memcheck's report"; } ;;
	esac
}
probe live
probe freed
