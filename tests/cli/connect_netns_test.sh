#!/usr/bin/env bash
# `sockit connect -w` against an address whose SYNs are dropped: exit 75 and one line.
# Runs in a private network namespace (its own loopback holding 198.18.0.1, an iptables
# rule dropping the port), so nothing leaves the test. Exit 77 (skipped) without root.
set -u
sockit=${1:?usage: connect_netns_test.sh PATH/TO/sockit}
skip() { echo "SKIP: $*" >&2; exit 77; }

if [[ "${SOCKIT_IN_NETNS:-}" != 1 ]]; then
  [[ $(id -u) -eq 0 ]] || skip "needs root for unshare --net"
  command -v iptables >/dev/null || skip "iptables is not installed (scripts/deps.sh installs it)"
  SOCKIT_IN_NETNS=1 exec unshare --net bash "$0" "$@"
fi

ip link set lo up
ip addr add 198.18.0.1/32 dev lo
iptables -A INPUT -p tcp -d 198.18.0.1 --dport 9 -j DROP || skip "iptables cannot add rules here"

err=$("$sockit" connect -w 0.5 198.18.0.1 9 </dev/null 2>&1 >/dev/null); code=$?
if [[ $code -ne 75 ]]; then echo "FAIL: exit $code, want 75 ($err)"; exit 1; fi
if [[ "$err" != "sockit: connect 198.18.0.1:9: Connection timed out" ]]; then
  echo "FAIL: stderr: $err"; exit 1
fi
echo "connect_netns: timeout gives 75"
