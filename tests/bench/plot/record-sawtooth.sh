#!/bin/sh
# record-sawtooth.sh: the RSS series of workload (e), the sawtooth, for one build: runs
# COMMAND (the trickle variant of tests/bench/mem/e_sawtooth.lua on that build) under
# rss-sampler, every 20 ms, into OUT_DIR/sawtooth-BUILD.csv. Called by run-mem.sh (on
# the first native trickle run of (e) of each build, so `make bench-mem` records the
# series as a side effect) and by `make bench-series`.
#
#   BENCH_SAMPLER=PATH record-sawtooth.sh BUILD OUT_DIR COMMAND [ARG...]
#
# BUILD is stock, ours, ours-mesh or peer (run-mem.sh's build names); it chooses the line's
# label.
# Invariant: the exit status and standard output are COMMAND's (sample.sh), so the
# benchmark run it wraps reads and fails exactly as it would unwrapped.
set -eu

[ $# -ge 3 ] || { echo "usage: record-sawtooth.sh stock|ours|ours-mesh|peer OUT_DIR COMMAND..." >&2; exit 2; }
build=$1 out=$2
shift 2
case $build in
    stock) label="stock LuaJIT" ;;
    ours) label="ours (LUAJIT_RECLAIM unset)" ;;
    ours-mesh) label="ours with meshing on (LUAJIT_RECLAIM=mesh=on)" ;;
    peer) label="peer: LuaJIT on glibc malloc + malloc_trim(0) after each collect" ;;
    *) echo "record-sawtooth.sh: unknown build '$build' (expected stock, ours, ours-mesh or peer)" >&2; exit 2 ;;
esac
exec sh "$(dirname "$0")/sample.sh" "$out/sawtooth-$build.csv" "$label" \
    "workload (e): ten ~300 MB bursts of mixed objects, 1% kept two cycles; after each a full collect and 1.1 s of trickle" \
    20 -- "$@"
