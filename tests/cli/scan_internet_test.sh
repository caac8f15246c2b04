#!/usr/bin/env bash
# `sockit scan` on the internet's shape in miniature. The test re-runs itself in a private
# network namespace (the scanner's side) and joins it with a veth pair to a second, named
# namespace: 198.18.0.1/30 (scanner, scan0) and 198.18.0.2/30 (target). The target answers
# for all of 198.19.0.0/16 (a local route on its loopback) with one listener on port 80;
# port 22 is closed (RST), port 443 dropped everywhere, and 198.19.0.128/25 and 198.19.3.0/24
# drop everything (ICMP included): dead hosts. Scanning 198.19.0.0/22 (1024 addresses), the
# truth is 640 live hosts, each with 80 open, 22 closed and 443 filtered.
# Checked: -sT and -sS find exactly that (and agree), -sS finds exactly the truth on the whole
# /16 too (65,152 live hosts), -sn finds exactly the live hosts, -Pn reports the dead ones
# filtered, a scan stopped by Ctrl+C plus its --resume finds the same
# as one uninterrupted, every probe went through the veth (the host's own interfaces barely
# moved), and without CAP_NET_RAW raw scans exit 77 with one line.
# Exit 77 (skipped) without root or the tools.
set -u
sockit=${1:?usage: scan_internet_test.sh PATH/TO/sockit}
skip() { echo "SKIP: $*" >&2; exit 77; }

# The host's namespace: record its interfaces' counters, run the test in a private one, then
# check that the ~470,000 probes did not leave through any of the host's interfaces.
if [[ "${SOCKIT_IN_NETNS:-}" != 1 ]]; then
  [[ $(id -u) -eq 0 ]] || skip "needs root for unshare --net and ip netns"
  for tool in ip iptables python3 unshare setpriv timeout; do
    command -v $tool >/dev/null || skip "$tool is not installed"
  done
  sockit=$(realpath "$sockit") || skip "no such binary: $1"
  target=sockit-inet-$$
  outer=$(mktemp -d)
  outer_cleanup() {
    # The inner run deletes the target namespace itself; this covers it being killed.
    local pid
    for pid in $(ip netns pids "$target" 2>/dev/null); do kill "$pid" 2>/dev/null; done
    ip netns del "$target" 2>/dev/null
    rm -rf "$outer"
  }
  trap outer_cleanup EXIT
  trap 'exit 130' INT TERM
  tx_counters() {
    local f
    for f in /sys/class/net/*/statistics/tx_packets; do
      f=${f#/sys/class/net/}
      echo "${f%%/*} $(cat "/sys/class/net/$f")"
    done
  }
  tx_counters >"$outer/tx_before"
  SOCKIT_IN_NETNS=1 SOCKIT_TARGET_NS=$target unshare --net bash "$0" "$sockit"; code=$?
  tx_counters >"$outer/tx_after"
  [[ $code -eq 77 ]] && exit 77

  echo "== step 5a: the host's interfaces (tx_packets during the run)"
  # The host's lo carries whatever else runs on this shared machine (thousands of packets a
  # second at times), and probes to 198.19.0.0/16 from the host's namespace would leave by
  # the default route anyway, never by lo: its growth is shown, not judged.
  leaks=0
  while read -r dev before; do
    after=$(awk -v d="$dev" '$1 == d { print $2 }' "$outer/tx_after")
    [[ -n "$after" ]] || continue
    grew=$((after - before))
    if [[ "$dev" == lo ]]; then
      echo "  $dev: +$grew (not judged: shared by the whole machine)"
    elif [[ $grew -gt 200 ]]; then
      echo "  $dev: +$grew  FAIL: more than 200 packets left the host's $dev"; leaks=$((leaks + 1))
    else
      echo "  $dev: +$grew"
    fi
  done <"$outer/tx_before"
  [[ $leaks -eq 0 ]] || { echo "FAIL: probes left through the host's interfaces"; exit 1; }
  [[ $code -eq 0 ]] || exit "$code"
  echo "scan_internet: all checks passed"
  exit 0
fi

target=${SOCKIT_TARGET_NS:?}
work=$(mktemp -d)
listener_pid=
cleanup() {
  # Everything left in the target namespace is ours (ip netns exec forks: killing its pid
  # would leave the listener running).
  local pid
  for pid in $(ip netns pids "$target" 2>/dev/null); do kill "$pid" 2>/dev/null; done
  [[ -n "$listener_pid" ]] && { wait "$listener_pid"; } 2>/dev/null
  ip netns del "$target" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*"; exit 1; }
in_target() { ip netns exec "$target" "$@"; }

ip link set lo up
ip netns add "$target" || skip "ip netns add failed"
ip link add scan0 type veth peer name target0 netns "$target" || skip "cannot create a veth pair"
ip addr add 198.18.0.1/30 dev scan0
ip link set scan0 up
ip route add 198.19.0.0/16 via 198.18.0.2 || fail "cannot route 198.19.0.0/16 to the target"
in_target ip link set lo up
in_target ip addr add 198.18.0.2/30 dev target0
in_target ip link set target0 up
in_target ip route add local 198.19.0.0/16 dev lo || fail "cannot make 198.19.0.0/16 local"

# One listener for every address: accepts (and closes) whatever arrives on port 80.
in_target python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80))
s.listen(4096)
open(sys.argv[1], "w").write("ready\n")
while True:
    try:
        s.accept()[0].close()
    except OSError:
        pass
' "$work/ready" 2>"$work/listener.err" &
listener_pid=$!
for _ in $(seq 100); do [[ -s "$work/ready" ]] && break; sleep 0.05; done
[[ -s "$work/ready" ]] || fail "the listener did not start: $(cat "$work/listener.err")"

in_target iptables -A INPUT -p tcp --dport 443 -j DROP ||
  skip "iptables cannot add rules in a namespace here"
in_target iptables -A INPUT -d 198.19.0.128/25 -j DROP
in_target iptables -A INPUT -d 198.19.3.0/24 -j DROP

# Sanity before the real runs: a live address answers on 80 through the veth.
timeout 10 "$sockit" scan 198.19.0.1 -p 80 -o grep | grep -q "/open/" ||
  fail "198.19.0.1:80 is not reachable through the veth"

# The truth, and the checks on one JSON Lines scan. Usage: check MODE CIDR FILE [CANON]
# MODE: ports (discovery, then 22,80,443 with --show filtered), sn (discovery only),
# pn (no discovery, port 80 with --show filtered). Prints what it found; exits 1 on a
# mismatch. CANON receives the sorted result set, for comparing two scans.
cat >"$work/check.py" <<'EOF'
import ipaddress, json, sys
mode, cidr, paths = sys.argv[1:4]
dead_nets = [ipaddress.ip_network("198.19.0.128/25"), ipaddress.ip_network("198.19.3.0/24")]
everyone = [str(a) for a in ipaddress.ip_network(cidr)]
live = {a for a in everyone if not any(ipaddress.ip_address(a) in n for n in dead_nets)}
dead = set(everyone) - live
problems, hosts, ports = [], {}, {}
# PATHS: one scan's output, or an interrupted scan's and its resumption's, comma-separated:
# a host the first left incomplete is written again by the second with the rest of its ports.
lines = [(p, n, line) for p in paths.split(",") for n, line in enumerate(open(p), 1)]
for path, n, line in lines:
    try:
        o = json.loads(line)
    except ValueError:
        problems.append("%s line %d is not JSON: %r" % (path, n, line[:200])); continue
    if o.get("type") == "host":
        before = hosts.get(o["address"])
        if before is not None and before.get("complete", True):
            problems.append("two host lines for %s" % o["address"])
        if before is not None:  # the rest of a host an interruption cut short
            for k in ("open", "closed", "filtered", "ports"): o[k] = o.get(k, 0) + before.get(k, 0)
            for k in ("status", "reason"):
                if k in before: o[k] = before[k]
        hosts[o["address"]] = o
    elif o.get("type") == "port":
        key = (o["address"], o["port"])
        if key in ports: problems.append("two lines for %s:%d" % key)
        ports[key] = o["state"]
    else:
        problems.append("unknown object on line %d: %r" % (n, line[:200]))

def sample(s, k=5):
    s = sorted(s, key=lambda x: ipaddress.ip_address(x if isinstance(x, str) else x[0]))
    return ", ".join(map(str, s[:k])) + (" ..." if len(s) > k else "")

def expect_set(what, got, want):
    if got != want:
        problems.append("%s: got %d, want %d; missing: [%s]; extra: [%s]" % (
            what, len(got), len(want), sample(want - got), sample(got - want)))

state_of = lambda st: {k for k, v in ports.items() if v == st}
if mode == "ports":
    expect_set("host lines", set(hosts), live)
    expect_set("open ports", state_of("open"), {(a, 80) for a in live})
    expect_set("filtered ports", state_of("filtered"), {(a, 443) for a in live})
    expect_set("closed ports listed", state_of("closed"), set())
    from_dead = {k for k in ports if k[0] in dead} | (set(hosts) & dead)
    if from_dead: problems.append("lines about dead hosts: %s" % sample(from_dead))
    bad = [h for a, h in hosts.items() if (h.get("status"), h.get("open"), h.get("closed"),
           h.get("filtered"), h.get("ports")) != ("up", 1, 1, 1, 3)]
    if bad: problems.append("%d host lines not up with open=1 closed=1 filtered=1: %s" % (
        len(bad), json.dumps(bad[0])))
elif mode == "sn":
    expect_set("host lines", set(hosts), live)
    if ports: problems.append("%d port lines in a discovery-only scan" % len(ports))
    bad = [h for h in hosts.values() if h.get("status") != "up" or "ports" in h]
    if bad: problems.append("%d host lines not plain up: %s" % (len(bad), json.dumps(bad[0])))
elif mode == "pn":
    expect_set("host lines", set(hosts), set(everyone))
    expect_set("open ports", state_of("open"), {(a, 80) for a in live})
    expect_set("filtered ports", state_of("filtered"), {(a, 80) for a in dead})
    bad = [h for a, h in hosts.items() if (h.get("open"), h.get("filtered"), h.get("ports"))
           != ((1, 0, 1) if a in live else (0, 1, 1)) or h.get("closed") != 0]
    if bad: problems.append("%d host lines with wrong counts: %s" % (len(bad), json.dumps(bad[0])))
from collections import Counter
states = Counter(ports.values())
print("  found %d host lines (%d live in truth); ports: %s" % (
    len(hosts), len(live), ", ".join("%s %d" % kv for kv in sorted(states.items())) or "none"))
if len(sys.argv) > 4:
    with open(sys.argv[4], "w") as f:
        for a, h in sorted(hosts.items()):
            f.write("host %s %s %s %s %s\n" % (a, h.get("status"), h.get("open"), h.get("closed"),
                                              h.get("filtered")))
        for (a, p), st in sorted(ports.items()):
            f.write("port %s %d %s\n" % (a, p, st))
for p in problems: print("  FAIL: " + p)
sys.exit(1 if problems else 0)
EOF

# /proc/net/dev is this namespace's (/sys/class/net still shows the host's): "  lo: rx
# bytes, packets, 6 more, then tx bytes, packets".
tx_of() { awk -F'[: ]+' -v d="$1" '$2 == d { print $12 }' /proc/net/dev; }

failures=0
# Runs one scan (bounded by `timeout`), prints its wall time; stdout to $work/$1.json.
run_scan() {
  local name=$1; shift
  local t0=${EPOCHREALTIME/./} code us
  timeout 60 "$sockit" scan "$@" >"$work/$name.json" 2>"$work/$name.err"; code=$?
  us=$((${EPOCHREALTIME/./} - t0))
  printf '  sockit scan %s: exit %d in %d.%02d s\n' "$*" "$code" $((us / 1000000)) \
    $((us % 1000000 / 10000))
  if [[ $code -ne 0 ]]; then
    echo "  FAIL: exit $code, want 0; stderr: $(head -c 500 "$work/$name.err")"
    return 1
  fi
}
step_failed() { echo "  => step $1 FAILED"; failures=$((failures + 1)); }

lo_before=$(tx_of lo)
scan0_before=$(tx_of scan0)

echo "== step 1: connect scan (-sT) of 198.19.0.0/22, ports 22,80,443"
{ run_scan sT -sT 198.19.0.0/22 -p 22,80,443 -o json --show filtered &&
  python3 "$work/check.py" ports 198.19.0.0/22 "$work/sT.json" "$work/sT.canon"; } || step_failed 1

echo "== step 2: SYN scan (-sS) of the same, compared with step 1"
{ run_scan sS -sS 198.19.0.0/22 -p 22,80,443 -o json --show filtered &&
  python3 "$work/check.py" ports 198.19.0.0/22 "$work/sS.json" "$work/sS.canon"; } || step_failed 2
if [[ -s "$work/sT.canon" && -s "$work/sS.canon" ]]; then
  if ! cmp -s "$work/sT.canon" "$work/sS.canon"; then
    echo "  FAIL: -sT and -sS disagree:"; diff "$work/sT.canon" "$work/sS.canon" | head -10
    step_failed 2
  else
    echo "  -sT and -sS agree on all $(wc -l <"$work/sS.canon") lines"
  fi
fi

echo "== step 3: host discovery only (-sn) of 198.19.0.0/22"
{ run_scan sn -sn 198.19.0.0/22 -o json &&
  python3 "$work/check.py" sn 198.19.0.0/22 "$work/sn.json"; } || step_failed 3

echo "== step 4: no discovery (-Pn -sS) of 198.19.0.0/23, port 80"
{ run_scan pn -Pn -sS 198.19.0.0/23 -p 80 --timeout 0.3 --retries 1 -o json --show filtered &&
  python3 "$work/check.py" pn 198.19.0.0/23 "$work/pn.json"; } || step_failed 4

echo "== step 8: SYN scan (-sS) of all of 198.19.0.0/16, ports 22,80,443"
# 65,536 addresses, 384 of them dead: discovery and the port scan at full speed, where a
# scanner that outruns its own receive queue loses answers (hosts reported down, ports
# missed) and then reads its own backlog as a slow path.
{ run_scan s16 -sS 198.19.0.0/16 -p 22,80,443 -o json --show filtered &&
  python3 "$work/check.py" ports 198.19.0.0/16 "$work/s16.json"; } || step_failed 8

echo "== step 7: a SYN scan stopped by SIGTERM, then --resume: together they equal step 2"
# Paced (--rate 2000: ~3 s in all) so that the interruption lands mid-scan, with hosts in
# every state: discovered, being discovered, half scanned, not yet taken in. SIGTERM, not
# SIGINT: a script's background jobs start with SIGINT ignored.
(cd "$work" && exec "$sockit" scan -sS 198.19.0.0/22 -p 22,80,443 -o json \
  --show filtered --rate 2000 >"$work/part1.json" 2>"$work/part1.err") & scan_pid=$!
sleep 1.2
kill -TERM "$scan_pid" 2>/dev/null
for _ in $(seq 300); do kill -0 "$scan_pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$scan_pid" 2>/dev/null  # bounded: 30 s to write what it found and stop
wait "$scan_pid"; code=$?
echo "  interrupted: exit $code; $(cat "$work/part1.err")"
if [[ $code -ne 130 || ! -s "$work/sockit-scan.resume" ]]; then
  echo "  FAIL: want exit 130 and $work/sockit-scan.resume"; step_failed 7
else
  echo "  state file: $(grep -c '^host ' "$work/sockit-scan.resume") unfinished hosts," \
    "next $(awk '$1 == "next" { print $2 }' "$work/sockit-scan.resume") of 1024"
  (cd "$work" && timeout 60 "$sockit" scan --resume sockit-scan.resume \
    >"$work/part2.json" 2>"$work/part2.err"); code=$?
  echo "  resumed: exit $code"
  if [[ $code -ne 0 || -e "$work/sockit-scan.resume" ]]; then
    echo "  FAIL: want exit 0 and the state file gone; stderr: $(cat "$work/part2.err")"
    step_failed 7
  elif python3 "$work/check.py" ports 198.19.0.0/22 "$work/part1.json,$work/part2.json" \
      "$work/resumed.canon"; then
    if cmp -s "$work/sS.canon" "$work/resumed.canon"; then
      echo "  interrupted + resumed agree with step 2 on all $(wc -l <"$work/resumed.canon") lines"
    else
      echo "  FAIL: interrupted + resumed differ from step 2:"
      diff "$work/sS.canon" "$work/resumed.canon" | head -10; step_failed 7
    fi
  else
    step_failed 7
  fi
fi

echo "== step 5b: the scanner namespace's counters"
lo_grew=$(($(tx_of lo) - lo_before))
scan0_grew=$(($(tx_of scan0) - scan0_before))
echo "  scan0: +$scan0_grew packets; lo: +$lo_grew packets"
# At the least one probe per address in steps 1-3 (3 x 1024), 512 in step 4 and the 3 ports
# of 640 live hosts in steps 1 and 2: 7424.
if [[ $scan0_grew -lt 7000 ]]; then
  echo "  FAIL: fewer packets through scan0 than probes sent"; step_failed 5
fi
if [[ $lo_grew -gt 200 ]]; then
  echo "  FAIL: the probes went through lo"; step_failed 5
fi

echo "== step 6: raw scans without CAP_NET_RAW"
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
"${nobody[@]}" "$sockit" --help >/dev/null 2>&1; code=$?
if [[ $code -eq 126 || $code -eq 127 ]]; then
  echo "  NOTE: $sockit cannot be run as uid 65534 (exit $code): step skipped"
else
  timeout 10 "${nobody[@]}" "$sockit" scan -sS 198.19.0.1 -p 80 >"$work/priv.out" 2>"$work/priv.err"
  code=$?
  echo "  -sS: exit $code; stderr: $(cat "$work/priv.err")"
  if [[ $code -ne 77 ]]; then
    echo "  FAIL: exit $code, want 77"; step_failed 6
  elif [[ $(wc -l <"$work/priv.err") -ne 1 ]] || ! grep -q CAP_NET_RAW "$work/priv.err"; then
    echo "  FAIL: want one stderr line naming CAP_NET_RAW"; step_failed 6
  fi
  timeout 10 "${nobody[@]}" "$sockit" scan -sn -PE 198.19.0.1-2 >"$work/priv.out" 2>"$work/priv.err"
  code=$?
  echo "  -sn -PE: exit $code; stderr: $(cat "$work/priv.err")"
  [[ $code -eq 77 ]] || { echo "  FAIL: exit $code, want 77"; step_failed 6; }
fi

[[ $failures -eq 0 ]] || fail "$failures step(s) failed"
echo "inner checks passed"
