#!/bin/sh
# Benchmark entry point for `make bench`, `make bench-mem` and `make bench-cpu`: runs the
# requested parts (run-mem.sh, run-cpu.sh) and assembles $BENCH_OUT/report.md with a header
# (machine, date, builds, commands) followed by each part's section, then prints it.
#
# Usage: run-bench.sh PART...   PART is "mem" or "cpu"; the environment is passed on to the
#        part drivers (see run-mem.sh and run-cpu.sh; BENCH_STOCK is required).
# Invariants: every requested part runs even if an earlier one failed; the report is written
# and printed either way; the exit status is 1 if any part failed (a crashed run, an output
# mismatch, a missing tool), never because a performance target was missed. The header names
# each binary with a content hash and warns when one changed while the benchmarks ran.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || { echo "usage: run-bench.sh mem|cpu..." >&2; exit 2; }
: "${BENCH_STOCK:?BENCH_STOCK must name the stock luajit}"
BENCH_OURS=${BENCH_OURS:-}
BENCH_OUT=${BENCH_OUT:-build/bench}
export BENCH_OUT
mkdir -p "$BENCH_OUT"

# Backticks below are markdown code quotes, not command substitution.
# shellcheck disable=SC2016
describe_binary() {
    if [ -x "$1" ]; then
        printf '`%s` (sha256 %s, built %s): %s' "$1" "$(fingerprint "$1")" \
            "$(date -u -r "$1" '+%Y-%m-%d %H:%M:%S UTC')" \
            "$("$1" -v 2>&1 | tr '\n' ' ' | sed 's/ *$//')"
    else
        printf '`%s`: **missing**' "$1"
    fi
}

# Short content hash of a binary (symlinks followed), or "missing".
fingerprint() {
    if [ -e "$1" ]; then sha256sum <"$1" | cut -c1-12; else echo missing; fi
}

load_average() { cut -d' ' -f1-3 /proc/loadavg; }

started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
load_before=$(load_average)
stock_described=$(describe_binary "$BENCH_STOCK")
ours_described=$(describe_binary "${BENCH_OURS:-<unset>}")
stock_before=$(fingerprint "$BENCH_STOCK")
ours_before=$(fingerprint "${BENCH_OURS:-<unset>}")

failed=0
for part in "$@"; do
    case $part in
        mem) BENCH_PRINT=0 sh "$here/run-mem.sh" || failed=1 ;;
        cpu) BENCH_PRINT=0 sh "$here/run-cpu.sh" || failed=1 ;;
        *) echo "run-bench.sh: unknown part '$part' (expected mem or cpu)" >&2; exit 2 ;;
    esac
done

report="$BENCH_OUT/report.md"
{
    echo "# luajit-reclaim benchmarks"
    echo
    echo "- date: $started to $(date -u '+%H:%M:%S UTC')"
    echo "- machine: $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //');" \
        "$(nproc) CPUs; $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo);" \
        "OS page size $(getconf PAGESIZE) bytes"
    echo "- load average (1/5/15 min): $load_before at start, $(load_average) at end" \
        "(other jobs share the machine: CPU ratios come from interleaved pairs; RSS does not depend on timing)"
    echo "- stock: $stock_described"
    echo "- ours: $ours_described${BENCH_OURS_RECLAIM:+ **run with LUAJIT_RECLAIM=$BENCH_OURS_RECLAIM (not the default)**}"
    if [ "$stock_before" != "$(fingerprint "$BENCH_STOCK")" ] ||
        [ "$ours_before" != "$(fingerprint "${BENCH_OURS:-<unset>}")" ]; then
        echo "- **WARNING: a binary was rebuilt while the benchmarks ran; figures mix two builds**"
    fi
    if commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null); then
        dirty=$(git -C "$here" status --porcelain -- "$here" 2>/dev/null | head -n1)
        echo "- source: commit $commit${dirty:+ (tests/bench has uncommitted changes)}"
    fi
    echo "- commands: \`tests/bench/run-bench.sh $*\` with BENCH_STOCK=$BENCH_STOCK" \
        "BENCH_OURS=${BENCH_OURS:-<unset>} BENCH_OURS_RECLAIM=${BENCH_OURS_RECLAIM:-<unset>} BENCH_PAIRS=${BENCH_PAIRS:-11}" \
        "BENCH_MEM_RUNS=${BENCH_MEM_RUNS:-1} PAGESIM=${PAGESIM:-<unset>}; raw outputs under $BENCH_OUT/mem and $BENCH_OUT/cpu"
    echo
    for part in "$@"; do
        if [ -f "$BENCH_OUT/$part.md" ]; then
            cat "$BENCH_OUT/$part.md"
        else
            echo "## $part: no results (the part failed before writing its section)"
            echo
        fi
    done
} >"$report"
cat "$report"
echo "run-bench.sh: report written to $report" >&2
if [ "$failed" -ne 0 ]; then
    echo "run-bench.sh: a part FAILED (see messages above)" >&2
    exit 1
fi
