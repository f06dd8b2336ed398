#!/bin/bash
# check-plot.sh: make check-plot: the RSS charts work end to end on a short real run.
#
#   tests/bench/plot/check-plot.sh BUILD_DIR RSS_SAMPLER
#
# 1. rss-sampler records tests/bench/plot/short.lua (two seconds: a ~96 MB burst, then a
#    collect and a trickle; it signals the sampler between the two) on stock LuaJIT and on
#    ours: each CSV has at least 50 samples, the phase "burst" and then only "settle", and
#    a peak at least 64 MiB above its first sample (the sampler saw the burst).
# 2. plot.sh draws them: file(1) calls the PNG a 1000 x 560 PNG and the SVG an SVG image;
#    the SVG holds both series names, the title, the shaded phase's label and two plots.
# 3. Drawing the same CSVs again gives the same SVG, byte for byte.
# 4. A missing CSV, and a malformed one, fail with an error naming the file (and, for the
#    missing one, the make target that records it).
# Work files in BUILD_DIR/plot-check/. Takes about 6 s.
set -eu

build=${1:?usage: check-plot.sh BUILD_DIR RSS_SAMPLER}
BENCH_SAMPLER=${2:?usage: check-plot.sh BUILD_DIR RSS_SAMPLER}
export BENCH_SAMPLER
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/shell.sh
. "$here/../../../lib/shell.sh"
need gnuplot:gnuplot-nox file
[ -x "$BENCH_SAMPLER" ] || die "rss-sampler is not built: $BENCH_SAMPLER"
work=$build/plot-check
rm -rf "$work"
mkdir -p "$work/series"
start=$SECONDS

ok() { echo "ok: $*"; }

# ---- 1. two real series --------------------------------------------------------
record() {  # record NAME LABEL LUAJIT
	local csv=$work/series/short-$1.csv summary
	[ -x "$3" ] || die "$3 is not built"
	"$here/sample.sh" "$csv" "$2" "check-plot: tests/bench/plot/short.lua (~96 MB burst, collect, trickle)" \
		20 -P burst,settle -- "$3" "$here/short.lua" >"$work/$1.out" 2>&1 ||
		{ cat "$work/$1.out"; die "$1: short.lua under rss-sampler failed"; }
	summary=$(awk -F, '/^[0-9]/ {
			if (!n++) first = $2
			if ($2 > peak) peak = $2
			if ($3 == "burst") { if (settled) order = "burst after settle"; bursts++ }
			else if ($3 == "settle") settled++
			else order = "unknown phase " $3
		}
		END { printf "%d %d %d %d %d %s\n", n, first, peak, bursts, settled, order }' "$csv")
	read -r n first peak bursts settled order <<<"$summary"
	[ "$n" -ge 50 ] || die "$csv: only $n samples of a two-second run every 20 ms"
	[ -z "$order" ] || die "$csv: phases out of order: $order"
	if [ "$bursts" -lt 1 ] || [ "$settled" -lt 1 ]; then
		die "$csv: $bursts burst and $settled settle samples (SIGUSR1 from short.lua did not move the phase)"
	fi
	[ $((peak - first)) -ge $((64 * 1024)) ] ||
		die "$csv: peak $peak KiB is not 64 MiB above the first sample $first KiB: the burst was not seen"
	ok "$1: $n samples ($bursts burst, $settled settle), VmRSS $((first / 1024)) -> peak $((peak / 1024)) MiB"
}
record stock "stock LuaJIT (check)" "$build/stock-x86_64/bin/luajit"
record ours "ours (check)" "$build/x86_64/bin/luajit"
csvs=("$work/series/short-stock.csv" "$work/series/short-ours.csv")

# ---- 2. the chart ----------------------------------------------------------------
title="check-plot: RSS of short.lua"
"$here/plot.sh" --shade "burst=the burst" --made-by check-plot "$work/plots/short" "$title" "${csvs[@]}" ||
	die "plot.sh failed on the two series"
png=$work/plots/short.png svg=$work/plots/short.svg
case $(file -b "$png") in
"PNG image data, 1000 x 560,"*) ;;
*) die "$png: file(1) says '$(file -b "$png")', not a 1000 x 560 PNG" ;;
esac
case $(file -b "$svg") in
"SVG Scalable Vector Graphics image"*) ;;
*) die "$svg: file(1) says '$(file -b "$svg")', not SVG" ;;
esac
for text in "<text>stock LuaJIT (check)</text>" "<text>ours (check)</text>" "<text>$title</text>" "<text>the burst</text>"; do
	grep -qF "$text" "$svg" || die "$svg has no '$text'"
done
plots=$(grep -c '<g id="gnuplot_plot_[0-9]*"' "$svg" || true)
[ "$plots" = 2 ] || die "$svg has $plots plots, want 2 (one per series)"
ok "plot: $(file -b "$png" | cut -d, -f1-2), $(stat -c %s "$png") bytes; SVG $(stat -c %s "$svg") bytes with both series, the title and the shaded burst"

# ---- 3. same CSVs, same SVG --------------------------------------------------------
"$here/plot.sh" --shade "burst=the burst" "$work/plots/again" "$title" "${csvs[@]}" 2>/dev/null ||
	die "plot.sh failed the second time"
cmp "$svg" "$work/plots/again.svg" || die "drawing the same CSVs again gave another SVG"
ok "plot: the same CSVs give the same SVG, byte for byte"

# ---- 4. bad inputs ------------------------------------------------------------------
# expect_error WHAT TEXT... -- CMD...: CMD fails and its stderr holds every TEXT.
expect_error() {
	local what=$1 texts=() err
	shift
	while [ "$1" != -- ]; do texts+=("$1"); shift; done
	shift
	if err=$("$@" 2>&1 >/dev/null); then die "$what: plot.sh succeeded"; fi
	for t in "${texts[@]}"; do
		grep -qF -- "$t" <<<"$err" || die "$what: the error '$err' does not name '$t'"
	done
	ok "$what: $err"
}
missing=$work/series/short-peer.csv
expect_error "missing CSV" "$missing" "make bench-series" -- \
	"$here/plot.sh" --made-by bench-series "$work/plots/bad" "$title" "${csvs[0]}" "$missing"
bad=$work/series/bad.csv
sed '10s/.*/120,12x4,settle/' "${csvs[0]}" >"$bad"
expect_error "malformed CSV" "$bad" "is not time_ms,rss_kib,phase" -- \
	"$here/plot.sh" "$work/plots/bad" "$title" "$bad"
[ ! -e "$work/plots/bad.svg" ] || die "plot.sh left $work/plots/bad.svg after an error"

echo "check-plot: $((SECONDS - start)) s"
