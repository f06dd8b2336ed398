#!/bin/bash
# two_procs.sh: two processes in one memory cgroup, stock LuaJIT against ours.
#
# In a child memory cgroup (v2 where this process's v2 group has the memory
# controller, else v1) limited to LIMIT_MIB, process A bursts (COUNT mixed
# objects, 2% kept: tests/cgroup/burst.lua), collects, and stays alive holding
# its survivors; then process B bursts the same way. Stock's allocator keeps
# A's burst resident, so A + B exceed the limit and the kernel's OOM killer
# kills one of them; ours gives A's garbage back, so both live. The test
# asserts exactly that and prints both processes' figures (RSS after the
# burst, peak RSS) and the group's peak usage. The group is removed at the
# end, whatever happens; a machine without a usable memory cgroup fails the
# test, saying so.
#
# Usage: tests/cgroup/two_procs.sh STOCK_LUAJIT OURS_LUAJIT   (as root)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../lib/shell.sh
. "$top/lib/shell.sh"
# shellcheck source=lib.sh
. "$top/tests/cgroup/lib.sh"

[ $# = 2 ] || die "usage: $0 STOCK_LUAJIT OURS_LUAJIT"
stock=$1 ours=$2
[ -x "$stock" ] || die "$stock: not an executable (make stock)"
[ -x "$ours" ] || die "$ours: not an executable (make x86_64)"
[ "$(id -u)" = 0 ] || die "needs root to make a memory cgroup"

LIMIT_MIB=${LIMIT_MIB:-480}
COUNT=${COUNT:-500000}
burst=$top/tests/cgroup/burst.lua
work=$(mktemp -d)
started=
passed=0 failed=0

cleanup() {
	cgroup_remove || true
	rm -rf "$work"
}
at_exit cleanup

check() {  # check DESCRIPTION CONDITION...
	local what=$1
	shift
	if "$@"; then
		echo "ok    $what"
		passed=$((passed + 1))
	else
		echo "FAIL  $what"
		failed=$((failed + 1))
	fi
}

# start NAME LUAJIT HOLD: run burst.lua in the group (pid in started);
# output in $work/NAME.out.
start() {
	cgroup_run "$2" "$burst" "$COUNT" "$3" >"$work/$1.out" 2>"$work/$1.err" &
	started=$!
}

# await_line NAME WORD PID SECONDS: wait until NAME.out has a WORD line or PID is gone.
await_line() {
	local i
	for ((i = 0; i < $4 * 10; i++)); do
		grep -q "^$2 " "$work/$1.out" && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# run LABEL LUAJIT: the pair in a fresh group; sets a_status, b_status and
# prints the figures.
run() {
	local label=$1 luajit=$2 a b a_alive
	cgroup_make "rcl-two-procs-$label-$$" "$LIMIT_MIB"
	rm -f "$work"/a.* "$work"/b.*    # the previous run's lines must not count
	: >"$work/a.out"
	start a "$luajit" 60
	a=$started
	await_line a ready "$a" 60 || true
	start b "$luajit" 0
	b=$started
	b_status=0
	wait "$b" || b_status=$?
	a_alive=no
	if kill -0 "$a" 2>/dev/null; then a_alive=yes; fi
	kill -TERM "$a" 2>/dev/null || true
	a_status=0
	wait "$a" || a_status=$?
	[ "$a_alive" = yes ] && a_status=alive
	printf '%-6s A: %-8s after burst %s KiB RSS, peak %s KiB | B: exit %-4s after burst %s KiB, peak %s KiB | group peak %s MiB of %s\n' \
		"$label" "$a_status" "$(awk '/^ready/ {print $2}' "$work/a.out")" \
		"$(awk '/^ready/ {print $3}' "$work/a.out")" "$b_status" \
		"$(awk '/^ready/ {print $2}' "$work/b.out")" "$(awk '/^ready/ {print $3}' "$work/b.out")" \
		"$(cgroup_peak_mib)" "$LIMIT_MIB"
	cgroup_remove
}

run stock "$stock"
stock_a=$a_status stock_b=$b_status
run ours "$ours"
ours_a=$a_status ours_b=$b_status

# 137 = killed by SIGKILL (the OOM killer); "alive" = A was still running when B ended.
check "stock: the OOM killer killed A or B (A $stock_a, B $stock_b)" \
	test "$stock_a" = 137 -o "$stock_b" = 137
check "ours: A held its survivors through B's burst" test "$ours_a" = alive
check "ours: B's burst completed (exit 0)" test "$ours_b" = 0
check "ours: B printed its figures" grep -q '^ready ' "$work/b.out"
echo "two_procs: $passed passed, $failed failed"
[ "$failed" = 0 ]
