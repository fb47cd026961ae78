# Written by srv-loadtest compare; run `gnuplot plots.gp` in this directory.
set encoding utf8

# Throughput — pipeline 1, 0-byte payload, TLS, full handshakes
reset
set title 'Throughput — pipeline 1, 0-byte payload, TLS, full handshakes'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'requests/s'
set yrange [0:2125.5666666666666]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'throughput_full_p1_s0.svg'
plot 'data/throughput_full_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/throughput_full_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/throughput_full_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/throughput_full_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/throughput_full_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/throughput_full_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/throughput_full_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/throughput_full_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'throughput_full_p1_s0.png'
plot 'data/throughput_full_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/throughput_full_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/throughput_full_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/throughput_full_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/throughput_full_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/throughput_full_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/throughput_full_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/throughput_full_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output

# p99 latency — pipeline 1, 0-byte payload, TLS, full handshakes
reset
set title 'p99 latency — pipeline 1, 0-byte payload, TLS, full handshakes'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'p99 latency (µs)'
set logscale y
set yrange [100:1000000]
set format y '%.0f'
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'p99_full_p1_s0.svg'
plot 'data/p99_full_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/p99_full_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/p99_full_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/p99_full_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/p99_full_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/p99_full_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/p99_full_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/p99_full_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'p99_full_p1_s0.png'
plot 'data/p99_full_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/p99_full_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/p99_full_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/p99_full_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/p99_full_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/p99_full_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/p99_full_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/p99_full_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output

# Memory per connection — pipeline 1, 0-byte payload, TLS, full handshakes
reset
set title 'Memory per connection — pipeline 1, 0-byte payload, TLS, full handshakes'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'PSS growth per connection (KiB)'
set yrange [0:5530.25]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'memory_full_p1_s0.svg'
plot 'data/memory_full_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/memory_full_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/memory_full_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/memory_full_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/memory_full_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/memory_full_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/memory_full_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/memory_full_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'memory_full_p1_s0.png'
plot 'data/memory_full_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/memory_full_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/memory_full_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/memory_full_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/memory_full_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/memory_full_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/memory_full_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/memory_full_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output

# CPU time per request — pipeline 1, 0-byte payload, TLS, full handshakes
reset
set title 'CPU time per request — pipeline 1, 0-byte payload, TLS, full handshakes'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'server CPU time per request (µs)'
set yrange [0:1832.4305188912142]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'cpu_full_p1_s0.svg'
plot 'data/cpu_full_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/cpu_full_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/cpu_full_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/cpu_full_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/cpu_full_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/cpu_full_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/cpu_full_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/cpu_full_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'cpu_full_p1_s0.png'
plot 'data/cpu_full_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/cpu_full_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/cpu_full_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/cpu_full_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/cpu_full_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/cpu_full_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/cpu_full_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/cpu_full_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output

# Throughput — pipeline 1, 0-byte payload, TLS keep-alive
reset
set title 'Throughput — pipeline 1, 0-byte payload, TLS keep-alive'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'requests/s'
set yrange [0:116735.3]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'throughput_keepalive_p1_s0.svg'
plot 'data/throughput_keepalive_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/throughput_keepalive_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/throughput_keepalive_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/throughput_keepalive_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/throughput_keepalive_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/throughput_keepalive_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/throughput_keepalive_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/throughput_keepalive_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'throughput_keepalive_p1_s0.png'
plot 'data/throughput_keepalive_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/throughput_keepalive_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/throughput_keepalive_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/throughput_keepalive_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/throughput_keepalive_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/throughput_keepalive_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/throughput_keepalive_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/throughput_keepalive_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output

# p99 latency — pipeline 1, 0-byte payload, TLS keep-alive
reset
set title 'p99 latency — pipeline 1, 0-byte payload, TLS keep-alive'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'p99 latency (µs)'
set logscale y
set yrange [100:1000000]
set format y '%.0f'
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'p99_keepalive_p1_s0.svg'
plot 'data/p99_keepalive_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/p99_keepalive_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/p99_keepalive_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/p99_keepalive_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/p99_keepalive_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/p99_keepalive_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/p99_keepalive_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/p99_keepalive_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'p99_keepalive_p1_s0.png'
plot 'data/p99_keepalive_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/p99_keepalive_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/p99_keepalive_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/p99_keepalive_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/p99_keepalive_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/p99_keepalive_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/p99_keepalive_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/p99_keepalive_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output

# Memory per connection — pipeline 1, 0-byte payload, TLS keep-alive
reset
set title 'Memory per connection — pipeline 1, 0-byte payload, TLS keep-alive'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'PSS growth per connection (KiB)'
set yrange [0:1257.3000000000002]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'memory_keepalive_p1_s0.svg'
plot 'data/memory_keepalive_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/memory_keepalive_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/memory_keepalive_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/memory_keepalive_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/memory_keepalive_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/memory_keepalive_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/memory_keepalive_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/memory_keepalive_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'memory_keepalive_p1_s0.png'
plot 'data/memory_keepalive_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/memory_keepalive_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/memory_keepalive_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/memory_keepalive_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/memory_keepalive_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/memory_keepalive_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/memory_keepalive_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/memory_keepalive_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output

# CPU time per request — pipeline 1, 0-byte payload, TLS keep-alive
reset
set title 'CPU time per request — pipeline 1, 0-byte payload, TLS keep-alive'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'server CPU time per request (µs)'
set yrange [0:53.389814663693386]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'cpu_keepalive_p1_s0.svg'
plot 'data/cpu_keepalive_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/cpu_keepalive_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/cpu_keepalive_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/cpu_keepalive_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/cpu_keepalive_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/cpu_keepalive_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/cpu_keepalive_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/cpu_keepalive_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'cpu_keepalive_p1_s0.png'
plot 'data/cpu_keepalive_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/cpu_keepalive_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/cpu_keepalive_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/cpu_keepalive_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/cpu_keepalive_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/cpu_keepalive_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/cpu_keepalive_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/cpu_keepalive_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output

# Throughput — pipeline 1, 0-byte payload, no TLS
reset
set title 'Throughput — pipeline 1, 0-byte payload, no TLS'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'requests/s'
set yrange [0:169484.7]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'throughput_plain_p1_s0.svg'
plot 'data/throughput_plain_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/throughput_plain_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/throughput_plain_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/throughput_plain_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/throughput_plain_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/throughput_plain_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/throughput_plain_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/throughput_plain_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'throughput_plain_p1_s0.png'
plot 'data/throughput_plain_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/throughput_plain_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/throughput_plain_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/throughput_plain_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/throughput_plain_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/throughput_plain_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/throughput_plain_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/throughput_plain_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output

# p99 latency — pipeline 1, 0-byte payload, no TLS
reset
set title 'p99 latency — pipeline 1, 0-byte payload, no TLS'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'p99 latency (µs)'
set logscale y
set yrange [10:100000]
set format y '%.0f'
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'p99_plain_p1_s0.svg'
plot 'data/p99_plain_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/p99_plain_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/p99_plain_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/p99_plain_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/p99_plain_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/p99_plain_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/p99_plain_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/p99_plain_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'p99_plain_p1_s0.png'
plot 'data/p99_plain_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/p99_plain_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/p99_plain_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/p99_plain_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/p99_plain_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/p99_plain_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/p99_plain_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/p99_plain_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output

# Memory per connection — pipeline 1, 0-byte payload, no TLS
reset
set title 'Memory per connection — pipeline 1, 0-byte payload, no TLS'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'PSS growth per connection (KiB)'
set yrange [0:407.00000000000006]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'memory_plain_p1_s0.svg'
plot 'data/memory_plain_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/memory_plain_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/memory_plain_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/memory_plain_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/memory_plain_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/memory_plain_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/memory_plain_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/memory_plain_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'memory_plain_p1_s0.png'
plot 'data/memory_plain_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/memory_plain_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/memory_plain_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/memory_plain_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/memory_plain_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/memory_plain_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/memory_plain_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/memory_plain_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output

# CPU time per request — pipeline 1, 0-byte payload, no TLS
reset
set title 'CPU time per request — pipeline 1, 0-byte payload, no TLS'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'server CPU time per request (µs)'
set yrange [0:35.895693595018265]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'cpu_plain_p1_s0.svg'
plot 'data/cpu_plain_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/cpu_plain_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/cpu_plain_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/cpu_plain_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/cpu_plain_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/cpu_plain_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/cpu_plain_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/cpu_plain_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'cpu_plain_p1_s0.png'
plot 'data/cpu_plain_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/cpu_plain_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/cpu_plain_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/cpu_plain_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/cpu_plain_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/cpu_plain_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/cpu_plain_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/cpu_plain_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output

# Throughput — pipeline 1, 0-byte payload, TLS, resumed handshakes
reset
set title 'Throughput — pipeline 1, 0-byte payload, TLS, resumed handshakes'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'requests/s'
set yrange [0:4045.8]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'throughput_resumed_p1_s0.svg'
plot 'data/throughput_resumed_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/throughput_resumed_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/throughput_resumed_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/throughput_resumed_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/throughput_resumed_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/throughput_resumed_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/throughput_resumed_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/throughput_resumed_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'throughput_resumed_p1_s0.png'
plot 'data/throughput_resumed_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/throughput_resumed_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/throughput_resumed_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/throughput_resumed_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/throughput_resumed_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/throughput_resumed_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/throughput_resumed_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/throughput_resumed_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output

# p99 latency — pipeline 1, 0-byte payload, TLS, resumed handshakes
reset
set title 'p99 latency — pipeline 1, 0-byte payload, TLS, resumed handshakes'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'p99 latency (µs)'
set logscale y
set yrange [100:1000000]
set format y '%.0f'
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'p99_resumed_p1_s0.svg'
plot 'data/p99_resumed_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/p99_resumed_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/p99_resumed_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/p99_resumed_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/p99_resumed_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/p99_resumed_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/p99_resumed_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/p99_resumed_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'p99_resumed_p1_s0.png'
plot 'data/p99_resumed_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/p99_resumed_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/p99_resumed_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/p99_resumed_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/p99_resumed_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/p99_resumed_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/p99_resumed_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/p99_resumed_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output

# Memory per connection — pipeline 1, 0-byte payload, TLS, resumed handshakes
reset
set title 'Memory per connection — pipeline 1, 0-byte payload, TLS, resumed handshakes'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'PSS growth per connection (KiB)'
set yrange [0:2681.8]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'memory_resumed_p1_s0.svg'
plot 'data/memory_resumed_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/memory_resumed_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/memory_resumed_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/memory_resumed_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/memory_resumed_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/memory_resumed_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/memory_resumed_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/memory_resumed_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'memory_resumed_p1_s0.png'
plot 'data/memory_resumed_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/memory_resumed_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/memory_resumed_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/memory_resumed_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/memory_resumed_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/memory_resumed_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/memory_resumed_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/memory_resumed_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output

# CPU time per request — pipeline 1, 0-byte payload, TLS, resumed handshakes
reset
set title 'CPU time per request — pipeline 1, 0-byte payload, TLS, resumed handshakes'
set xlabel 'connections'
set logscale x
set xrange [0.7142857142857143:1400]
set xtics ('1' 1, '64' 64, '1000' 1000)
set ylabel 'server CPU time per request (µs)'
set yrange [0:1971.8318193456203]
set grid xtics ytics mytics
set key outside right top
set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'
set output 'cpu_resumed_p1_s0.svg'
plot 'data/cpu_resumed_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/cpu_resumed_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/cpu_resumed_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/cpu_resumed_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/cpu_resumed_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/cpu_resumed_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/cpu_resumed_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/cpu_resumed_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'
set output 'cpu_resumed_p1_s0.png'
plot 'data/cpu_resumed_p1_s0.tsv' index 0 using 1:2 with linespoints lw 2 pt 7 ps 1.2 title 'fork', 'data/cpu_resumed_p1_s0.tsv' index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.2 title 'prefork', 'data/cpu_resumed_p1_s0.tsv' index 2 using 1:2 with linespoints lw 2 pt 9 ps 1.2 title 'thread', 'data/cpu_resumed_p1_s0.tsv' index 3 using 1:2 with linespoints lw 2 pt 11 ps 1.2 title 'threadpool', 'data/cpu_resumed_p1_s0.tsv' index 4 using 1:2 with linespoints lw 2 pt 13 ps 1.2 title 'select', 'data/cpu_resumed_p1_s0.tsv' index 5 using 1:2 with linespoints lw 2 pt 15 ps 1.2 title 'poll', 'data/cpu_resumed_p1_s0.tsv' index 6 using 1:2 with linespoints lw 2 pt 6 ps 1.2 title 'epoll', 'data/cpu_resumed_p1_s0.tsv' index 7 using 1:2 with linespoints lw 2 pt 4 ps 1.2 title 'libevent'
unset output
