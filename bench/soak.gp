# soak.gp - plots of a soak run (bench/soak.sh runs it):
#   gnuplot -e "csv='bench/results/soak-X/soak.csv'; out='bench/results/soak-X/soak.png'" bench/soak.gp
# Four panels against minutes since the start: resident memory, the C heap
# in use, the engine's own account of its memory and the history part of
# it, and open fds; events printed and received, and events waiting in the spool; Start
# latency (trailsight's running quantiles) and delivery latency (stdout to
# the receiver, per sample); the receiver's mode. Columns are found by name
# in the CSV's header (bench/soak.py sample).

if (!exists("csv")) csv = 'bench/results/soak.csv'
if (!exists("out")) out = 'bench/results/soak.png'
if (!exists("title")) title = 'trailsight stream soak'

set datafile separator ","
set datafile missing ""
set terminal pngcairo size 1100,1300 font "sans,10" noenhanced
set output out
set multiplot layout 4,1 title title
set grid
set key outside right top
set xlabel "minutes"
m(c) = column(c) / 60.0
set xrange [0:*]

set title "Memory and open file descriptors"
set ylabel "MB"
set y2label "open fds"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:1<*]
plot csv using (m("elapsed_s")):(column("rss_kb") / 1024.0) with lines lw 2 title "RSS", \
     csv using (m("elapsed_s")):(column("heap_in_use_kb") / 1024.0) with lines lw 2 title "heap in use", \
     csv using (m("elapsed_s")):(column("engine_kb") / 1024.0) with lines lw 2 title "engine (own account)", \
     csv using (m("elapsed_s")):(column("history_kb") / 1024.0) with lines dt 2 lw 2 title "of which history", \
     csv using (m("elapsed_s")):(column("fds")) axes x1y2 with steps lw 2 title "fds"

set title "Events"
set ylabel "events"
set y2label "in the spool"
plot csv using (m("elapsed_s")):(column("events_printed")) with lines lw 2 title "printed (stdout)", \
     csv using (m("elapsed_s")):(column("events_received")) with lines lw 2 dt 2 title "received (webhook)", \
     csv using (m("elapsed_s")):(column("spool_files")) axes x1y2 with steps title "spool"

unset y2tics
unset y2label
set ytics mirror
set title "Latency"
set ylabel "seconds"
set logscale y
set yrange [*:*]
plot csv using (m("elapsed_s")):(column("start_latency_p50_s")) with lines lw 2 title "Start p50 (running)", \
     csv using (m("elapsed_s")):(column("start_latency_p99_s")) with lines lw 2 title "Start p99 (running)", \
     csv using (m("elapsed_s")):(column("delivery_p50_s")) with points pt 7 ps 0.6 title "delivery p50 (sample)", \
     csv using (m("elapsed_s")):(column("delivery_max_s")) with points pt 1 title "delivery max (sample)"
unset logscale y

set title "Receiver (0 ok, 1 slow, 2 error 503, 3 down)"
set ylabel "mode"
set yrange [-0.5:3.5]
set ytics ("ok" 0, "slow" 1, "error" 2, "down" 3)
mode(s) = s eq "ok" ? 0 : s eq "slow" ? 1 : s eq "error" ? 2 : s eq "down" ? 3 : NaN
plot csv using (m("elapsed_s")):(mode(strcol("receiver_mode"))) with steps lw 2 title "mode"
unset multiplot
