// ProbeWindow: the scan worker's two limits on probes in flight — the loss-driven window and
// the rate × round-trip cap — driven with a fake clock, no network.
#include "scan/probe_window.hpp"

#include <gtest/gtest.h>

namespace sockit::scan {
namespace {

using Micros = ProbeWindow::Micros;
using std::chrono::milliseconds;

class ProbeWindowTest : public ::testing::Test {
 protected:
  ProbeWindow::Clock::time_point now = ProbeWindow::Clock::time_point{} + std::chrono::hours(1);
  // `n` answers spread evenly over `span`, each with round trip `rtt` from host 0.
  void answers(ProbeWindow& w, int n, ProbeWindow::Clock::duration span, Micros rtt) {
    for (int i = 0; i < n; ++i) {
      w.sample(0, rtt);
      now += span / n;
      w.answered(now);
    }
  }
};

TEST_F(ProbeWindowTest, StartsSmallSoTheFirstRoundTripsAreHonest) {
  ProbeWindow w(1, 4096, Micros(100'000));
  EXPECT_EQ(w.limit(), ProbeWindow::kMinWindow);
  EXPECT_EQ(w.max_in_flight(), 4096u);
}

TEST_F(ProbeWindowTest, NeverMoreThanTheDescriptorsAllowed) {
  ProbeWindow w(1, 8, Micros(100'000));
  EXPECT_EQ(w.limit(), 8u);
  answers(w, 1000, milliseconds(200), Micros(50'000));
  EXPECT_LE(w.limit(), 8u);
}

TEST_F(ProbeWindowTest, CapFollowsRateTimesRoundTrip) {
  // 10 answers per ms with a 20 ms round trip: the path holds ~200, the cap is twice that.
  ProbeWindow w(1, 4096, Micros(100'000));
  answers(w, 2000, milliseconds(200), Micros(20'000));
  EXPECT_NEAR(w.cap(), 400, 40);
  EXPECT_EQ(w.limit(), std::min(w.cap(), static_cast<unsigned>(w.window())));
}

TEST_F(ProbeWindowTest, FastTargetKeepsTheCapSmall) {
  // Loopback-like: 50 µs round trips. More in flight would only queue in the loop.
  ProbeWindow w(1, 4096, Micros(100'000));
  answers(w, 2000, milliseconds(200), Micros(50));
  EXPECT_EQ(w.cap(), ProbeWindow::kMinWindow);
}

TEST_F(ProbeWindowTest, RandomLossDoesNotShrinkTheWindow) {
  ProbeWindow w(1, 4096, Micros(100'000));
  answers(w, 600, milliseconds(60), Micros(1'000));
  const double before = w.window();
  for (int i = 0; i < 1000; ++i) {  // 2 % loss
    now += Micros(100);
    if (i % 50 == 0) {
      w.lost(now, Micros(100'000));
    } else {
      w.answered(now);
    }
  }
  EXPECT_GE(w.window(), before);
}

TEST_F(ProbeWindowTest, CongestionHalvesTheWindow) {
  ProbeWindow w(1, 4096, Micros(100'000));
  answers(w, 600, milliseconds(60), Micros(1'000));
  const double before = w.window();
  for (int i = 0; i < 400; ++i) {  // half of everything lost, for ~1.5 loss windows
    now += Micros(100);
    if (i % 2 == 0) {
      w.lost(now, Micros(100'000));
    } else {
      w.answered(now);
    }
  }
  EXPECT_LT(w.window(), before * 0.75);
  EXPECT_GE(w.window(), ProbeWindow::kMinWindow);
}

TEST_F(ProbeWindowTest, OnlyTimeoutsLeaveTheCapOpen) {
  // Nothing answers (every port filtered): no round trip to size the cap by.
  ProbeWindow w(1, 1024, Micros(100'000));
  for (int i = 0; i < 100; ++i) {
    now += milliseconds(1);
    w.lost(now, Micros(100'000));
  }
  EXPECT_EQ(w.cap(), 1024u);
}

TEST_F(ProbeWindowTest, OutOfDescriptorsShrinksForGood) {
  ProbeWindow w(1, 4096, Micros(100'000));
  w.out_of_descriptors(100);
  EXPECT_EQ(w.max_in_flight(), 92u);
  EXPECT_LE(w.limit(), 92u);
  w.out_of_descriptors(3);
  EXPECT_EQ(w.max_in_flight(), 1u);
  EXPECT_EQ(w.limit(), 1u);
}

TEST_F(ProbeWindowTest, OutOfPortsHalvesButKeepsAFloor) {
  ProbeWindow w(1, 4096, Micros(100'000));
  const double start = w.window();
  w.out_of_ports();
  EXPECT_EQ(w.window(), start / 2);
  for (int i = 0; i < 20; ++i)
    w.out_of_ports();
  EXPECT_EQ(w.window(), ProbeWindow::kMinWindow);
}

}  // namespace
}  // namespace sockit::scan
