#include "sockit/scan/scanner.hpp"

#include <algorithm>
#include <memory>
#include <random>
#include <thread>

#include "scan/connect_engine.hpp"
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

Result<ScanSummary> scan(const TargetSource& targets, const ScanOptions& options, ScanSink& sink,
                         const std::function<void(const ScanProgress&)>& on_progress) {
  ScanOptions o = options;
  if (o.seed == 0) o.seed = std::random_device{}() | 1;
  const std::uint64_t total = targets.size() * o.ports.size();

  unsigned lanes = o.threads;
  if (lanes == 0) {
    // A connect costs the kernel ~16 µs here: big scans need both cores, small ones don't.
    lanes = total >= 4096 ? std::max(1u, std::thread::hardware_concurrency()) : 1;
  }
  lanes =
      static_cast<unsigned>(std::clamp<std::uint64_t>(lanes, 1, std::max<std::uint64_t>(total, 1)));
  const unsigned in_flight = o.max_in_flight != 0 ? o.max_in_flight : default_connect_in_flight();

  ConnectEngine engine({.lanes = lanes, .banner = o.banner, .banner_wait = o.banner_wait});
  Scheduler scheduler(targets, o, ProbeKind::TcpConnect, engine, in_flight, sink, on_progress);
  return scheduler.run();
}

}  // namespace sockit::scan
