// RttEstimator against RFC 6298 section 2, with the expected values worked out by hand
// (integer microseconds, so each division truncates as the estimator's does).
#include "sockit/scan/rtt.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace sockit::scan {
namespace {

using us = std::chrono::microseconds;
using std::chrono::milliseconds;

RttEstimator estimator() {
  return RttEstimator(milliseconds(1000), milliseconds(100), milliseconds(3000));
}

TEST(RttEstimator, InitialTimeoutBeforeAnySample) {
  auto e = estimator();
  EXPECT_EQ(e.samples(), 0u);
  EXPECT_EQ(e.timeout(), milliseconds(1000));
}

TEST(RttEstimator, FirstSampleSetsSrttAndHalfOfItAsVariance) {
  auto e = estimator();
  e.sample(milliseconds(200));
  EXPECT_EQ(e.samples(), 1u);
  EXPECT_EQ(e.srtt(), milliseconds(200));
  EXPECT_EQ(e.rttvar(), milliseconds(100));
  EXPECT_EQ(e.timeout(), milliseconds(600));  // 200 + 4·100
}

TEST(RttEstimator, LaterSamplesFollowRfc6298) {
  auto e = estimator();
  e.sample(us(80000));  // srtt 80000, rttvar 40000, rto 240000
  EXPECT_EQ(e.timeout(), us(240000));

  // RTTVAR <- 3/4·40000 + 1/4·|80000 - 160000| = 30000 + 20000 = 50000 (old SRTT used)
  // SRTT   <- 7/8·80000 + 1/8·160000 = 70000 + 20000 = 90000
  // RTO    <- 90000 + 4·50000 = 290000
  e.sample(us(160000));
  EXPECT_EQ(e.rttvar(), us(50000));
  EXPECT_EQ(e.srtt(), us(90000));
  EXPECT_EQ(e.timeout(), us(290000));

  // RTTVAR <- (3·50000 + |90000 - 10000|) / 4 = (150000 + 80000) / 4 = 57500
  // SRTT   <- (7·90000 + 10000) / 8 = 640000 / 8 = 80000
  // RTO    <- 80000 + 230000 = 310000
  e.sample(us(10000));
  EXPECT_EQ(e.rttvar(), us(57500));
  EXPECT_EQ(e.srtt(), us(80000));
  EXPECT_EQ(e.timeout(), us(310000));

  // Truncation: RTTVAR <- (3·57500 + |80000 - 80001|) / 4 = 172501 / 4 = 43125 (.25 dropped)
  //             SRTT   <- (7·80000 + 80001) / 8 = 640001 / 8 = 80000 (.125 dropped)
  e.sample(us(80001));
  EXPECT_EQ(e.rttvar(), us(43125));
  EXPECT_EQ(e.srtt(), us(80000));
  EXPECT_EQ(e.timeout(), us(80000 + 4 * 43125));
  EXPECT_EQ(e.samples(), 4u);
}

TEST(RttEstimator, SteadySamplesShrinkTheVariance) {
  auto e = estimator();
  for (int i = 0; i < 100; ++i)
    e.sample(milliseconds(50));
  EXPECT_EQ(e.srtt(), milliseconds(50));
  EXPECT_LT(e.rttvar(), us(10));
  EXPECT_EQ(e.timeout(), milliseconds(100)) << "50 ms + ~0 is below the floor";
}

TEST(RttEstimator, AgreeingSamplesStillLeaveTwiceTheRoundTrip) {
  // Thousands of samples a round trip (a scanner's): the variance vanishes, but a queue
  // that starts to fill must not turn every answer into a timeout.
  auto e = estimator();
  for (int i = 0; i < 1000; ++i)
    e.sample(milliseconds(300));
  EXPECT_LT(e.rttvar(), us(10));
  EXPECT_EQ(e.timeout(), milliseconds(600));
}

TEST(RttEstimator, TimeoutIsClampedToMinAndMax) {
  auto fast = estimator();
  fast.sample(us(100));  // 100 + 4·50 = 300 µs, far below the 100 ms floor
  EXPECT_EQ(fast.srtt(), us(100));
  EXPECT_EQ(fast.timeout(), milliseconds(100));

  auto slow = estimator();
  slow.sample(milliseconds(2000));  // 2000 + 4·1000 = 6000 ms, above the 3000 ms ceiling
  EXPECT_EQ(slow.srtt(), milliseconds(2000));
  EXPECT_EQ(slow.timeout(), milliseconds(3000));

  auto edge = estimator();
  edge.sample(milliseconds(500));  // 500 + 4·250 = 1500 ms: inside, unclamped
  EXPECT_EQ(edge.timeout(), milliseconds(1500));
}

TEST(RttEstimator, ZeroSample) {
  auto e = estimator();
  e.sample(us(0));
  EXPECT_EQ(e.srtt(), us(0));
  EXPECT_EQ(e.rttvar(), us(0));
  EXPECT_EQ(e.timeout(), milliseconds(100));
}

}  // namespace
}  // namespace sockit::scan
