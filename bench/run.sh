#!/usr/bin/env bash
# run.sh: the whole benchmark suite (`make bench`). Builds a Release tree of its own
# (build/suite), runs every case, and regenerates the suite's part of docs/BENCHMARKS.md
# (between <!-- suite:begin --> and <!-- suite:end -->) and the charts docs/bench_*.svg.
#
#   bench/run.sh [--quick] [--no-build] [--no-scan] [--out DIR]
#
#   serve    every `sockit serve -H echo` model against asio (bench/peers/asio_echo.cpp) and
#            libuv (bench/peers/libuv_echo.c): 64 B ping-pong at 1/10/100/1000 connections,
#            4 KiB at 100, bulk one way (discard handler), connection rate, server CPU per
#            message (/proc/PID/task/*/schedstat), and VmRSS with 10,000 idle connections.
#            Load: `sockit bench --json` on CPU 1, server on CPU 0; servers interleaved
#            A B C, C B A... per case, medians and min–max over the repetitions. Then both
#            cores: reactor -j 2 and asio -j 2, each with and without --pin, against
#            `sockit bench -j 2 --pin` at 100 and 1000 connections.
#   resolve  bench/resolve_bench.sh: `sockit resolve` vs `getent ahosts`, names from a
#            bind-mounted hosts file in a private network namespace (no DNS traffic).
#   scan     bench/scan_bench.sh (sockit scan vs nmap -sT, with nmap -sS and masscan for
#            reference; its own namespaces and build).
#   check    the load generator against independent ones: iperf3 for bulk throughput, and
#            bench/pyclient.py (Python asyncio) for ping-pong at 1 and 10 connections.
#
# --quick: one repetition of short runs and scan_bench --quick --reps 1 (about 4 minutes, and
# the scan part as long again and more: nmap alone spends ~2 minutes on the filtered /22); it
# writes its report to build/suite/report/ and leaves docs/ alone (--out docs to override).
# The full run (3 repetitions) takes about 20 minutes, and the full scan benchmark about 25
# more, and writes docs/. Needs root (network
# namespaces, RLIMIT_NOFILE, nice); installs missing Debian packages with apt-get. Every load is
# bounded in time; 127.0.0.1 only; every server is killed on exit, however the script ends.
set -euo pipefail

quick=0 build=1 scan=1 out=""
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    --no-scan) scan=0 ;;
    --out) out=$2; shift ;;
    -h | --help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "run.sh: needs root (namespaces, RLIMIT_NOFILE)" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
bdir=${SUITE_BUILD:-$root/build/suite}
if [[ -z "$out" ]]; then
  if ((quick)); then out=$bdir/report; else out=$root/docs; fi
fi
[[ "$out" == /* ]] || out=$root/$out
mkdir -p "$out"

# --- packages and build ---------------------------------------------------------------------
# (taskset comes with util-linux)
"$root/scripts/deps.sh" gnuplot-nox libuv1-dev libasio-dev iperf3 python3 util-linux iproute2
if ((build)); then
  log=$(mktemp /tmp/suite_build.XXXXXX)
  if ! { cmake -S "$root" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DSOCKIT_BUILD_TESTS=OFF -DSOCKIT_BUILD_EXAMPLES=OFF -DSOCKIT_BUILD_BENCH=ON &&
    cmake --build "$bdir" --target sockit_cli asio_echo libuv_echo; } >"$log" 2>&1; then
    tail -30 "$log" >&2
    echo "run.sh: build failed (log above)" >&2
    exit 1
  fi
  rm -f "$log"
fi
sockit=$bdir/app/sockit asio=$bdir/bench/asio_echo libuv=$bdir/bench/libuv_echo
for exe in "$sockit" "$asio" "$libuv"; do
  [[ -x "$exe" ]] || { echo "run.sh: missing $exe" >&2; exit 1; }
done

if ((quick)); then
  reps=1 secs=0.6 warm=0.3 idle=2000
else
  reps=3 secs=2 warm=0.5 idle=10000
fi
# both sides of the idle case: 65536, or the hard limit if that is lower (a container may
# forbid raising it; 10,000 connections need a little over 10,000 per side)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
prio=(nice -n -10)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
t_start=$(date +%s)
load0=$(cut -d' ' -f1-3 /proc/loadavg)

work=$(mktemp -d /tmp/suite.XXXXXX)
server_pid="" bg_pids=""
cleanup() {
  for pid in $bg_pids $server_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  # fork-model children are in the server's process group
  [[ -n "$server_pid" ]] && kill -TERM -- "-$server_pid" 2>/dev/null || true
  sleep 0.2
  for pid in $bg_pids $server_pid; do kill -KILL "$pid" 2>/dev/null || true; done
  [[ -n "$server_pid" ]] && kill -KILL -- "-$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "run.sh: $*" >&2; }

# --- serve ------------------------------------------------------------------------------------

# server_cmd SERVER HANDLER: the command line (port 0; each prints its address on stderr)
server_cmd() {
  local s=$1 h=$2
  case "$s" in
    reactor) echo "$sockit serve -H $h -m reactor -j 1 --max-conns 20000 127.0.0.1:0" ;;
    thread) echo "$sockit serve -H $h -m thread --max-conns 2000 127.0.0.1:0" ;;
    pool) echo "$sockit serve -H $h -m pool -j 16 127.0.0.1:0" ;;
    fork) echo "$sockit serve -H $h -m fork 127.0.0.1:0" ;;
    iterative) echo "$sockit serve -H $h -m iterative 127.0.0.1:0" ;;
    asio) echo "$asio -j 1 127.0.0.1:0$([[ $h == discard ]] && echo ' --discard')" ;;
    reactor_j2) echo "$sockit serve -H $h -m reactor -j 2 --max-conns 20000 127.0.0.1:0" ;;
    reactor_j2pin) echo "$sockit serve -H $h -m reactor -j 2 --pin --max-conns 20000 127.0.0.1:0" ;;
    asio_j2) echo "$asio -j 2 127.0.0.1:0" ;;
    asio_j2pin) echo "$asio -j 2 --pin 127.0.0.1:0" ;;
    libuv) echo "$libuv 127.0.0.1:0$([[ $h == discard ]] && echo ' --discard')" ;;
  esac
}

start_server() { # CPU SERVER HANDLER: sets server_pid, port
  local cmd
  cmd=$(server_cmd "$2" "$3")
  : >"$work/server.err"
  # its own process group, so a fork server's children go with it
  # shellcheck disable=SC2086
  setsid "${prio[@]}" taskset -c "$1" $cmd 2>"$work/server.err" &
  server_pid=$!
  for _ in $(seq 200); do
    grep -q 'listening on' "$work/server.err" && break
    sleep 0.05
  done
  port=$(grep -o '127\.0\.0\.1:[0-9]*' "$work/server.err" | head -1 | cut -d: -f2)
  [[ -n "$port" ]] || { log "$2 did not start: $(cat "$work/server.err")"; exit 1; }
}

stop_server() {
  kill -TERM -- "-$server_pid" 2>/dev/null || kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL -- "-$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# server_tasks: the pids of the server and everything it started (fork model)
server_tree() {
  local pids=("$server_pid") kids
  kids=$(pgrep -g "$server_pid" 2>/dev/null || true)
  echo "${pids[@]}" $kids | tr ' ' '\n' | sort -u
}
server_cpu_ns() { # CPU time (user + kernel) of the server's process tree, in ns
  # /proc/PID/stat of the group leader counts every thread, dead ones too, and cutime/cstime
  # the reaped children (a fork server's finished connections); live children are added.
  # (schedstat is finer but per live thread: a thread-per-connection server loses its dead
  # threads' time.) Clock ticks of 1/CLK_TCK s.
  local pid leader=$server_pid tick
  tick=$(getconf CLK_TCK)
  for pid in $(server_tree); do
    sed 's/.*) //' /proc/"$pid"/stat 2>/dev/null | awk -v lead=$((pid == leader)) \
      '{print $12 + $13 + (lead ? $14 + $15 : 0)}' || true  # a child may just have gone
  done | awk -v t="$tick" '{s += $1} END {printf "%.0f\n", s * 1e9 / t}'
}
server_fds() { ls /proc/"$server_pid"/fd 2>/dev/null | wc -l; }
server_rss_kib() {
  local pid sum=0 v
  for pid in $(server_tree); do
    v=$(awk '/^VmRSS:/ {print $2}' /proc/"$pid"/status 2>/dev/null || true)
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}

jget() { python3 -c "import json,sys; o=json.loads(sys.stdin.read() or '{}'); print(o.get('$2', ''))" <<<"$1"; }

# one_run CASE SERVER: server on CPU 0, `sockit bench` on CPU 1 (the *_j2 cases: both on both
# CPUs, bench -j 2 --pin), the server's CPU sampled over the measured window; records msgs/s,
# MB/s, p99, CPU µs per message, errors.
one_run() {
  local c=$1 s=$2 handler=echo args json c0 c1 d=$secs w=$warm srv_cpus=0 load_cpus=1 jobs="-j 1"
  case "$c" in
    *_j2) srv_cpus=0,1 load_cpus=0,1 jobs="-j 2 --pin" ;;&
    ping64_c100_j2) args="-c 100 -s 64" ;;
    ping64_c1000_j2) args="-c 1000 -s 64" ;;
    ping64_c1) args="-c 1 -s 64" ;;
    ping64_c10) args="-c 10 -s 64" ;;
    ping64_c100) args="-c 100 -s 64" ;;
    ping64_c1000) args="-c 1000 -s 64" ;;
    ping4k_c100) args="-c 100 -s 4096" ;;
    bulk_c1) args="-m bulk -c 1 -s 65536" handler=discard ;;
    connect_c10) args="-m connect -c 10 -s 64" ;;
    idle) args="-c $idle -s 64 --rate 10 --timeout 20" w=$((quick ? 2 : 5)) d=1 ;;
  esac
  start_server "$srv_cpus" "$s" "$handler"
  local base_rss
  base_rss=$(server_rss_kib)
  # shellcheck disable=SC2086
  timeout 120 "${prio[@]}" taskset -c "$load_cpus" "$sockit" bench 127.0.0.1 "$port" $args $jobs \
    -d "$d" --warmup "$w" --json >"$work/bench.json" 2>"$work/bench.err" &
  local bpid=$!
  bg_pids=$bpid
  sleep "$w"
  c0=$(server_cpu_ns)
  local rss fds  # while the load is surely on (the idle case's connections all open)
  rss=$(server_rss_kib) fds=$(server_fds)
  sleep "$d"
  c1=$(server_cpu_ns)
  wait "$bpid" || true
  bg_pids=""
  stop_server
  json=$(cat "$work/bench.json")
  local f=$work/$c.$s
  if [[ -z "$json" ]]; then
    log "  $c $s: no result: $(tail -2 "$work/bench.err" | tr '\n' ' ')"
    echo "nan" >>"$f.msgs"
    return
  fi
  local msgs mb p99 err
  msgs=$(jget "$json" msgs_per_s) mb=$(jget "$json" mb_per_s) p99=$(jget "$json" p99_us)
  err=$(jget "$json" errors)
  echo "$msgs" >>"$f.msgs"
  echo "$mb" >>"$f.mb"
  echo "$p99" >>"$f.p99"
  echo "$err" >>"$f.nerr"
  awk -v a="$c0" -v b="$c1" -v m="$msgs" -v d="$d" -v mb="$mb" -v f="$f" 'BEGIN {
    if (m > 0) printf "%.3f\n", (b - a) / 1e3 / (m * d) >> (f ".cpu");
    if (mb > 0) printf "%.1f\n", (b - a) / 1e3 / (mb * d) >> (f ".cpumb");
    printf "%.0f\n", (b - a) / 1e7 / d >> (f ".cpupct") }'
  if [[ "$c" == idle ]]; then
    echo "$base_rss" >>"$f.rss0"
    echo "$rss" >>"$f.rss"
    echo "$fds" >>"$f.fds"
  fi
  log "  $c $s: $(printf '%.0f' "$msgs") msgs/s, $(printf '%.1f' "$mb") MB/s, p99 ${p99} us," \
    "errors $err, server CPU $(tail -1 "$f.cpupct") %${rss:+, RSS $rss KiB}"
}

# Which servers each case runs on: iterative serves one client at a time, the pool has 16
# workers, fork a process per connection (up to 100), thread a thread each (up to 1000).
servers_for() {
  case "$1" in
    ping64_c1) echo "reactor thread pool fork iterative asio libuv" ;;
    ping64_c10) echo "reactor thread pool fork asio libuv" ;;
    ping64_c100 | ping4k_c100) echo "reactor thread fork asio libuv" ;;
    ping64_c1000) echo "reactor thread asio libuv" ;;
    bulk_c1) echo "reactor thread pool fork iterative asio libuv" ;;
    connect_c10) echo "reactor thread pool fork asio libuv" ;;
    idle) echo "reactor asio libuv" ;;
    *_j2) echo "${j2_servers[*]}" ;;
  esac
}
j2_servers=(reactor_j2pin reactor_j2 asio_j2 asio_j2pin)
cases=(ping64_c1 ping64_c10 ping64_c100 ping64_c1000 ping4k_c100 bulk_c1 connect_c10 idle
  ping64_c100_j2 ping64_c1000_j2)

log "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), reps=$reps, ${secs}s after ${warm}s warmup"
for c in "${cases[@]}"; do
  read -ra srv <<<"$(servers_for "$c")"
  for rep in $(seq "$reps"); do
    order=("${srv[@]}")
    if ((rep % 2 == 0)); then
      order=()
      for ((i = ${#srv[@]} - 1; i >= 0; i--)); do order+=("${srv[i]}"); done
    fi
    for s in "${order[@]}"; do one_run "$c" "$s"; done
  done
done

# --- cross-checks of the load generator ----------------------------------------------------------
log "cross-check: iperf3 and pyclient.py"
iperf_run() { # iperf3 client against iperf3 -s, both pinned like the serve cases
  local p=$((20000 + RANDOM % 20000))
  setsid "${prio[@]}" taskset -c 0 iperf3 -s -1 -B 127.0.0.1 -p "$p" >/dev/null 2>&1 &
  server_pid=$!
  sleep 0.3
  timeout 60 "${prio[@]}" taskset -c 1 iperf3 -c 127.0.0.1 -p "$p" -t "$1" -J >"$work/iperf.json" 2>/dev/null || true
  stop_server
  python3 -c "import json; o=json.load(open('$work/iperf.json')); print(o['end']['sum_received']['bits_per_second']/8e6)" \
    >>"$work/x.iperf.mb" 2>/dev/null || echo nan >>"$work/x.iperf.mb"
}
bulk128() { # sockit bench -m bulk, iperf3's write size, against sockit serve -H discard
  start_server 0 reactor discard
  timeout 60 "${prio[@]}" taskset -c 1 "$sockit" bench 127.0.0.1 "$port" -m bulk -c 1 -s 131072 \
    -d "$1" --warmup 0.3 --json >"$work/bench.json" 2>/dev/null || true
  stop_server
  jget "$(cat "$work/bench.json")" mb_per_s >>"$work/x.sockit.mb"
  # the same generator against libuv's discard server: what the generator can push when the
  # receiver is not the limit
  start_server 0 libuv discard
  timeout 60 "${prio[@]}" taskset -c 1 "$sockit" bench 127.0.0.1 "$port" -m bulk -c 1 -s 131072 \
    -d "$1" --warmup 0.3 --json >"$work/bench.json" 2>/dev/null || true
  stop_server
  jget "$(cat "$work/bench.json")" mb_per_s >>"$work/x.sockituv.mb"
}
xsecs=$((quick ? 1 : 3))
for rep in $(seq "$reps"); do
  if ((rep % 2)); then iperf_run "$xsecs"; bulk128 "$xsecs"; else bulk128 "$xsecs"; iperf_run "$xsecs"; fi
done
# ping-pong: Python asyncio client vs sockit bench, both against the reactor; the Python client
# is far slower, so sockit bench is also run at the rate Python reached (--rate), and the
# server's CPU per message compared at that same load.
# measured SECS OUT NAME CMD...: runs CMD (a client writing one JSON object to OUT) on CPU 1
# against the current server, and records its msgs/s and the server's CPU µs per message over
# SECS, sampled after its 0.3 s warmup, as $work/x.NAME.msgs and .cpu.
measured() {
  local secs=$1 json=$2 name=$3 c0 c1 m
  shift 3
  timeout 60 "${prio[@]}" taskset -c 1 "$@" >"$json" &
  bg_pids=$!
  sleep 0.3
  c0=$(server_cpu_ns)
  sleep "$secs"
  c1=$(server_cpu_ns)
  wait "$bg_pids" || true
  bg_pids=""
  m=$(jget "$(cat "$json")" msgs_per_s)
  echo "$m" >"$work/x.$name.msgs"
  awk -v a="$c0" -v b="$c1" -v m="$m" -v d="$secs" 'BEGIN {printf "%.3f\n", (b-a)/1e3/(m*d)}' >"$work/x.$name.cpu"
}
for conns in 1 10; do
  start_server 0 reactor echo
  measured "$xsecs" "$work/py.json" "py$conns" python3 "$root/bench/pyclient.py" 127.0.0.1 "$port" \
    -c "$conns" -d "$xsecs" --warmup 0.3
  pyrate=$(cat "$work/x.py$conns.msgs")
  for mode in open rated; do
    extra=()
    [[ $mode == rated ]] && extra=(--rate "$(printf '%.0f' "$pyrate")")
    measured "$xsecs" "$work/bench.json" "sb$conns$mode" "$sockit" bench 127.0.0.1 "$port" \
      -c "$conns" -s 64 -d "$xsecs" --warmup 0.3 --json "${extra[@]}"
  done
  stop_server
done

# --- resolve, scan -------------------------------------------------------------------------------
log "resolve"
"$root/bench/resolve_bench.sh" "$sockit" --names 2000 --reps "$((quick ? 1 : 5))" >"$work/resolve.md" ||
  echo "resolve_bench.sh failed" >"$work/resolve.md"
scan_cmd=""
if ((scan)); then
  log "scan (bench/scan_bench.sh)"
  if ((quick)); then scan_args=(--quick --reps 1); else scan_args=(); fi
  scan_cmd="bench/scan_bench.sh${scan_args[*]:+ ${scan_args[*]}}"
  "$root/bench/scan_bench.sh" "${scan_args[@]}" >"$work/scan.md" 2>"$work/scan.err" || {
    log "scan_bench.sh failed: $(tail -3 "$work/scan.err")"
    echo "scan_bench.sh failed: $(tail -3 "$work/scan.err")" >"$work/scan.md"
  }
fi

# --- report ----------------------------------------------------------------------------------------
median() { grep -v nan "$1" 2>/dev/null | sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "nan"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
cell() { # FILE DECIMALS: "median (min–max)", or one value, or –
  [[ -s "$1" ]] || { echo "–"; return; }
  local m
  m=$(median "$1")
  [[ "$m" == nan ]] && { echo "failed"; return; }
  m=$(awk -v v="$m" -v d="$2" 'BEGIN {printf "%.*f", d, v}')
  if (($(grep -vc nan "$1") > 1)); then
    echo "$m ($(grep -v nan "$1" | sort -g | awk -v d="$2" 'NR==1{lo=$1} {hi=$1} END {printf "%.*f–%.*f", d, lo, d, hi}'))"
  else
    echo "$m"
  fi
}
all_servers=(reactor thread pool fork iterative asio libuv)
label() {
  case "$1" in
    reactor | thread | pool | fork | iterative) echo "sockit $1" ;;
    reactor_j2) echo "sockit reactor -j 2" ;;
    reactor_j2pin) echo "sockit reactor -j 2 --pin" ;;
    asio_j2) echo "asio -j 2" ;;
    asio_j2pin) echo "asio -j 2 --pin" ;;
    *) echo "$1" ;;
  esac
}
table() { # METRIC-SUFFIX DECIMALS CASES... (rows: the servers in $rows, default all_servers)
  local metric=$1 dec=$2 c s
  local -a servers=("${all_servers[@]}")
  [[ -n "${rows:-}" ]] && read -ra servers <<<"$rows"
  shift 2
  printf '| server |'
  for c in "$@"; do printf ' %s |' "$(case_label "$c")"; done
  printf '\n|---|'
  for c in "$@"; do printf -- '---:|'; done
  echo
  for s in "${servers[@]}"; do
    printf '| %s |' "$(label "$s")"
    for c in "$@"; do printf ' %s |' "$(cell "$work/$c.$s.$metric" "$dec")"; done
    echo
  done
}
case_label() {
  case "$1" in
    ping64_c1) echo "64 B, 1 conn" ;;
    ping64_c10) echo "64 B, 10" ;;
    ping64_c100) echo "64 B, 100" ;;
    ping64_c1000) echo "64 B, 1000" ;;
    ping4k_c100) echo "4 KiB, 100" ;;
    bulk_c1) echo "bulk, 1 conn" ;;
    connect_c10) echo "connect, 10" ;;
    idle) echo "idle $idle" ;;
    ping64_c100_j2) echo "64 B, 100, both cores" ;;
    ping64_c1000_j2) echo "64 B, 1000, both cores" ;;
  esac
}
pingc=(ping64_c1 ping64_c10 ping64_c100 ping64_c1000 ping4k_c100)

# charts (bench/plot.gp): median messages/s per server at 1/10/100/1000 connections, NaN
# where a server did not run; scan seconds from scan_bench's first table
for n in 1 10 100 1000; do
  printf '%s' "$n"
  for s in "${all_servers[@]}"; do
    f=$work/ping64_c$n.$s.msgs
    if [[ -s "$f" ]]; then printf ' %s' "$(median "$f")"; else printf ' NaN'; fi
  done
  echo
done | sed 's/ nan/ NaN/g' >"$work/serve.dat"
scan_chart=0
: >"$work/scan.dat"
if [[ -s "$work/scan.md" ]]; then
  # rows of the first table only, "| 1. 127.0.0.1 -p- | 0.50 (..) | 1.20 (..) | ..." -> label,
  # sockit s, nmap -sT s (the per-scanner table after it has rows that start the same way)
  awk -F'|' '/^\| [0-9]\. / && $3 ~ /[0-9]/ && !seen[$2]++ {
      n++; l=$2; gsub(/^ +| +$/, "", l); gsub(/,.*/, "", l); split($3, a, " "); split($4, b, " ");
      printf "\"%s\" %s %s\n", l, a[1], b[1] }
    /^$/ && n {exit}' "$work/scan.md" >"$work/scan.dat"
  [[ -s "$work/scan.dat" ]] && scan_chart=1
fi
# a scan chart from an earlier run must not pass for this one's (docs/ keeps the committed one)
((scan_chart)) || [[ "$out" == "$root/docs" ]] || rm -f "$out/bench_scan.svg"
gnuplot -e "dir='$work'; out='$out'; reps='$reps'" "$root/bench/plot.gp" 2>"$work/gnuplot.log" ||
  log "gnuplot failed: $(tail -5 "$work/gnuplot.log")"

elapsed=$(($(date +%s) - t_start))
cpu_model=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
{
  echo "<!-- suite:begin -->"
  echo "<!-- Generated by bench/run.sh$( ((quick)) && echo ' --quick') on $started; do not edit by hand: rerun it. -->"
  echo
  echo "### Machine and command"
  echo
  echo "- $(nproc) vCPU, \`$cpu_model\`, kernel \`$(uname -r)\`, $(. /etc/os-release && echo "$PRETTY_NAME")," \
    "$(g++ --version | head -1), asio $(dpkg-query -W -f='${Version}' libasio-dev), libuv" \
    "$(dpkg-query -W -f='${Version}' libuv1-dev), iperf3 $(dpkg-query -W -f='${Version}' iperf3)," \
    "Python $(python3 -c 'import platform; print(platform.python_version())'), nmap $(dpkg-query -W -f='${Version}' nmap 2>/dev/null || echo '?')."
  echo "- Load average at the start: $load0, at the end: $(cut -d' ' -f1-3 /proc/loadavg); a shared, noisy machine —"
  echo "  absolute rates swing between runs; read ratios within a row and CPU per message."
  echo "- Run: $started, $reps repetition(s) per case of ${secs} s measured after ${warm} s warmup, $((elapsed / 60)) min in all."
  echo
  echo '```sh'
  echo "make bench                  # = bench/run.sh: everything, ~20 min, rewrites this section and docs/bench_*.svg"
  echo "bench/run.sh --quick        # smoke run, ~2 min, report in build/suite/report/"
  echo "# per run (server on CPU 0, load on CPU 1, both nice -n -10):"
  echo "taskset -c 0 build/suite/app/sockit serve -H echo -m MODEL 127.0.0.1:0     # or asio_echo -j 1 / libuv_echo"
  echo "taskset -c 1 build/suite/app/sockit bench 127.0.0.1 PORT -c N -s 64 -j 1 -d $secs --warmup $warm --json"
  echo '```'
  echo
  echo "### Serve: every sockit model vs asio and libuv"
  echo
  echo "![messages/s vs connections](bench_serve_msgs.svg)"
  echo
  echo "Messages/s, median (min–max) of $reps, closed-loop ping-pong, every echo checked; – = not"
  echo "run (iterative serves one client at a time; pool has 16 workers; fork and thread stop at"
  echo "100 and 1000 connections):"
  echo
  table msgs 0 "${pingc[@]}" connect_c10
  echo
  echo "Server CPU time (user + kernel, all threads, plus reaped fork children: \`/proc/PID/stat\`,"
  echo "10 ms ticks) over the measured window, per message, µs. At 1 connection the server and the"
  echo "load generator wake each other across the two cores for every message, so that column is"
  echo "bound by cross-CPU wake-ups (VM exits of an idle vCPU), not by the server's code:"
  echo
  table cpu 2 "${pingc[@]}" connect_c10
  echo
  echo "p99 round-trip latency, µs (median of the runs' p99):"
  echo
  table p99 0 "${pingc[@]}"
  echo
  echo "Both cores: the server with two loops (\`-j 2\`), \`sockit bench -j 2 --pin\` (load thread i on"
  echo "CPU i) sharing the two CPUs with it. \`--pin\` pins server loop i to CPU i and sets"
  echo "SO_INCOMING_CPU on its listener, so each connection stays on the CPU it was opened from;"
  echo "\`asio_echo --pin\` does the same with asio's socket options (not in asio's examples)."
  echo "Messages/s, then server CPU µs per message:"
  echo
  rows="${j2_servers[*]}" table msgs 0 ping64_c100_j2 ping64_c1000_j2
  echo
  rows="${j2_servers[*]}" table cpu 2 ping64_c100_j2 ping64_c1000_j2
  echo
  echo "Bulk one way (\`sockit bench -m bulk -s 65536\`, 1 connection, \`-H discard\` / \`--discard\`):"
  echo
  echo "| server | MB/s | server CPU µs/MB | errors |"
  echo "|---|---:|---:|---:|"
  for s in "${all_servers[@]}"; do
    echo "| $(label "$s") | $(cell "$work/bulk_c1.$s.mb" 0) | $(cell "$work/bulk_c1.$s.cpumb" 0) | $(cell "$work/bulk_c1.$s.nerr" 0) |"
  done
  echo
  echo "Memory with $idle idle connections (\`sockit bench -c $idle --rate 10\`; RLIMIT_NOFILE $(ulimit -n) both sides):"
  echo
  echo "| server | VmRSS before, KiB | VmRSS with $idle conns, KiB | KiB per connection | server fds open | errors |"
  echo "|---|---:|---:|---:|---:|---:|"
  for s in reactor asio libuv; do
    f=$work/idle.$s
    per="–"
    if [[ -s "$f.rss" ]]; then
      paste "$f.rss" "$f.rss0" | awk -v n="$idle" '{printf "%.2f\n", ($1 - $2) / n}' >"$f.per"
      per=$(cell "$f.per" 2)
    fi
    echo "| $(label "$s") | $(cell "$f.rss0" 0) | $(cell "$f.rss" 0) | $per | $(cell "$f.fds" 0) | $(cell "$f.nerr" 0) |"
  done
  echo
  echo "Errors (refused, reset, timeout, mismatch) over all serve runs: $(cat "$work"/*.nerr 2>/dev/null | awk '{s += $1} END {print s + 0}')."
  echo
  echo "### Resolve: sockit resolve vs getent ahosts (2000 names from /etc/hosts, no DNS)"
  echo
  echo "\`bench/resolve_bench.sh build/suite/app/sockit --names 2000\`: in \`unshare --net --mount\`, a"
  echo "generated hosts file (host0..host1999.bench.test → 198.18.x.y) bind-mounted on /etc/hosts and"
  echo "a resolv.conf naming 127.0.0.1, where nothing listens. One batch per run, both tools alternating."
  echo
  cat "$work/resolve.md"
  echo
  if ((scan)); then
    echo "### Scan: sockit scan vs nmap -sT (nmap -sS and masscan for reference)"
    echo
    ((scan_chart)) && echo "![scan time vs nmap](bench_scan.svg)" && echo
    echo "\`$scan_cmd\` (its own namespaces and Release tree; see the Scan section for the cases):"
    cat "$work/scan.md"
    echo
  fi
  echo "### Cross-check of the load generator"
  echo
  echo "Bulk throughput, 1 connection, pinned as above, $xsecs s, median (min–max) of $reps:"
  echo
  echo "| generator | against | MB/s |"
  echo "|---|---|---:|"
  echo "| \`iperf3 -c 127.0.0.1 -t $xsecs\` (128 KiB writes) | \`iperf3 -s\` | $(cell "$work/x.iperf.mb" 0) |"
  echo "| \`sockit bench -m bulk -s 131072\` | \`sockit serve -H discard\` (reactor) | $(cell "$work/x.sockit.mb" 0) |"
  echo "| \`sockit bench -m bulk -s 131072\` | \`libuv_echo --discard\` | $(cell "$work/x.sockituv.mb" 0) |"
  echo
  echo "Each client talks to its own kind of server (iperf3 needs its control protocol). When the two"
  echo "\`sockit bench\` rows agree with each other but stay below iperf3, the generator, not the"
  echo "receiver, is the limit, and the bulk figures above are a floor for every server alike."
  echo
  echo "Ping-pong, 64 B, against \`sockit serve -H echo -m reactor -j 1\` (one run each, $xsecs s):"
  echo "the Python client is CPU-bound far below the server's capacity, so \`sockit bench\` is also run"
  echo "at the rate Python reached; the server's CPU per message should then agree."
  echo
  echo "| conns | generator | msgs/s | server CPU µs/msg |"
  echo "|---:|---|---:|---:|"
  for conns in 1 10; do
    echo "| $conns | bench/pyclient.py (asyncio) | $(cell "$work/x.py$conns.msgs" 0) | $(cell "$work/x.py$conns.cpu" 2) |"
    echo "| $conns | sockit bench (closed loop) | $(cell "$work/x.sb${conns}open.msgs" 0) | $(cell "$work/x.sb${conns}open.cpu" 2) |"
    echo "| $conns | sockit bench --rate (Python's rate) | $(cell "$work/x.sb${conns}rated.msgs" 0) | $(cell "$work/x.sb${conns}rated.cpu" 2) |"
  done
  echo
  echo "<!-- suite:end -->"
} >"$out/suite.md"

# Splice into BENCHMARKS.md (docs/ only): replace the marked section, or append it.
if [[ "$out" == "$root/docs" ]]; then
  doc=$root/docs/BENCHMARKS.md
  if grep -q '<!-- suite:begin -->' "$doc"; then
    awk -v f="$out/suite.md" '
      /<!-- suite:begin -->/ {while ((getline l < f) > 0) print l; skip=1; next}
      /<!-- suite:end -->/ {skip=0; next}
      !skip' "$doc" >"$work/doc.new"
  else
    { cat "$doc"; echo; echo "## The suite (bench/run.sh, \`make bench\`)"; echo; cat "$out/suite.md"; } >"$work/doc.new"
  fi
  cp "$work/doc.new" "$doc"
  rm -f "$out/suite.md"
  log "rewrote docs/BENCHMARKS.md and docs/bench_*.svg in $((elapsed / 60)) min"
else
  log "report: $out/suite.md, charts $out/bench_*.svg ($((elapsed / 60)) min)"
fi
