#!/usr/bin/env bash
# resolve_bench.sh: `sockit resolve` of a batch of names vs `getent ahosts` (glibc, the same
# NSS path), with no DNS traffic at all: the script re-runs itself under
# `unshare --net --mount`, bind-mounts a generated hosts file (N names, 198.18.x.y) over
# /etc/hosts and a resolv.conf naming 127.0.0.1 (nothing listens there; the namespace has only
# its own loopback) over /etc/resolv.conf, and times both tools on the same batch, alternating
# A B B A. Prints a markdown table (median and min–max wall time, names per second, and whether
# every name came back with its address).
#
#   bench/resolve_bench.sh SOCKIT [--names N] [--reps R]        (root; default 2000 names, 5 reps)
set -euo pipefail

sockit=${1:?usage: resolve_bench.sh SOCKIT [--names N] [--reps R]}
shift
names=2000 reps=5
while (($#)); do
  case "$1" in
    --names) names=$2; shift ;;
    --reps) reps=$2; shift ;;
    *) echo "resolve_bench.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

if [[ "${RESOLVE_BENCH_IN_NS:-}" != 1 ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "resolve_bench.sh: needs root (unshare --net --mount)" >&2; exit 1; }
  export RESOLVE_BENCH_IN_NS=1
  exec timeout 600 unshare --net --mount --propagation private "$0" "$sockit" --names "$names" --reps "$reps"
fi

work=$(mktemp -d /tmp/resolve_bench.XXXXXX)
trap 'umount /etc/hosts /etc/resolv.conf 2>/dev/null || true; rm -rf "$work"' EXIT
ip link set lo up
{
  echo "127.0.0.1 localhost"
  for i in $(seq 0 $((names - 1))); do
    echo "198.18.$((i / 250)).$((i % 250 + 1)) host$i.bench.test"
  done
} >"$work/hosts"
echo "nameserver 127.0.0.1" >"$work/resolv.conf"
mount --bind "$work/hosts" /etc/hosts
mount --bind "$work/resolv.conf" /etc/resolv.conf
mapfile -t batch < <(seq 0 $((names - 1)) | sed 's/.*/host&.bench.test/')
awk 'NR > 1 {print $2, $1}' "$work/hosts" | sort >"$work/truth"

now() { date +%s%N; }
run_one() { # TOOL: time one batch, check the answers
  local t0 t1
  t0=$(now)
  case "$1" in
    sockit) "$sockit" resolve --json "${batch[@]}" >"$work/out" 2>/dev/null || true ;;
    getent) getent ahosts "${batch[@]}" >"$work/out" 2>/dev/null || true ;;
  esac
  t1=$(now)
  echo $(((t1 - t0) / 1000)) >>"$work/$1.us"
  case "$1" in
    sockit) python3 -c '
import json, sys
for line in sys.stdin:
    o = json.loads(line)
    for a in o.get("ipv4", []): print(o["query"], a)' <"$work/out" | sort -u >"$work/got" ;;
    getent) awk '$2 == "STREAM" {print $3, $1}' "$work/out" | sort -u >"$work/got" ;;
  esac
  comm -12 "$work/truth" "$work/got" | wc -l >>"$work/$1.ok"
}
for rep in $(seq "$reps"); do
  order="sockit getent"
  ((rep % 2 == 0)) && order="getent sockit"
  for tool in $order; do run_one "$tool"; done
done

median() { sort -g "$1" | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
echo "| tool | command | wall ms, median (min–max) | names/s | answers right |"
echo "|---|---|---:|---:|---:|"
for tool in sockit getent; do
  m=$(median "$work/$tool.us")
  lo=$(sort -g "$work/$tool.us" | head -1) hi=$(sort -g "$work/$tool.us" | tail -1)
  case "$tool" in
    sockit) cmd="sockit resolve --json NAME..." ;;
    getent) cmd="getent ahosts NAME..." ;;
  esac
  awk -v t="$tool" -v c="$cmd" -v m="$m" -v lo="$lo" -v hi="$hi" -v n="$names" \
    -v ok="$(sort -g "$work/$tool.ok" | head -1)" \
    'BEGIN {printf "| %s | `%s` | %.1f (%.1f–%.1f) | %.0f | %d/%d |\n", t, c, m/1e3, lo/1e3, hi/1e3, n/(m/1e6), ok, n}'
done
