# plot.gp: the suite's charts (bench/run.sh calls it; gnuplot from Debian's gnuplot-nox).
#   gnuplot -e "dir='DIR'; out='OUTDIR'; reps='3'" bench/plot.gp
# DIR/serve.dat: "connections reactor thread pool fork iterative asio libuv" rows of median
# messages/s (NaN where a server did not run); DIR/scan.dat: "\"case\" sockit_s nmap_s" rows.
set datafile missing 'NaN'
set terminal svg size 800,460 dynamic font 'sans,12' background '#ffffff'
set output out.'/bench_serve_msgs.svg'
set title '64-byte ping-pong over 127.0.0.1: messages/s vs connections (median of '.reps.' runs)'
set logscale x
set xrange [0.7:1500]
set yrange [0:*]
set xtics (1, 10, 100, 1000)
set xlabel 'connections (closed loop, server on CPU 0, sockit bench on CPU 1)'
set ylabel 'messages/s'
set format y '%.0s%c'
set key outside right
set grid
set style line 1 lc rgb '#1f77b4' lw 2.5 pt 7 ps 0.9
set style line 2 lc rgb '#9467bd' lw 1.5 pt 5 ps 0.8
set style line 3 lc rgb '#8c564b' lw 1.5 pt 9 ps 0.9
set style line 4 lc rgb '#e377c2' lw 1.5 pt 11 ps 0.9
set style line 5 lc rgb '#7f7f7f' lw 1.5 pt 13 ps 1.2
set style line 6 lc rgb '#d62728' lw 2.5 pt 7 ps 0.9
set style line 7 lc rgb '#2ca02c' lw 2.5 pt 7 ps 0.9
f = dir.'/serve.dat'
plot f using 1:2 with linespoints ls 1 title 'sockit reactor', \
     f using 1:3 with linespoints ls 2 title 'sockit thread', \
     f using 1:4 with linespoints ls 3 title 'sockit pool', \
     f using 1:5 with linespoints ls 4 title 'sockit fork', \
     f using 1:6 with linespoints ls 5 title 'sockit iterative', \
     f using 1:7 with linespoints ls 6 title 'asio', \
     f using 1:8 with linespoints ls 7 title 'libuv'

if (system('test -s '.dir.'/scan.dat && echo 1') eq "1") {
  reset
  set terminal svg size 800,420 dynamic font 'sans,12' background '#ffffff'
  set output out.'/bench_scan.svg'
  set title 'Scan time, sockit scan vs nmap -sT -T4 (median seconds, log scale)'
  set style data histograms
  set style histogram clustered gap 1
  set style fill solid 0.85 border -1
  set logscale y
  set ylabel 'seconds (lower is better)'
  set grid ytics
  set key top left
  plot dir.'/scan.dat' using 2:xtic(1) lc rgb '#1f77b4' title 'sockit scan', \
       '' using 3 lc rgb '#d62728' title 'nmap -sT -T4'
}
