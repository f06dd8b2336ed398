#!/bin/sh
# Memory benchmark driver: runs the workloads in tests/bench/mem/ on the stock build and on
# ours, side by side, and writes the markdown section $BENCH_OUT/mem.md (also printed).
#
# Environment:
#   BENCH_STOCK   stock luajit (required; also runs the report script)
#   BENCH_OURS    our luajit (optional: if the file is missing, stock-only figures are printed
#                 and the report says ours is missing)
#   BENCH_MESH    1 (default) also runs ours with meshing on, as the build "ours-mesh"
#                 (LUAJIT_RECLAIM=mesh=on; idle variant: $BENCH_IDLE_RECLAIM,mesh=on), so the
#                 report shows meshing off and on side by side; 0 skips it
#   BENCH_OUT     output directory (default build/bench)
#   BENCH_PRINT   1 (default) prints the section when done; 0 only writes it
#   BENCH_MEM_WORKLOADS  subset of "a b c d e" (default all)
#   BENCH_MEM_RUNS       runs per build/workload/variant (default 1; cells become medians)
#   PAGESIM       optional page sizes, e.g. "16384 65536": repeat everything under the page-size
#                 simulator and print the tables again, marked "emulated"
#   PAGESIM_TOOL  the simulator (default tests/tools/pagesim/pagesim)
#   PAGESIM_WORKLOADS  the workloads run under the simulator (default BENCH_MEM_WORKLOADS)
#   BENCH_RESULTS_DIR  optional: also write the key figures and target verdicts to
#                 BENCH_RESULTS_DIR/mem.tsv and mem-targets.tsv (report-mem.lua; make
#                 bench-report renders the docs from them)
#   BENCH_IDLE_RECLAIM  LUAJIT_RECLAIM value for the idle variant (default "background=1")
#   BENCH_PEER    optional: an unpatched luajit built on glibc malloc, the measured peer of
#                 workloads (d) and (e). It runs their trickle variant (and (d)'s idle
#                 variant) natively with BENCH_MALLOC_TRIM=1, so the workload calls
#                 malloc_trim(0) after each collection it finishes (tests/bench/mem/probe.lua),
#                 BENCH_PEER_RUNS times (default 3)
#   BENCH_SERIES  optional: a directory; the first native trickle run of (e) on each build
#                 (stock, ours, peer) then runs under BENCH_SAMPLER (rss-sampler) and leaves
#                 its RSS over time in BENCH_SERIES/sawtooth-BUILD.csv (plot/record-sawtooth.sh)
# Invariants: every run gets the same environment on every build (LUAJIT_RECLAIM unset for the
# trickle variant, $BENCH_IDLE_RECLAIM for the idle variant), except that ours-mesh adds
# mesh=on to it; a workload that exits non-zero is
# reported as FAILED and makes this script exit 1 after the report is written. Target misses
# never change the exit status.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${BENCH_STOCK:?BENCH_STOCK must name the stock luajit}"
BENCH_OURS=${BENCH_OURS:-}
BENCH_OUT=${BENCH_OUT:-build/bench}
BENCH_MEM_WORKLOADS=${BENCH_MEM_WORKLOADS:-a b c d e}
BENCH_MEM_RUNS=${BENCH_MEM_RUNS:-1}
PAGESIM=${PAGESIM:-}
PAGESIM_TOOL=${PAGESIM_TOOL:-tests/tools/pagesim/pagesim}
PAGESIM_WORKLOADS=${PAGESIM_WORKLOADS:-$BENCH_MEM_WORKLOADS}
BENCH_RESULTS_DIR=${BENCH_RESULTS_DIR:-}
BENCH_IDLE_RECLAIM=${BENCH_IDLE_RECLAIM:-background=1}
BENCH_PEER=${BENCH_PEER:-}
BENCH_PEER_RUNS=${BENCH_PEER_RUNS:-3}
BENCH_SERIES=${BENCH_SERIES:-}
BENCH_MESH=${BENCH_MESH:-1}

if [ ! -x "$BENCH_STOCK" ]; then
    echo "run-mem.sh: stock luajit not found or not executable: $BENCH_STOCK" >&2
    exit 1
fi
builds="stock"
if [ -n "$BENCH_OURS" ] && [ -x "$BENCH_OURS" ]; then
    builds="stock ours"
    case $BENCH_MESH in
        1) builds="stock ours ours-mesh" ;;
        0) ;;
        *) echo "run-mem.sh: BENCH_MESH must be 0 or 1, got '$BENCH_MESH'" >&2; exit 1 ;;
    esac
else
    echo "run-mem.sh: ours is missing (BENCH_OURS='$BENCH_OURS'): stock-only figures" >&2
fi
if [ -n "$BENCH_PEER" ] && [ ! -x "$BENCH_PEER" ]; then
    echo "run-mem.sh: BENCH_PEER='$BENCH_PEER' is not an executable (make sysmalloc-x86_64)" >&2
    exit 1
fi
case $BENCH_PEER_RUNS in
    '' | *[!0-9]* | 0) echo "run-mem.sh: BENCH_PEER_RUNS must be a positive integer" >&2; exit 1 ;;
esac
if [ -n "$BENCH_SERIES" ] && [ ! -x "${BENCH_SAMPLER:-}" ]; then
    echo "run-mem.sh: BENCH_SERIES='$BENCH_SERIES' set but BENCH_SAMPLER='${BENCH_SAMPLER:-}' is not an executable" >&2
    exit 1
fi
if [ -n "$PAGESIM" ] && [ ! -x "$PAGESIM_TOOL" ]; then
    echo "run-mem.sh: PAGESIM='$PAGESIM' set but the simulator is missing: $PAGESIM_TOOL" >&2
    exit 1
fi

script_for() {
    case $1 in
        a) echo "$here/mem/a_strings.lua" ;;
        b) echo "$here/mem/b_tables.lua" ;;
        c) echo "$here/mem/c_records.lua" ;;
        d) echo "$here/mem/d_mixed.lua" ;;
        e) echo "$here/mem/e_sawtooth.lua" ;;
        *) echo "run-mem.sh: unknown workload '$1' (expected a b c d e)" >&2; return 1 ;;
    esac
}

binary_for() {
    if [ "$1" = stock ]; then echo "$BENCH_STOCK"; else echo "$BENCH_OURS"; fi
}

# record_run BUILD WORKLOAD VARIANT RUN COMMAND...: runs COMMAND with its output in
# $rawdir and appends the manifest line; a failure is reported and sets any_failed.
# The first native trickle run of (e) also records its RSS series (BENCH_SERIES).
record_run() {
    rbuild=$1 rworkload=$2 rvariant=$3 rrun=$4
    shift 4
    if [ -n "$BENCH_SERIES" ] && [ "$label" = native ] && [ "$rworkload/$rvariant/$rrun" = e/trickle/1 ]; then
        set -- sh "$here/plot/record-sawtooth.sh" "$rbuild" "$BENCH_SERIES" "$@"
    fi
    raw="$rawdir/$rbuild-$rworkload-$rvariant-$rrun.txt"
    echo "run-mem.sh: [$label] $rbuild $rworkload $rvariant run $rrun" >&2
    status=0
    "$@" >"$raw" 2>"$raw.err" || status=$?
    if [ "$status" -ne 0 ]; then
        any_failed=1
        echo "run-mem.sh: FAILED ($status): $* (stderr in $raw.err)" >&2
        sed 's/^/    /' "$raw.err" >&2
    fi
    echo "$rbuild $rworkload $rvariant $rrun $status $raw" >>"$manifest"
}

# run_set LABEL PAGESIZE WORKLOADS: runs every variant/build of WORKLOADS; PAGESIZE empty =
# native. Appends the section to mem.md and returns 1 if any run failed.
run_set() {
    label=$1 pagesize=$2 workloads=$3
    rawdir="$BENCH_OUT/mem/$label"
    rm -rf "$rawdir"
    mkdir -p "$rawdir"
    manifest="$rawdir/manifest"
    : >"$manifest"
    any_failed=0
    for workload in $workloads; do
        script=$(script_for "$workload")
        for variant in trickle idle; do
            run=1
            while [ "$run" -le "$BENCH_MEM_RUNS" ]; do
                for build in $builds; do
                    set -- "$(binary_for "$build")" "$script" "$variant"
                    if [ -n "$pagesize" ]; then
                        set -- "$PAGESIM_TOOL" -p "$pagesize" -- "$@"
                    fi
                    if [ "$variant" = idle ]; then
                        reclaim=$BENCH_IDLE_RECLAIM
                        if [ "$build" = ours-mesh ]; then reclaim="$reclaim,mesh=on"; fi
                        record_run "$build" "$workload" "$variant" "$run" \
                            env LUAJIT_RECLAIM="$reclaim" "$@"
                    elif [ "$build" = ours-mesh ]; then
                        record_run "$build" "$workload" "$variant" "$run" env LUAJIT_RECLAIM=mesh=on "$@"
                    else
                        record_run "$build" "$workload" "$variant" "$run" env -u LUAJIT_RECLAIM "$@"
                    fi
                done
                run=$((run + 1))
            done
        done
    done
    # The measured peer: (d) and (e) only, natively (its figures are 4 KiB measurements).
    if [ -n "$BENCH_PEER" ] && [ -z "$pagesize" ]; then
        for workload in $BENCH_MEM_WORKLOADS; do
            case $workload in d) variants="trickle idle" ;; e) variants=trickle ;; *) continue ;; esac
            for variant in $variants; do
                run=1
                while [ "$run" -le "$BENCH_PEER_RUNS" ]; do
                    record_run peer "$workload" "$variant" "$run" env -u LUAJIT_RECLAIM BENCH_MALLOC_TRIM=1 \
                        "$BENCH_PEER" "$(script_for "$workload")" "$variant"
                    run=$((run + 1))
                done
            done
        done
    fi
    "$BENCH_STOCK" "$here/report-mem.lua" "$manifest" "$label" "$BENCH_IDLE_RECLAIM" \
        "$BENCH_RESULTS_DIR" >>"$BENCH_OUT/mem.md"
    return "$any_failed"
}

mkdir -p "$BENCH_OUT"
: >"$BENCH_OUT/mem.md"
if [ -n "$BENCH_RESULTS_DIR" ]; then
    mkdir -p "$BENCH_RESULTS_DIR"
    printf 'set\tworkload\tbuild\tmetric\tmedian\tmin\tmax\truns\n' >"$BENCH_RESULTS_DIR/mem.tsv"
    printf 'set\tworkload\tverdict\ttext\n' >"$BENCH_RESULTS_DIR/mem-targets.tsv"
fi
failed=0
run_set native "" "$BENCH_MEM_WORKLOADS" || failed=1
for size in $PAGESIM; do
    run_set "emulated-page-$size" "$size" "$PAGESIM_WORKLOADS" || failed=1
done
if [ "${BENCH_PRINT:-1}" = 1 ]; then cat "$BENCH_OUT/mem.md"; fi
if [ "$failed" -ne 0 ]; then
    echo "run-mem.sh: some workload runs FAILED (see above)" >&2
    exit 1
fi
