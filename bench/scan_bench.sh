#!/usr/bin/env bash
# scan_bench.sh: `sockit scan`, its connect scan (-sT) and its SYN scan (-sS), against
# `nmap -sT -T4` (Debian's nmap, the same connect() scan) and `nmap -sS -T4` (SYN scan, raw
# sockets), with masscan (its own raw-packet stack) and zmap (raw Ethernet frames, one port per
# run) beside them, on five targets that live entirely in network namespaces this script
# creates:
#
#   1. loopback -p-    127.0.0.1 -p- in a private namespace, 20 listeners on random ports
#   2. lossy -p-       198.18.0.2 -p- behind a veth pair; the target holds what it receives
#                      20 ms (bench/netem_delay, an NFQUEUE program: this kernel has no
#                      sch_netem) and drops 1 % of its replies (iptables statistic); 20
#                      listeners
#   3. /24 x 1024      198.18.1.0/24 -p 1-1024: 256 addresses on one target namespace's
#                      interface, 4 listeners on 0.0.0.0 (1024 open ports in all)
#   4. /22 x 443       198.19.0.0/22 -p 443, every probe unanswered: one target namespace
#                      answers for all of 198.19.0.0/16 (`ip route add local ... dev lo`) and
#                      drops whatever comes to port 443 (iptables)
#   5. /16 x 3         198.19.0.0/16 -p 22,80,443 on the same namespace: 80 open on every
#                      address (one listener on 0.0.0.0), 22 closed, 443 filtered; nmap -sS
#                      only on 198.19.0.0/20 (5b), beside sockit -sS on the same /20
#
#   bench/scan_bench.sh [--quick] [--no-build] [--cases 1,2,3,4,5] [--reps N] [--nmap-reps N]
#                       [--masscan-rate PPS]
#
# The scanners take turns A B C D, D C B A, ... within each case, each run bounded by
# `timeout`; the tables give medians with min–max, the median of the ratios of runs made next
# to each other, found/truth for every run (and anything reported open that is not
# listening; in case 4, ports reported filtered of 1024), CPU and the peak RSS from
# /usr/bin/time, and a table of the targets with the figures that meet or miss them. Output:
# -o grep / -oG / masscan -oL / zmap CSV. sockit without -Pn finds live hosts first on the
# multi-address cases (3, 4, 5), as it does by default; cases 4 and 5 also run it with -Pn,
# which is what zmap does (no discovery). Case 4 runs nmap both ways too.
# masscan runs on cases 2 and 3 only, at --masscan-rate packets/s (default 100000) with
# --wait 1, from 198.18.x.1 port 61000 + run (an iptables rule keeps the scanner's kernel from
# answering the SYN-ACKs it gets); on loopback it cannot work (lo's MAC is all zeros), which
# case 1 shows with one bounded attempt. zmap scans one port per run, so it runs on cases 4
# and 5 only (case 5: one run per port, one after the other, timed together), at its own
# default rate, with an empty blocklist of our own (its default one excludes 198.18.0.0/15),
# and twice: with its default --cooldown-time of 8 s and with 1 s (the round trip here is
# well under a millisecond; 1 s is also sockit's default --timeout).
# Runs per scanner: 5 of cases 1, 3 and 4, 3 of cases 2 and 5; an nmap whose first run takes
# over 60 s gets 2, and nmap gets 2 on cases 4 and 5 in any case; about 25 minutes.
# --quick: 3 of cases 1, 3 and 4, 1 of cases 2 and 5 (and of every nmap on 4 and 5), about
# 10 minutes.
#
# Safety: the script re-runs itself under `unshare --net`, so the scanners live in a private
# namespace whose only interfaces are its own loopback and the veth pairs to the target
# namespaces (also private, held by a bounded `sleep`). Nothing scanned is reachable from, or
# reaches, the machine's real network: every address scanned is in 127.0.0.0/8 or
# 198.18.0.0/15. Everything started is killed on exit, however it ends. Needs root; installs
# nmap, masscan, zmap, iptables, iputils-ping, time and libnetfilter-queue-dev with apt-get if
# they are missing.
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
      awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"
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
  : "${cases:=1,2,3,4,5}" "${reps:=3}"
else
  : "${cases:=1,2,3,4,5}" "${reps:=5}"
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
  "$root/scripts/deps.sh" nmap masscan zmap iptables iputils-ping time python3 iproute2 util-linux \
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
  # The whole run is bounded too: an hour is far past a full run. (--foreground keeps it in
  # the terminal's process group, so Ctrl+C reaches it; on a timeout the script's trap ends
  # what it started.)
  inner=(--no-build --cases "$cases" --reps "$reps" --masscan-rate "$masscan_rate")
  [[ -n "$nmap_reps" ]] && inner+=(--nmap-reps "$nmap_reps")
  ((quick)) && inner+=(--quick)
  SCAN_BENCH_IN_NETNS=1 exec timeout --foreground -k 10 3600 unshare --net bash "$0" "${inner[@]}"
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
# zmap_each "PORTS" ARGS...: zmap ARGS once per port, one run after the other
cat >"$work/zmap_each" <<'EOF'
ports=$1
shift
for p in $ports; do zmap -p "$p" "$@" || exit; done
EOF
die() {
  echo "scan_bench.sh: $*" >&2
  exit 1
}

ip link set lo up
prio=(nice -n -10)

# new_target NAME: a private namespace for a target, held by a bounded sleep; sets
# target_pid. Run commands in it with in_ns PID CMD...
new_target() {
  unshare --net sleep 3600 &
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
  nsenter -t "$pid" -n timeout 3600 python3 -c '
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
# nmap's -oG: "Host: A ()	Ports: 22/open/tcp//..."), in masscan's -oL ("open tcp 22 A TS")
# or in zmap's CSV ("A,22,synack,1": saddr,sport,classification,success)
open_set() {
  python3 -c '
import re, sys
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 4 and f[0] == "open" and f[1] == "tcp":
        print("%s:%s" % (f[3], f[2]))
        continue
    z = re.match(r"([0-9.]+),([0-9]+),[^,]*,1$", line.strip())
    if z:
        print("%s:%s" % z.groups())
        continue
    if not line.startswith("Host:") or "Ports:" not in line:
        continue
    host = f[1]
    for port in re.findall(r"(\d+)/open/", line.split("Ports:", 1)[1]):
        print("%s:%s" % (host, port))
' "$1" | sort -u
}

# filtered_count TOOL FILE: ports reported filtered: counted in grepable output, or for zmap
# (which reports only what answers) the probes of the case less the answers it printed
filtered_count() {
  if [[ $1 == zmap* ]]; then
    echo $((filt_expect - $(grep -cE '^[0-9.]+,[0-9]+,' "$2" || true)))
  else
    grep -oE '[0-9]+/filtered/' "$2" | wc -l
  fi
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
  local n
  n=$(wc -l <"$work/$c.$tool.secs")
  if [[ -n "$filt_expect" ]]; then
    echo "$(filtered_count "$tool" "$out")/$filt_expect filtered" >>"$work/$c.$tool.acc"
  else
    echo "$hit/$(wc -l <"$truth")" >>"$work/$c.$tool.acc"
  fi
  # sockit's summary line, "# Scanned N hosts (M up), ...": hosts its discovery did not find
  # are not scanned
  local up
  up=$(sed -n 's/^# Scanned \([0-9]*\) hosts (\([0-9]*\) up).*/\1 \2/p' "$out")
  if [[ -n "$up" ]] && ((${up% *} != ${up#* })); then
    echo "run $n: discovery found ${up#* } of ${up% *} hosts up" >>"$work/$c.$tool.notes"
  fi
  # zmap's send rate, as its last status line gives it ("send: 65536 done (149 Kp/s avg)")
  if [[ $tool == zmap* ]]; then
    grep -o 'send: [0-9]* done ([^)]*)' "$work/$c.$tool.err" | sed 's/^send: //' | uniq |
      paste -sd, - | sed 's/,/, /g' | sed "s/^/run $n: sent /" >>"$work/$c.$tool.rate"
  fi
  [[ -n "$extra" ]] && echo "run $(wc -l <"$work/$c.$tool.secs"): also open: $(few "$extra")" >>"$work/$c.$tool.notes"
  [[ -n "$missed" ]] && echo "run $(wc -l <"$work/$c.$tool.secs"): missed: $(few "$missed")" >>"$work/$c.$tool.notes"
  echo "  $c $tool #$n: ${secs} s, CPU ${user}+${sys} s, ${rss} KiB, $(tail -1 "$work/$c.$tool.acc")${up:+ (${up% *} hosts, ${up#* } up)}${extra:+, also open: $(few "$extra")}${missed:+, missed: $(few "$missed")}" >&2
}

# What each case scans, set before interleave: s_args (sockit), n_args (the nmaps), m_args
# (masscan: target, ports and its adapter; empty where it does not run), ping_to (an address
# on masscan's interface), z_ports and z_args (zmap: its ports, one run each, and its
# interface, addresses and lists), filt_expect (case 4: the ports that should be reported
# filtered; empty elsewhere) and the time limits.
s_args=() n_args=() m_args=() ping_to="" z_ports="" z_args=() filt_expect=""
lim_sockit=60 lim_nmap=120 lim_masscan=60 lim_zmap=60

# scan_once CASE TOOL: one run of TOOL on the case: sockit (its default connect scan),
# sockit_pn (-Pn), sockit_ss (-sS), sockit_ss_pn (-sS -Pn), nmap_st, nmap_st_disc (nmap -sT
# with its host discovery: no -Pn), nmap_ss, masscan, zmap (--cooldown-time 8, its default)
# or zmap_c1 (--cooldown-time 1).
scan_once() {
  local c=$1 t=$2 pinger runs=0
  case "$t" in
    sockit) run_one "$c" "$t" "$lim_sockit" "$sockit" scan "${s_args[@]}" -o grep ;;
    sockit_pn) run_one "$c" "$t" "$lim_sockit" "$sockit" scan "${s_args[@]}" -Pn -o grep ;;
    sockit_ss) run_one "$c" "$t" "$lim_sockit" "$sockit" scan -sS "${s_args[@]}" -o grep ;;
    sockit_ss_pn) run_one "$c" "$t" "$lim_sockit" "$sockit" scan -sS "${s_args[@]}" -Pn -o grep ;;
    nmap_st) run_one "$c" nmap_st "$lim_nmap" nmap -sT -T4 -n -Pn "${n_args[@]}" -oG - ;;
    nmap_st_disc) run_one "$c" "$t" "$lim_nmap" nmap -sT -T4 -n "${n_args[@]}" -oG - ;;
    # zmap scans one port per run: for several, one run per port, one after the other, all
    # timed together (CPU summed, RSS the largest run's).
    zmap) run_one "$c" "$t" "$lim_zmap" bash "$work/zmap_each" "$z_ports" "${z_args[@]}" -w "$work/$c.allow" --cooldown-time 8 ;;
    zmap_c1) run_one "$c" "$t" "$lim_zmap" bash "$work/zmap_each" "$z_ports" "${z_args[@]}" -w "$work/$c.allow" --cooldown-time 1 ;;
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
  interleave c1 "$reps" "${nmap_reps:-$reps}" sockit sockit_ss nmap_st nmap_ss
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
  nsenter -t "$t2" -n timeout 3600 "$netem" -q 7 -d 20 -r "$work/netem.ready" 2>"$work/netem.log" &
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
  interleave c2 "$n2" "${nmap_reps:-$n2}" sockit sockit_ss nmap_st nmap_ss masscan
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
  interleave c3 "$reps" "${nmap_reps:-$reps}" sockit sockit_ss nmap_st nmap_ss masscan
  ran+=(c3)
fi

# --- cases 4 and 5: a /16 answered by one namespace ----------------------------------------
if [[ ",$cases," == *,4,* || ",$cases," == *,5,* ]]; then
  new_target
  t4=$target_pid
  ip link add scan2 type veth peer name target2 netns "$t4"
  ip addr add 198.18.254.1/30 dev scan2
  ip link set scan2 up
  in_ns "$t4" ip addr add 198.18.254.2/30 dev target2
  in_ns "$t4" ip link set target2 up
  # Every address of 198.19.0.0/16 is the target's own (a local route, not 65,536 addresses
  # on an interface), so one listener on 0.0.0.0:80 answers for all of them, the kernel
  # resets port 22 and answers pings, and this rule leaves port 443 unanswered.
  in_ns "$t4" ip route add local 198.19.0.0/16 dev lo
  in_ns "$t4" iptables -A INPUT -p tcp --dport 443 -j DROP
  ip route add 198.19.0.0/16 via 198.18.254.2 dev scan2
  listen "$t4" 0.0.0.0 "$work/c45.ready" 80
  # zmap: Ethernet frames out of scan2 to the target's MAC, from 198.18.254.1 and source ports
  # in the kernel's ephemeral range (so none is 61000, which the masscan rule drops); an
  # allowlist of the case's target and an empty blocklist in place of its default one
  # (/etc/zmap/blacklist.conf excludes 198.18.0.0/15, and every other reserved range).
  : >"$work/zmap.block"
  z_args=(-i scan2 -S 198.18.254.1 -G "$(mac_of "$t4" target2)" -b "$work/zmap.block"
    -s 32768-60999 --disable-syslog -O csv -f "saddr,sport,classification,success"
    --output-filter "repeat = 0")
  # nmap on these cases: its runs are long (~100 s for case 4 with -Pn), so 2 (1 with --quick)
  n45=2
  ((quick)) && n45=1
fi

# --- case 4: 1024 addresses x port 443, every probe unanswered -------------------------------
if [[ ",$cases," == *,4,* ]]; then
  : >"$work/c4.truth" # nothing is open
  echo 198.19.0.0/22 >"$work/c4.allow"
  echo "case 4: 198.19.0.0/22 -p 443, every probe dropped" >&2
  s_args=(198.19.0.0/22 -p 443 --show filtered) n_args=(-p 443 198.19.0.0/22) m_args=()
  z_ports=443 filt_expect=1024
  lim_sockit=60 lim_nmap=300 lim_zmap=60
  interleave c4 "$reps" "${nmap_reps:-$n45}" sockit sockit_pn sockit_ss sockit_ss_pn \
    zmap zmap_c1 nmap_st_disc nmap_st
  filt_expect=""
  ran+=(c4)
fi

# --- case 5: 65,536 addresses x 3 ports; 5b: nmap -sS on a /20 of it -------------------------
if [[ ",$cases," == *,5,* ]]; then
  for i in $(seq 0 255); do
    seq 0 255 | sed "s/^/198.19.$i./; s/$/:80/"
  done | sort -u >"$work/c5.truth"
  echo "case 5: 198.19.0.0/16 -p 22,80,443: 80 open on every address, 22 closed, 443 filtered" >&2
  n5=$reps
  ((n5 > 3)) && n5=3
  ((quick)) && n5=1
  echo 198.19.0.0/16 >"$work/c5.allow"
  s_args=(198.19.0.0/16 -p "22,80,443") m_args=()
  z_ports="22 80 443" lim_sockit=240 lim_zmap=120
  interleave c5 "$n5" "$n5" sockit sockit_pn sockit_ss sockit_ss_pn zmap zmap_c1
  ran+=(c5)
  # nmap -sS -T4 would take minutes on the /16; on a /20 (4096 addresses) it takes ~20 s.
  # sockit -sS runs on the same /20 beside it.
  for i in $(seq 0 15); do
    seq 0 255 | sed "s/^/198.19.$i./; s/$/:80/"
  done | sort -u >"$work/c5b.truth"
  echo "case 5b: 198.19.0.0/20 -p 22,80,443" >&2
  s_args=(198.19.0.0/20 -p "22,80,443") n_args=(-p "22,80,443" 198.19.0.0/20)
  lim_sockit=120 lim_nmap=300
  interleave c5b "$n5" "${nmap_reps:-$n45}" sockit_ss sockit_ss_pn nmap_ss
  ran+=(c5b)
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
paired() { # A B [DECIMALS]: A/B, the median of the ratios of the runs made next to each other
  paste "$1" "$2" | awk 'NF == 2 && $2 > 0 {print $1 / $2}' >"$work/ratios"
  fmt "$(median "$work/ratios")" "${3:-1}"
}
mibs() { # "K (K1–K2)" in KiB to the same in MiB
  sed -E 's/[0-9]+/\n&\n/g' | awk 'NR % 2 == 0 {printf "%.1f", $1 / 1024; next} {printf "%s", $0}'
}
found() { # FILE: the found/truth of every run, "20/20 ×4, 19/20" (most frequent first)
  sort "$1" | uniq -c | sort -k1,1nr -k2,2r |
    awk '{n = $1; $1 = ""; sub(/^ /, ""); printf "%s%s%s", (NR > 1 ? ", " : ""), $0, (n > 1 ? " ×" n : "")}'
}
have() { [[ -s "$work/$1.$2.secs" ]]; } # CASE TOOL: it ran
med() { median "$work/$1.$2.$3"; }     # CASE TOOL secs|cpu|rss
allgood() { # CASE TOOL: every run found all it should (open ports; case 4: filtered), no extra
  awk '{split($1, a, "/"); if (a[1] != a[2]) bad = 1} END {exit bad}' "$work/$1.$2.acc" &&
    ! grep -q 'also open' "$work/$1.$2.notes" 2>/dev/null
}
yes_no() { # AWK-CONDITION: "yes" or "**no**"
  if awk "BEGIN {exit !($1)}"; then echo yes; else echo "**no**"; fi
}
label() {
  case "$1" in
    c1) echo "1. 127.0.0.1 -p-" ;;
    c2) echo "2. 198.18.0.2 -p-, RTT $(fmt "$(cut -d/ -f2 "$work/c2.rtt")" 1) ms, 1 % loss" ;;
    c3) echo "3. 198.18.1.0/24 -p 1-1024" ;;
    c4) echo "4. 198.19.0.0/22 -p 443, all filtered" ;;
    c5) echo "5. 198.19.0.0/16 -p 22,80,443" ;;
    c5b) echo "5b. 198.19.0.0/20 -p 22,80,443" ;;
  esac
}
name() {
  case "$1" in
    sockit) echo "sockit -sT" ;;
    sockit_pn) echo "sockit -sT -Pn" ;;
    sockit_ss) echo "sockit -sS" ;;
    sockit_ss_pn) echo "sockit -sS -Pn" ;;
    nmap_st) echo "nmap -sT -T4 -Pn" ;;
    nmap_st_disc) echo "nmap -sT -T4 (discovery)" ;;
    nmap_ss) echo "nmap -sS -T4 -Pn" ;;
    masscan) echo "masscan --rate $masscan_rate" ;;
    zmap) echo "zmap, cooldown 8 s (default)" ;;
    zmap_c1) echo "zmap --cooldown-time 1" ;;
    *) echo "$1" ;;
  esac
}
tools=(sockit sockit_pn sockit_ss sockit_ss_pn nmap_st_disc nmap_st nmap_ss masscan zmap zmap_c1)
ran_case() { [[ " ${ran[*]} " == *" $1 "* ]]; }

# The first table is sockit's connect scan against its like, nmap -sT (case 4 twice: both
# with host discovery, both without); bench/run.sh charts its sockit and nmap columns.
echo "| case | sockit s | nmap -sT s | nmap -sT / sockit | target | sockit found | nmap -sT found |"
echo "|---|---:|---:|---:|---|---|---|"
t1row() { # LABEL CASE SOCKIT NMAP TARGET
  have "$2" "$3" && have "$2" "$4" || return 0
  echo "| $1 | $(cell "$work/$2.$3.secs" 2) | $(cell "$work/$2.$4.secs" 2) |" \
    "$(paired "$work/$2.$4.secs" "$work/$2.$3.secs")× | $5 |" \
    "$(found "$work/$2.$3.acc") | $(found "$work/$2.$4.acc") |"
}
for c in c1 c2 c3; do
  ran_case "$c" || continue
  case $c in
    c1) tg="≥ 1.5×, same open set" ;;
    c2) tg="≥ 20×, every port every run" ;;
    c3) tg="faster, RSS < 64 MiB" ;;
  esac
  t1row "$(label "$c")" "$c" sockit nmap_st "$tg"
done
if ran_case c4; then
  t1row "4. 198.19.0.0/22 -p 443, with discovery, all filtered" c4 sockit nmap_st_disc "≥ 10×, all 1024 filtered"
  t1row "4. 198.19.0.0/22 -p 443 -Pn, all filtered" c4 sockit_pn nmap_st "≥ 10×, all 1024 filtered"
fi
echo
echo "| case | scanner | wall s | ÷ sockit -sT | ÷ sockit -sS | CPU s | max RSS MiB | found | runs |"
echo "|---|---|---:|---:|---:|---:|---:|---|---:|"
for c in "${ran[@]}"; do
  for tool in "${tools[@]}"; do
    f=$work/$c.$tool
    if [[ ! -s "$f.secs" ]]; then
      [[ $tool == masscan && $c == c1 ]] &&
        echo "| $(label "$c") | $(name "$tool") | – | – | – | – | – | does not work on lo (below) | 0 |"
      continue
    fi
    r_st="–" r_ss="–"
    have "$c" sockit && [[ $tool != sockit ]] && r_st="$(paired "$f.secs" "$work/$c.sockit.secs")×"
    have "$c" sockit_ss && [[ $tool != sockit_ss ]] && r_ss="$(paired "$f.secs" "$work/$c.sockit_ss.secs")×"
    echo "| $(label "$c") | $(name "$tool") | $(cell "$f.secs" 2) | $r_st | $r_ss | $(cell "$f.cpu" 2) |" \
      "$(cell "$f.rss" 0 | mibs) | $(found "$f.acc") | $(wc -l <"$f.secs") |"
  done
done
echo
echo "Wall-clock and CPU (user + system) seconds from /usr/bin/time, median (min–max) over the"
echo "runs; X / sockit and ÷ sockit: the median of the ratios of runs made next to each other (over"
echo "1: slower than that sockit scan); found = open ports reported / ports listening, per run"
echo "(×N: in N runs); case 4: ports reported filtered (for zmap: probes it got no answer to) /"
echo "1024, nothing being open. Without -Pn, sockit (cases 3-5) and \`nmap (discovery)\` (case 4)"
echo "find live hosts first. masscan: --wait 1, one probe per port (no --retries), from port"
echo "$masscan_port + run number, with the scanner kernel's RSTs to those ports dropped. zmap: its"
echo "default rate, one probe per address; on case 5 one run per port (22, 80, 443), timed"
echo "together."

# The targets, each with the figures it is judged on (medians; ratios of adjacent runs).
echo
echo "| case | what | figures | target | met |"
echo "|---|---|---|---|---|"
ok() { allgood "$@" && echo 1 || echo 0; } # CASE TOOL: 1 when every run found all
secs_of() { fmt "$(med "$1" "$2" secs)" 2; }
cpu_of() { fmt "$(med "$1" "$2" cpu)" 2; }
rss_of() { awk -v k="$(sort -g "$work/$1.$2.rss" | tail -1)" 'BEGIN {printf "%.1f", k / 1024}'; }
trow() { echo "| $1 | $2 | $3 | $4 | $(yes_no "$5") |"; } # CASE WHAT FIGURES TARGET CONDITION
# faster CASE A B TARGET-RATIO [cpu]: B's time over A's at least TARGET-RATIO, A finding all
# it should (and with cpu: spending less CPU than B)
faster() {
  local c=$1 a=$2 b=$3 want=$4 r cond fig
  have "$c" "$a" && have "$c" "$b" || return 0
  r=$(paired "$work/$c.$b.secs" "$work/$c.$a.secs" 2)
  fig="$(name "$b") / $(name "$a") = ${r}× ($(secs_of "$c" "$b") vs $(secs_of "$c" "$a") s); found: $(found "$work/$c.$a.acc")"
  cond="$r >= $want && $(ok "$c" "$a")"
  if [[ ${5:-} == cpu ]]; then
    fig+="; CPU $(cpu_of "$c" "$a") vs $(cpu_of "$c" "$b") s"
    cond+=" && $(med "$c" "$a" cpu) < $(med "$c" "$b" cpu)"
  fi
  [[ ${6:-} == rss ]] && fig+="; RSS $(rss_of "$c" "$a") MiB" && cond+=" && $(rss_of "$c" "$a") < 64"
  trow "${c#c}" "$(name "$a") vs $(name "$b")" "$fig" "${7:-≥ ${want}× faster, every port found}" "$cond"
}
# within CASE A B FACTOR: A's time at most FACTOR times B's, both as accurate as the case wants
within() {
  local c=$1 a=$2 b=$3 k=$4 r
  have "$c" "$a" && have "$c" "$b" || return 0
  r=$(paired "$work/$c.$a.secs" "$work/$c.$b.secs" 2)
  trow "${c#c}" "$(name "$a") vs $(name "$b")" \
    "$(name "$a") / $(name "$b") = ${r}× ($(secs_of "$c" "$a") vs $(secs_of "$c" "$b") s); $(found "$work/$c.$a.acc") vs $(found "$work/$c.$b.acc")" \
    "≤ ${k}× its time, same accuracy" "$r <= $k && $(ok "$c" "$a") && $(ok "$c" "$b")"
}
# at_most CASE A SECONDS: A's median time at most SECONDS, every run finding all, RSS < 64 MiB
at_most() {
  local c=$1 a=$2 s=$3
  have "$c" "$a" || return 0
  trow "${c#c}" "$(name "$a")" \
    "$(cell "$work/$c.$a.secs" 2) s; found: $(found "$work/$c.$a.acc"); RSS ≤ $(rss_of "$c" "$a") MiB" \
    "≤ $s s, every open port in every run, RSS < 64 MiB" \
    "$(med "$c" "$a" secs) <= $s && $(ok "$c" "$a") && $(rss_of "$c" "$a") < 64"
}
if ran_case c1; then
  faster c1 sockit nmap_st 1.5 "" "" "≥ 1.5×, same open set"
  faster c1 sockit_ss nmap_ss 1 cpu "" "faster, less CPU"
fi
if ran_case c2; then
  faster c2 sockit nmap_st 20 "" "" "≥ 20×, every port every run"
  at_most c2 sockit_ss 1.0
fi
if ran_case c3; then
  faster c3 sockit nmap_st 1 "" rss "faster, RSS < 64 MiB"
  faster c3 sockit_ss nmap_ss 1 cpu "" "faster, less CPU"
fi
if ran_case c4; then
  faster c4 sockit nmap_st_disc 10 "" "" "≤ 1/10 of its time, all filtered"
  faster c4 sockit_pn nmap_st 10 "" "" "≤ 1/10 of its time, all filtered"
  for z in zmap zmap_c1; do
    within c4 sockit_ss_pn "$z" 2
    within c4 sockit_ss "$z" 2
  done
fi
if ran_case c5; then
  at_most c5 sockit_ss 10
  at_most c5 sockit_ss_pn 10
  at_most c5 sockit 60
  at_most c5 sockit_pn 60
fi

for c in "${ran[@]}"; do
  for tool in "${tools[@]}"; do
    [[ -s "$work/$c.$tool.notes" ]] || continue
    echo
    echo "$(label "$c"), $(name "$tool"):"
    sed 's/^/- /' "$work/$c.$tool.notes"
  done
done
for c in "${ran[@]}"; do
  for tool in zmap zmap_c1; do
    [[ -s "$work/$c.$tool.rate" ]] || continue
    echo
    echo "$(label "$c"), $(name "$tool"): probes sent by each zmap process and its average rate" \
      "(runs separated by ;): $(sed 's/^run [0-9]*: sent //' "$work/$c.$tool.rate" | paste -sd';' - | sed 's/;/; /g')"
  done
done
if ran_case c2; then
  echo
  echo "Case 2 path: 50 pings 20 ms apart, rtt min/avg/max $(cat "$work/c2.rtt") ms," \
    "$(cat "$work/c2.loss"); $(cat "$work/c2.netem")."
fi
echo
echo "Scanners: $("$sockit" --version 2>/dev/null | head -1); $(nmap --version | head -1 | sed 's/ (.*//');" \
  "$(masscan --version 2>/dev/null | grep -m1 -o 'Masscan version [^ ]*'); $(zmap --version 2>&1 | head -1)." \
  "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
