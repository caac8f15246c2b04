#!/usr/bin/env bash
# Installs the Debian packages sockit needs to build and test, and nothing else; or, given
# package names, just those (scripts/deps.sh clang-14 libclang-rt-14-dev for make fuzz).
# Idempotent: asks dpkg first, and runs `apt-get update` only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config   # toolchain
  libcli11-dev                                   # command line
  libgtest-dev libgmock-dev libbenchmark-dev     # tests and micro-benchmarks
  dnsmasq-base iproute2 util-linux               # DNS tests in a private namespace
  netcat-openbsd socat                           # interop peers for the CLI tests
  libasio-dev                                    # the asio peer in bench/serve_bench.sh
  liburing-dev                                   # the io_uring yardstick in bench/serve_bench.sh
  iptables                                       # dropped packets in test namespaces
  python3                                        # listeners in the scan namespace test
  hostname procps
)

# With arguments, installs those packages instead (make fuzz: clang and its runtimes).
(($#)) && packages=("$@")

missing=()
for p in "${packages[@]}"; do
  # `dpkg-query` prints "install ok installed" only for a fully installed package.
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "deps.sh: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
