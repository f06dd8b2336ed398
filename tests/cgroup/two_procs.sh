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

[ $# = 2 ] || die "usage: $0 STOCK_LUAJIT OURS_LUAJIT"
stock=$1 ours=$2
[ -x "$stock" ] || die "$stock: not an executable (make stock)"
[ -x "$ours" ] || die "$ours: not an executable (make x86_64)"
[ "$(id -u)" = 0 ] || die "needs root to make a memory cgroup"

LIMIT_MIB=${LIMIT_MIB:-480}
COUNT=${COUNT:-500000}
burst=$top/tests/cgroup/burst.lua
work=$(mktemp -d)
group= started=
passed=0 failed=0

# remove_group: kill what is left in the group (A's sleep outlives A), then
# remove it.
remove_group() {
	local pid
	[ -n "$group" ] && [ -d "$group" ] || return 0
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$group/cgroup.procs"
		rmdir "$group" 2>/dev/null && break
		sleep 0.1
	done
	[ -d "$group" ] && die "cannot remove $group"
	group=
}

cleanup() {
	remove_group || true
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

# make_group NAME: a child memory cgroup limited to LIMIT_MIB; sets group,
# limit_file, peak_file.
make_group() {
	local v2 v1 base
	v2=$(sed -n 's/^0:://p' /proc/self/cgroup)
	v1=$(sed -n 's/^[0-9]*:\([^:]*,\)\{0,1\}memory\(,[^:]*\)\{0,1\}://p' /proc/self/cgroup)
	base=/sys/fs/cgroup${v2%/}
	if [ -n "$v2" ] && grep -qw memory "$base/cgroup.controllers" 2>/dev/null; then
		grep -qw memory "$base/cgroup.subtree_control" || echo +memory >"$base/cgroup.subtree_control" ||
			die "cannot enable the memory controller in $base"
		group=$base/$1
		mkdir "$group"
		limit_file=$group/memory.max peak_file=$group/memory.peak
		echo 0 >"$group/memory.swap.max" 2>/dev/null || true
	elif [ -n "$v1" ] && [ -d "/sys/fs/cgroup/memory${v1%/}" ]; then
		group=/sys/fs/cgroup/memory${v1%/}/$1
		mkdir "$group"
		limit_file=$group/memory.limit_in_bytes peak_file=$group/memory.max_usage_in_bytes
	else
		die "no usable memory cgroup on this machine (/proc/self/cgroup: $(tr '\n' ' ' </proc/self/cgroup))"
	fi
	echo $((LIMIT_MIB << 20)) >"$limit_file"
}

# start NAME LUAJIT HOLD: run burst.lua in the group (pid in started);
# output in $work/NAME.out.
start() {
	sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" "$3" "$4" "$5"' sh \
		"$group" "$2" "$burst" "$COUNT" "$3" >"$work/$1.out" 2>"$work/$1.err" &
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
	make_group "rcl-two-procs-$label-$$"
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
		"$(($(cat "$peak_file" 2>/dev/null || echo 0) >> 20))" "$LIMIT_MIB"
	remove_group
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
