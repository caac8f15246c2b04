#!/usr/bin/env bash
# scan_bench.sh: `sockit scan` against `nmap -sT -T4` (Debian's nmap), side by side in the same
# run, on three targets that live entirely in network namespaces this script creates:
#
#   1. loopback -p-    127.0.0.1 -p- in a private namespace, 20 listeners on random ports
#   2. lossy -p-       198.18.0.2 -p- behind a veth pair; the target holds what it receives
#                      20 ms (bench/netem_delay, an NFQUEUE program: this kernel has no
#                      sch_netem) and drops 1 % of its replies (iptables statistic); 20
#                      listeners
#   3. /24 x 1024      198.18.1.0/24 -p 1-1024: 256 addresses on one target namespace's
#                      interface, 4 listeners on 0.0.0.0 (1024 open ports in all)
#
#   bench/scan_bench.sh [--quick] [--no-build] [--cases 1,2,3] [--reps N] [--nmap-reps N]
#
# The two scanners alternate A B B A A B ... within each case, each run bounded by
# `timeout`; the tables give medians with min–max, the median of the ratios of adjacent
# runs, found/truth for every run (and anything reported open that is not listening), and the
# peak RSS from /usr/bin/time. Both scanners print grepable output (-o grep / -oG).
# Runs per scanner: 5 of cases 1 and 3, 3 of case 2 (nmap needs ~55 s per run there; if its
# first takes over 60 s it gets 2); about 4 minutes. --quick: 3, 3 and 1, 1–2 minutes.
#
# Safety: the script re-runs itself under `unshare --net`, so the scanners live in a private
# namespace whose only interfaces are its own loopback and the veth pairs to the target
# namespaces (also private, held by a bounded `sleep`). Nothing scanned is reachable from, or
# reaches, the machine's real network. Everything started is killed on exit, however it ends.
# Needs root; installs nmap, iptables, iputils-ping, time and libnetfilter-queue-dev with
# apt-get if they are missing.
set -euo pipefail

quick=0
build=1
cases=""
reps=""
nmap_reps=""
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    --cases)
      cases=$2
      shift
      ;;
    --reps)
      reps=$2
      shift
      ;;
    --nmap-reps)
      nmap_reps=$2
      shift
      ;;
    -h | --help)
      sed -n '2,27p' "$0"
      exit 0
      ;;
    *)
      echo "scan_bench.sh: unknown argument '$1'" >&2
      exit 2
      ;;
  esac
  shift
done
if ((quick)); then
  : "${cases:=1,2,3}" "${reps:=3}"
else
  : "${cases:=1,2,3}" "${reps:=5}"
fi

root=$(cd "$(dirname "$0")/.." && pwd)
bdir=${SCAN_BENCH_BUILD:-$root/build/scan-bench}
sockit=$bdir/app/sockit
netem=$bdir/bench/netem_delay

# --- outside the namespace: packages, build, then re-run inside a private namespace -------

if [[ "${SCAN_BENCH_IN_NETNS:-}" != 1 ]]; then
  [[ $(id -u) -eq 0 ]] || {
    echo "scan_bench.sh: needs root (network namespaces, iptables, NFQUEUE)" >&2
    exit 1
  }
  # package:command-or-file that shows it is there
  need=(nmap:/usr/bin/nmap iptables:/usr/sbin/iptables iputils-ping:/usr/bin/ping
    time:/usr/bin/time python3:python3 iproute2:/usr/bin/ip util-linux:/usr/bin/unshare
    libnetfilter-queue-dev:/usr/include/libnetfilter_queue/libnetfilter_queue.h
    pkg-config:/usr/bin/pkg-config)
  missing=()
  for n in "${need[@]}"; do
    pkg=${n%%:*} what=${n#*:}
    if [[ "$what" == /* ]]; then [[ -e "$what" ]] || missing+=("$pkg"); else
      command -v "$what" >/dev/null || missing+=("$pkg")
    fi
  done
  if ((${#missing[@]})); then
    echo "scan_bench.sh: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ((build)); then
    # A Release tree of its own, tests and examples off: a test being edited elsewhere
    # must not stop the benchmark.
    log=$(mktemp /tmp/scan_bench_build.XXXXXX)
    if ! { cmake -S "$root" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DSOCKIT_BUILD_TESTS=OFF -DSOCKIT_BUILD_EXAMPLES=OFF -DSOCKIT_BUILD_BENCH=ON &&
      cmake --build "$bdir" --target sockit_cli netem_delay; } >"$log" 2>&1; then
      tail -30 "$log" >&2
      echo "scan_bench.sh: build failed (log above)" >&2
      rm -f "$log"
      exit 1
    fi
    rm -f "$log"
  fi
  for exe in "$sockit" "$netem"; do
    [[ -x "$exe" ]] || {
      echo "scan_bench.sh: missing $exe (build failed?)" >&2
      exit 1
    }
  done
  # The whole run is bounded too: 40 minutes is far past a full run. (--foreground keeps it in
  # the terminal's process group, so Ctrl+C reaches it; on a timeout the script's trap ends
  # what it started.)
  inner=(--no-build --cases "$cases" --reps "$reps")
  [[ -n "$nmap_reps" ]] && inner+=(--nmap-reps "$nmap_reps")
  ((quick)) && inner+=(--quick)
  SCAN_BENCH_IN_NETNS=1 exec timeout --foreground -k 10 2400 unshare --net bash "$0" "${inner[@]}"
fi

# --- inside the scanner's private namespace -----------------------------------------------

work=$(mktemp -d /tmp/scan_bench.XXXXXX)
# On exit, however it comes: every process this script started (its descendants, by pid) is
# ended, which also frees the target namespaces (each lives as long as its processes); the
# scanner's own namespace ends with the script.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  local -a tree
  mapfile -t tree < <(descendants $$)
  if ((${#tree[@]})); then
    kill -TERM "${tree[@]}" 2>/dev/null
    sleep 0.3
    kill -KILL "${tree[@]}" 2>/dev/null
  fi
  wait 2>/dev/null
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() {
  echo "scan_bench.sh: $*" >&2
  exit 1
}

ip link set lo up
prio=(nice -n -10)

# new_target NAME: a private namespace for a target, held by a bounded sleep; sets
# target_pid. Run commands in it with in_ns PID CMD...
new_target() {
  unshare --net sleep 2400 &
  target_pid=$!
  for _ in $(seq 100); do
    [[ "$(readlink /proc/$target_pid/ns/net)" != "$(readlink /proc/self/ns/net)" ]] && break
    sleep 0.02
  done
  in_ns "$target_pid" ip link set lo up
}
in_ns() {
  local pid=$1
  shift
  nsenter -t "$pid" -n "$@"
}

# listen PID ADDRESS READY PORT...: one python3 process in namespace PID listening on every
# PORT at ADDRESS, accepting and closing whatever arrives (bounded in time).
listen() {
  local pid=$1 addr=$2 ready=$3
  shift 3
  nsenter -t "$pid" -n timeout 2400 python3 -c '
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in map(int, sys.argv[3:]):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[2], port))
    s.listen(4096)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
open(sys.argv[1], "w").write("ready\n")
while True:
    for key, _ in sel.select():
        for _ in range(64):
            try:
                key.fileobj.accept()[0].close()
            except OSError:
                break
' "$ready" "$addr" "$@" &
  for _ in $(seq 200); do
    [[ -s "$ready" ]] && return 0
    sleep 0.05
  done
  die "listeners did not start on $addr"
}

# open_set FILE: "address:port" for every open port in grepable output (sockit's or nmap's)
open_set() {
  python3 -c '
import re, sys
for line in open(sys.argv[1]):
    if not line.startswith("Host:") or "Ports:" not in line:
        continue
    host = line.split()[1]
    for port in re.findall(r"(\d+)/open/", line.split("Ports:", 1)[1]):
        print("%s:%s" % (host, port))
' "$1" | sort -u
}

# run_one CASE TOOL LIMIT CMD...: runs one scan under /usr/bin/time, bounded by LIMIT
# seconds; records seconds, peak RSS (KiB), found/truth and extras.
run_one() {
  local c=$1 tool=$2 limit=$3
  shift 3
  local out=$work/$c.$tool.out tm=$work/$c.$tool.time code=0
  # In the background and waited for, so that a signal to the script is handled at once.
  "${prio[@]}" /usr/bin/time -f '%e %M %U %S' -o "$tm" timeout -k 5 "$limit" "$@" >"$out" 2>"$work/$c.$tool.err" &
  wait $! || code=$?
  if ((code != 0)); then
    echo "  $c $tool: exit $code ($(tail -2 "$work/$c.$tool.err" | tr '\n' ' '))" >&2
    ((code == 124)) && echo "timeout" >>"$work/$c.$tool.notes"
  fi
  local secs rss user sys
  read -r secs rss user sys < <(tail -1 "$tm")
  open_set "$out" >"$work/$c.$tool.found"
  local truth=$work/$c.truth
  local hit extra missed
  hit=$(comm -12 "$truth" "$work/$c.$tool.found" | wc -l)
  extra=$(comm -13 "$truth" "$work/$c.$tool.found" | paste -sd' ' -)
  missed=$(comm -23 "$truth" "$work/$c.$tool.found" | paste -sd' ' -)
  echo "$secs" >>"$work/$c.$tool.secs"
  echo "$rss" >>"$work/$c.$tool.rss"
  awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}' >>"$work/$c.$tool.cpu"
  echo "$hit/$(wc -l <"$truth")" >>"$work/$c.$tool.acc"
  [[ -n "$extra" ]] && echo "run $(wc -l <"$work/$c.$tool.secs"): also open: $extra" >>"$work/$c.$tool.notes"
  [[ -n "$missed" ]] && echo "run $(wc -l <"$work/$c.$tool.secs"): missed: $missed" >>"$work/$c.$tool.notes"
  echo "  $c $tool #$(wc -l <"$work/$c.$tool.secs"): ${secs} s, CPU ${user}+${sys} s, ${rss} KiB, found $hit/$(wc -l <"$truth")${extra:+, also open: $extra}${missed:+, missed: $missed}" >&2
}

# alternate CASE REPS NMAP_REPS LIMIT_SOCKIT LIMIT_NMAP SOCKIT_ARGS... -- NMAP_ARGS...
# runs sockit and nmap alternately (A B B A ...); nmap stops after NMAP_REPS runs.
alternate() {
  local c=$1 n=$2 nn=$3 ls=$4 ln=$5
  shift 5
  local -a s_args=() n_args=()
  while [[ "$1" != -- ]]; do
    s_args+=("$1")
    shift
  done
  shift
  n_args=("$@")
  local rep order tool
  for rep in $(seq "$n"); do
    order="sockit nmap"
    ((rep % 2 == 0)) && order="nmap sockit"
    for tool in $order; do
      if [[ $tool == sockit ]]; then
        run_one "$c" sockit "$ls" "$sockit" scan "${s_args[@]}" -o grep
      elif ((rep <= nn)); then
        run_one "$c" nmap "$ln" nmap -sT -T4 -n -Pn "${n_args[@]}" -oG -
      fi
    done
  done
}

random_ports() { # N LO HI: N distinct random ports in LO..HI
  shuf -i "$2-$3" -n "$1" | sort -n
}

echo "scan_bench: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), cases $cases," \
  "reps $reps; $("$sockit" --version 2>/dev/null | head -1); $(nmap --version | head -1)" >&2
echo "  descriptors: soft $(ulimit -Sn), hard $(ulimit -Hn); ephemeral ports" \
  "$(tr '\t' '-' </proc/sys/net/ipv4/ip_local_port_range)" >&2

ran=()

# --- case 1: loopback, -p- ----------------------------------------------------------------
if [[ ",$cases," == *,1,* ]]; then
  mapfile -t ports < <(random_ports 20 1 65535)
  printf '127.0.0.1:%s\n' "${ports[@]}" | sort -u >"$work/c1.truth"
  listen "$$" 127.0.0.1 "$work/c1.ready" "${ports[@]}"
  echo "case 1: 127.0.0.1 -p-, open: ${ports[*]}" >&2
  alternate c1 "$reps" "$reps" 60 120 127.0.0.1 -p- -- -p- 127.0.0.1
  ran+=(c1)
fi

# --- case 2: 20 ms RTT, 1 % of replies lost, -p- -------------------------------------------
if [[ ",$cases," == *,2,* ]]; then
  new_target
  t2=$target_pid
  ip link add scan0 type veth peer name target0 netns "$t2"
  ip addr add 198.18.0.1/30 dev scan0
  ip link set scan0 up
  in_ns "$t2" ip addr add 198.18.0.2/30 dev target0
  in_ns "$t2" ip link set target0 up
  # Packets coming in to the target are held 20 ms by netem_delay; 1 % of the replies going
  # out are dropped. (The delay is not put on the replies: a RST the kernel sends for a closed
  # port is charged to a per-namespace control socket until it leaves, and with 20 ms worth
  # of them held in a queue that socket's send buffer fills and the kernel discards the rest,
  # a third of them in a -p- scan: loss that no real path has.)
  in_ns "$t2" iptables -A INPUT -i target0 -j NFQUEUE --queue-num 7
  in_ns "$t2" iptables -A OUTPUT -o target0 -m statistic --mode random --probability 0.01 -j DROP
  nsenter -t "$t2" -n timeout 2400 "$netem" -q 7 -d 20 -r "$work/netem.ready" 2>"$work/netem.log" &
  netem_pid=$!
  for _ in $(seq 100); do
    [[ -s "$work/netem.ready" ]] && break
    sleep 0.05
  done
  [[ -s "$work/netem.ready" ]] || die "netem_delay did not start: $(cat "$work/netem.log")"
  mapfile -t ports < <(random_ports 20 1 65535)
  printf '198.18.0.2:%s\n' "${ports[@]}" | sort -u >"$work/c2.truth"
  listen "$t2" 198.18.0.2 "$work/c2.ready" "${ports[@]}"
  # The path as a ping sees it (1 % of the replies are lost here too).
  ping -q -n -c 50 -i 0.02 -W 1 198.18.0.2 >"$work/c2.ping" 2>&1 || true
  rtt=$(sed -n 's|.*= \([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\)/.*|\1/\2/\3|p' "$work/c2.ping")
  loss=$(grep -o '[0-9.]*% packet loss' "$work/c2.ping" || echo "?")
  echo "case 2: 198.18.0.2 -p-, ping rtt min/avg/max $rtt ms, $loss; open: ${ports[*]}" >&2
  avg=${rtt#*/}
  avg=${avg%/*}
  awk -v a="${avg:-0}" 'BEGIN {exit !(a >= 18 && a <= 30)}' ||
    die "the emulated RTT is ${avg:-unknown} ms, not ~20 ms: $(cat "$work/c2.ping")"
  echo "$rtt" >"$work/c2.rtt"
  echo "$loss" >"$work/c2.loss"
  n2=$reps
  ((n2 > 3)) && n2=3
  ((quick)) && n2=1
  nn2=${nmap_reps:-$n2}
  # nmap's first run decides: over 60 s, it gets 2 runs.
  run_one c2 sockit 120 "$sockit" scan 198.18.0.2 -p- -o grep
  run_one c2 nmap 300 nmap -sT -T4 -n -Pn -p- 198.18.0.2 -oG -
  if [[ -z "$nmap_reps" ]] && awk -v s="$(head -1 "$work/c2.nmap.secs")" 'BEGIN {exit !(s > 60)}'; then
    nn2=$((n2 < 2 ? n2 : 2))
  fi
  for rep in $(seq 2 "$n2"); do
    order="sockit nmap"
    ((rep % 2 == 0)) && order="nmap sockit"
    for tool in $order; do
      if [[ $tool == sockit ]]; then
        run_one c2 sockit 120 "$sockit" scan 198.18.0.2 -p- -o grep
      elif ((rep <= nn2)); then
        run_one c2 nmap 300 nmap -sT -T4 -n -Pn -p- 198.18.0.2 -oG -
      fi
    done
  done
  kill -TERM "$netem_pid" 2>/dev/null || true
  wait "$netem_pid" 2>/dev/null || true
  cp "$work/netem.log" "$work/c2.netem"
  echo "  $(cat "$work/c2.netem")" >&2
  ran+=(c2)
fi

# --- case 3: 256 addresses x 1024 ports ----------------------------------------------------
if [[ ",$cases," == *,3,* ]]; then
  new_target
  t3=$target_pid
  ip link add scan1 type veth peer name target1 netns "$t3"
  ip addr add 198.18.255.1/30 dev scan1
  ip link set scan1 up
  in_ns "$t3" ip addr add 198.18.255.2/30 dev target1
  for i in $(seq 0 255); do echo "addr add 198.18.1.$i/32 dev target1"; done >"$work/addrs"
  in_ns "$t3" ip -batch "$work/addrs"
  in_ns "$t3" ip link set target1 up
  ip route add 198.18.1.0/24 via 198.18.255.2 dev scan1
  mapfile -t ports < <(random_ports 4 1 1024)
  for i in $(seq 0 255); do printf "198.18.1.$i:%s\n" "${ports[@]}"; done | sort -u >"$work/c3.truth"
  listen "$t3" 0.0.0.0 "$work/c3.ready" "${ports[@]}"
  echo "case 3: 198.18.1.0/24 -p 1-1024, open on every address: ${ports[*]}" >&2
  alternate c3 "$reps" "${nmap_reps:-$reps}" 120 600 198.18.1.0/24 -p 1-1024 -- -p 1-1024 198.18.1.0/24
  ran+=(c3)
fi

# --- tables ----------------------------------------------------------------------------------

median() { sort -g "$1" | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
fmt() { awk -v v="$1" -v d="$2" 'BEGIN {printf "%.*f", d, v}'; }
cell() { # FILE DECIMALS: "median (min–max)", or the one value
  local m
  m=$(fmt "$(median "$1")" "$2")
  if (($(wc -l <"$1") > 1)); then
    echo "$m ($(sort -g "$1" | awk -v d="$2" 'NR==1{lo=$1} {hi=$1} END {printf "%.*f–%.*f", d, lo, d, hi}'))"
  else
    echo "$m"
  fi
}
paired() { # nmap/sockit, the median of the ratios of the runs made next to each other
  paste "$1" "$2" | awk 'NF == 2 && $2 > 0 {print $1 / $2}' >"$work/ratios"
  fmt "$(median "$work/ratios")" 1
}
mibs() { # "K (K1–K2)" in KiB to the same in MiB
  sed -E 's/[0-9]+/\n&\n/g' | awk 'NR % 2 == 0 {printf "%.1f", $1 / 1024; next} {printf "%s", $0}'
}
label() {
  case "$1" in
    c1) echo "1. 127.0.0.1 -p-" ;;
    c2) echo "2. 198.18.0.2 -p-, RTT $(fmt "$(cut -d/ -f2 "$work/c2.rtt")" 1) ms, 1 % loss" ;;
    c3) echo "3. 198.18.1.0/24 -p 1-1024" ;;
  esac
}
target() {
  case "$1" in
    c1) echo "≥ 1.5×, same open set" ;;
    c2) echo "≥ 20×, every port every run" ;;
    c3) echo "faster, RSS < 64 MiB" ;;
  esac
}

echo
echo "| case | sockit s | nmap s | nmap / sockit | target | sockit found | nmap found |"
echo "|---|---:|---:|---:|---|---|---|"
for c in "${ran[@]}"; do
  echo "| $(label "$c") | $(cell "$work/$c.sockit.secs" 2) | $(cell "$work/$c.nmap.secs" 2) |" \
    "$(paired "$work/$c.nmap.secs" "$work/$c.sockit.secs")× | $(target "$c") |" \
    "$(paste -sd' ' "$work/$c.sockit.acc") | $(paste -sd' ' "$work/$c.nmap.acc") |"
done
echo
echo "| case | sockit CPU s | nmap CPU s | sockit max RSS MiB | nmap max RSS MiB | runs sockit / nmap |"
echo "|---|---:|---:|---:|---:|---:|"
for c in "${ran[@]}"; do
  echo "| $(label "$c") | $(cell "$work/$c.sockit.cpu" 2) | $(cell "$work/$c.nmap.cpu" 2) |" \
    "$(cell "$work/$c.sockit.rss" 0 | mibs) | $(cell "$work/$c.nmap.rss" 0 | mibs) |" \
    "$(wc -l <"$work/$c.sockit.secs") / $(wc -l <"$work/$c.nmap.secs") |"
done
echo
echo "Wall-clock and CPU (user + system) seconds from /usr/bin/time, median (min–max) over the"
echo "runs; nmap / sockit is the median of the ratios of runs made next to each other; found ="
echo "open ports reported / ports listening, one entry per run."
for c in "${ran[@]}"; do
  for tool in sockit nmap; do
    [[ -s "$work/$c.$tool.notes" ]] || continue
    echo
    echo "$(label "$c"), $tool:"
    sed 's/^/- /' "$work/$c.$tool.notes"
  done
done
if [[ " ${ran[*]} " == *" c2 "* ]]; then
  echo
  echo "Case 2 path: 50 pings 20 ms apart, rtt min/avg/max $(cat "$work/c2.rtt") ms," \
    "$(cat "$work/c2.loss"); $(cat "$work/c2.netem")."
fi
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
