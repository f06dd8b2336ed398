#!/bin/bash
# check-cpu.sh: `make check-bench-cpu`, the cheap correctness check of the CPU suite. Runs
# every tests/bench/cpu/*.lua once on the stock build and once on ours, each at the small
# size listed below, and fails unless both runs exit 0 and print the same non-empty
# output (the benchmark's checksum line). Nothing is timed: speed is `make bench-cpu`.
#
# Usage: tests/bench/check-cpu.sh STOCK_LUAJIT OUR_LUAJIT [NAME...]
#   NAME...  a subset of the benchmarks (default: every cpu/*.lua)
# Invariants:
#  * Every cpu/*.lua has an entry in CHECK_SIZE and every entry names a file, so a new
#    benchmark cannot be left out of the check by accident (the script fails naming it).
#  * Both builds run with LUAJIT_RECLAIM unset, as run-cpu.sh times them.
#  * A size is the benchmark's own first argument (its header's Usage line), chosen so
#    that the run still allocates through several GC cycles and takes well under a second.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/shell.sh
. "$here/../../lib/shell.sh"

usage() {
	cat <<'EOF'
usage: check-cpu.sh STOCK_LUAJIT OUR_LUAJIT [NAME...]
Runs every tests/bench/cpu/*.lua (or the NAMEs) at a small size on both
luajit binaries and fails unless each pair prints the same checksum.
EOF
}
case ${1:-} in
-h | --help) usage; exit 0 ;;
esac
[ $# -ge 2 ] || { usage >&2; die "two luajit binaries are required"; }
stock=$1 ours=$2
shift 2
for bin in "$stock" "$ours"; do
	[ -x "$bin" ] || die "not an executable: $bin"
done

# The small size of each benchmark: its first command-line argument.
declare -A CHECK_SIZE=(
	[big_strings]=600 [bigalloc]=5 [bintrees]=12 [bintrees_records]=1 [closures]=30000
	[coroutine_churn]=60000 [coroutine_ring]=1500000 [fannkuch]=8 [fasta_revcomp]=1
	[ffi_buffers]=150000 [ffi_cdata]=300000 [finalizers]=40000 [format_concat]=120000 [gsub_text]=8
	[intern_short]=120000 [json]=400 [json_parse_big]=1200 [knucleotide]=20000
	[life]=80 [lru_cache]=60000 [markov_text]=45000 [matrix_rows]=100
	[medium_arrays]=50000 [msg_queue]=400000
	[nbody]=500000 [numeric]=350 [oop_scheduler]=200000 [pidigits]=250
	[points]=25 [priority_queue]=35000 [raytrace]=2 [record_ring_100k]=300000
	[record_ring_10k]=600000 [record_ring_1m]=1100000 [record_ring_grow]=150000
	[response_bodies]=12000 [router]=25000 [session_ttl]=400000 [sort]=2 [sort_records]=1
	[stable_heap_200m]=20000 [strbuf_codec]=30000 [strbuild]=1000 [tablechurn]=300000
	[template]=1500 [upvalue_churn]=20000 [weak_cache]=20000
)

files=()
for f in "$here"/cpu/*.lua; do files+=("$(basename "$f" .lua)"); done
for name in "${files[@]}"; do
	[ -n "${CHECK_SIZE[$name]:-}" ] ||
		die "tests/bench/cpu/$name.lua has no size in CHECK_SIZE of $0: add one"
done
for name in "${!CHECK_SIZE[@]}"; do
	[ -f "$here/cpu/$name.lua" ] || die "CHECK_SIZE of $0 names a missing benchmark: tests/bench/cpu/$name.lua"
done
if [ $# -gt 0 ]; then
	for name in "$@"; do
		[ -f "$here/cpu/$name.lua" ] || die "no such benchmark: tests/bench/cpu/$name.lua"
	done
	files=("$@")
fi

tmp=$(mktemp -d)
at_exit "rm -rf '$tmp'"

# run BUILD BINARY NAME: the benchmark's output in $tmp/NAME.BUILD; 1 if it failed.
run() {
	local build=$1 bin=$2 name=$3 status=0
	env -u LUAJIT_RECLAIM "$bin" "$here/cpu/$name.lua" "${CHECK_SIZE[$name]}" \
		>"$tmp/$name.$build" 2>"$tmp/$name.$build.err" || status=$?
	if [ "$status" != 0 ]; then
		say "$name: $build ($bin) exited with status $status:"
		sed 's/^/    /' "$tmp/$name.$build.err" >&2
		return 1
	fi
	if [ ! -s "$tmp/$name.$build" ]; then
		say "$name: $build ($bin) printed no checksum"
		return 1
	fi
}

passed=0 failed=0
for name in "${files[@]}"; do
	start=$(now)
	ok=1
	run stock "$stock" "$name" || ok=0
	run ours "$ours" "$name" || ok=0
	if [ "$ok" = 1 ] && ! cmp -s "$tmp/$name.stock" "$tmp/$name.ours"; then
		say "$name: CHECKSUM MISMATCH: stock '$(head -n1 "$tmp/$name.stock")' vs ours '$(head -n1 "$tmp/$name.ours")'"
		ok=0
	fi
	if [ "$ok" = 1 ]; then
		passed=$((passed + 1))
		printf 'ok   %-18s %5ss  %s\n' "$name" "$(elapsed "$start")" "$(head -n1 "$tmp/$name.ours")"
	else
		failed=$((failed + 1))
		printf 'FAIL %-18s\n' "$name"
	fi
done
echo "check-bench-cpu: $passed passed, $failed failed"
[ "$failed" = 0 ]
