#!/bin/bash
# run-report.sh: `make bench-report`: runs, on one commit and in one invocation, every
# benchmark whose figures the documents quote, writes each part's machine-readable
# results into BENCH_RESULTS_DIR, copies them to the committed results directory and
# renders the documents from them (render.lua).
#
#   tests/bench/report/run-report.sh PUBLISH_DIR RENDER_CMD...
#
# PUBLISH_DIR (docs/bench-results) receives the TSVs of this run (its old *.tsv are
# removed first); RENDER_CMD renders the documents from PUBLISH_DIR afterwards.
# Parts (BENCH_REPORT_PARTS, default all, in this order):
#   mem     tests/bench/run-mem.sh: workloads (a)-(e) on stock, ours and the peer, then
#           PAGESIM_WORKLOADS under the page-size simulator at each of PAGESIM; records
#           the sawtooth series (BENCH_SERIES) -> mem.tsv, mem-targets.tsv
#   cpu     tests/bench/run-cpu.sh: every tests/bench/cpu/*.lua (or BENCH_CPU),
#           BENCH_PAIRS interleaved pairs -> cpu.tsv
#   series  tests/bench/plot/nginx-series.sh and `make plot`; the charts are copied to
#           docs/images/ (the sawtooth series comes from the mem part)
#   cgroup  tests/cgroup/soft_limit_bench.sh, BENCH_CGROUP_PAIRS pairs -> cgroup.tsv
#   nginx   `make bench-nginx` with BENCH_RESULTS_DIR set -> nginx.tsv (written by that
#           target; a run that leaves no nginx.tsv counts as failed); NGINX_BENCH_PAIRS
#           (tests/nginx/throughput.sh) is recorded in meta.tsv as nginx_pairs; the
#           builds are NGINX_BENCH_BUILDS, by default "stock ours ours-noidle ours-mesh"
#           (meshing on beside off), recorded as nginx_builds
# meta.tsv (key, value) records the machine, the commit, the settings, the parts asked
# for and each part's status and seconds, so the document says what ran and marks a
# partial run as partial.
#
# Environment: the BENCH_* variables of tests/bench/bench.mk (BENCH_STOCK, BENCH_OURS,
# BENCH_PEER, BENCH_PEER_RUNS, BENCH_CPUTIME, BENCH_PAIRS, BENCH_PAIRS_DEFAULT, BENCH_CPU,
# BENCH_MEM_WORKLOADS, BENCH_MEM_RUNS, PAGESIM, PAGESIM_WORKLOADS, PAGESIM_TOOL,
# BENCH_OUT, BENCH_SAMPLER, BENCH_SERIES, BENCH_PLOTS), BENCH_RESULTS_DIR,
# BENCH_REPORT_PARTS, BENCH_CGROUP_PAIRS (and its default, BENCH_CGROUP_PAIRS_DEFAULT),
# BUILD, MEMSTAT. The parts that are make targets run `make` from PATH in the top
# directory (MAKEFLAGS passes the command line's variables on); bench.mk does not name
# $(MAKE) in the recipe, so `make -n bench-report` prints it without running it.
# Invariants: every part asked for runs even if an earlier one failed; the results are
# published and rendered either way; the exit status is 1 if a part failed, never because a
# target was missed. Needs root (cgroup, nginx). Writes only under BENCH_OUT,
# BENCH_RESULTS_DIR, PUBLISH_DIR and docs/images/.
set -eu
top=$(cd "$(dirname "$0")/../../.." && pwd)
# shellcheck source=../../../lib/shell.sh
. "$top/lib/shell.sh"

[ $# -ge 2 ] || die "usage: $0 PUBLISH_DIR RENDER_CMD..."
publish=$1
shift
results=${BENCH_RESULTS_DIR:?BENCH_RESULTS_DIR must name the results directory}
parts_all="mem cpu series cgroup nginx"
parts=${BENCH_REPORT_PARTS:-$parts_all}
for p in $parts; do
	case " $parts_all " in *" $p "*) ;; *) die "BENCH_REPORT_PARTS: unknown part '$p' (expected some of: $parts_all)" ;; esac
done
case ${BENCH_PAIRS:-} in '' | *[!0-9]* | 0) die "BENCH_PAIRS must be a positive integer" ;; esac
need_root "the cgroup and nginx parts need root"
cd "$top"

rm -rf "$results"
mkdir -p "$results" "$publish"
meta=$results/meta.tsv
printf 'key\tvalue\n' >"$meta"
meta() { printf '%s\t%s\n' "$1" "$(printf '%s' "$2" | tr '\t\n' '  ')" >>"$meta"; }

# describe BINARY: "path (sha256 ...): LuaJIT x.y.z", the version word of `luajit -v`
# (its banner's copyright and address are left out of the documents).
describe() {
	if [ -x "$1" ]; then
		printf '%s (sha256 %s): %s' "$1" "$(sha256 "$1" | cut -c1-12)" \
			"$("$1" -v 2>&1 | head -n1 | sed 's/ -- .*//')"
	else
		printf '%s: missing' "$1"
	fi
}

meta started "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta commit "$(git describe --always --dirty --tags 2>/dev/null || echo unknown)"
meta machine_arch "$(uname -m)"
meta machine_model "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
meta machine_nproc "$(nproc)"
meta machine_kernel "$(uname -sr)"
meta machine_pagesize "$(getconf PAGESIZE)"
meta machine_ram "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
meta load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
meta stock "$(describe "$BENCH_STOCK")"
meta ours "$(describe "$BENCH_OURS")"
meta peer "$(describe "${BENCH_PEER:-none}")"
meta parts_asked "$parts"
meta parts_all "$parts_all"
meta bench_pairs "$BENCH_PAIRS"
meta bench_pairs_default "${BENCH_PAIRS_DEFAULT:-$BENCH_PAIRS}"
meta cpu_all "$(cd tests/bench/cpu && for f in *.lua; do printf '%s ' "${f%.lua}"; done)"
meta cpu_asked "${BENCH_CPU:-}"
meta mem_workloads "$BENCH_MEM_WORKLOADS"
meta mem_runs "$BENCH_MEM_RUNS"
meta peer_runs "$BENCH_PEER_RUNS"
meta pagesim "${PAGESIM:-}"
meta pagesim_workloads "${PAGESIM_WORKLOADS:-}"
meta cgroup_pairs "$BENCH_CGROUP_PAIRS"
meta cgroup_pairs_default "${BENCH_CGROUP_PAIRS_DEFAULT:-$BENCH_CGROUP_PAIRS}"
meta nginx_pairs "${NGINX_BENCH_PAIRS:-default}"
nginx_builds=${NGINX_BENCH_BUILDS:-stock ours ours-noidle ours-mesh}
meta nginx_builds "$nginx_builds"

export BENCH_RESULTS_DIR=$results BENCH_PRINT=0

part_mem() {
	sh tests/bench/run-mem.sh
}
part_cpu() {
	sh tests/bench/run-cpu.sh
}
part_series() {
	BENCH_SAMPLER=$BENCH_SAMPLER tests/bench/plot/nginx-series.sh "$BUILD" "$MEMSTAT" "$BENCH_SERIES" &&
		make --no-print-directory plot &&
		cp "$BENCH_PLOTS"/sawtooth.svg "$BENCH_PLOTS"/nginx.svg docs/images/
}
# cgroup: the benchmark prints "### WORKLOAD" and then one line per setting,
# "median soft_limit=0: cpu 2.75 s [2.57-3.32], group peak 759 MiB [759-760], OOM-killed 0 of 3".
part_cgroup() {
	tests/cgroup/soft_limit_bench.sh "$BENCH_OURS" "$BENCH_CGROUP_PAIRS" "$BENCH_STOCK" \
		>"$BENCH_OUT/cgroup.txt" || { cat "$BENCH_OUT/cgroup.txt"; return 1; }
	cat "$BENCH_OUT/cgroup.txt"
	awk '
		# figure(RE, UNIT): "median min max" of "<RE> M UNIT [LO-HI]"; "- - -" for "-".
		function figure(re, unit,   s, a) {
			if (!match($0, re " [^ ]+ " unit " \\[[^]]*\\]")) { bad = 1; return "- - -" }
			s = substr($0, RSTART, RLENGTH); sub(re " ", "", s)
			if (s ~ /^- /) return "- - -"
			sub(" " unit " \\[", " ", s); sub(/-/, " ", s); sub(/\]$/, "", s)
			split(s, a, " ")
			return a[1] " " a[2] " " a[3]
		}
		BEGIN { OFS = "\t"; print "workload", "setting", "cpu_s_median", "cpu_s_min", "cpu_s_max",
		        "peak_mib_median", "peak_mib_min", "peak_mib_max", "oom_killed", "runs" }
		/^### / { workload = $2; next }
		/^median / {
			setting = $2; sub(/:$/, "", setting); sub(/^soft_limit=/, "", setting)
			split(figure("cpu", "s"), c, " "); split(figure("group peak", "MiB"), p, " ")
			if (!match($0, /OOM-killed [0-9]+ of [0-9]+/)) { bad = 1; next }
			split(substr($0, RSTART, RLENGTH), o, " ")
			print workload, setting, c[1], c[2], c[3], p[1], p[2], p[3], o[2], o[4]; rows++
		}
		END { if (bad || !rows) { print "cgroup: unexpected output of soft_limit_bench.sh" > "/dev/stderr"; exit 1 } }
	' "$BENCH_OUT/cgroup.txt" >"$results/cgroup.tsv" || { rm -f "$results/cgroup.tsv"; return 1; }
}
part_nginx() {
	make --no-print-directory bench-nginx BENCH_RESULTS_DIR="$results" NGINX_BENCH_BUILDS="$nginx_builds" || return 1
	[ -s "$results/nginx.tsv" ] || { warn "bench-nginx wrote no $results/nginx.tsv"; return 1; }
}

failed=
for p in $parts; do
	start=$SECONDS
	if step "bench-report: $p" "part_$p"; then
		meta "part_$p" ok
	else
		meta "part_$p" failed
		failed="$failed $p"
	fi
	meta "seconds_$p" $((SECONDS - start))
done
meta finished "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
step_summary

rm -f "$publish"/*.tsv
cp "$results"/*.tsv "$publish"/
"$@"
say "results in $results, copied to $publish; documents rendered"
[ -z "$failed" ] || die "parts failed:$failed (the documents mark them as missing)"
