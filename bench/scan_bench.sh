#!/usr/bin/env bash
# scan_bench.sh: `sockit scan` against `nmap -sT -T4` (Debian's nmap, the same connect()
# scan), with `nmap -sS -T4` (SYN scan, raw sockets) and masscan (its own raw-packet stack) for
# reference, side by side in the same run, on three targets that live entirely in network
# namespaces this script creates:
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
#                       [--masscan-rate PPS]
#
# The scanners take turns A B C D, D C B A, ... within each case, each run bounded by
# `timeout`; the tables give medians with min–max, the median of the ratios of runs made next
# to each other, found/truth for every run (and anything reported open that is not
# listening), CPU and the peak RSS from /usr/bin/time. Output: -o grep / -oG / masscan -oL.
# masscan runs on cases 2 and 3 only, at --masscan-rate packets/s (default 100000) with
# --wait 1, from 198.18.x.1 port 61000 + run (an iptables rule keeps the scanner's kernel from
# answering the SYN-ACKs it gets); on loopback it cannot work (lo's MAC is all zeros), which
# case 1 shows with one bounded attempt. Runs per scanner: 5 of cases 1 and 3, 3 of case 2
# (where each nmap needs ~55 s; one whose first run takes over 60 s gets 2); about 10
# minutes. --quick: 3, 3 and 1, about 3 minutes.
#
# Safety: the script re-runs itself under `unshare --net`, so the scanners live in a private
# namespace whose only interfaces are its own loopback and the veth pairs to the target
# namespaces (also private, held by a bounded `sleep`). Nothing scanned is reachable from, or
# reaches, the machine's real network. Everything started is killed on exit, however it ends.
# Needs root; installs nmap, masscan, iptables, iputils-ping, time and libnetfilter-queue-dev
# with apt-get if they are missing.
set -euo pipefail

quick=0
build=1
cases=""
reps=""
nmap_reps=""
masscan_rate=100000
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
    --masscan-rate)
      masscan_rate=$2
      shift
      ;;
    -h | --help)
      sed -n '2,34p' "$0"
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
  "$root/scripts/deps.sh" nmap masscan iptables iputils-ping time python3 iproute2 util-linux \
    libnetfilter-queue-dev pkg-config
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
  inner=(--no-build --cases "$cases" --reps "$reps" --masscan-rate "$masscan_rate")
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

# open_set FILE: "address:port" for every open port in grepable output (sockit's -o grep,
# nmap's -oG: "Host: A ()	Ports: 22/open/tcp//...") or in masscan's -oL ("open tcp 22 A TS")
open_set() {
  python3 -c '
import re, sys
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 4 and f[0] == "open" and f[1] == "tcp":
        print("%s:%s" % (f[3], f[2]))
        continue
    if not line.startswith("Host:") or "Ports:" not in line:
        continue
    host = f[1]
    for port in re.findall(r"(\d+)/open/", line.split("Ports:", 1)[1]):
        print("%s:%s" % (host, port))
' "$1" | sort -u
}

few() { # "A B C ...": the first 6, and how many in all if there are more
  awk '{if (NF <= 6) {print; next} s = $1; for (i = 2; i <= 6; i++) s = s " " $i; print s " … (" NF " in all)"}' <<<"$1"
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
    echo "  $c $tool: exit $code ($(tail -c 300 "$work/$c.$tool.err" | tr '\r\n' '  '))" >&2
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
  ((code == 124 || code == 137)) && echo "run $(wc -l <"$work/$c.$tool.secs"): timeout" >>"$work/$c.$tool.notes"
  echo "$rss" >>"$work/$c.$tool.rss"
  awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}' >>"$work/$c.$tool.cpu"
  echo "$hit/$(wc -l <"$truth")" >>"$work/$c.$tool.acc"
  [[ -n "$extra" ]] && echo "run $(wc -l <"$work/$c.$tool.secs"): also open: $(few "$extra")" >>"$work/$c.$tool.notes"
  [[ -n "$missed" ]] && echo "run $(wc -l <"$work/$c.$tool.secs"): missed: $(few "$missed")" >>"$work/$c.$tool.notes"
  echo "  $c $tool #$(wc -l <"$work/$c.$tool.secs"): ${secs} s, CPU ${user}+${sys} s, ${rss} KiB, found $hit/$(wc -l <"$truth")${extra:+, also open: $extra}${missed:+, missed: $missed}" >&2
}

# What each case scans, set before interleave: s_args (sockit), n_args (both nmaps),
# m_args (masscan: target, ports and its adapter; empty where it does not run), ping_to (an
# address on masscan's interface) and the time limits.
s_args=() n_args=() m_args=() ping_to="" lim_sockit=60 lim_nmap=120 lim_masscan=60

# scan_once CASE TOOL: one run of TOOL (sockit, nmap_st, nmap_ss or masscan) on the case.
scan_once() {
  local c=$1 t=$2 pinger runs=0
  case "$t" in
    sockit) run_one "$c" sockit "$lim_sockit" "$sockit" scan "${s_args[@]}" -o grep ;;
    nmap_st) run_one "$c" nmap_st "$lim_nmap" nmap -sT -T4 -n -Pn "${n_args[@]}" -oG - ;;
    nmap_ss) run_one "$c" nmap_ss "$lim_nmap" nmap -sS -T4 -n -Pn "${n_args[@]}" -oG - ;;
    masscan)
      # masscan 1.3.2 reads its replies with libpcap, and once its interface falls quiet its
      # receive thread can stay blocked in the read for seconds to tens of seconds past
      # --wait ("waiting -13-secs"; masscan issue #144). Ten pings a second on the same
      # interface wake it, so its time is the scan's and not that bug's.
      [[ -s "$work/$c.masscan.secs" ]] && runs=$(wc -l <"$work/$c.masscan.secs")
      timeout "$((lim_masscan + 10))" ping -q -n -i 0.1 "$ping_to" >/dev/null 2>&1 &
      pinger=$!
      # A source port of its own for each run: a SYN-ACK masscan missed is never reset, so
      # the target keeps that half-open connection (SYN_RECV) for a minute and treats the
      # next run's SYN on the same 4-tuple as part of the old handshake; masscan rejects
      # what comes back, and its misses piled up from run to run.
      run_one "$c" masscan "$lim_masscan" masscan "${m_args[@]}" \
        --adapter-port "$((masscan_port + runs))" \
        --rate "$masscan_rate" --wait 1 -oL -
      kill "$pinger" 2>/dev/null || true
      wait "$pinger" 2>/dev/null || true
      ;;
  esac
}

# interleave CASE REPS NMAP_REPS TOOL...: REPS rounds, the tools in order on odd rounds and
# in reverse on even ones (A B C D, D C B A, ...); each nmap stops after NMAP_REPS runs, and
# (unless --nmap-reps was given) after 2 if its first run took over 60 s.
interleave() {
  local c=$1 n=$2 nn=$3
  shift 3
  local -a tools=("$@") order
  local -A cap=()
  local t rep i
  for t in "${tools[@]}"; do
    cap[$t]=$n
    [[ $t == nmap_* ]] && cap[$t]=$nn
  done
  for rep in $(seq "$n"); do
    order=("${tools[@]}")
    if ((rep % 2 == 0)); then
      order=()
      for ((i = ${#tools[@]} - 1; i >= 0; i--)); do order+=("${tools[i]}"); done
    fi
    for t in "${order[@]}"; do
      ((rep <= cap[$t])) && scan_once "$c" "$t"
    done
    if ((rep != 1)) || [[ -n "$nmap_reps" ]]; then continue; fi
    for t in "${tools[@]}"; do
      if [[ $t == nmap_* ]] && awk -v s="$(head -1 "$work/$c.$t.secs")" 'BEGIN {exit !(s > 60)}'; then
        cap[$t]=$((cap[$t] < 2 ? cap[$t] : 2))
      fi
    done
  done
}

random_ports() { # N LO HI: N distinct random ports in LO..HI
  shuf -i "$2-$3" -n "$1" | sort -n
}

# masscan sends from port 61000 + its run number (outside the ephemeral range, so no kernel
# socket uses them); the SYN-ACKs it gets must not also be answered by this namespace's kernel
# with a RST.
masscan_port=61000
masscan_drop() {
  local ports=$masscan_port:$((masscan_port + 63))
  iptables -C INPUT -p tcp --dport "$ports" -j DROP 2>/dev/null ||
    iptables -A INPUT -p tcp --dport "$ports" -j DROP
}
masscan_limit() { # PROBES: seconds a masscan run may take at the chosen rate
  awk -v p="$1" -v r="$masscan_rate" 'BEGIN {printf "%d", p / r + 30}'
}
mac_of() { # PID IFACE: the MAC of IFACE in namespace PID (/sys shows the first namespace's)
  in_ns "$1" ip -br link show "$2" | awk '{print $3}'
}

echo "scan_bench: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), cases $cases," \
  "reps $reps; $("$sockit" --version 2>/dev/null | head -1); $(nmap --version | head -1);" \
  "$(masscan --version 2>/dev/null | grep -m1 -o 'Masscan version [^ ]*'), --rate $masscan_rate" >&2
echo "  descriptors: soft $(ulimit -Sn), hard $(ulimit -Hn); ephemeral ports" \
  "$(tr '\t' '-' </proc/sys/net/ipv4/ip_local_port_range)" >&2

ran=()
# masscan writes paused.conf into the working directory when it is interrupted
cd "$work"

# --- case 1: loopback, -p- ----------------------------------------------------------------
if [[ ",$cases," == *,1,* ]]; then
  mapfile -t ports < <(random_ports 20 1 65535)
  printf '127.0.0.1:%s\n' "${ports[@]}" | sort -u >"$work/c1.truth"
  listen "$$" 127.0.0.1 "$work/c1.ready" "${ports[@]}"
  echo "case 1: 127.0.0.1 -p-, open: ${ports[*]}" >&2
  s_args=(127.0.0.1 -p-) n_args=(-p- 127.0.0.1) m_args=() lim_sockit=60 lim_nmap=120
  interleave c1 "$reps" "${nmap_reps:-$reps}" sockit nmap_st nmap_ss
  # masscan on lo, once: lo's MAC is 00:00:00:00:00:00, which masscan refuses as its own
  # ("failed to detect MAC address") and takes for "unset" as the router's (it then ARPs for a
  # gateway forever), so it gets made-up ones; the kernel then sees frames addressed to
  # another host and drops them before IP. Counted here: frames on lo, IP packets received
  # (both from /proc/net, which is this namespace's; /sys is the first namespace's).
  lo_rx() { awk '$1 == "lo:" {print $3}' /proc/net/dev; }
  ip_in() { awk '$1 == "Ip:" && $2 ~ /^[0-9]/ {print $4}' /proc/net/snmp; }
  rx0=$(lo_rx) in0=$(ip_in) code=0 lim_lo=$(($(masscan_limit 65535) - 20))
  # (the braces keep bash's "Killed" report of the timeout off the terminal)
  {
    timeout -s INT -k 3 "$lim_lo" masscan 127.0.0.1 -p1-65535 \
      --rate "$masscan_rate" --wait 1 --adapter lo --adapter-ip 127.0.0.1 \
      --source-mac 02:00:00:00:00:01 --router-mac 02:00:00:00:00:02 -oL "$work/c1.masscan.out" \
      >/dev/null 2>"$work/c1.masscan.err" || code=$?
  } 2>/dev/null
  open_set "$work/c1.masscan.out" >"$work/c1.masscan.found"
  echo "one attempt, \`masscan 127.0.0.1 -p1-65535 --rate $masscan_rate --wait 1 --adapter lo" \
    "--adapter-ip 127.0.0.1 --source-mac 02:00:00:00:00:01 --router-mac 02:00:00:00:00:02\`:" \
    "$(($(lo_rx) - rx0)) frames on lo, $(($(ip_in) - in0)) of them taken in by IP," \
    "found $(comm -12 "$work/c1.truth" "$work/c1.masscan.found" | wc -l)/$(wc -l <"$work/c1.truth")," \
    "$( ((code == 124 || code == 137)) && echo "still running after $lim_lo s (killed)" || echo "exit $code")" \
    >"$work/c1.masscan.notes"
  echo "  c1 masscan: $(cat "$work/c1.masscan.notes")" >&2
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
  masscan_drop
  s_args=(198.18.0.2 -p-) n_args=(-p- 198.18.0.2) ping_to=198.18.0.2
  m_args=(198.18.0.2 -p1-65535 --adapter scan0 --adapter-ip 198.18.0.1
    --router-mac "$(mac_of "$t2" target0)")
  lim_sockit=120 lim_nmap=300 lim_masscan=$(masscan_limit 65535)
  interleave c2 "$n2" "${nmap_reps:-$n2}" sockit nmap_st nmap_ss masscan
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
  masscan_drop
  s_args=(198.18.1.0/24 -p 1-1024) n_args=(-p 1-1024 198.18.1.0/24) ping_to=198.18.255.2
  m_args=(198.18.1.0/24 -p1-1024 --adapter scan1 --adapter-ip 198.18.255.1
    --router-mac "$(mac_of "$t3" target1)")
  lim_sockit=120 lim_nmap=600 lim_masscan=$(masscan_limit 262144)
  interleave c3 "$reps" "${nmap_reps:-$reps}" sockit nmap_st nmap_ss masscan
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
paired() { # A B: A/B, the median of the ratios of the runs made next to each other
  paste "$1" "$2" | awk 'NF == 2 && $2 > 0 {print $1 / $2}' >"$work/ratios"
  fmt "$(median "$work/ratios")" 1
}
mibs() { # "K (K1–K2)" in KiB to the same in MiB
  sed -E 's/[0-9]+/\n&\n/g' | awk 'NR % 2 == 0 {printf "%.1f", $1 / 1024; next} {printf "%s", $0}'
}
found() { # FILE: the found/truth of every run, "20/20 ×4, 19/20" (most frequent first)
  sort "$1" | uniq -c | sort -k1,1nr -k2,2r | awk '{printf "%s%s%s", (NR > 1 ? ", " : ""), $2, ($1 > 1 ? " ×" $1 : "")}'
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
name() {
  case "$1" in
    nmap_st) echo "nmap -sT -T4" ;;
    nmap_ss) echo "nmap -sS -T4" ;;
    masscan) echo "masscan --rate $masscan_rate" ;;
    *) echo "$1" ;;
  esac
}

# The first table is sockit against its like (both connect() scanners); bench/run.sh charts
# its sockit and nmap columns.
echo "| case | sockit s | nmap -sT s | nmap -sT / sockit | target | sockit found | nmap -sT found |"
echo "|---|---:|---:|---:|---|---|---|"
for c in "${ran[@]}"; do
  echo "| $(label "$c") | $(cell "$work/$c.sockit.secs" 2) | $(cell "$work/$c.nmap_st.secs" 2) |" \
    "$(paired "$work/$c.nmap_st.secs" "$work/$c.sockit.secs")× | $(target "$c") |" \
    "$(found "$work/$c.sockit.acc") | $(found "$work/$c.nmap_st.acc") |"
done
echo
echo "| case | scanner | wall s | ÷ sockit | CPU s | max RSS MiB | found | runs |"
echo "|---|---|---:|---:|---:|---:|---|---:|"
for c in "${ran[@]}"; do
  for tool in sockit nmap_st nmap_ss masscan; do
    f=$work/$c.$tool
    if [[ ! -s "$f.secs" ]]; then
      [[ $tool == masscan && $c == c1 ]] &&
        echo "| $(label "$c") | $(name "$tool") | – | – | – | – | does not work on lo (below) | 0 |"
      continue
    fi
    ratio=1.0
    [[ $tool != sockit ]] && ratio=$(paired "$f.secs" "$work/$c.sockit.secs")
    echo "| $(label "$c") | $(name "$tool") | $(cell "$f.secs" 2) | ${ratio}× | $(cell "$f.cpu" 2) |" \
      "$(cell "$f.rss" 0 | mibs) | $(found "$f.acc") | $(wc -l <"$f.secs") |"
  done
done
echo
echo "Wall-clock and CPU (user + system) seconds from /usr/bin/time, median (min–max) over the"
echo "runs; X / sockit and ÷ sockit: the median of the ratios of runs made next to each other (over"
echo "1: slower than sockit); found = open ports reported / ports listening, per run (×N: in N"
echo "runs). masscan: --wait 1, one probe per port (no --retries), from port $masscan_port + run"
echo "number, with the scanner kernel's RSTs to those ports dropped."
for c in "${ran[@]}"; do
  for tool in sockit nmap_st nmap_ss masscan; do
    [[ -s "$work/$c.$tool.notes" ]] || continue
    echo
    echo "$(label "$c"), $(name "$tool"):"
    sed 's/^/- /' "$work/$c.$tool.notes"
  done
done
if [[ " ${ran[*]} " == *" c2 "* ]]; then
  echo
  echo "Case 2 path: 50 pings 20 ms apart, rtt min/avg/max $(cat "$work/c2.rtt") ms," \
    "$(cat "$work/c2.loss"); $(cat "$work/c2.netem")."
fi
echo
echo "Scanners: $("$sockit" --version 2>/dev/null | head -1); $(nmap --version | head -1 | sed 's/ (.*//');" \
  "$(masscan --version 2>/dev/null | grep -m1 -o 'Masscan version [^ ]*'). Load average at the end:" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
