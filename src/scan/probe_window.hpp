// ProbeWindow: how many probes the scheduler keeps "young" — sent, unanswered, and not yet
// older than the answer horizon (the time by which the hosts that do answer have answered).
// Internal to the scanner; one per scheduler, no locking.
//
// Silence is not congestion. A probe older than the horizon leaves the window (it goes on
// waiting for its timeout as a timer entry only), so dead hosts and firewalled ports cost
// no window at all; the window moves only on what answering hosts show:
// - every answer widens it by one (slow start); so does a probe that ages out before any
//   host has answered at all (a dead range: silence, and nothing else to go by);
// - but an answer whose round trip is well over its host's smallest does not: a queue is
//   growing on the path, and a wider window would only make it longer (HyStart's rule, on
//   every answer rather than once);
// - it halves only on evidence of loss from hosts that answer: a retry that gets an answer
//   means the try before it was lost. A high share of such answers is congestion; the odd
//   one (random loss on the path) is what retries are for and changes nothing.
// Beside the window, a cap of what the path needs (BBR's rule): twice the completion rate
// times how long a probe stays young — the hosts' smallest round trip if answered, the
// horizon if not. More young probes buy nothing on a fast target (loopback, a LAN): the
// answers queue in the scanner, each then looks slow, and thousands of live sockets make
// every connect() dearer (bench/scan_bench.sh). The cap starts small, so the first round
// trips are measured before the scanner's own backlog can inflate them.
// Both stay within [1, max_in_flight].
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace sockit::scan {

class ProbeWindow {
 public:
  using Clock = std::chrono::steady_clock;
  using Micros = std::chrono::microseconds;

  static constexpr unsigned kMinWindow = 32;
  static constexpr unsigned kInitialWindow = 512;
  static constexpr unsigned kLossWindow = 256;     // recent answers the loss rate is taken over
  static constexpr double kCongestionLoss = 0.20;  // more retried answers than this: congestion
  static constexpr double kCapGain = 2.0;
  static constexpr auto kRateInterval = std::chrono::milliseconds(10);
  static constexpr std::size_t kRateSlots = 10;  // the rate is the best of the last 100 ms

  // `horizon`: the answer horizon before any round trip is known.
  ProbeWindow(unsigned max_in_flight, Micros horizon);

  // Young probes that may be in flight now.
  unsigned limit() const noexcept;
  unsigned max_in_flight() const noexcept { return max_in_flight_; }
  double window() const noexcept { return window_; }
  unsigned cap() const noexcept { return cap_; }

  // The base round trip is the mean of the smallest RTT of each host being scanned: a
  // probe spends at least its host's smallest RTT in flight, and probes are spread over
  // the hosts. The scheduler reports each host's minimum as it changes and when it leaves.
  void host_min_rtt(Micros old_min, Micros new_min);  // old_min 0: the host's first sample
  void host_left(Micros min);

  struct Answer {
    bool retry = false;    // it was a retry: an earlier try was lost
    bool delayed = false;  // its round trip is well over its host's smallest: a queue grows
    bool aged = false;     // it had aged out already (and was counted as done then)
  };
  // A probe was answered at `now`.
  void answered(Clock::time_point now, Answer answer);
  // A young probe passed the horizon `horizon` unanswered (it still waits for its timeout).
  void aged(Clock::time_point now, Micros horizon);
  // Out of descriptors with `in_flight` open: use a few fewer from now on.
  void out_of_descriptors(unsigned in_flight);
  // Out of local ports (TIME_WAIT): halve the window.
  void out_of_ports();

 private:
  void completed(Clock::time_point now);

  unsigned max_in_flight_;
  double window_;
  unsigned cap_;
  double horizon_us_;  // how long unanswered probes stay young, smoothed
  std::uint64_t min_rtt_sum_ = 0;
  std::uint32_t hosts_sampled_ = 0;
  double base_rtt_us_ = 0;  // the last mean, kept when no host is left to sample
  Clock::time_point interval_start_{};
  std::uint64_t interval_done_ = 0;
  std::array<double, kRateSlots> rate_slots_{};
  std::size_t rate_slot_ = 0;
  unsigned recent_answers_ = 0;  // fading counts over about kLossWindow answers
  unsigned recent_retried_ = 0;
  unsigned recent_done_ = 0;  // and over about kLossWindow completions
  unsigned recent_aged_ = 0;
};

}  // namespace sockit::scan
