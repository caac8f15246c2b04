#!/usr/bin/env bash
# `sockit scan` accuracy on a lossy path. The test re-runs itself in a private network
# namespace (the scanner's side; the host's network is never touched), creates a second,
# named namespace for the target and joins them with a veth pair: 198.18.0.1/30 (scanner) and
# 198.18.0.2/30 (target). The target listens on 20 random ports, drops 2% of everything it
# sends (SYN-ACKs and RSTs alike) and drops the SYNs to one more port. Six scans of ports
# 1-10000, three connect (-sT) and three SYN (-sS), must each find exactly the open ports,
# report the dropped port filtered, and nothing else open.
# Also, with the ephemeral range narrowed to the ports scanned, loopback self-connects must
# not count as open. Exit 77 (skipped) without root or the tools.
set -u
sockit=${1:?usage: scan_netns_test.sh PATH/TO/sockit}
skip() { echo "SKIP: $*" >&2; exit 77; }

if [[ "${SOCKIT_IN_NETNS:-}" != 1 ]]; then
  [[ $(id -u) -eq 0 ]] || skip "needs root for unshare --net and ip netns"
  for tool in ip iptables python3 unshare; do
    command -v $tool >/dev/null || skip "$tool is not installed"
  done
  SOCKIT_IN_NETNS=1 exec unshare --net bash "$0" "$@"
fi

target=sockit-scan-$$
work=$(mktemp -d)
listener_pid=
cleanup() {
  # Everything left in the target namespace is ours (ip netns exec forks: killing its pid
  # would leave the listener running).
  local pid
  for pid in $(ip netns pids "$target" 2>/dev/null); do kill "$pid" 2>/dev/null; done
  [[ -n "$listener_pid" ]] && wait "$listener_pid" 2>/dev/null
  ip netns del "$target" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
in_target() { ip netns exec "$target" "$@"; }

ip link set lo up
ip netns add "$target" || skip "ip netns add failed"
ip link add scan0 type veth peer name target0 netns "$target" || skip "cannot create a veth pair"
ip addr add 198.18.0.1/30 dev scan0
ip link set scan0 up
in_target ip link set lo up
in_target ip addr add 198.18.0.2/30 dev target0
in_target ip link set target0 up

# 20 open ports and one filtered one, all different, in the range scanned.
mapfile -t picked < <(shuf -i 1-10000 -n 21)
open_ports=("${picked[@]:0:20}")
filtered_port=${picked[20]}
expected=$(printf '%s\n' "${open_ports[@]}" | sort -n | paste -sd, -)

# One process listens on all of them and accepts (and closes) whatever arrives.
in_target python3 -c '
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in map(int, sys.argv[2:]):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("198.18.0.2", port))
    s.listen(1024)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
open(sys.argv[1], "w").write("ready\n")
while True:
    for key, _ in sel.select():
        try:
            key.fileobj.accept()[0].close()
        except OSError:
            pass
' "$work/ready" "${open_ports[@]}" &
listener_pid=$!
for _ in $(seq 100); do [[ -s "$work/ready" ]] && break; sleep 0.05; done
[[ -s "$work/ready" ]] || fail "the listeners did not start"

in_target iptables -A INPUT -p tcp --dport "$filtered_port" -j DROP ||
  skip "iptables cannot add rules in a namespace here"
in_target iptables -A OUTPUT -m statistic --mode random --probability 0.02 -j DROP ||
  skip "iptables has no statistic match here"

# Sanity before the real runs: one open port answers through the veth.
"$sockit" scan 198.18.0.2 -p "${open_ports[0]}" -o grep | grep -q "/open/" ||
  fail "port ${open_ports[0]} is not reachable at 198.18.0.2"

# Reads one JSON Lines scan; prints "open=..;filtered=..;closed=N;total=N" or fails.
summarize() {
  python3 -c '
import json, sys
ports, hosts = {}, []
for line in sys.stdin:
    o = json.loads(line)
    if o["type"] == "port":
        assert o["address"] == "198.18.0.2", o
        ports[o["port"]] = o["state"]
    else:
        hosts.append(o)
assert len(hosts) == 1, hosts
h = hosts[0]
opened = sorted(p for p, s in ports.items() if s == "open")
filtered = sorted(p for p, s in ports.items() if s == "filtered")
assert h["open"] == len(opened) and h["filtered"] == len(filtered), (h, len(opened), len(filtered))
assert h["open"] + h["closed"] + h["filtered"] == h["ports"] == 10000, h
print("open=%s;filtered=%s;closed=%d" % (",".join(map(str, opened)), ",".join(map(str, filtered)), h["closed"]))
'
}

failures=0
start=$SECONDS
# Connect scans (-sT) and SYN scans (-sS, raw sockets) alike.
for run in 1 2 3 4 5 6; do
  t0=$SECONDS
  type=$([[ $((run % 2)) -eq 1 ]] && echo -sT || echo -sS)
  "$sockit" scan "$type" 198.18.0.2 -p 1-10000 -o json --show filtered >"$work/scan.json" 2>"$work/scan.err"; code=$?
  [[ $code -eq 0 ]] || fail "run $run: exit $code: $(cat "$work/scan.err")"
  summary=$(summarize <"$work/scan.json") || fail "run $run: bad JSON output"
  IFS=';' read -r open_part filtered_part closed_part <<<"$summary"
  got_open=${open_part#open=}
  got_filtered=${filtered_part#filtered=}
  echo "run $run ($type, $((SECONDS - t0)) s): open $got_open; filtered $got_filtered; ${closed_part/=/ }"
  if [[ "$got_open" != "$expected" ]]; then
    echo "FAIL run $run: open ports $got_open, want $expected"; failures=$((failures + 1))
  fi
  if [[ ",$got_filtered," != *",$filtered_port,"* ]]; then
    echo "FAIL run $run: port $filtered_port not reported filtered"; failures=$((failures + 1))
  fi
  # A closed port whose RST is lost on all 3 tries is reported filtered: 0.02^3 per port,
  # 0.08 per scan of 10000. More than 2 means retries are not doing their job.
  others=$(tr ',' '\n' <<<"$got_filtered" | grep -vcx -e "$filtered_port" -e '')
  if [[ $others -gt 2 ]]; then
    echo "FAIL run $run: $others ports besides $filtered_port filtered"; failures=$((failures + 1))
  fi
done
echo "six scans in $((SECONDS - start)) s"

# Self-connects: in this namespace only, make the ephemeral range the very ports scanned,
# so that probes keep being given the port they probe.
echo "40000 40255" > /proc/sys/net/ipv4/ip_local_port_range
for run in $(seq 20); do
  out=$("$sockit" scan 127.0.0.1 -p 40000-40255 -o grep) || fail "self-connect run $run: exit $?"
  if [[ "$out" == */open/* ]]; then
    echo "FAIL self-connect run $run: $out"; failures=$((failures + 1)); break
  fi
done

[[ $failures -eq 0 ]] || exit 1
echo "scan_netns: all checks passed"
