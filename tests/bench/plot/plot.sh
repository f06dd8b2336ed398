#!/bin/bash
# plot.sh: draws one RSS-over-time chart (PNG and SVG) from rss-sampler CSVs with gnuplot
# (tests/bench/plot/rss.gp), for make plot and make check-plot.
#
#   plot.sh [--shade PHASE=TEXT] [--made-by TARGET] OUT_BASE TITLE CSV...
#
# Writes OUT_BASE.png and OUT_BASE.svg: one line per CSV, titled with its "label:"
# comment; the chart's title is TITLE, then two lines from the first CSV's comments
# (what; interval, date, machine). --shade shades the samples of phase PHASE (the load of
# the nginx run) and labels the span TEXT. --made-by names the make target that records
# the CSVs, for the error when one is missing.
#
# Invariants: every input is checked before gnuplot runs, and a bad one is an error that
# names the file (missing, no header, fewer than two samples, a malformed line, no
# label); the outputs are replaced only by a complete gnuplot run (they are removed
# first, and their absence afterwards is an error).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/shell.sh
. "$here/../../../lib/shell.sh"

usage() {
	echo "usage: plot.sh [--shade PHASE=TEXT] [--made-by TARGET] OUT_BASE TITLE CSV..." >&2
	exit 2
}

shade='' made_by=''
while [ $# -gt 0 ]; do
	case $1 in
	--shade) [ $# -ge 2 ] || usage; shade=$2; shift 2 ;;
	--made-by) [ $# -ge 2 ] || usage; made_by=$2; shift 2 ;;
	--help | -h) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -ge 3 ] || usage
out_base=$1 title=$2
shift 2
need gnuplot:gnuplot-nox

# comment CSV KEY: the value of the "# KEY: value" line of CSV (empty if none).
comment() { sed -n "s/^# $2: //p" "$1" | head -n 1; }

# check_csv CSV: dies naming CSV unless it is a usable rss-sampler series.
check_csv() {
	local csv=$1 problem
	if [ ! -f "$csv" ]; then
		die "$csv is missing${made_by:+: run \`make $made_by\` to record it}"
	fi
	problem=$(awk -F, '
		/^#/ { next }
		!header { if ($0 != "time_ms,rss_kib,phase") { print "no header line time_ms,rss_kib,phase"; exit }
		          header = 1; next }
		NF != 3 || $1 !~ /^[0-9]+$/ || $2 !~ /^[0-9]+$/ || $3 == "" { print "line " NR " is not time_ms,rss_kib,phase: " $0; exit }
		{ rows++ }
		END { if (header && rows < 2) print "fewer than two samples" }' "$csv")
	[ -z "$problem" ] || die "$csv: $problem${made_by:+ (\`make $made_by\` records it again)}"
	[ -n "$(comment "$csv" label)" ] || die "$csv: no '# label: ...' line (not written by tests/bench/plot/sample.sh)"
}

# gp_string TEXT: TEXT as a gnuplot single-quoted string literal.
gp_string() { printf "'%s'" "${1//\'/\'\'}"; }

for csv in "$@"; do check_csv "$csv"; done

first=$1
what=$(comment "$first" what)
measured="VmRSS every $(comment "$first" interval_ms) ms; $(comment "$first" date); $(comment "$first" machine)"
args=(-e "out_base = $(gp_string "$out_base")"
	-e "chart_title = $(gp_string "$title") . \"\\n\" . $(gp_string "$what") . \"\\n\" . $(gp_string "$measured")"
	-e "n = $#"
	-e "shade_phase = $(gp_string "${shade%%=*}")"
	-e "shade_label = $(gp_string "${shade#*=}")")
i=0
for csv in "$@"; do
	i=$((i + 1))
	args+=(-e "file$i = $(gp_string "$csv")" -e "label$i = $(gp_string "$(comment "$csv" label)")")
done

mkdir -p "$(dirname "$out_base")"
rm -f "$out_base.png" "$out_base.svg"
gnuplot "${args[@]}" "$here/rss.gp" || die "gnuplot failed on $here/rss.gp for $out_base"
for ext in png svg; do
	[ -s "$out_base.$ext" ] || die "gnuplot wrote no $out_base.$ext"
done
say "wrote $out_base.png and $out_base.svg ($# series)"
