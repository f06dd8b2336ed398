#!/bin/sh
# sample.sh: runs rss-sampler with the comment lines every RSS series carries, so the
# charts can say what was measured, where and when (tests/bench/plot/plot.sh reads them).
#
#   BENCH_SAMPLER=PATH sample.sh OUT.csv LABEL WHAT [INTERVAL_MS] -- COMMAND [ARG...]
#   BENCH_SAMPLER=PATH sample.sh OUT.csv LABEL WHAT [INTERVAL_MS] -p PID [-P PHASES] [-t S]
#
# Comment lines written before the CSV header: "label: LABEL" (the chart's line title),
# "what: WHAT", "interval_ms: N", "date: YYYY-MM-DD HH:MM UTC", "machine: ...".
# Invariant: POSIX sh (run-mem.sh is sh); the exit status is rss-sampler's, which is the
# command's in the first form, so a wrapped benchmark run fails exactly as it would alone.
set -eu

[ $# -ge 4 ] || { echo "usage: sample.sh OUT.csv LABEL WHAT [INTERVAL_MS] -- COMMAND... | -p PID..." >&2; exit 2; }
: "${BENCH_SAMPLER:?BENCH_SAMPLER must name the rss-sampler binary (make bench-series builds it)}"
[ -x "$BENCH_SAMPLER" ] || { echo "sample.sh: rss-sampler not built: $BENCH_SAMPLER" >&2; exit 1; }
out=$1 label=$2 what=$3
shift 3
interval=20
case $1 in [0-9]*) interval=$1; shift ;; esac
mkdir -p "$(dirname "$out")"
machine="$(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); $(nproc) CPUs"
exec "$BENCH_SAMPLER" -i "$interval" -o "$out" -c "label: $label" -c "what: $what" \
    -c "interval_ms: $interval" -c "date: $(date -u '+%Y-%m-%d %H:%M UTC')" -c "machine: $machine" "$@"
