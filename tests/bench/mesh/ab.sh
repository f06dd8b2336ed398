#!/bin/bash
# tests/bench/mesh/ab.sh: `make bench-mesh-ab`, two builds of luajit-reclaim side by side with
# meshing on, on the memory workloads (d) and (e) (tests/bench/mem): interleaved runs (A, B, A,
# B, ...), then per build the median and range of (d)'s Pss after collect, (e)'s largest peak
# Pss and (e)'s worst trough (the largest Pss of its cN.collect phases), in MiB. A dev target
# for allocator changes that move these figures by less than one run varies; the report
# (`make bench-report`) stays the judge against stock.
#
# Environment (make bench-mesh-ab sets them):
#   MESH_AB_A, MESH_AB_B  the two luajit binaries (required; copy a build away first)
#   MESH_AB_RUNS          interleaved runs per build (default 5)
#   MESH_AB_RECLAIM       LUAJIT_RECLAIM for every run (default mesh=on)
# Invariants: each run's raw MEM lines go to $MESH_AB_OUT/<build>-<workload>-<run>.txt; a run
# that exits non-zero or prints no figure stops the script, naming its file; figures only,
# never a pass/fail on them.
set -eu

top=$(cd "$(dirname "$0")/../../.." && pwd)
# shellcheck source=lib/shell.sh
. "$top/lib/shell.sh"

usage() {
	cat <<'USAGE'
usage: ab.sh [-h|--help]
Interleaved runs of workloads (d) and (e) on two luajit builds with meshing on; prints medians
and ranges of (d) Pss after collect, (e) peak Pss and (e) worst trough Pss, in MiB.
Configured by MESH_AB_A, MESH_AB_B, MESH_AB_RUNS (5), MESH_AB_RECLAIM (mesh=on), MESH_AB_OUT.
USAGE
}
case ${1:-} in
-h | --help) usage; exit 0 ;;
'') ;;
*) usage >&2; exit 2 ;;
esac

a=${MESH_AB_A:-}
b=${MESH_AB_B:-}
[ -n "$a" ] && [ -n "$b" ] || die "MESH_AB_A and MESH_AB_B must name two luajit binaries"
for bin in "$a" "$b"; do [ -x "$bin" ] || die "not an executable: $bin"; done
runs=${MESH_AB_RUNS:-5}
case $runs in '' | *[!0-9]* | 0) die "MESH_AB_RUNS must be a positive integer, got '$runs'" ;; esac
reclaim=${MESH_AB_RECLAIM:-mesh=on}
out=${MESH_AB_OUT:-$top/build/bench/mesh-ab}
mkdir -p "$out"
mem=$top/tests/bench/mem

# One figure from a run's MEM lines: the pss_kb of the phases matching $2, the largest, in MiB.
figure() {
	awk -v want="$2" '
		/^MEM / {
			ph = ""; p = -1
			for (i = 1; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == "phase") ph = kv[2]
				if (kv[1] == "pss_kb") p = kv[2] + 0
			}
			if (ph ~ want && p > best) best = p
		}
		BEGIN { best = -1 }
		END { if (best < 0) exit 1; printf "%.1f\n", best / 1024 }' "$1"
}

# run BUILD-NAME BINARY WORKLOAD RUN: one run, raw lines kept.
run() {
	local file=$out/$1-$3-$4.txt
	LUAJIT_RECLAIM=$reclaim "$2" "$mem/$3.lua" trickle > "$file" 2>&1 ||
		die "$3 on $1 ($2) failed: $file"
	printf '%s\n' "$file"
}

say "A = $a, B = $b, $runs interleaved runs, LUAJIT_RECLAIM=$reclaim, raw lines in $out"
: > "$out/figures.tsv"
for i in $(seq 1 "$runs"); do
	for build in A B; do
		bin=$a
		[ "$build" = B ] && bin=$b
		fd=$(run "$build" "$bin" d_mixed "$i")
		fe=$(run "$build" "$bin" e_sawtooth "$i")
		d=$(figure "$fd" '^collect$') || die "no collect line in $fd"
		peak=$(figure "$fe" 'peak$') || die "no peak line in $fe"
		trough=$(figure "$fe" '^c[0-9]+\.collect$') || die "no cN.collect line in $fe"
		printf '%s\t%s\t%s\t%s\t%s\n' "$build" "$i" "$d" "$peak" "$trough" >> "$out/figures.tsv"
		say "run $i $build: (d) after collect $d, (e) peak $peak, (e) worst trough $trough"
	done
done

# Median (middle of the sorted values; the mean of the two middle ones for an even count) and range.
summary() {
	awk -F '\t' -v build="$1" -v col="$2" '
		$1 == build { v[n++] = $col + 0 }
		END {
			for (i = 1; i < n; i++) for (j = i; j > 0 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
			m = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
			printf "%.1f (%.1f-%.1f)", m, v[0], v[n - 1]
		}' "$out/figures.tsv"
}

printf '\n%-28s %-22s %-22s\n' "Pss MiB, median (range)" "A" "B"
printf '%-28s %-22s %-22s\n' "(d) after collect" "$(summary A 3)" "$(summary B 3)"
printf '%-28s %-22s %-22s\n' "(e) peak" "$(summary A 4)" "$(summary B 4)"
printf '%-28s %-22s %-22s\n' "(e) worst trough" "$(summary A 5)" "$(summary B 5)"
printf '\ncommand: MESH_AB_A=%s MESH_AB_B=%s MESH_AB_RUNS=%s MESH_AB_RECLAIM=%s %s\n' \
	"$a" "$b" "$runs" "$reclaim" "tests/bench/mesh/ab.sh"
