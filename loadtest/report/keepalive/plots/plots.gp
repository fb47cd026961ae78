# Written by srv-loadtest compare; run `gnuplot plots.gp` in this directory.
set encoding utf8

# Throughput — pipeline 1, 0-byte payload
reset
set title 'Throughput — pipeline 1, 0-byte payload'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:14000]
set xtics ('1' 1, '64' 64, '1000' 1000, '10000' 10000)
set ylabel 'requests/s'
set yrange [0:327850.60000000003]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'throughput_p1_s0.svg'
plot 'data/throughput_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/throughput_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/throughput_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/throughput_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/throughput_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/throughput_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/throughput_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'throughput_p1_s0.png'
plot 'data/throughput_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/throughput_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/throughput_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/throughput_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/throughput_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/throughput_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/throughput_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output

# p99 latency — pipeline 1, 0-byte payload
reset
set title 'p99 latency — pipeline 1, 0-byte payload'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:14000]
set xtics ('1' 1, '64' 64, '1000' 1000, '10000' 10000)
set ylabel 'p99 latency (µs)'
set logscale y
set yrange [100:1000000]
set format y '%.0f'
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'p99_p1_s0.svg'
plot 'data/p99_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/p99_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/p99_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/p99_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/p99_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/p99_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/p99_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'p99_p1_s0.png'
plot 'data/p99_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/p99_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/p99_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/p99_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/p99_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/p99_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/p99_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output

# Memory per connection — pipeline 1, 0-byte payload
reset
set title 'Memory per connection — pipeline 1, 0-byte payload'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:14000]
set xtics ('1' 1, '64' 64, '1000' 1000, '10000' 10000)
set ylabel 'PSS growth per connection (KiB)'
set yrange [0:401.50000000000006]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'memory_p1_s0.svg'
plot 'data/memory_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/memory_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/memory_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/memory_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/memory_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/memory_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/memory_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'memory_p1_s0.png'
plot 'data/memory_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/memory_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/memory_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/memory_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/memory_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/memory_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/memory_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output

# CPU time per request — pipeline 1, 0-byte payload
reset
set title 'CPU time per request — pipeline 1, 0-byte payload'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:14000]
set xtics ('1' 1, '64' 64, '1000' 1000, '10000' 10000)
set ylabel 'server CPU time per request (µs)'
set yrange [0:34.14105541351269]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'cpu_p1_s0.svg'
plot 'data/cpu_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/cpu_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/cpu_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/cpu_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/cpu_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/cpu_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/cpu_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'cpu_p1_s0.png'
plot 'data/cpu_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/cpu_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/cpu_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/cpu_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/cpu_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/cpu_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/cpu_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output

# Throughput — pipeline 16, 0-byte payload
reset
set title 'Throughput — pipeline 16, 0-byte payload'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:14000]
set xtics ('1' 1, '64' 64, '1000' 1000, '10000' 10000)
set ylabel 'requests/s'
set yrange [0:3316601.2]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'throughput_p16_s0.svg'
plot 'data/throughput_p16_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/throughput_p16_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/throughput_p16_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/throughput_p16_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/throughput_p16_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/throughput_p16_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/throughput_p16_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'throughput_p16_s0.png'
plot 'data/throughput_p16_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/throughput_p16_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/throughput_p16_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/throughput_p16_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/throughput_p16_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/throughput_p16_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/throughput_p16_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output

# p99 latency — pipeline 16, 0-byte payload
reset
set title 'p99 latency — pipeline 16, 0-byte payload'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:14000]
set xtics ('1' 1, '64' 64, '1000' 1000, '10000' 10000)
set ylabel 'p99 latency (µs)'
set logscale y
set yrange [100:10000000]
set format y '%.0f'
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'p99_p16_s0.svg'
plot 'data/p99_p16_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/p99_p16_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/p99_p16_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/p99_p16_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/p99_p16_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/p99_p16_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/p99_p16_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'p99_p16_s0.png'
plot 'data/p99_p16_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/p99_p16_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/p99_p16_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/p99_p16_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/p99_p16_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/p99_p16_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/p99_p16_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output

# Memory per connection — pipeline 16, 0-byte payload
reset
set title 'Memory per connection — pipeline 16, 0-byte payload'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:14000]
set xtics ('1' 1, '64' 64, '1000' 1000, '10000' 10000)
set ylabel 'PSS growth per connection (KiB)'
set yrange [0:399.3]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'memory_p16_s0.svg'
plot 'data/memory_p16_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/memory_p16_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/memory_p16_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/memory_p16_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/memory_p16_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/memory_p16_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/memory_p16_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'memory_p16_s0.png'
plot 'data/memory_p16_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/memory_p16_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/memory_p16_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/memory_p16_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/memory_p16_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/memory_p16_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/memory_p16_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output

# CPU time per request — pipeline 16, 0-byte payload
reset
set title 'CPU time per request — pipeline 16, 0-byte payload'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:14000]
set xtics ('1' 1, '64' 64, '1000' 1000, '10000' 10000)
set ylabel 'server CPU time per request (µs)'
set yrange [0:2.8682872375154185]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'cpu_p16_s0.svg'
plot 'data/cpu_p16_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/cpu_p16_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/cpu_p16_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/cpu_p16_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/cpu_p16_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/cpu_p16_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/cpu_p16_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'cpu_p16_s0.png'
plot 'data/cpu_p16_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/cpu_p16_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/cpu_p16_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/cpu_p16_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/cpu_p16_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/cpu_p16_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/cpu_p16_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll'
unset output
