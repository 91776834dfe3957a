# sweep.gp - plots of a sensitivity sweep (bench/sweep.sh runs it):
#   gnuplot -e "csv='bench/results/sweep.csv'; out='bench/results'" bench/sweep.gp
# Writes out/pr.png (precision against recall, every setting), out/f1.png
# (F1 against p_start) and out/delay.png (delay against p_start). Columns
# are found by name in the header of the CSV that score.py --row writes.

if (!exists("csv")) csv = 'bench/results/sweep.csv'
if (!exists("out")) out = 'bench/results'

set datafile separator ","
set terminal pngcairo size 900,600 font "sans,11" noenhanced
set grid
set key outside right top

is(p) = strcol("param") eq p
# a value of the rows that vary key p, NaN elsewhere (gnuplot skips NaN)
only(p, c) = is(p) ? column(c) : NaN

# precision-recall: the p_start settings as a line labelled with their
# values, the other keys' settings as points (one symbol per key)
set output out.'/pr.png'
set title "Precision against recall, one point per setting"
set xlabel "recall"
set ylabel "precision"
set xrange [*:*]
set yrange [*:*]
set offsets graph 0.08, graph 0.08, graph 0.05, graph 0.05
set key inside bottom left opaque box
other(r) = is("p_start") || is("min_ratio") || is("min_count") || is("min_errors") ? NaN : r
plot csv using (only("p_start", "recall")):(column("precision")) \
       with linespoints lw 2 pt 7 title "p_start", \
     '' using (only("p_start", "recall")):(column("precision")):(strcol("value")) \
       with labels offset 1.5,0.6 font ",9" notitle, \
     '' using (only("min_ratio", "recall")):(column("precision")) \
       with points pt 4 ps 1.8 title "min_ratio", \
     '' using (only("min_count", "recall")):(column("precision")) \
       with points pt 6 ps 2.2 title "min_count", \
     '' using (only("min_errors", "recall")):(column("precision")) \
       with points pt 8 ps 2.6 title "min_errors", \
     '' using (other(column("recall"))):(column("precision")) \
       with points pt 12 ps 2.6 title "other keys"

# F1 against the start threshold
set output out.'/f1.png'
set title "F1 against p_start (right: more sensitive)"
set xlabel "p_start"
set ylabel "F1"
set key inside bottom left opaque box
set logscale x
set format x "1e%L"
set xrange [*:*]
set yrange [*:1.02]
set offsets 0, 0, 0, 0
plot csv using (only("p_start", "p_start")):(column("f1")) \
       with linespoints lw 2 pt 7 title "all", \
     '' using (only("p_start", "p_start")):(column("call_f1")) \
       with linespoints lw 1 pt 5 title "ApiCallRateInsight", \
     '' using (only("p_start", "p_start")):(column("err_f1")) \
       with linespoints lw 1 pt 9 title "ApiErrorRateInsight", \
     '' using (only("p_start", "p_start")):(column("precision")) \
       with lines dt 2 lw 2 lc rgb "#c05000" title "precision", \
     '' using (only("p_start", "p_start")):(column("recall")) \
       with lines dt 3 lw 2 lc rgb "#a00030" title "recall", \
     0.95 with lines lc rgb "gray" dt 4 title "target 0.95"

# detection delay against the start threshold
set output out.'/delay.png'
set title "Detection delay against p_start (Start eventTime minus labelled start)"
set key inside top left opaque box
set ylabel "minutes"
set yrange [*:*]
plot csv using (only("p_start", "p_start")):(column("delay_median")) \
       with linespoints lw 2 pt 7 title "median", \
     '' using (only("p_start", "p_start")):(column("delay_p90")) \
       with linespoints lw 2 pt 5 title "p90", \
     '' using (only("p_start", "p_start")):(column("ramp_delay_p90")) \
       with linespoints lw 1 pt 9 dt 2 title "ramp p90", \
     '' using (only("p_start", "p_start")):(column("spike_delay_p90")) \
       with linespoints lw 1 pt 11 dt 2 title "spike p90", \
     2 with lines lc rgb "gray" dt 4 title "target median 2", \
     5 with lines lc rgb "gray" dt 5 title "target p90 5"
set output
