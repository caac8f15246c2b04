// Scheduler: the engine-neutral heart of scan() — which probe goes next, when, and what an
// answer or a silence means. Internal to the scanner.
//
// Work: hosts are taken in the scan's (scrambled) host order as earlier ones finish, at
// most max_hosts at once; up to kSpread of them hand out ports in turn (round robin), each
// in the scan's port order from an offset of its own, so no host and no port gets a burst.
// Retries go before new work. A host is written to the sink the moment its last probe is
// decided, and forgotten. Memory: O(max_hosts + probes in flight), never O(targets).
//
// Timing (see probe_window.hpp for the window): per-host RTT estimators, a group estimator
// for hosts that have not answered yet, timeouts on a TimerWheel, and an answer horizon
// after which a probe stops counting against the window.
//
// Single-threaded: everything, engine callbacks included, runs on the loop run() creates.
// It keeps references to the targets, the options and the sink: they must outlive it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "scan/engine.hpp"
#include "scan/probe_window.hpp"
#include "scan/timer_wheel.hpp"
#include "sockit/event_loop.hpp"
#include "sockit/scan/permutation.hpp"
#include "sockit/scan/rtt.hpp"
#include "sockit/scan/scanner.hpp"

namespace sockit::scan {

// Probe ids: a slot index in the low bits, the slot's generation above, so an answer for a
// slot that has since been reused is recognised as stale.
inline constexpr unsigned kSlotBits = 22;
inline constexpr std::uint32_t kMaxSlots = std::uint32_t{1} << kSlotBits;
inline constexpr std::uint32_t slot_of(std::uint32_t id) {
  return id & (kMaxSlots - 1);
}

// A discovery probe: what to send a host to learn whether it is up.
struct DiscoveryProbe {
  ProbeKind kind;
  std::uint16_t port;  // TCP kinds
};

// What a scan sends, and through which engines (the same object may serve both).
struct ScanPlan {
  ProbeKind port_kind = ProbeKind::TcpConnect;
  Engine* port_engine = nullptr;
  Engine* discovery_engine = nullptr;  // nullptr: no discovery
  std::vector<DiscoveryProbe> discover_v4, discover_v6;
  bool scan_ports = true;  // false: discovery only (-sn)
  std::uint32_t max_in_flight = 4096;
};

// How long try `attempt` (0: the first) of a probe to a host waits for its answer, given
// what the host's and the group's estimators have learned.
std::chrono::microseconds probe_timeout(const RttEstimator& host, const RttEstimator& group,
                                        const ScanOptions& o, unsigned attempt);

class Scheduler final : private EngineEvents {
 public:
  using Clock = EventLoop::Clock;
  using Micros = std::chrono::microseconds;

  static constexpr std::size_t kSpread = 256;  // hosts handing out ports at once, at most

  // What the scheduler peaked at, for tests that bound its memory.
  struct Stats {
    std::size_t max_active_hosts = 0;
    std::size_t max_in_flight = 0;
    std::size_t max_retry_queue = 0;
    std::size_t max_young_queue = 0;
    double min_window = 0;  // the smallest the loss window got after it first grew
  };

  Scheduler(const TargetSource& targets, const ScanOptions& options, ScanPlan plan, ScanSink& sink,
            std::function<void(const ScanProgress&)> progress);
  ~Scheduler();

  Result<ScanSummary> run();
  const Stats& stats() const noexcept { return stats_; }

 private:
  static constexpr std::size_t kMaxDiscoveryProbes = 4;
  enum class Phase : std::uint8_t { Discover, Scan };

  struct Host {
    Target target;
    std::uint64_t index = 0;     // in the TargetSource
    std::uint64_t position = 0;  // in the host order
    RttEstimator rtt;
    std::uint32_t min_rtt_us = 0;
    std::uint32_t issued = 0;   // ports handed out (first tries)
    std::uint32_t pending = 0;  // of those, not yet decided
    std::uint32_t offset = 0;   // where in the port order this host starts
    std::uint32_t open = 0, closed = 0, filtered = 0;
    std::uint32_t latency_us = 0;
    std::uint16_t generation = 0;  // tells a reused host slot from the host that had it
    Phase phase = Phase::Scan;
    HostStatus status = HostStatus::Unknown;
    std::uint8_t discovery_issued = 0;
    std::uint8_t discovery_pending = 0;
    std::array<std::uint32_t, kMaxDiscoveryProbes> discovery_ids{};  // live probe ids, 0: none
    const char* reason = "";
    bool live = false;
    bool in_ready = false;
  };
  struct Slot {
    Clock::time_point sent;
    std::uint32_t host = 0;
    std::uint16_t port = 0;
    std::uint16_t generation = 0;
    std::uint8_t attempt = 0;
    std::uint8_t probe = 0;  // discovery: which of the plan's probes
    ProbeKind kind = ProbeKind::TcpConnect;
    bool discovery = false;
    bool live = false;
    bool young = false;
  };
  struct Work {
    std::uint32_t host;
    std::uint16_t host_generation;
    std::uint16_t port;
    std::uint8_t attempt;
    std::uint8_t probe;
    ProbeKind kind;
    bool discovery;
  };
  struct Sent {  // the young queue: probes in the order they were sent
    std::uint32_t slot;
    std::uint16_t generation;
    Clock::time_point at;
  };

  // EngineEvents
  void answered(const Reply& reply) override;
  void lost(std::uint32_t id) override;
  void replies_done() override;
  void failed(Error error) override;

  void fill();
  bool next_work(Work& work);
  bool admit();
  void take_in(std::uint64_t position, std::uint32_t issued,
               const std::vector<std::uint16_t>* pending, bool discover);
  ScanCheckpoint checkpoint() const;
  std::uint64_t remaining_probes() const;
  StartStatus start(const Work& work, Clock::time_point now);
  void conclude(std::uint32_t index, PortState state, std::uint32_t rtt_us,
                std::string_view banner);
  void discovered(std::uint32_t index, const Reply& reply, std::uint32_t rtt_us);
  void discovery_failed(std::uint32_t host_index);
  void host_up(std::uint32_t host_index, const char* reason, std::uint32_t rtt_us);
  const std::vector<DiscoveryProbe>& discovery_plan(const Host& host) const;
  Engine& engine_for(const Slot& slot) {
    return slot.discovery ? *plan_.discovery_engine : *plan_.port_engine;
  }
  template <class Fn>
  void each_engine(Fn&& fn);
  void record(Host& host, std::uint32_t host_index, std::uint16_t port, PortState state,
              std::uint32_t rtt_us, std::string_view banner);
  void finish_host(std::uint32_t host_index, bool complete);
  void free_slot(std::uint32_t index);
  void age_young(Clock::time_point now);
  void on_wheel();
  void arm_wheel(Clock::time_point now);
  void wake_at(Clock::time_point when, Clock::time_point now);
  bool take_token(Clock::time_point now);
  void stop(int signo);
  bool finished() const;
  void report_progress();

  Micros timeout_for(const Host& host, unsigned attempt) const;
  Micros horizon() const;
  void sample(Host& host, Micros rtt);
  void retime_in_flight();

  const TargetSource& targets_;
  const ScanOptions& o_;
  ScanPlan plan_;
  ScanSink& sink_;
  std::function<void(const ScanProgress&)> progress_;

  const std::uint64_t host_count_;
  const std::uint32_t port_count_;
  Permutation host_order_;
  Permutation port_order_;
  std::uint64_t next_host_ = 0;               // in host order
  std::deque<ScanCheckpoint::Host> resumed_;  // a resumed scan's unfinished hosts, taken in first
  std::uint64_t total_ = 0;                   // probes (first tries) this run has to decide
  std::optional<ScanCheckpoint> checkpoint_;  // made at an interruption
  std::uint32_t max_hosts_;

  std::vector<Host> hosts_;
  std::vector<std::uint32_t> free_hosts_;
  std::size_t active_hosts_ = 0;
  std::deque<std::uint32_t> ready_;  // hosts with ports still to hand out

  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::deque<Work> retries_;
  std::deque<Sent> young_queue_;
  TimerWheel wheel_;

  ProbeWindow window_;
  RttEstimator group_rtt_;
  std::uint32_t in_flight_ = 0;
  std::uint32_t young_ = 0;
  double rate_ = 0;
  double tokens_ = 0;
  Clock::time_point last_refill_{};

  std::unique_ptr<EventLoop> loop_;
  Timer wheel_timer_;
  Clock::time_point wheel_armed_ = Clock::time_point::max();
  Timer wake_timer_;
  Clock::time_point wake_armed_ = Clock::time_point::max();
  Timer ticker_;
  std::vector<SignalWatch> signals_;

  bool filling_ = false;
  bool expiring_ = false;
  bool stopped_ = false;
  int stop_signal_ = 0;
  std::optional<Error> fatal_;
  Clock::time_point start_;
  std::uint64_t decided_ = 0;
  std::uint64_t open_ = 0;
  std::uint64_t hosts_done_ = 0;
  std::uint64_t hosts_up_ = 0;
  std::uint64_t hosts_down_ = 0;
  std::uint64_t probes_sent_ = 0;
  Stats stats_;
};

}  // namespace sockit::scan
