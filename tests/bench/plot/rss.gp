# rss.gp: one chart of RSS over time, one line per build, drawn as out_base.png (cairo)
# and out_base.svg. Run by tests/bench/plot/plot.sh, which checks the inputs first and
# sets, with gnuplot -e:
#   out_base     output path without extension
#   chart_title  the title (may hold "\n" for a second line)
#   n            the number of series; file1..fileN the CSVs, label1..labelN their titles
#   shade_phase  a phase name ("" for none): the span from its first to its last sample,
#                over all series, is shaded and labelled with shade_label
# CSV (rss-sampler): "#" comment lines, the header time_ms,rss_kib,phase, then samples.
# Invariant: the output depends only on these inputs (the SVG carries no date), so the
# same CSVs give the same SVG byte for byte.

set datafile separator ","
set datafile columnheaders

shade_from = NaN
shade_to = NaN
if (shade_phase ne "") {
    do for [i = 1:n] {
        stats value(sprintf("file%d", i)) using (strcol(3) eq shade_phase ? $1 : NaN) nooutput
        if (STATS_records > 0) {
            shade_from = (shade_from == shade_from && shade_from < STATS_min) ? shade_from : STATS_min
            shade_to = (shade_to == shade_to && shade_to > STATS_max) ? shade_to : STATS_max
        }
    }
    if (shade_from == shade_from) {
        set object 1 rectangle from shade_from / 1000.0, graph 0 to shade_to / 1000.0, graph 1 \
            behind fillcolor rgb "#ececec" fillstyle solid 1.0 noborder
        set label 1 shade_label at shade_from / 1000.0, graph 0.97 offset 0.5, 0 left textcolor rgb "#606060"
    }
}

set title chart_title
set xlabel "time since the sampling began (s)"
set ylabel "RSS (MiB)"
set yrange [0:*]
set xrange [0:*]
set grid ytics lc rgb "#d8d8d8" lw 1 dt 1
set border 3
set tics nomirror out
set key below horizontal samplen 3 spacing 1.2 height 1

colors = "#c0392b #1f77b4 #2ca02c #8e44ad #e67e22"
color(i) = word(colors, (i - 1) % 5 + 1)

do for [fmt in "png svg"] {
    if (fmt eq "png") {
        set terminal pngcairo size 1000,560 font "sans,11" background rgb "white" noenhanced
    } else {
        set terminal svg size 1000,560 font "sans,13" background rgb "white" noenhanced
    }
    set output out_base . "." . fmt
    plot for [i = 1:n] value(sprintf("file%d", i)) using ($1 / 1000.0):($2 / 1024.0) \
        with lines linewidth 2 linecolor rgb color(i) title value(sprintf("label%d", i))
    unset output
}
