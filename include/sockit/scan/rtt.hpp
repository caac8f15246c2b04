// RttEstimator: round-trip time smoothing and the timeout that follows from it, after
// RFC 6298 (TCP's retransmission timer): srtt, rttvar, timeout = srtt + 4·rttvar, clamped;
// and never under 2·srtt. RFC 6298 expects about one sample a round trip; a scanner takes
// thousands, so rttvar all but vanishes when the samples agree, and a round trip that then
// grows (a queue filling) would outrun a timeout of srtt + ~0.
// One per scanned host. Feed it only unambiguous samples (Karn's rule): an answer that is
// known to belong to one send. A scanner's tries are separate probes (another socket, or
// another source port and sequence number), so an answer to a retry is as unambiguous as
// an answer to a first try.
#pragma once

#include <algorithm>
#include <chrono>

namespace sockit::scan {

class RttEstimator {
 public:
  using Duration = std::chrono::microseconds;

  RttEstimator(Duration initial, Duration min, Duration max)
      : timeout_(initial), min_(min), max_(max) {}

  void sample(Duration rtt) {
    if (samples_ == 0) {
      srtt_ = rtt;
      rttvar_ = rtt / 2;
    } else {
      Duration error = rtt > srtt_ ? rtt - srtt_ : srtt_ - rtt;
      rttvar_ = (3 * rttvar_ + error) / 4;  // beta = 1/4
      srtt_ = (7 * srtt_ + rtt) / 8;        // alpha = 1/8
    }
    ++samples_;
    timeout_ = std::clamp(std::max(srtt_ + 4 * rttvar_, 2 * srtt_), min_, max_);
  }

  Duration timeout() const noexcept { return timeout_; }
  Duration srtt() const noexcept { return srtt_; }
  Duration rttvar() const noexcept { return rttvar_; }
  unsigned samples() const noexcept { return samples_; }

 private:
  Duration srtt_{0};
  Duration rttvar_{0};
  Duration timeout_;
  Duration min_;
  Duration max_;
  unsigned samples_ = 0;
};

}  // namespace sockit::scan
