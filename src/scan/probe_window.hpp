// ProbeWindow: how many connect() probes one scan worker keeps in flight. Internal to the
// scanner; one per worker thread, no locking.
//
// Two limits, and the smaller one applies:
// - the window, moved by loss: every answer widens it by one, and only a high recent loss
//   rate (congestion, not the random loss of a lossy path, which retries cover) halves it;
// - the cap, what the path needs (BBR's rule): twice the completion rate times how long a
//   probe stays in flight — the hosts' smallest round trip if answered, the wait if not.
//   More in flight buys nothing on a fast target (loopback, a LAN): answers queue up behind
//   each other in the loop, each then looks slow, and thousands of live sockets make every
//   connect() dearer — with 2048 in flight per thread instead of 32, a loopback -p- took
//   ~50 % more CPU (bench/scan_bench.sh). The cap starts small, so the first round trips are
//   measured before the scanner's own backlog can inflate them.
// Both stay within [1, max_in_flight], the descriptors the worker may use.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sockit::scan {

class ProbeWindow {
 public:
  using Clock = std::chrono::steady_clock;
  using Micros = std::chrono::microseconds;

  static constexpr unsigned kMinWindow = 32;
  static constexpr unsigned kInitialWindow = 512;
  static constexpr unsigned kLossWindow = 256;     // recent probes the loss rate is taken over
  static constexpr double kCongestionLoss = 0.30;  // more lost than this: congestion
  static constexpr double kCapGain = 2.0;
  static constexpr auto kRateInterval = std::chrono::milliseconds(10);
  static constexpr std::size_t kRateSlots = 10;  // the rate is the best of the last 100 ms

  // `hosts`: how many hosts the scan has; `initial_wait`: the shortest probe timeout.
  ProbeWindow(std::size_t hosts, unsigned max_in_flight, Micros initial_wait);

  // Probes (not counting open ports reading a banner) that may be in flight now.
  unsigned limit() const noexcept;
  // Descriptors the worker may hold at once, banners included.
  unsigned max_in_flight() const noexcept { return max_in_flight_; }
  double window() const noexcept { return window_; }
  unsigned cap() const noexcept { return cap_; }

  // An unambiguous round trip to `host` (an answer to a first try: Karn's rule).
  void sample(std::uint32_t host, Micros rtt);
  // A probe was answered (open or closed) at `now`.
  void answered(Clock::time_point now);
  // A probe got no answer after waiting `waited`.
  void lost(Clock::time_point now, Micros waited);
  // Out of descriptors with `in_flight` open: use a few fewer from now on.
  void out_of_descriptors(unsigned in_flight);
  // Out of local ports (TIME_WAIT): halve the window.
  void out_of_ports();

 private:
  void completed(Clock::time_point now);
  void note(bool lost);

  unsigned max_in_flight_;
  double window_;
  unsigned cap_;
  double wait_us_;                         // how long unanswered probes waited, smoothed
  std::vector<std::uint32_t> min_rtt_us_;  // per host, 0: no sample yet
  std::uint64_t min_rtt_sum_ = 0;          // of min_rtt_us_
  std::uint32_t hosts_sampled_ = 0;        // hosts with a min_rtt_us_
  Clock::time_point interval_start_{};
  std::uint64_t interval_done_ = 0;
  std::array<double, kRateSlots> rate_slots_{};
  std::size_t rate_slot_ = 0;
  unsigned recent_ = 0;
  unsigned recent_lost_ = 0;
};

}  // namespace sockit::scan
