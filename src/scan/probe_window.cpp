#include "scan/probe_window.hpp"

#include <algorithm>

namespace sockit::scan {

ProbeWindow::ProbeWindow(unsigned max_in_flight, Micros horizon)
    : max_in_flight_(std::max(max_in_flight, 1u)),
      window_(std::min<double>(kInitialWindow, max_in_flight_)),
      cap_(std::min(kMinWindow, max_in_flight_)),  // until the first completion rate
      horizon_us_(static_cast<double>(horizon.count())) {}

unsigned ProbeWindow::limit() const noexcept {
  return std::min({static_cast<unsigned>(window_), cap_, max_in_flight_});
}

void ProbeWindow::host_min_rtt(Micros old_min, Micros new_min) {
  const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(1, new_min.count()));
  if (old_min.count() <= 0) {
    ++hosts_sampled_;
    min_rtt_sum_ += us;
  } else {
    min_rtt_sum_ -=
        std::min<std::uint64_t>(min_rtt_sum_, static_cast<std::uint64_t>(old_min.count()));
    min_rtt_sum_ += us;
  }
  base_rtt_us_ = static_cast<double>(min_rtt_sum_) / hosts_sampled_;
}

void ProbeWindow::host_left(Micros min) {
  if (min.count() <= 0 || hosts_sampled_ == 0) return;
  --hosts_sampled_;
  min_rtt_sum_ -= std::min<std::uint64_t>(min_rtt_sum_, static_cast<std::uint64_t>(min.count()));
  if (hosts_sampled_ > 0) base_rtt_us_ = static_cast<double>(min_rtt_sum_) / hosts_sampled_;
}

void ProbeWindow::answered(Clock::time_point now, Answer a) {
  if (recent_answers_ >= kLossWindow) {
    recent_answers_ = recent_answers_ * 3 / 4;
    recent_retried_ = recent_retried_ * 3 / 4;
  }
  ++recent_answers_;
  if (a.retry) ++recent_retried_;
  if (a.retry && recent_answers_ >= kLossWindow / 2 &&
      static_cast<double>(recent_retried_) / recent_answers_ > kCongestionLoss) {
    window_ = std::max<double>(std::min(kMinWindow, max_in_flight_), window_ * 0.5);
    recent_answers_ = recent_retried_ = 0;  // judge the new window on fresh evidence
  } else if (!a.delayed && window_ < max_in_flight_) {
    window_ = std::min<double>(max_in_flight_, window_ + 1);
  }
  // A probe is done once: when it aged out, or now. Counting a late answer again would make
  // a path that delays answers past the horizon look faster than it is.
  if (!a.aged) completed(now);
}

void ProbeWindow::aged(Clock::time_point now, Micros horizon) {
  horizon_us_ += (static_cast<double>(horizon.count()) - horizon_us_) / 8;
  ++recent_aged_;
  // Nothing has answered yet: no loss to read and no path to learn, only silence, which is
  // not congestion. A probe that aged out completed as an answer would have (slow start),
  // or a dead range would be swept at the initial window per horizon however many probes
  // the scan may have in flight. Once any host answers, only answers widen the window: a
  // lost first try also ages before its retry is answered.
  if (hosts_sampled_ == 0 && base_rtt_us_ <= 0 && window_ < max_in_flight_)
    window_ = std::min<double>(max_in_flight_, window_ + 1);
  completed(now);
}

void ProbeWindow::out_of_descriptors(unsigned in_flight) {
  window_ = std::max<double>(1, in_flight > 8 ? in_flight - 8 : 1);
  max_in_flight_ = std::max(1u, static_cast<unsigned>(window_));
}

void ProbeWindow::out_of_ports() {
  window_ = std::max<double>(std::min(kMinWindow, max_in_flight_), window_ / 2);
}

// Counts a completion (an answer, or a probe aging out) and, every kRateInterval, takes the
// completion rate and recomputes the cap.
void ProbeWindow::completed(Clock::time_point now) {
  if (recent_done_ >= kLossWindow) {
    recent_done_ = recent_done_ * 3 / 4;
    recent_aged_ = recent_aged_ * 3 / 4;
  }
  ++recent_done_;
  ++interval_done_;
  if (interval_start_ == Clock::time_point{}) interval_start_ = now;
  const auto elapsed = std::chrono::duration_cast<Micros>(now - interval_start_);
  if (elapsed < kRateInterval) return;
  rate_slots_[rate_slot_++ % kRateSlots] =
      static_cast<double>(interval_done_) / static_cast<double>(elapsed.count());
  interval_done_ = 0;
  interval_start_ = now;
  if (base_rtt_us_ <= 0) {  // nothing answered yet: nothing to size a cap by
    cap_ = max_in_flight_;
    return;
  }
  const double rate = *std::max_element(rate_slots_.begin(), rate_slots_.end());  // per µs
  const double unanswered = std::min<double>(1, static_cast<double>(recent_aged_) / recent_done_);
  const double occupancy_us = (1 - unanswered) * base_rtt_us_ + unanswered * horizon_us_;
  cap_ = static_cast<unsigned>(std::clamp<double>(
      kCapGain * rate * occupancy_us, std::min(kMinWindow, max_in_flight_), max_in_flight_));
}

}  // namespace sockit::scan
