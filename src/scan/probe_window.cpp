#include "scan/probe_window.hpp"

#include <algorithm>

namespace sockit::scan {

ProbeWindow::ProbeWindow(std::size_t hosts, unsigned max_in_flight, Micros initial_wait)
    : max_in_flight_(std::max(max_in_flight, 1u)),
      window_(std::min<double>(kInitialWindow, max_in_flight_)),
      cap_(std::min(kMinWindow, max_in_flight_)),  // until the first completion rate
      wait_us_(static_cast<double>(initial_wait.count())),
      min_rtt_us_(hosts, 0) {}

unsigned ProbeWindow::limit() const noexcept {
  return std::min({static_cast<unsigned>(window_), cap_, max_in_flight_});
}

// The smallest round trip each host has shown: their mean is the base RTT of the cap (a
// probe to a host spends at least that host's smallest RTT in flight, and probes are spread
// evenly over the hosts).
void ProbeWindow::sample(std::uint32_t host, Micros rtt) {
  auto us = static_cast<std::uint32_t>(std::max<std::int64_t>(1, rtt.count()));
  std::uint32_t& low = min_rtt_us_[host];
  if (low == 0) {
    ++hosts_sampled_;
    min_rtt_sum_ += us;
    low = us;
  } else if (us < low) {
    min_rtt_sum_ -= low - us;
    low = us;
  }
}

void ProbeWindow::answered(Clock::time_point now) {
  note(false);
  if (window_ < max_in_flight_) window_ = std::min<double>(max_in_flight_, window_ + 1);
  completed(now);
}

void ProbeWindow::lost(Clock::time_point now, Micros waited) {
  wait_us_ += (static_cast<double>(waited.count()) - wait_us_) / 8;
  note(true);
  completed(now);
  if (recent_ >= kLossWindow / 2 && static_cast<double>(recent_lost_) / recent_ > kCongestionLoss) {
    window_ = std::max<double>(std::min(kMinWindow, max_in_flight_), window_ * 0.5);
    recent_ = recent_lost_ = 0;  // judge the new window on fresh evidence
  }
}

void ProbeWindow::out_of_descriptors(unsigned in_flight) {
  window_ = std::max<double>(1, in_flight > 8 ? in_flight - 8 : 1);
  max_in_flight_ = std::max(1u, static_cast<unsigned>(window_));
}

void ProbeWindow::out_of_ports() {
  window_ = std::max<double>(std::min(kMinWindow, max_in_flight_), window_ / 2);
}

// Counts a completion (answer or timeout) and, every kRateInterval, takes the completion
// rate and recomputes the cap.
void ProbeWindow::completed(Clock::time_point now) {
  ++interval_done_;
  if (interval_start_ == Clock::time_point{}) interval_start_ = now;
  const auto elapsed = std::chrono::duration_cast<Micros>(now - interval_start_);
  if (elapsed < kRateInterval) return;
  rate_slots_[rate_slot_++ % kRateSlots] =
      static_cast<double>(interval_done_) / static_cast<double>(elapsed.count());
  interval_done_ = 0;
  interval_start_ = now;
  if (hosts_sampled_ == 0) {  // only timeouts so far: nothing to size a cap by
    cap_ = max_in_flight_;
    return;
  }
  const double base_rtt_us =
      static_cast<double>(min_rtt_sum_) / static_cast<double>(hosts_sampled_);
  const double rate = *std::max_element(rate_slots_.begin(), rate_slots_.end());  // per µs
  const double loss = recent_ > 0 ? static_cast<double>(recent_lost_) / recent_ : 0;
  const double occupancy_us = (1 - loss) * base_rtt_us + loss * wait_us_;
  cap_ = static_cast<unsigned>(std::clamp<double>(
      kCapGain * rate * occupancy_us, std::min(kMinWindow, max_in_flight_), max_in_flight_));
}

// An exponentially fading count of answers and losses over about kLossWindow probes.
void ProbeWindow::note(bool lost) {
  if (recent_ >= kLossWindow) {
    recent_ = recent_ * 3 / 4;
    recent_lost_ = recent_lost_ * 3 / 4;
  }
  ++recent_;
  if (lost) ++recent_lost_;
}

}  // namespace sockit::scan
