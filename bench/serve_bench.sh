#!/usr/bin/env bash
# serve_bench.sh: `sockit serve -H echo -m reactor` against asio's classic async echo server
# (bench/peers/asio_echo.cpp), driven by bench/echo_load.cpp on 127.0.0.1, with a minimal
# io_uring echo loop (bench/peers/uring_echo.c) beside them as the yardstick of the best
# design on this machine. Prints markdown tables; docs/BENCHMARKS.md ("Serve") shows a run
# and how to read it.
#
#   bench/serve_bench.sh [--quick] [--no-build]
#
# Layout (a 2-core machine): each server pinned to CPU 0, the load generator to CPU 1 (two
# cases also put both on CPU 0, which removes cross-CPU wake-ups from the cost); the
# servers alternate A B C C B A..., 5 times each (1 with --quick), and the tables give
# medians with min–max, and the median of the ratios of each adjacent pair of runs (which
# cancels slow drifts in what else the machine is doing).
# The -j comparison runs -j 1 in that layout, and -j 2 servers (sockit and asio, each with
# and without --pin) against two load generators, one pinned to each CPU with half the
# connections: the layout where a connection can stay on one CPU at both ends. Server CPU time per message is read by echo_load from
# /proc/PID/task/*/schedstat over the measured window. System calls per message come from
# perf's syscall tracepoints (no slowdown), and from `strace -c -f` if strace is installed.
#
# Full mode takes about 12 minutes, --quick about 1.5. Every load is bounded in time; servers
# listen on 127.0.0.1 port 0 and are killed on exit, however the script ends.
set -euo pipefail

quick=0
build=1
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    -h | --help)
      sed -n '2,21p' "$0"
      exit 0
      ;;
    *)
      echo "serve_bench.sh: unknown argument '$arg'" >&2
      exit 2
      ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
# A Release tree of its own, with tests and examples off: the benchmark needs three targets,
# and a test file being edited elsewhere must not stop it.
bdir=${SERVE_BENCH_BUILD:-$root/build/serve-bench}
if ((build)); then
  log=$(mktemp /tmp/serve_bench_build.XXXXXX)
  if ! { cmake -S "$root" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DSOCKIT_BUILD_TESTS=OFF -DSOCKIT_BUILD_EXAMPLES=OFF -DSOCKIT_BUILD_BENCH=ON &&
    cmake --build "$bdir" --target sockit_cli echo_load asio_echo &&
    { ! cmake --build "$bdir" --target help | grep -q '^uring_echo:' ||
      cmake --build "$bdir" --target uring_echo; }; } >"$log" 2>&1; then
    tail -30 "$log" >&2
    echo "serve_bench.sh: build failed (log above)" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
fi
sockit=$bdir/app/sockit
asio=$bdir/bench/asio_echo
load=$bdir/bench/echo_load
uring=$bdir/bench/uring_echo
servers=(sockit asio)
if [[ -x "$uring" ]]; then
  servers+=(uring)
else
  echo "serve_bench.sh: no $uring (liburing-dev missing?): the io_uring yardstick is skipped" >&2
fi
for exe in "$sockit" "$asio" "$load"; do
  [[ -x "$exe" ]] || { echo "serve_bench.sh: missing $exe (build failed?)" >&2; exit 1; }
done

if ((quick)); then
  reps=1 secs=1.5 warm=0.5
else
  reps=5 secs=3 warm=0.5
fi
rate=100000  # the fixed offered load (messages/s) at which server CPU is compared

# Both sides run at raised priority when we may (root), so other work on a shared machine
# disturbs them less; they still share the cores with it.
prio=()
if [[ $(id -u) -eq 0 ]]; then prio=(nice -n -10); fi

work=$(mktemp -d /tmp/serve_bench.XXXXXX)
server_pid=""
tracer_pid=""
cleanup() {
  for pid in $tracer_pid $server_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  sleep 0.2
  for pid in $tracer_pid $server_pid; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server CPUS KIND JOBS MODE [--pin]: starts it, sets server_pid and port.
start_server() {
  local cpus=$1 kind=$2 jobs=$3 mode=$4 pin=${5:-}
  local -a cmd
  case "$kind" in
    sockit) cmd=("$sockit" serve -H "$mode" -m reactor -j "$jobs" $pin 127.0.0.1:0) ;;
    asio)
      cmd=("$asio" -j "$jobs" $pin 127.0.0.1:0)
      [[ "$mode" == discard ]] && cmd+=(--discard)
      ;;
    uring)
      cmd=("$uring" 127.0.0.1:0)
      [[ "$mode" == discard ]] && cmd+=(--discard)
      ;;
  esac
  : >"$work/server.err"
  "${prio[@]}" taskset -c "$cpus" "${cmd[@]}" 2>"$work/server.err" &
  server_pid=$!
  for _ in $(seq 200); do  # up to 10 s: a busy machine starts processes slowly
    grep -q 'listening on' "$work/server.err" && break
    sleep 0.05
  done
  port=$(grep -o '127\.0\.0\.1:[0-9]*' "$work/server.err" | head -1 | cut -d: -f2)
  [[ -n "$port" ]] || { echo "serve_bench.sh: $kind did not start:" >&2; cat "$work/server.err" >&2; exit 1; }
}

stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# run_load CPUS ARGS...: echo_load against the current server; prints its key=value line.
run_load() {
  local cpus=$1
  shift
  "${prio[@]}" taskset -c "$cpus" "$load" --port "$port" --server-pid "$server_pid" "$@"
}

kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

# run_split_load CONNS ARGS...: two echo_loads at once, on CPU 0 and CPU 1, CONNS/2
# connections each; prints one key=value line for both: messages/s summed, the server's
# CPU per message over both (each load reads the server's CPU over its own window, which
# is the same window), the larger p99.
run_split_load() {
  local conns=$1 half=$(($1 / 2)) a b
  shift
  "${prio[@]}" taskset -c 0 "$load" --port "$port" --server-pid "$server_pid" -c "$half" "$@" \
    >"$work/load0" &
  local first=$!
  b=$("${prio[@]}" taskset -c 1 "$load" --port "$port" --server-pid "$server_pid" \
    -c $((conns - half)) "$@")
  wait "$first"
  a=$(cat "$work/load0")
  awk -v a="$a" -v b="$b" '
    function parse(line, into,   n, i, pair, f) {
      n = split(line, pair, " ")
      for (i = 1; i <= n; i++) { split(pair[i], f, "="); into[f[1]] = f[2] }
    }
    BEGIN {
      parse(a, x); parse(b, y)
      m = x["msgs_per_s"] + y["msgs_per_s"]
      cpu = (x["server_cpu_us_per_msg"] * x["msgs_per_s"] + y["server_cpu_us_per_msg"] * y["msgs_per_s"]) / 2
      printf "msgs_per_s=%.0f server_cpu_us_per_msg=%.3f p99_us=%s server_cpu_pct=%.1f client_cpu_pct=%.1f\n",
        m, (m > 0 ? cpu / m : 0), (x["p99_us"] > y["p99_us"] ? x["p99_us"] : y["p99_us"]),
        (x["server_cpu_pct"] + y["server_cpu_pct"]) / 2, x["client_cpu_pct"] + y["client_cpu_pct"]
    }'
}

# record CASE SERVER LINE: keeps the metrics of one run.
record() {
  local c=$1 s=$2 line=$3 key
  for key in msgs_per_s mb_per_s p50_us p99_us server_cpu_us_per_msg server_cpu_us_per_mb \
    client_cpu_pct server_cpu_pct; do
    local v
    v=$(kv "$line" "$key")
    [[ -n "$v" ]] && echo "$v" >>"$work/$c.$s.$key"
  done
  return 0
}

# median FILE: the median of the numbers in FILE, one a line
median() { sort -g "$1" | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
fmt() { awk -v v="$1" -v d="$2" 'BEGIN {printf "%.*f", d, v}'; }
# paired A B: the median over repetitions of A_i / B_i (runs i were adjacent in time)
paired() {
  paste "$1" "$2" | awk '$2 > 0 {print $1 / $2}' >"$work/ratios"
  fmt "$(median "$work/ratios")" 2
}
cell() { # FILE DECIMALS: "median (min–max)" or just the median with one repetition
  local m
  m=$(fmt "$(median "$1")" "$2")
  if ((reps > 1)); then
    echo "$m ($(sort -g "$1" | awk -v d="$2" 'NR==1{lo=$1} {hi=$1} END {printf "%.*f–%.*f", d, lo, d, hi}'))"
  else
    echo "$m"
  fi
}

echo "serve_bench: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), reps=$reps," \
  "${secs}s measured after ${warm}s warmup per run" >&2

# --- sockit vs asio, pinned -------------------------------------------------------------

# name|echo_load arguments|server handler|server CPU|load generator CPU
cases=(
  "ping64_c10|-c 10 -s 64|echo|0|1"
  "ping64_c100|-c 100 -s 64|echo|0|1"
  "ping64_c1000|-c 1000 -s 64|echo|0|1"
  "ping4k_c100|-c 100 -s 4096|echo|0|1"
  "ping200k_c1|-c 1 -s 200000|echo|0|1"
  "rate_c100|-c 100 -s 64 --rate $rate|echo|0|1"
  "bulk_c1|-c 1 -s 65536 --bulk|discard|0|1"
  "ping64_c100_1cpu|-c 100 -s 64|echo|0|0"
  "ping64_c1000_1cpu|-c 1000 -s 64|echo|0|0"
)
((quick)) && cases=("${cases[@]:1:7}")

for spec in "${cases[@]}"; do
  IFS='|' read -r name args mode srv_cpu load_cpu <<<"$spec"
  for rep in $(seq "$reps"); do
    order="${servers[*]}"
    ((rep % 2 == 0)) && order=$(printf '%s\n' "${servers[@]}" | tac | paste -sd' ')
    for kind in $order; do
      start_server "$srv_cpu" "$kind" 1 "$mode"
      # shellcheck disable=SC2086  # args is a word list
      line=$(run_load "$load_cpu" $args -d "$secs" -w "$warm")
      stop_server
      record "$name" "$kind" "$line"
      echo "  $name $kind #$rep: $line" >&2
    done
  done
done

# --- -j 2 vs -j 1, and steering connections to CPUs ---------------------------------------

# config: "label|server kind|jobs|--pin or empty|split load (1) or one load on CPU 1 (0)"
jconfigs=(
  "j1|sockit|1||0"
  "j2|sockit|2||1"
  "j2pin|sockit|2|--pin|1"
  "asio_j2|asio|2||1"
  "asio_j2pin|asio|2|--pin|1"
)
jcases=("j_c100|100" "j_c1000|1000")
((quick)) && jcases=("${jcases[@]:0:1}")
for spec in "${jcases[@]}"; do
  IFS='|' read -r name conns <<<"$spec"
  for rep in $(seq "$reps"); do
    order=("${jconfigs[@]}")
    ((rep % 2 == 0)) && mapfile -t order < <(printf '%s\n' "${jconfigs[@]}" | tac)
    for config in "${order[@]}"; do
      IFS='|' read -r label kind jobs pin split <<<"$config"
      if ((split)); then
        start_server 0,1 "$kind" "$jobs" echo "$pin"
        line=$(run_split_load "$conns" -s 64 -d "$secs" -w "$warm")
      else
        start_server 0 "$kind" "$jobs" echo
        line=$(run_load 1 -c "$conns" -s 64 -d "$secs" -w "$warm")
      fi
      stop_server
      record "$name" "$label" "$line"
      echo "  $name $label #$rep: $line" >&2
    done
  done
done

# --- system calls per message -------------------------------------------------------------

calls=(recvfrom sendto epoll_wait epoll_pwait epoll_pwait2 epoll_ctl read write recvmsg sendmsg
  accept4)
have_perf=0
if command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter true >/dev/null 2>&1; then
  have_perf=1
fi
have_strace=0
command -v strace >/dev/null && have_strace=1

# count_syscalls TOOL KIND: a 2-second 100-connection 64-byte run (no warmup) under TOOL.
count_syscalls() {
  local tool=$1 kind=$2 out=$work/$1.$2
  start_server 0 "$kind" 1 echo
  if [[ "$tool" == perf ]]; then
    local events=raw_syscalls:sys_enter c
    for c in "${calls[@]}"; do events+=",syscalls:sys_enter_$c"; done
    perf stat -x, -e "$events" -p "$server_pid" -o "$out" &
  else
    strace -c -f -p "$server_pid" -o "$out" 2>/dev/null &
  fi
  tracer_pid=$!
  sleep 0.5  # attached before the first message
  line=$(run_load 1 -c 100 -s 64 -d 2 -w 0)
  kill -INT "$tracer_pid"
  wait "$tracer_pid" 2>/dev/null || true
  tracer_pid=""
  stop_server
  kv "$line" total_msgs >"$out.msgs"
}

# syscall_row TOOL KIND: "| kind | total/msg | recvfrom/msg | sendto/msg | epoll/msg | other |"
syscall_row() {
  local tool=$1 kind=$2 out=$work/$1.$2
  local msgs
  msgs=$(cat "$out.msgs")
  if [[ "$tool" == perf ]]; then
    awk -F, -v m="$msgs" -v k="$kind" '
      /^#/ || NF < 3 {next}
      {name=$3; sub(/^syscalls:sys_enter_/, "", name); n[name]=$1}
      END {
        total=n["raw_syscalls:sys_enter"]; ep=n["epoll_wait"]+n["epoll_pwait"]+n["epoll_pwait2"]
        rx=n["recvfrom"]+n["recvmsg"]+n["read"]; tx=n["sendto"]+n["sendmsg"]+n["write"]
        printf "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.1f |\n", k, total/m, rx/m, tx/m, ep/m,
          n["epoll_ctl"]/m, (ep > 0 ? m/ep : 0)
      }' "$out"
  else
    awk -v m="$msgs" -v k="$kind" '
      $1 ~ /^[0-9.]+$/ && NF >= 5 {name=$NF; calls=$4; n[name]+=calls; if (name != "total") t+=calls}
      END {
        ep=n["epoll_wait"]+n["epoll_pwait"]+n["epoll_pwait2"]
        rx=n["recvfrom"]+n["recvmsg"]+n["read"]; tx=n["sendto"]+n["sendmsg"]+n["write"]
        printf "| %s (strace) | %.3f | %.3f | %.3f | %.3f | %.3f | %.1f |\n", k, t/m, rx/m, tx/m,
          ep/m, n["epoll_ctl"]/m, (ep > 0 ? m/ep : 0)
      }' "$out"
  fi
}

for kind in "${servers[@]}"; do
  ((have_perf)) && count_syscalls perf "$kind"
  if ((have_strace)) && ((!quick)); then count_syscalls strace "$kind"; fi
done

# --- tables --------------------------------------------------------------------------------

label() {
  case "$1" in
    ping64_c10) echo "64 B ping-pong, 10 conns" ;;
    ping64_c100) echo "64 B ping-pong, 100 conns" ;;
    ping64_c1000) echo "64 B ping-pong, 1000 conns" ;;
    ping4k_c100) echo "4 KiB ping-pong, 100 conns" ;;
    ping200k_c1) echo "200 kB ping-pong, 1 conn" ;;
    rate_c100) echo "64 B, 100 conns, fixed $rate msgs/s" ;;
    bulk_c1) echo "bulk one-way, 1 conn, 64 KiB writes (discard)" ;;
    ping64_c100_1cpu) echo "64 B ping-pong, 100 conns, **both on CPU 0**" ;;
    ping64_c1000_1cpu) echo "64 B ping-pong, 1000 conns, **both on CPU 0**" ;;
    j_c100) echo "64 B ping-pong, 100 conns" ;;
    j_c1000) echo "64 B ping-pong, 1000 conns" ;;
  esac
}

echo
echo "### sockit reactor vs asio, -j 1 (server on CPU 0, load on CPU 1 unless marked)"
echo
echo "Medians of $reps run(s) of ${secs} s (min–max in brackets); ratios are medians of the"
echo "ratios of adjacent runs. CPU = server CPU time (user + kernel, from schedstat) per message;"
echo "p99 = round-trip latency seen by the load generator (median of the runs' p99)."
echo
echo "| case | sockit msgs/s | asio msgs/s | sockit/asio | sockit CPU µs/msg | asio CPU µs/msg | sockit/asio | p99 µs sockit / asio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for spec in "${cases[@]}"; do
  IFS='|' read -r name _ mode <<<"$spec"
  [[ "$name" == bulk_c1 ]] && continue
  s=$work/$name.sockit a=$work/$name.asio
  echo "| $(label "$name") | $(cell "$s.msgs_per_s" 0) | $(cell "$a.msgs_per_s" 0) |" \
    "$(paired "$s.msgs_per_s" "$a.msgs_per_s") |" \
    "$(cell "$s.server_cpu_us_per_msg" 2) | $(cell "$a.server_cpu_us_per_msg" 2) |" \
    "$(paired "$s.server_cpu_us_per_msg" "$a.server_cpu_us_per_msg") |" \
    "$(fmt "$(median "$s.p99_us")" 0) / $(fmt "$(median "$a.p99_us")" 0) |"
done
echo
echo "| bulk, one way | sockit MB/s | asio MB/s | sockit/asio | sockit CPU µs/MB | asio CPU µs/MB | sockit/asio |"
echo "|---|---:|---:|---:|---:|---:|---:|"
s=$work/bulk_c1.sockit a=$work/bulk_c1.asio
echo "| $(label bulk_c1) | $(cell "$s.mb_per_s" 0) | $(cell "$a.mb_per_s" 0) |" \
  "$(paired "$s.mb_per_s" "$a.mb_per_s") |" \
  "$(cell "$s.server_cpu_us_per_mb" 0) | $(cell "$a.server_cpu_us_per_mb" 0) |" \
  "$(paired "$s.server_cpu_us_per_mb" "$a.server_cpu_us_per_mb") |"

if [[ " ${servers[*]} " == *" uring "* ]]; then
  echo
  echo "### The yardstick: a minimal io_uring loop (bench/peers/uring_echo.c), same runs"
  echo
  echo "What the fastest design known for this machine does in the same runs: multishot recv"
  echo "into a provided-buffer ring, sends batched into one io_uring_enter per turn."
  echo
  echo "| case | io_uring msgs/s | io_uring/asio | sockit/io_uring | io_uring CPU µs/msg | io_uring/asio CPU |"
  echo "|---|---:|---:|---:|---:|---:|"
  for spec in "${cases[@]}"; do
    IFS='|' read -r name _ mode <<<"$spec"
    [[ "$name" == bulk_c1 ]] && continue
    s=$work/$name.sockit a=$work/$name.asio u=$work/$name.uring
    echo "| $(label "$name") | $(cell "$u.msgs_per_s" 0) | $(paired "$u.msgs_per_s" "$a.msgs_per_s") |" \
      "$(paired "$s.msgs_per_s" "$u.msgs_per_s") | $(cell "$u.server_cpu_us_per_msg" 2) |" \
      "$(paired "$u.server_cpu_us_per_msg" "$a.server_cpu_us_per_msg") |"
  done
  u=$work/bulk_c1.uring a=$work/bulk_c1.asio
  echo "| $(label bulk_c1), MB/s and CPU µs/MB | $(cell "$u.mb_per_s" 0) | $(paired "$u.mb_per_s" "$a.mb_per_s") |" \
    "$(paired "$work/bulk_c1.sockit.mb_per_s" "$u.mb_per_s") | $(cell "$u.server_cpu_us_per_mb" 0) |" \
    "$(paired "$u.server_cpu_us_per_mb" "$a.server_cpu_us_per_mb") |"
fi

echo
share() { echo "$(fmt "$(median "$1.server_cpu_pct")" 0) / $(fmt "$(median "$1.client_cpu_pct")" 0)"; }
echo "CPU each side got in the measured window (median %, server / load generator) — below"
echo "~95 % for both means other work on the machine took the rest:"
echo
echo "| case | $(printf '%s runs | ' "${servers[@]}")"
echo "|---|$(printf -- '---:|%.0s' "${servers[@]}")"
for spec in "${cases[@]}"; do
  IFS='|' read -r name _ <<<"$spec"
  row="| $(label "$name") |"
  for kind in "${servers[@]}"; do row+=" $(share "$work/$name.$kind") |"; done
  echo "$row"
done

echo
echo "### -j 2 vs -j 1, and connections steered to CPUs (--pin)"
echo
echo "-j 1: server on CPU 0, one load generator on CPU 1 (the layout above). -j 2: the server"
echo "on both CPUs, two load generators, one pinned to each CPU with half the connections."
echo "--pin: loop i pinned to CPU i, its listener set to SO_INCOMING_CPU i (asio_echo --pin"
echo "does the same with asio's socket options). Ratios against sockit -j 1 and asio -j 2."
echo
echo "| case | server | msgs/s | vs sockit -j 1 | vs asio -j 2 | CPU µs/msg | CPU % server (of one core) |"
echo "|---|---|---:|---:|---:|---:|---:|"
jlabel() {
  case "$1" in
    j1) echo "sockit -j 1" ;;
    j2) echo "sockit -j 2" ;;
    j2pin) echo "sockit -j 2 --pin" ;;
    asio_j2) echo "asio -j 2" ;;
    asio_j2pin) echo "asio -j 2 --pin" ;;
  esac
}
for spec in "${jcases[@]}"; do
  IFS='|' read -r name _ <<<"$spec"
  for config in "${jconfigs[@]}"; do
    IFS='|' read -r label _ <<<"$config"
    f=$work/$name.$label
    echo "| $(label "$name") | $(jlabel "$label") | $(cell "$f.msgs_per_s" 0) |" \
      "$(paired "$f.msgs_per_s" "$work/$name.j1.msgs_per_s") |" \
      "$(paired "$f.msgs_per_s" "$work/$name.asio_j2.msgs_per_s") |" \
      "$(cell "$f.server_cpu_us_per_msg" 2) | $(fmt "$(median "$f.server_cpu_pct")" 0) |"
  done
done

if ((have_perf || have_strace)); then
  echo
  echo "### System calls per echoed message (64 B, 100 conns, 2 s, server on CPU 0)"
  echo
  echo "| server | all | recv | send | epoll_wait | epoll_ctl | msgs per epoll_wait |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for kind in "${servers[@]}"; do
    ((have_perf)) && syscall_row perf "$kind"
    if ((have_strace)) && ((!quick)); then syscall_row strace "$kind"; fi
  done
  echo
  echo "perf counts syscall tracepoints and does not slow the server; strace stops it at every"
  echo "call, so its runs batch more messages per epoll_wait."
fi
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
