// scan(): a connect() port scanner on the event loop — many probes in flight, per-host
// adaptive timeouts, retries only for probes that got no answer.
//
//   auto targets = scan::expand_target("localhost", {}).value();
//   auto report = scan::scan(targets, {.ports = scan::parse_ports("1-1024").value()});
//
// How it decides:
//   open      the connection was made (a connection to itself — Linux's loopback
//             self-connect on an ephemeral port — is recognised and counts as closed)
//   closed    refused (RST)
//   filtered  no answer after every try, or an ICMP unreachable
// Timeouts: each host has an RTT estimator (RFC 6298) fed by first-try answers; a probe
// waits max(min_timeout, srtt + 4·rttvar), doubling per retry. Loss response: a window of
// probes in flight grows while answers come back; it shrinks only when most recent probes
// time out (congestion), not for the odd lost reply (random loss), which retries cover —
// so a 1%-loss path keeps its speed where nmap's halving would crawl. The window is also
// capped at what the path needs — twice the completion rate times the hosts' smallest RTT
// (or the timeout, for probes that go unanswered) — so a fast target (loopback) doesn't
// queue answers inside the scanner and spend CPU on them.
// Threads: `threads` workers, each with its own loop and a disjoint share of the probes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sockit/result.hpp"
#include "sockit/scan/targets.hpp"

namespace sockit::scan {

enum class PortState : std::uint8_t { Open, Closed, Filtered };
std::string_view to_string(PortState state) noexcept;

struct ScanOptions {
  std::vector<std::uint16_t> ports;
  std::chrono::milliseconds timeout{1000};     // first-try timeout before any RTT is known
  std::chrono::milliseconds min_timeout{100};  // never wait less (a busy host answers late)
  std::chrono::milliseconds max_timeout{3000};
  unsigned retries = 2;        // extra tries for probes that got no answer
  unsigned max_in_flight = 0;  // 0: from RLIMIT_NOFILE (soft limit raised to hard)
  double rate = 0;             // connects per second; 0: as fast as answers allow
  bool sequential = false;     // ports and hosts in order instead of scrambled
  unsigned threads = 0;        // 0: one per core for big scans, else one
  bool banner = false;         // read the first line an open port sends
  std::chrono::milliseconds banner_wait{1500};
  bool keep_closed = false;  // list closed ports too (they are always counted)
  std::uint64_t seed = 0;    // 0: random
};

struct PortResult {
  std::uint16_t port;
  PortState state;
  std::uint32_t rtt_us;  // time to the answer (0 for filtered)
  std::string banner;
};

struct HostReport {
  Target target;
  std::vector<PortResult> ports;  // open and filtered (and closed if keep_closed), by port
  std::uint32_t open = 0;
  std::uint32_t closed = 0;
  std::uint32_t filtered = 0;
};

struct ScanProgress {
  std::uint64_t done = 0;
  std::uint64_t total = 0;
  std::uint64_t open = 0;
  std::chrono::steady_clock::duration elapsed{};
};

// Scans every port of every target. `on_progress`, if given, is called about five times a
// second from one of the scan's threads.
Result<std::vector<HostReport>> scan(
    const std::vector<Target>& targets, const ScanOptions& options,
    const std::function<void(const ScanProgress&)>& on_progress = {});

}  // namespace sockit::scan
