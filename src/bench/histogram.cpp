#include "sockit/bench/histogram.hpp"

#include <algorithm>
#include <bit>

namespace sockit::bench {

int Histogram::index_of(std::uint64_t value) noexcept {
  if (value < static_cast<std::uint64_t>(kSub)) return static_cast<int>(value);
  int exponent = 63 - std::countl_zero(value);  // >= kSubBits
  int sub = static_cast<int>((value >> (exponent - kSubBits)) & (kSub - 1));
  return (exponent - kSubBits + 1) * kSub + sub;
}

std::uint64_t Histogram::lower(int index) noexcept {
  if (index < kSub) return static_cast<std::uint64_t>(index);
  int exponent = index / kSub + kSubBits - 1;
  auto sub = static_cast<std::uint64_t>(index % kSub);
  return (static_cast<std::uint64_t>(kSub) + sub) << (exponent - kSubBits);
}

void Histogram::merge(const Histogram& other) noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += other.counts_[i];
  if (other.total_ > 0) {
    min_ = total_ == 0 ? other.min_ : std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  total_ += other.total_;
}

std::uint64_t Histogram::percentile(double q) const noexcept {
  if (total_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[static_cast<std::size_t>(i)];
    if (seen >= rank) {
      std::uint64_t lo = lower(i);
      std::uint64_t hi = i + 1 < kBuckets ? lower(i + 1) : max_;
      return std::min(max_, std::max(min(), lo + (hi - lo) / 2));
    }
  }
  return max_;
}

}  // namespace sockit::bench
