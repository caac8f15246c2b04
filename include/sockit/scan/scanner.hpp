// scan(): a port scanner on one probe scheduler with pluggable engines — connect() (no
// privilege) or raw TCP SYN (CAP_NET_RAW) — streaming each result as it is found.
//
//   auto targets = scan::TargetVector(scan::expand_target("localhost", {}).value());
//   MySink sink;   // ScanSink: port() for each result, host() for each finished host
//   auto summary = scan::scan(targets, {.ports = scan::parse_ports("1-1024").value()}, sink);
//
// How it decides:
//   open      connected, or a SYN-ACK (a connection to itself — Linux's loopback
//             self-connect on an ephemeral port — is recognised and counts as closed)
//   closed    refused, or a RST
//   filtered  no answer after every try, or an ICMP unreachable
// Timing: each host has an RTT estimator (RFC 6298) fed by every answer (each try is a
// probe of its own); hosts that have not answered yet start from what the others' answers
// taught (a group estimator), and before any answer from `timeout`. A probe waits
// max(min_timeout, srtt + 4·rttvar, 2·srtt), doubling from the second retry on for a host
// that has answered (one that never has gets the same timeout every try). Silence is not
// congestion: a probe unanswered past the hosts' answer horizon stops counting against the
// window and waits as a timer-wheel entry; the window shrinks only when retries get answers
// (the first try was lost) often, and stops growing while answers queue, never for dead
// hosts or firewalled ports.
// Memory follows the work in flight: hosts are taken in (scrambled) order as the ones being
// scanned finish, at most max_hosts at once; results go to the sink as they come.
// Threads: the scheduler runs on the calling thread; the connect engine adds `threads - 1`
// lanes of its own. Sink calls all come from the calling thread.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sockit/result.hpp"
#include "sockit/scan/targets.hpp"

namespace sockit::scan {

enum class PortState : std::uint8_t { Open, Closed, Filtered };
std::string_view to_string(PortState state) noexcept;

enum class ScanType : std::uint8_t {
  Connect,  // -sT: connect(), no privilege needed
  Syn,      // -sS: raw TCP SYN probes, needs CAP_NET_RAW
};

// Host discovery before (or instead of) the port scan.
enum class Discovery : std::uint8_t {
  Auto,   // discover first when there is more than one address; a lone target is scanned as is
  Skip,   // -Pn: every host is scanned
  Force,  // --discover: even a lone target
  Only,   // -sn: find the live hosts, scan no ports
};

// Which probes find a live host. All false: nmap's defaults for the privilege at hand —
// with CAP_NET_RAW, ICMP echo, TCP SYN to 443, TCP ACK to 80 and ICMP timestamp (IPv6:
// ICMPv6 echo, SYN 443, ACK 80); without it, connect() to 80 and 443. Any true one asks for
// exactly those, and the raw ones then need CAP_NET_RAW (EPERM without it).
struct DiscoveryProbes {
  bool echo = false;
  bool timestamp = false;
  bool syn = false;
  bool ack = false;
  std::uint16_t syn_port = 443;
  std::uint16_t ack_port = 80;
  bool any() const noexcept { return echo || timestamp || syn || ack; }
};

enum class HostStatus : std::uint8_t {
  Unknown,  // not discovered (-Pn, or a lone target)
  Up,
  Down,
};
std::string_view to_string(HostStatus status) noexcept;

// The hosts to scan, by index. A TargetVector holds them; a source of its own can generate
// them (a huge range need not be held in memory).
class TargetSource {
 public:
  virtual ~TargetSource() = default;
  virtual std::uint64_t size() const = 0;
  virtual Target at(std::uint64_t index) const = 0;
};

class TargetVector final : public TargetSource {
 public:
  explicit TargetVector(std::vector<Target> targets) : targets_(std::move(targets)) {}
  std::uint64_t size() const override { return targets_.size(); }
  Target at(std::uint64_t index) const override { return targets_[index]; }

 private:
  std::vector<Target> targets_;
};

// Where an interrupted scan stopped: enough for a later scan of the same targets and ports
// to probe exactly what was left, nothing twice (ScanOptions::resume). Its size follows the
// work that was in flight, not the targets.
struct ScanCheckpoint {
  std::uint64_t seed = 0;       // the scan's seed: it fixes the host and port orders
  std::uint64_t next_host = 0;  // hosts before this position in the host order were taken in
  // A host that was taken in but not finished.
  struct Host {
    std::uint64_t position = 0;          // in the host order
    bool discover = false;               // still being discovered: everything is redone
    std::uint32_t issued = 0;            // ports handed out, from the start of its port order
    std::vector<std::uint16_t> pending;  // of those, the ones not decided yet
  };
  std::vector<Host> hosts;
};

struct ScanOptions {
  std::vector<std::uint16_t> ports;
  ScanType type = ScanType::Connect;
  Discovery discovery = Discovery::Auto;
  DiscoveryProbes discovery_probes;
  std::chrono::milliseconds timeout{1000};     // first-try timeout before any RTT is known
  std::chrono::milliseconds min_timeout{100};  // never wait less (a busy host answers late)
  std::chrono::milliseconds max_timeout{3000};
  unsigned retries = 2;        // extra tries for probes that got no answer
  unsigned max_in_flight = 0;  // 0: from RLIMIT_NOFILE (connect), 65536 (SYN)
  double rate = 0;             // probes per second; 0: as fast as answers allow
  bool sequential = false;     // ports and hosts in order instead of scrambled
  unsigned threads = 0;        // connect lanes; 0: one per core for big scans, else one
  bool banner = false;         // read the first line an open port sends (connect scan)
  std::chrono::milliseconds banner_wait{1500};
  bool keep_closed = false;     // report closed ports to the sink too (they are always counted)
  std::uint64_t seed = 0;       // 0: random
  std::uint32_t max_hosts = 0;  // hosts scanned at once; 0: 65536
  // Signals (SIGINT, SIGTERM) that stop the scan cleanly: what was found is kept, the
  // summary says interrupted. Blocked in the calling thread while scan() runs.
  std::vector<int> stop_signals;
  // SYN scan: once the raw sockets are open, give up every capability of the calling
  // thread (and so of the threads it starts later) before the first packet is parsed.
  bool drop_capabilities = false;
  // Continue an interrupted scan of the same targets and ports (ScanSummary::checkpoint):
  // only what it left is probed, in the same order, with its seed. A checkpoint that does
  // not fit the targets and ports is refused (EINVAL).
  std::optional<ScanCheckpoint> resume;
};

struct PortResult {
  std::uint16_t port;
  PortState state;
  std::uint32_t rtt_us;  // time to the answer (0 for filtered)
  std::string banner;
};

// A host whose probes are all done (or, when the scan was interrupted, the part done).
struct HostResult {
  std::uint64_t index = 0;  // the host's index in the TargetSource
  Target target;
  std::uint32_t open = 0;
  std::uint32_t closed = 0;
  std::uint32_t filtered = 0;
  std::uint32_t ports = 0;  // ports the scan has for each host
  bool complete = true;     // false: the scan stopped before every port was probed
  HostStatus status = HostStatus::Unknown;
  std::uint32_t latency_us = 0;  // discovery: the round trip of the answer that found it
  std::string_view reason;       // discovery: "echo-reply", "syn-ack", "reset", …
};

// Where results go, as they are found. Called on the thread that called scan().
class ScanSink {
 public:
  virtual ~ScanSink() = default;
  // Each open and filtered port (and closed ones with keep_closed), once, as it is decided.
  // `host` is the target's index in the TargetSource.
  virtual void port(std::uint64_t host, const Target& target, const PortResult& result) = 0;
  // Each host, once, when every probe to it is done (or at an interruption, the part done);
  // with discovery, hosts found down too (status Down, no ports).
  virtual void host(const HostResult& host) = 0;
  // A batch of results ended: a good moment to write them out.
  virtual void flush() {}
};

struct ScanProgress {
  std::uint64_t done = 0;   // probes decided
  std::uint64_t total = 0;  // hosts x ports
  std::uint64_t open = 0;
  std::uint64_t hosts_done = 0;
  std::uint64_t hosts = 0;
  std::chrono::steady_clock::duration elapsed{};
};

struct ScanSummary {
  std::uint64_t hosts = 0;        // hosts finished (all of them unless interrupted)
  std::uint64_t ports = 0;        // ports per host
  std::uint64_t probes_sent = 0;  // tries included
  std::uint64_t open = 0;
  std::uint64_t hosts_up = 0;    // with discovery
  std::uint64_t hosts_down = 0;  // with discovery
  bool discovered = false;       // host discovery ran
  bool interrupted = false;
  int signal = 0;  // the stop signal that interrupted it
  std::chrono::steady_clock::duration elapsed{};
  // Interrupted with work left: what a resumed scan needs (ScanOptions::resume).
  std::optional<ScanCheckpoint> checkpoint;
};

// Scans every port of every target. `on_progress`, if given, is called about five times a
// second from the calling thread.
Result<ScanSummary> scan(const TargetSource& targets, const ScanOptions& options, ScanSink& sink,
                         const std::function<void(const ScanProgress&)>& on_progress = {});

}  // namespace sockit::scan
