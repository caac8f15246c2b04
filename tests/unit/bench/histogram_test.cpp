#include "sockit/bench/histogram.hpp"

#include <gtest/gtest.h>

#include <random>

namespace sockit::bench {
namespace {

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (std::uint64_t v = 0; v < 64; ++v)
    h.record(v);
  EXPECT_EQ(h.count(), 64u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 63u);
  EXPECT_EQ(h.percentile(0.0), 0u);
  EXPECT_EQ(h.percentile(1.0), 63u);
}

TEST(Histogram, BucketsCoverEveryValueWithinOneSixtyFourth) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100000; ++i) {
    std::uint64_t v = rng() >> (rng() % 64);
    int index = Histogram::index_of(v);
    ASSERT_GE(index, 0);
    ASSERT_LT(index, Histogram::kBuckets);
    ASSERT_LE(Histogram::lower(index), v) << v;
    if (index + 1 < Histogram::kBuckets) {
      ASSERT_GT(Histogram::lower(index + 1), v) << v;
      ASSERT_LE(Histogram::lower(index + 1) - Histogram::lower(index), v / 64 + 1) << v;
    }
  }
}

TEST(Histogram, PercentilesOfAUniformSpread) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 100000; ++v)
    h.record(v * 1000);  // 1 µs .. 100 ms in ns
  auto near = [](std::uint64_t got, double want) {
    return std::abs(static_cast<double>(got) - want) <= want / 50;
  };
  EXPECT_TRUE(near(h.percentile(0.5), 50e6)) << h.percentile(0.5);
  EXPECT_TRUE(near(h.percentile(0.9), 90e6)) << h.percentile(0.9);
  EXPECT_TRUE(near(h.percentile(0.99), 99e6)) << h.percentile(0.99);
  EXPECT_EQ(h.percentile(1.0), 100000000u);
  EXPECT_EQ(h.max(), 100000000u);
}

TEST(Histogram, MergeAddsCountsAndKeepsExtremes) {
  Histogram a, b;
  a.record(10);
  a.record(1000);
  b.record(5);
  b.record(1'000'000);
  a.merge(b);
  EXPECT_EQ(a.count(), 4u);
  EXPECT_EQ(a.min(), 5u);
  EXPECT_EQ(a.max(), 1'000'000u);
  Histogram empty;
  a.merge(empty);
  EXPECT_EQ(a.count(), 4u);
  EXPECT_EQ(a.min(), 5u);
}

TEST(Histogram, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.percentile(0.99), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
}

}  // namespace
}  // namespace sockit::bench
