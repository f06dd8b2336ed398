#!/bin/bash
# tests/bench/mesh/run.sh: bench-mesh's runner. Runs mesh.lua's workloads on luajit-reclaim
# at each page size (4096 natively, others under the page-size simulator), keeps the raw
# MESH/CLASS lines in $MESH_OUT/<workload>-<page>.txt and prints, per page size, a table of
# RSS, floor and the pages each mesh algorithm would release, next to issue 17's targets,
# then the classes with the most candidate pages of each workload at the first page size.
#
# Environment (make bench-mesh sets them):
#   MESH_LUAJIT     luajit-reclaim CLI (required)
#   MESH_SO         meshest.so built from the same tree (required)
#   MESH_OUT        output directory (default build/bench/mesh)
#   MESH_WORKLOADS  subset of "d e p" (default all)
#   MESH_PAGES      page sizes (default "4096 16384 65536"; 4096 runs natively)
#   PAGESIM_SO      the simulator library, needed for any page size but 4096
# Invariants: a workload that fails (including the driver's floor cross-check) stops the run
# with its output file named; targets never change the exit status (figures, not a test).
set -eu

top=$(cd "$(dirname "$0")/../../.." && pwd)
# shellcheck source=lib/shell.sh
. "$top/lib/shell.sh"

usage() {
	cat <<'USAGE'
usage: run.sh [-h|--help]
Runs the mesh estimate on workloads d, e, p (see tests/bench/mesh/mesh.lua) and prints
tables; configured by MESH_LUAJIT, MESH_SO, MESH_OUT, MESH_WORKLOADS, MESH_PAGES, PAGESIM_SO.
USAGE
}
case ${1:-} in
-h | --help) usage; exit 0 ;;
'') ;;
*) usage >&2; die "unknown argument: $1" ;;
esac

: "${MESH_LUAJIT:?MESH_LUAJIT must name a luajit-reclaim binary}"
: "${MESH_SO:?MESH_SO must name meshest.so}"
MESH_OUT=${MESH_OUT:-build/bench/mesh}
MESH_WORKLOADS=${MESH_WORKLOADS:-d e p}
MESH_PAGES=${MESH_PAGES:-4096 16384 65536}
[ -x "$MESH_LUAJIT" ] || die "MESH_LUAJIT is not an executable: $MESH_LUAJIT"
[ -f "$MESH_SO" ] || die "MESH_SO not found: $MESH_SO"
mkdir -p "$MESH_OUT"

for w in $MESH_WORKLOADS; do
	case $w in d | e | p) ;; *) die "unknown workload '$w' in MESH_WORKLOADS (expected d e p)" ;; esac
done
for p in $MESH_PAGES; do
	case $p in
	4096) ;;
	16384 | 65536) [ -f "${PAGESIM_SO:-}" ] || die "page size $p needs the simulator: PAGESIM_SO='${PAGESIM_SO:-}' not found" ;;
	*) die "unsupported page size '$p' in MESH_PAGES (4096, 16384 or 65536)" ;;
	esac
done

run_one() {  # run_one WORKLOAD PAGE: the raw lines into $MESH_OUT/W-P.txt
	local w=$1 p=$2 out="$MESH_OUT/$1-$2.txt" start
	start=$(now)
	if [ "$p" = 4096 ]; then
		nice "$MESH_LUAJIT" "$top/tests/bench/mesh/mesh.lua" "$w" "$MESH_SO" >"$out" ||
			die "workload $w at $p failed (output: $out)"
	else
		PAGESIM_SO=$PAGESIM_SO nice "$top/tests/tools/pagesim/pagesim" -p "$p" --strict -- \
			"$MESH_LUAJIT" "$top/tests/bench/mesh/mesh.lua" "$w" "$MESH_SO" >"$out" 2>"$out.pagesim" ||
			die "workload $w at $p failed under pagesim (output: $out, $out.pagesim)"
	fi
	say "workload $w, ${p}-byte pages: $(elapsed "$start") s"
}

# One row per workload: (e) shows its worst trough, each column the worst of its 10 cycles.
table() {  # table PAGE
	awk -v page="$1" '
	function kv(   i, f) { delete v; for (i = 2; i <= NF; i++) { split($i, f, "="); v[f[1]] = f[2] } }
	function mib(kb) { return sprintf("%.1f", kb / 1024) }
	$1 == "MESH" {
		kv(); w = v["workload"]
		if (w == "e" && v["phase"] !~ /^c[0-9]+$/) next
		n = v["page"] / 1024
		rss = v["rss_kb"]; split_rss = rss - v["split_released"] * n
		greedy_rss = rss - v["greedy_released"] * n; bound_rss = rss - v["bound_released"] * n
		if (!(w in seen) || rss > r[w]) { r[w] = rss; heap[w] = v["heap_kb"]; start[w] = v["start_rss_kb"]
			floor[w] = v["floor_kb"]; cand[w] = v["candidate_pages"]
			excl[w] = v["excluded_current"] "/" v["excluded_layout"] "/" v["excluded_medium"] }
		if (!(w in seen) || split_rss > sr[w]) sr[w] = split_rss
		if (!(w in seen) || greedy_rss > gr[w]) gr[w] = greedy_rss
		if (!(w in seen) || bound_rss > br[w]) br[w] = bound_rss
		if (!(w in seen) || v["split_vmas"] > sv[w]) { sv[w] = v["split_vmas"]; gv[w] = v["greedy_vmas"] }
		if (!(w in seen) || v["lock_ms"] > lk[w]) lk[w] = v["lock_ms"]
		if (!(w in seen)) order[++nw] = w
		seen[w] = 1
	}
	END {
		printf "\n### %d-byte pages%s\n\n", page, page == 4096 ? "" : " (emulated: pagesim)"
		print "| workload | RSS | live heap | floor | candidate pages | excluded cur/layout/medium | RSS - split | RSS - greedy | RSS - bound | target | split meets | VMAs added split/greedy | lock ms |"
		print "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		for (i = 1; i <= nw; i++) {
			w = order[i]
			if (w == "d") { t = 2.5 * heap[w] + start[w]; tl = "<= " mib(t) }
			else if (w == "e") { t = 25 * 1024; tl = "worst trough <= 25.0" }
			else { t = 0; tl = "-" }
			meets = t ? (sr[w] <= t ? "yes" : "no") : "-"
			printf "| %s%s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %d/%d | %s |\n", w,
				w == "e" ? " (worst cycle)" : "", mib(r[w]), mib(heap[w]), mib(floor[w]), cand[w], excl[w],
				mib(sr[w]), mib(gr[w]), mib(br[w]), tl, meets, sv[w], gv[w], lk[w]
		}
	}' "$MESH_OUT"/*-"$1".txt
}

classes() {  # classes PAGE WORKLOAD: the per-class lines of its measurement with the most RSS
	awk -v w="$2" '
	function kv(   i, f) { delete v; for (i = 2; i <= NF; i++) { split($i, f, "="); v[f[1]] = f[2] } }
	$1 == "MESH" { kv(); cur = v["phase"]; if (best == "" || v["rss_kb"] + 0 > most) { best = cur; most = v["rss_kb"] + 0 } }
	$1 == "CLASS" { kv(); n[cur]++; line[cur, n[cur]] = sprintf("| %d | %d | %d | %d | %d | %d | %d |",
		v["size"], v["slots"], v["pages"], v["live"], v["split"], v["greedy"], v["bound"]) }
	END {
		printf "\nWorkload %s, measurement %s (the most RSS): classes with the most candidate pages\n\n", w, best
		print "| block size | slots/page | pages | live blocks | split | greedy | bound |"
		print "|---|---|---|---|---|---|---|"
		for (i = 1; i <= n[best]; i++) print line[best, i]
	}' "$MESH_OUT/$2-$1.txt"
}

for p in $MESH_PAGES; do
	for w in $MESH_WORKLOADS; do run_one "$w" "$p"; done
done
{
	echo "## Mesh estimate (make bench-mesh)"
	echo
	echo "RSS after a double full collect; floor = OS pages holding live bytes; 'RSS - X' ="
	echo "RSS minus the pages algorithm X would release (split: SplitMesher t=64, passes"
	echo "repeated; greedy: first-fit decreasing; bound: no meshing releases more). MiB."
	echo "Issue 17's targets: (d) RSS <= 2.5 x live heap + start RSS; (e) worst trough <= 25 MiB."
	for p in $MESH_PAGES; do table "$p"; done
	first=${MESH_PAGES%% *}
	for w in $MESH_WORKLOADS; do classes "$first" "$w"; done
} | tee "$MESH_OUT/report.md"
