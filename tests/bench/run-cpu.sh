#!/bin/sh
# CPU benchmark driver: runs every tests/bench/cpu/*.lua on the stock build and on ours in
# interleaved pairs and writes the markdown section $BENCH_OUT/cpu.md (also printed).
#
# Environment:
#   BENCH_STOCK    stock luajit (required; also runs the report script)
#   BENCH_OURS     our luajit (optional: if missing, stock-only timings are printed and the
#                  report says ours is missing)
#   BENCH_CPUTIME  the cputime helper built from tests/bench/cputime.c (required)
#   BENCH_OUT      output directory (default build/bench)
#   BENCH_PRINT    1 (default) prints the section when done; 0 only writes it
#   BENCH_PAIRS    pairs per benchmark (default 11)
#   BENCH_CPU      subset of benchmark names (default: every cpu/*.lua)
#   BENCH_OURS_RECLAIM  optional LUAJIT_RECLAIM value for ours only (e.g. mesh=on), in the
#                  timed runs and the stats run; empty (default) runs ours with
#                  LUAJIT_RECLAIM unset, i.e. its defaults. The report names the value in
#                  its heading and in the "ours" columns, so figures taken with a
#                  non-default configuration are never labelled as the default build.
#   BENCH_RESULTS_DIR  optional: also write the figures to BENCH_RESULTS_DIR/cpu.tsv
#                  (report-cpu.lua; make bench-report renders the docs from it)
# Invariants:
#  * Pairs are the outer loop (pair 1 of every benchmark, then pair 2, ...), so a burst of
#    load from other jobs hits one pair of many benchmarks rather than every pair of one.
#  * Within pair p, stock runs first when p is odd and ours first when p is even.
#  * Both builds run from copies at paths of the same length ($BENCH_OUT/cpu/bin-s/luajit,
#    .../bin-o/luajit: the binaries are static) and each pair sets BENCH_LAYOUT_PAD, an
#    environment string of a random length (0-4095) shared by both runs of the pair: argv
#    and the environment sit at the top of the stack, so a path of another length moves
#    every stack address and can make one binary faster than an identical copy of itself.
#  * Both builds must print the same output (the benchmarks print checksums); a mismatch or
#    a failing run is reported and makes this script exit 1. Target misses never do.
#  * Stock always runs with LUAJIT_RECLAIM unset; ours with it unset too unless
#    BENCH_OURS_RECLAIM is non-empty, then with exactly that value.
#  * After the pairs, ours runs each benchmark once more under with-stats.lua to report
#    purge calls, bytes purged and the mesh counters; that run is not timed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${BENCH_STOCK:?BENCH_STOCK must name the stock luajit}"
: "${BENCH_CPUTIME:?BENCH_CPUTIME must name the cputime helper}"
BENCH_OURS=${BENCH_OURS:-}
BENCH_OUT=${BENCH_OUT:-build/bench}
BENCH_PAIRS=${BENCH_PAIRS:-11}
BENCH_OURS_RECLAIM=${BENCH_OURS_RECLAIM:-}

for tool in "$BENCH_STOCK" "$BENCH_CPUTIME"; do
    if [ ! -x "$tool" ]; then
        echo "run-cpu.sh: required tool not found or not executable: $tool" >&2
        exit 1
    fi
done
case $BENCH_PAIRS in
    '' | *[!0-9]* | 0) echo "run-cpu.sh: BENCH_PAIRS must be a positive integer" >&2; exit 1 ;;
esac
if [ -n "$BENCH_OURS_RECLAIM" ] && [ -n "${BENCH_RESULTS_DIR:-}" ]; then
    echo "run-cpu.sh: BENCH_RESULTS_DIR feeds the docs the default build's figures; not with BENCH_OURS_RECLAIM='$BENCH_OURS_RECLAIM'" >&2
    exit 1
fi
have_ours=0
if [ -n "$BENCH_OURS" ] && [ -x "$BENCH_OURS" ]; then
    have_ours=1
else
    echo "run-cpu.sh: ours is missing (BENCH_OURS='$BENCH_OURS'): stock-only timings" >&2
fi

if [ -z "${BENCH_CPU:-}" ]; then
    BENCH_CPU=$(cd "$here/cpu" && for f in *.lua; do printf '%s ' "${f%.lua}"; done)
fi
for name in $BENCH_CPU; do
    if [ ! -f "$here/cpu/$name.lua" ]; then
        echo "run-cpu.sh: no such benchmark: $here/cpu/$name.lua" >&2
        exit 1
    fi
done

rawdir="$BENCH_OUT/cpu"
rm -rf "$rawdir"
mkdir -p "$rawdir"
timings="$rawdir/timings.tsv"
stats="$rawdir/reclaim-stats.tsv"
problems="$rawdir/problems.txt"
: >"$timings"
: >"$stats"
: >"$problems"

# Same-length copies of both binaries (see the invariants above).
mkdir -p "$rawdir/bin-s" "$rawdir/bin-o"
cp "$BENCH_STOCK" "$rawdir/bin-s/luajit"
if [ "$have_ours" -eq 1 ]; then cp "$BENCH_OURS" "$rawdir/bin-o/luajit"; fi
binary_for() {
    if [ "$1" = stock ]; then echo "$rawdir/bin-s/luajit"; else echo "$rawdir/bin-o/luajit"; fi
}

# run_env BUILD CMD...: runs CMD with the LUAJIT_RECLAIM that BUILD gets (see invariants).
run_env() {
    if [ "$1" = ours ] && [ -n "$BENCH_OURS_RECLAIM" ]; then
        shift
        env LUAJIT_RECLAIM="$BENCH_OURS_RECLAIM" "$@"
    else
        shift
        env -u LUAJIT_RECLAIM "$@"
    fi
}

# layout_pad: a string of a random length in 0..4095, new for every pair.
layout_pad() {
    len=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    printf "%$((len % 4096))s" '' | tr ' ' x
}

# time_one NAME PAIR BUILD POSITION: one timed run, appended to timings.tsv.
time_one() {
    name=$1 pair=$2 build=$3 position=$4
    out="$rawdir/$name-$build-$pair.out"
    report="$rawdir/$name-$build-$pair.time"
    status=0
    run_env "$build" BENCH_LAYOUT_PAD="$pad" "$BENCH_CPUTIME" -o "$report" \
        "$(binary_for "$build")" "$here/cpu/$name.lua" >"$out" 2>"$out.err" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "$name: $build run $pair FAILED with status $status (stderr: $out.err)" >>"$problems"
        sed 's/^/    /' "$out.err" >&2
        return 0
    fi
    # report line: user=.. sys=.. cpu=.. wall=.. maxrss_kb=.. status=..
    sed "s/^/name=$name pair=$pair build=$build position=$position /" "$report" >>"$timings"
}

pair=1
while [ "$pair" -le "$BENCH_PAIRS" ]; do
    for name in $BENCH_CPU; do
        echo "run-cpu.sh: pair $pair/$BENCH_PAIRS $name" >&2
        pad=$(layout_pad)
        if [ "$have_ours" -eq 0 ]; then
            time_one "$name" "$pair" stock first
        elif [ $((pair % 2)) -eq 1 ]; then
            time_one "$name" "$pair" stock first
            time_one "$name" "$pair" ours second
        else
            time_one "$name" "$pair" ours first
            time_one "$name" "$pair" stock second
        fi
    done
    pair=$((pair + 1))
done

if [ "$have_ours" -eq 1 ]; then
    for name in $BENCH_CPU; do
        p=1
        while [ "$p" -le "$BENCH_PAIRS" ]; do
            s="$rawdir/$name-stock-$p.out" o="$rawdir/$name-ours-$p.out"
            if [ -s "$s" ] && [ -s "$o" ] && ! cmp -s "$s" "$o"; then
                echo "$name: OUTPUT MISMATCH in pair $p: stock '$(head -n1 "$s")' vs ours '$(head -n1 "$o")'" >>"$problems"
            fi
            p=$((p + 1))
        done
        echo "run-cpu.sh: reclaim stats $name" >&2
        status=0
        statline=$(run_env ours "$BENCH_OURS" "$here/with-stats.lua" "$here/cpu/$name.lua" \
            2>"$rawdir/$name-stats.err" | grep '^RECLAIM ') || status=$?
        if [ "$status" -ne 0 ] || [ -z "$statline" ]; then
            echo "$name: stats run of ours FAILED (stderr: $rawdir/$name-stats.err)" >>"$problems"
        else
            echo "name=$name ${statline#RECLAIM }" >>"$stats"
        fi
    done
fi

"$BENCH_STOCK" "$here/report-cpu.lua" "$timings" "$stats" "$problems" "$have_ours" \
    "$BENCH_PAIRS" "${BENCH_RESULTS_DIR:-}" "$BENCH_OURS_RECLAIM" >"$BENCH_OUT/cpu.md"
if [ "${BENCH_PRINT:-1}" = 1 ]; then cat "$BENCH_OUT/cpu.md"; fi
if [ -s "$problems" ]; then
    echo "run-cpu.sh: problems found (see $problems):" >&2
    cat "$problems" >&2
    exit 1
fi
