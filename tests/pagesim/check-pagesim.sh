#!/bin/bash
# check-pagesim.sh: prove the runtime is correct at every page size arm64
# kernels use, without an arm64 kernel: the Lua suite, the reclaim tests and a
# JIT stress test run under tests/tools/pagesim at 4K, 16K and 64K with zero
# alignment violations; the startup validation rejects impossible page sizes
# by name; and a runtime built to purge with a fixed 4096-byte granule is
# caught at 64K (proof that this check catches the bug it exists for).
#
# Prints one line per check and ends with "N passed, N failed".
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
B=build
LJ=$B/x86_64/bin/luajit
PAGESIM=tests/tools/pagesim/pagesim
export LUA_PATH="$B/x86_64/share/luajit-2.1/?.lua;;"
export PAGESIM_SO=$top/$B/tools/pagesim.so
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
pass=0
fail=0
ok() { echo "ok $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

# report_clean LOG: every pagesim report line in LOG shows zero violations.
report_clean() {
	local n
	n=$(grep -c '^pagesim: ' "$1" || true)
	[ "$n" -gt 0 ] || { echo "no pagesim report in $1"; return 1; }
	if grep '^pagesim: ' "$1" | grep -v ' violations=0 ' >/dev/null; then
		grep '^pagesim: ' "$1" | grep -v ' violations=0 ' | head -5
		return 1
	fi
	echo "$n processes, 0 violations"
}

for p in 4096 16384 65536; do
	log=$logdir/suite-$p.log
	# The runner runs natively; every test process runs under pagesim.
	if out=$(PAGESIM_LOG=$log LUAJIT_TEST_PAGESIZE=$p $LJ tests/lua/runner.lua --mode on \
		--luajit "$PAGESIM -p $p --strict -- $LJ" \
		tests/lua/[!r]*.lua tests/reclaim/*.lua 2>&1); then
		ok "lua+reclaim suites at $p ($(echo "$out" | tail -n 1))"
	else
		bad "lua+reclaim suites at $p" "$(echo "$out" | grep -A5 '^FAIL' | head -40)"
	fi
	if msg=$(report_clean "$log"); then ok "suites at $p: $msg"; else bad "suites at $p violations" "$msg"; fi

	for mc in 4 64 1024; do
		log=$logdir/jit-$p-$mc.log
		if out=$(PAGESIM_LOG=$log $PAGESIM -p "$p" --strict -- $LJ -Osizemcode=$mc tests/pagesim/jit_stress.lua 2>&1) &&
			msg=$(report_clean "$log"); then
			ok "jit stress at $p, sizemcode=$mc: $out; $msg"
		else
			bad "jit stress at $p, sizemcode=$mc" "$out $(cat "$log")"
		fi
	done
done

# Startup validation: a page size that no supported kernel has is a clear
# fatal error naming the value (reported by pagesim without emulation).
for bogus in 3000 131072; do
	if out=$(PAGESIM_REPORT_PAGESIZE=$bogus LD_PRELOAD=$PAGESIM_SO $LJ -e 'print("started")' 2>&1); then
		bad "page size $bogus rejected" "luajit started: $out"
	elif echo "$out" | grep -q "page size $bogus" && ! echo "$out" | grep -q started; then
		ok "page size $bogus rejected: $(echo "$out" | grep "page size" | head -1)"
	else
		bad "page size $bogus rejected" "message does not name it: $out"
	fi
done

# The deliberately broken build (purges with a 4096-byte granule) must be
# caught at 64K: pagesim reports violations, while the correct build has none.
# Each violation is logged as it happens (PAGESIM_VERBOSE): the broken build
# may die of the live bytes its spills zero before the exit report is written.
burst='local t = {} for i = 1, 200000 do t[i] = string.rep("x", 100 + i % 300) end
t = nil collectgarbage("collect") require("reclaim").purge()'
log=$logdir/granule.log
status=0
(PAGESIM_VERBOSE=1 PAGESIM_LOG=$log $PAGESIM -p 65536 -- $B/x86_64-granule4k/bin/luajit -e "$burst") \
	>/dev/null 2>&1 || status=$?
nviol=$(grep -cE '^pagesim: (unaligned|spill): ' "$log" || true)
if [ "$nviol" -gt 0 ]; then
	ok "4096-granule build caught at 64K: $nviol violations logged (exit status $status)"
else
	bad "4096-granule build caught at 64K" "no violations reported: $(cat "$log" 2>/dev/null)"
fi
log=$logdir/granule-ok.log
PAGESIM_LOG=$log $PAGESIM -p 65536 --strict -- $LJ -e "$burst" >/dev/null 2>&1 &&
	msg=$(report_clean "$log") && ok "correct build clean at 64K: $msg" ||
	bad "correct build clean at 64K" "$(cat "$log")"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
