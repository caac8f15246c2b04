#include "sockit/scan/scanner.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include "scan/connect_engine.hpp"
#include "scan/raw_engine.hpp"
#include "scan/scheduler.hpp"
#include "sys/sys.hpp"

namespace sockit::scan {
namespace {

unsigned default_connect_in_flight() {
  // Leave room for the loop, stdio and the resolver; past a few thousand, more connects
  // in flight only queue in the kernel.
  std::size_t limit = sys::raise_open_file_limit();
  std::size_t usable = limit > 128 ? limit - 64 : 64;
  return static_cast<unsigned>(std::min<std::size_t>(usable, 4096));
}

// A SYN probe in flight costs a few dozen bytes and no descriptor.
constexpr unsigned kSynInFlight = 65536;

}  // namespace

std::string_view to_string(PortState state) noexcept {
  switch (state) {
    case PortState::Open:
      return "open";
    case PortState::Closed:
      return "closed";
    case PortState::Filtered:
      return "filtered";
  }
  return "?";
}

std::string_view to_string(HostStatus status) noexcept {
  switch (status) {
    case HostStatus::Unknown:
      return "unknown";
    case HostStatus::Up:
      return "up";
    case HostStatus::Down:
      return "down";
  }
  return "?";
}

namespace {

// A checkpoint fits when everything it names exists in this scan: positions within the
// targets, counts within the ports, pending ports among them.
Result<void> check_checkpoint(const ScanCheckpoint& c, std::uint64_t hosts,
                              const std::vector<std::uint16_t>& ports) {
  const Error misfit(std::make_error_code(std::errc::invalid_argument),
                     "resume: the checkpoint does not fit these targets and ports");
  if (c.seed == 0 || c.next_host > hosts) return misfit;
  std::vector<std::uint16_t> sorted = ports;
  std::sort(sorted.begin(), sorted.end());
  for (const auto& h : c.hosts) {
    if (h.position >= c.next_host || h.issued > ports.size() || h.pending.size() > h.issued)
      return misfit;
    for (std::uint16_t port : h.pending)
      if (!std::binary_search(sorted.begin(), sorted.end(), port)) return misfit;
  }
  return {};
}

}  // namespace

Result<ScanSummary> scan(const TargetSource& targets, const ScanOptions& options, ScanSink& sink,
                         const std::function<void(const ScanProgress&)>& on_progress) {
  ScanOptions o = options;
  if (o.resume) {
    if (auto fits = check_checkpoint(*o.resume, targets.size(), o.ports); !fits)
      return std::move(fits).error();
    o.seed = o.resume->seed;
  }
  if (o.seed == 0) o.seed = std::random_device{}() | 1;
  const std::uint64_t total = targets.size() * o.ports.size();

  const bool discover = o.discovery == Discovery::Only || o.discovery == Discovery::Force ||
                        (o.discovery == Discovery::Auto && targets.size() > 1);
  const bool scan_ports = o.discovery != Discovery::Only;
  // Privileged discovery when asked for by name, or when raw sockets are there anyway.
  const bool raw_discovery =
      discover && (o.discovery_probes.any() || o.type == ScanType::Syn || RawEngine::permitted());
  const bool raw = (scan_ports && o.type == ScanType::Syn) || raw_discovery;
  const bool connect = (scan_ports && o.type == ScanType::Connect) || (discover && !raw_discovery);

  unsigned lanes = o.threads;
  if (lanes == 0) {
    // A connect costs the kernel ~16 µs here: big scans need both cores, small ones don't.
    lanes = total >= 4096 ? std::max(1u, std::thread::hardware_concurrency()) : 1;
  }
  lanes =
      static_cast<unsigned>(std::clamp<std::uint64_t>(lanes, 1, std::max<std::uint64_t>(total, 1)));

  std::optional<RawEngine> raw_engine;
  std::optional<ConnectEngine> connect_engine;
  if (raw) raw_engine.emplace(o.drop_capabilities);
  if (connect) connect_engine.emplace(ConnectEngine::Options{lanes, o.banner, o.banner_wait});

  ScanPlan plan;
  plan.scan_ports = scan_ports;
  if (o.type == ScanType::Syn) {
    plan.port_kind = ProbeKind::TcpSyn;
    plan.port_engine = raw ? &*raw_engine : nullptr;
  } else {
    plan.port_kind = ProbeKind::TcpConnect;
    plan.port_engine = connect ? &*connect_engine : nullptr;
  }
  if (discover) {
    plan.discovery_engine = raw_discovery ? static_cast<Engine*>(&*raw_engine) : &*connect_engine;
    if (!raw_discovery) {
      plan.discover_v4 = {{ProbeKind::TcpConnect, 80}, {ProbeKind::TcpConnect, 443}};
      plan.discover_v6 = plan.discover_v4;
    } else if (o.discovery_probes.any()) {
      const DiscoveryProbes& d = o.discovery_probes;
      if (d.echo) plan.discover_v4.push_back({ProbeKind::IcmpEcho, 0});
      if (d.syn) plan.discover_v4.push_back({ProbeKind::TcpSyn, d.syn_port});
      if (d.ack) plan.discover_v4.push_back({ProbeKind::TcpAck, d.ack_port});
      plan.discover_v6 = plan.discover_v4;
      if (d.timestamp) plan.discover_v4.push_back({ProbeKind::IcmpTimestamp, 0});
      if (plan.discover_v6.empty()) plan.discover_v6.push_back({ProbeKind::IcmpEcho, 0});
    } else {
      // nmap's defaults as root.
      plan.discover_v6 = {
          {ProbeKind::IcmpEcho, 0}, {ProbeKind::TcpSyn, 443}, {ProbeKind::TcpAck, 80}};
      plan.discover_v4 = plan.discover_v6;
      plan.discover_v4.push_back({ProbeKind::IcmpTimestamp, 0});
    }
  }
  if (plan.port_engine == nullptr) plan.port_engine = plan.discovery_engine;
  if (plan.port_engine == nullptr) return ScanSummary{};  // nothing to do
  plan.max_in_flight = o.max_in_flight != 0 ? o.max_in_flight
                       : connect            ? default_connect_in_flight()
                                            : kSynInFlight;
  Scheduler scheduler(targets, o, std::move(plan), sink, on_progress);
  return scheduler.run();
}

}  // namespace sockit::scan
