// Histogram: latencies in log-spaced buckets (64 per power of two, so any value is known to
// within 1/64 ≈ 1.6 %), fixed size (32 KiB), no allocation per sample. Merge one per thread.
#pragma once

#include <array>
#include <cstdint>

namespace sockit::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 6;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kBuckets = (64 - kSubBits + 1) * kSub;

  void record(std::uint64_t value) noexcept {
    ++counts_[static_cast<std::size_t>(index_of(value))];
    ++total_;
    if (value > max_) max_ = value;
    if (total_ == 1 || value < min_) min_ = value;
  }
  void merge(const Histogram& other) noexcept;

  std::uint64_t count() const noexcept { return total_; }
  std::uint64_t max() const noexcept { return max_; }
  std::uint64_t min() const noexcept { return total_ ? min_ : 0; }
  // The value at quantile q (0..1): the middle of its bucket, never above max().
  std::uint64_t percentile(double q) const noexcept;

  // For writing the distribution out: bucket i holds values in [lower(i), lower(i+1)).
  std::uint64_t bucket_count(int i) const noexcept { return counts_[static_cast<std::size_t>(i)]; }
  static std::uint64_t lower(int index) noexcept;
  static int index_of(std::uint64_t value) noexcept;

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t min_ = 0;
};

}  // namespace sockit::bench
