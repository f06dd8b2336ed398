#!/bin/bash
# run-cachegrind.sh: machine-noise-free CPU figures for `make bench-cg`. Runs chosen CPU
# benchmarks once per build under valgrind's cachegrind (simulated caches) and writes the
# markdown section $BENCH_OUT/cachegrind.md (also printed): instructions (Ir), simulated
# D1 and last-level read misses, and where they are: the allocator (lj_alloc.c for stock;
# rcl_*, lj_ralloc.c, lj_alloc_f and libgcc's popcount helper for ours), the GC's sweep
# (gc_sweep, gc_sweepstr) and mark (propagatemark, gc_mark), and the rest.
#
# Instruction counts separate the allocator's path length from placement; the simulated
# misses are counts only: cachegrind models no hardware prefetcher and no TLB, so a layout
# that the prefetchers follow and one they do not can show the same misses and run at very
# different speeds (runtime/reclaim/README.md, design notes). Interleaved timed pairs
# (`make bench-cpu`) stay the measure of speed.
#
# Environment (from tests/bench/bench.mk):
#   BENCH_STOCK, BENCH_OURS  the two luajit CLIs (both required)
#   BENCH_OUT                output directory (default build/bench)
#   BENCH_CG                 "name[:argument] ..." benchmarks of tests/bench/cpu and the
#                            iteration argument each gets (defaults below: about a fifth
#                            of their timed runs, so that each takes under a minute)
#   BENCH_CG_LL              cachegrind's last level, "size,ways,line" (default an L2 of
#                            1 MiB: the GC's walks miss there, and the L3 holds the heaps)
# Invariants: both builds print the same output (the checksum) or the script fails; figures
# come from cachegrind's own totals; nothing is timed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/shell.sh
. "$here/../../lib/shell.sh"

usage() {
	cat <<'EOF'
usage: run-cachegrind.sh [--help]
Runs BENCH_CG (default: record_ring_10k:600000 record_ring_100k:600000
ffi_cdata:600000 priority_queue:350000) under cachegrind for BENCH_STOCK and
BENCH_OURS; writes $BENCH_OUT/cachegrind.md and prints it.
EOF
}
case ${1:-} in
-h | --help) usage; exit 0 ;;
'') ;;
*) usage >&2; die "unknown argument: $1" ;;
esac

need valgrind:valgrind cg_annotate:valgrind
: "${BENCH_STOCK:?BENCH_STOCK must name the stock luajit}"
: "${BENCH_OURS:?BENCH_OURS must name our luajit}"
for bin in "$BENCH_STOCK" "$BENCH_OURS"; do
	[ -x "$bin" ] || die "not an executable: $bin"
done
BENCH_OUT=${BENCH_OUT:-build/bench}
BENCH_CG=${BENCH_CG:-record_ring_10k:600000 record_ring_100k:600000 ffi_cdata:600000 priority_queue:350000}
BENCH_CG_LL=${BENCH_CG_LL:-1048576,16,64}
rawdir=$BENCH_OUT/cachegrind
rm -rf "$rawdir"
mkdir -p "$rawdir"

# summarize FILE: "Ir D1mr DLmr alloc_Ir sweep_Ir sweep_DLmr mark_Ir mark_DLmr" from
# cg_annotate's per-function table (counts without separators).
summarize() {
	cg_annotate --auto=no --show-percs=no --threshold=0 --show=Ir,D1mr,DLmr "$1" |
		awk '
		/PROGRAM TOTALS/ { gsub(",", ""); ir = $1; d1 = $2; dl = $3; next }
		NF >= 4 && $1 ~ /^[0-9,]+$/ {
			gsub(",", "", $1); gsub(",", "", $3)
			fn = $4
			if (fn ~ /lj_alloc\.c:|lj_ralloc\.c:|\/rcl_[a-z_]*\.[ch]:|:lj_alloc_f$|:__popcountdi2$/) a += $1
			else if (fn ~ /lj_gc\.c:gc_sweep(str)?$/) { s += $1; sl += $3 }
			else if (fn ~ /lj_gc\.c:(propagatemark|gc_mark)$/) { m += $1; ml += $3 }
		}
		END { printf "%s %s %s %d %d %d %d %d\n", ir, d1, dl, a, s, sl, m, ml }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
mega() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1e6 }'; }

table=$rawdir/table.md
{
	echo "## Cachegrind (simulated caches: D1 as this machine's, LL $BENCH_CG_LL)"
	echo
	echo "Counts in millions; ratio = ours / stock (below 1: ours does less)."
	echo
	echo "| benchmark | build | Ir | Ir ratio | D1 misses | LL misses | allocator Ir | sweep Ir | sweep LL misses | mark Ir | mark LL misses |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
} >"$table"

for item in $BENCH_CG; do
	name=${item%%:*}
	arg=
	[ "$name" = "$item" ] || arg=${item#*:}
	script=$here/cpu/$name.lua
	[ -f "$script" ] || die "no such benchmark: $script"
	for build in stock ours; do
		bin=$BENCH_STOCK
		[ $build = stock ] || bin=$BENCH_OURS
		say "$name ($build) under cachegrind"
		# $arg is one optional word: unquoted on purpose so that an empty one is no argument.
		# shellcheck disable=SC2086
		nice valgrind --tool=cachegrind --cache-sim=yes --LL="$BENCH_CG_LL" \
			--cachegrind-out-file="$rawdir/$name.$build.cg" "$bin" "$script" $arg \
			>"$rawdir/$name.$build.out" 2>"$rawdir/$name.$build.log" ||
			die "$name failed under cachegrind ($build): see $rawdir/$name.$build.log"
		summarize "$rawdir/$name.$build.cg" >"$rawdir/$name.$build.sum"
	done
	cmp -s "$rawdir/$name.stock.out" "$rawdir/$name.ours.out" ||
		die "$name: output differs between stock and ours (see $rawdir/$name.*.out)"
	read -r s_ir s_d1 s_dl s_a s_s s_sl s_m s_ml <"$rawdir/$name.stock.sum"
	read -r o_ir o_d1 o_dl o_a o_s o_sl o_m o_ml <"$rawdir/$name.ours.sum"
	for build in stock ours; do
		if [ $build = stock ]; then
			set -- "$s_ir" "$s_d1" "$s_dl" "$s_a" "$s_s" "$s_sl" "$s_m" "$s_ml" 1.000
		else
			set -- "$o_ir" "$o_d1" "$o_dl" "$o_a" "$o_s" "$o_sl" "$o_m" "$o_ml" "$(ratio "$o_ir" "$s_ir")"
		fi
		printf '| %s %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$arg" $build \
			"$(mega "$1")" "$9" "$(mega "$2")" "$(mega "$3")" "$(mega "$4")" "$(mega "$5")" \
			"$(mega "$6")" "$(mega "$7")" "$(mega "$8")" >>"$table"
	done
done
cp "$table" "$BENCH_OUT/cachegrind.md"
cat "$BENCH_OUT/cachegrind.md"
