#!/usr/bin/env bash
# `sockit resolve` against a real DNS server, without ever asking the machine's own resolver:
# the test re-runs itself in a private network + mount namespace, brings up only loopback,
# bind-mounts a resolv.conf that points at 127.0.0.1, and starts dnsmasq there serving a
# small zone (zone.test, 198.18.0.0/15 addresses) and NXDOMAIN for everything else.
# Exit 77 (skipped) without root or the tools; the reason goes to stderr.
set -u
sockit=${1:?usage: resolve_dns_test.sh PATH/TO/sockit}

skip() { echo "SKIP: $*" >&2; exit 77; }

if [[ "${SOCKIT_IN_NETNS:-}" != 1 ]]; then
  [[ $(id -u) -eq 0 ]] || skip "needs root for unshare --net --mount"
  command -v dnsmasq >/dev/null || skip "dnsmasq is not installed (scripts/deps.sh installs it)"
  command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"
  SOCKIT_IN_NETNS=1 exec unshare --net --mount bash "$0" "$@"
fi

work=$(mktemp -d)
dns_pid=
cleanup() {
  [[ -n "$dns_pid" ]] && kill "$dns_pid" 2>/dev/null && wait "$dns_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

ip link set lo up
echo "nameserver 127.0.0.1" > "$work/resolv.conf"
mount --bind "$work/resolv.conf" /etc/resolv.conf
# A hosts file of our own too (the files source is asked before DNS): names with aliases,
# one of them IPv6 only.
cat >"$work/hosts" <<'HOSTS'
127.0.0.1 localhost
198.18.7.7 primary.hosts.test alias-a.hosts.test alias-b.hosts.test
2001:db8::77 six.hosts.test six-alias.hosts.test
HOSTS
mount --bind "$work/hosts" /etc/hosts

dnsmasq --keep-in-foreground --no-resolv --no-hosts --listen-address=127.0.0.1 \
  --bind-interfaces --port=53 --user=root --pid-file="$work/dnsmasq.pid" \
  --log-facility="$work/dnsmasq.log" --log-queries \
  --host-record=www.zone.test,198.18.0.10,2001:db8::10 \
  --host-record=v4only.zone.test,198.18.0.11 \
  --host-record=multi.zone.test,198.18.0.12 --host-record=multi.zone.test,198.18.0.13 \
  --cname=alias.zone.test,www.zone.test \
  --local=/#/ &
dns_pid=$!
for _ in $(seq 50); do
  grep -q "started" "$work/dnsmasq.log" 2>/dev/null && break
  sleep 0.1
done

failures=0
check() {  # check NAME EXPECTED_CODE COMMAND... ; output in $out / $err
  local name=$1 want=$2; shift 2
  out=$("$@" 2>"$work/err"); code=$?
  err=$(cat "$work/err")
  if [[ $code -ne $want ]]; then
    echo "FAIL $name: exit $code, want $want; stdout: $out; stderr: $err"; failures=$((failures + 1))
    return 1
  fi
}
expect() {  # expect NAME HAYSTACK NEEDLE
  if [[ "$2" != *"$3"* ]]; then
    echo "FAIL $1: expected to find '$3' in: $2"; failures=$((failures + 1))
  fi
}

check forward 0 "$sockit" resolve www.zone.test &&
  { expect forward "$out" "  ipv4     198.18.0.10"; expect forward "$out" "  ipv6     2001:db8::10"; }
check v4-only-flag 0 "$sockit" resolve -4 www.zone.test &&
  { [[ "$out" != *ipv6* ]] || { echo "FAIL -4 printed IPv6: $out"; failures=$((failures + 1)); }; }
check v6-only-flag 0 "$sockit" resolve -6 www.zone.test &&
  { [[ "$out" != *ipv4* ]] || { echo "FAIL -6 printed IPv4: $out"; failures=$((failures + 1)); }; }
check every-address 0 "$sockit" resolve multi.zone.test &&
  { expect multi "$out" "198.18.0.12"; expect multi "$out" "198.18.0.13"; }
check cname 0 "$sockit" resolve --json alias.zone.test &&
  { expect cname "$out" '"name":"www.zone.test"'; expect cname "$out" '"aliases":["alias.zone.test"]'; }
check hosts-aliases 0 "$sockit" resolve --json alias-a.hosts.test &&
  { expect hosts-aliases "$out" '"name":"primary.hosts.test"'
    expect hosts-aliases "$out" '"aliases":["alias-a.hosts.test","alias-b.hosts.test"]'; }
check hosts-v6-aliases 0 "$sockit" resolve --json six.hosts.test &&
  { expect hosts-v6-aliases "$out" '"aliases":["six-alias.hosts.test"]'
    expect hosts-v6-aliases "$out" '2001:db8::77'; }
check reverse 0 "$sockit" resolve 198.18.0.10 && expect reverse "$out" "  name     www.zone.test"
check unknown 68 "$sockit" resolve no-such.test &&
  { [[ -z "$out" ]] || { echo "FAIL unknown wrote stdout: $out"; failures=$((failures + 1)); }
    [[ "$err" == "sockit: resolve no-such.test: Name or service not known" ]] ||
      { echo "FAIL unknown stderr: $err"; failures=$((failures + 1)); }; }
check unknown-v6 68 "$sockit" resolve -6 v4only.zone.test
check some-of-several 1 "$sockit" resolve www.zone.test no-such.test v4only.zone.test &&
  { expect several "$out" "198.18.0.10"; expect several "$out" "198.18.0.11"
    expect several "$err" "sockit: resolve no-such.test: Name or service not known"; }
check json-error 1 "$sockit" resolve --json www.zone.test no-such.test &&
  expect json-error "$out" '{"query":"no-such.test","error":"Name or service not known"}'
# Many names at once: each answered, in input order.
names=(); for i in $(seq 1 40); do names+=(www.zone.test multi.zone.test); done
check bulk 0 "$sockit" resolve --json --parallel 8 "${names[@]}" &&
  { n=$(grep -c '"query":"multi.zone.test"' <<<"$out")
    [[ $n -eq 40 ]] || { echo "FAIL bulk: $n multi answers"; failures=$((failures + 1)); }
    first=$(head -1 <<<"$out"); expect bulk-order "$first" '"query":"www.zone.test"'; }

# connect by an unknown name: 68, and the resolver's reason.
check connect-unknown 68 "$sockit" connect no-such.test 80 </dev/null &&
  { [[ "$err" == "sockit: resolve no-such.test: Name or service not known" ]] ||
      { echo "FAIL connect-unknown stderr: $err"; failures=$((failures + 1)); }; }

if [[ $failures -ne 0 ]]; then
  echo "--- dnsmasq log"; tail -20 "$work/dnsmasq.log"
  exit 1
fi
echo "resolve_dns: all checks passed"
