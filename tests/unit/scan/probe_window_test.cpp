// ProbeWindow: the scheduler's two limits on young probes — the loss-driven window and the
// rate × round-trip cap — driven with a fake clock, no network.
#include "scan/probe_window.hpp"

#include <gtest/gtest.h>

namespace sockit::scan {
namespace {

using Micros = ProbeWindow::Micros;
using std::chrono::milliseconds;

class ProbeWindowTest : public ::testing::Test {
 protected:
  ProbeWindow::Clock::time_point now = ProbeWindow::Clock::time_point{} + std::chrono::hours(1);
  // `n` first-try answers spread evenly over `span`, from one host with round trip `rtt`.
  void answers(ProbeWindow& w, int n, ProbeWindow::Clock::duration span, Micros rtt) {
    if (!sampled_) w.host_min_rtt(Micros(0), rtt);
    sampled_ = true;
    for (int i = 0; i < n; ++i) {
      now += span / n;
      w.answered(now, {});
    }
  }
  bool sampled_ = false;
};

TEST_F(ProbeWindowTest, StartsSmallSoTheFirstRoundTripsAreHonest) {
  ProbeWindow w(4096, Micros(100'000));
  EXPECT_EQ(w.limit(), ProbeWindow::kMinWindow);
  EXPECT_EQ(w.max_in_flight(), 4096u);
}

TEST_F(ProbeWindowTest, NeverMoreThanTheSlotsAllow) {
  ProbeWindow w(8, Micros(100'000));
  EXPECT_EQ(w.limit(), 8u);
  answers(w, 1000, milliseconds(200), Micros(50'000));
  EXPECT_LE(w.limit(), 8u);
}

TEST_F(ProbeWindowTest, CapFollowsRateTimesRoundTrip) {
  // 10 answers per ms with a 20 ms round trip: the path holds ~200, the cap is twice that.
  ProbeWindow w(4096, Micros(100'000));
  answers(w, 2000, milliseconds(200), Micros(20'000));
  EXPECT_NEAR(w.cap(), 400, 40);
  EXPECT_EQ(w.limit(), std::min(w.cap(), static_cast<unsigned>(w.window())));
}

TEST_F(ProbeWindowTest, FastTargetKeepsTheCapSmall) {
  // Loopback-like: 50 µs round trips. More in flight would only queue in the loop.
  ProbeWindow w(4096, Micros(100'000));
  answers(w, 2000, milliseconds(200), Micros(50));
  EXPECT_EQ(w.cap(), ProbeWindow::kMinWindow);
}

TEST_F(ProbeWindowTest, BaseRoundTripIsTheMeanOfTheHostsMinima) {
  ProbeWindow w(4096, Micros(100'000));
  w.host_min_rtt(Micros(0), Micros(10'000));
  w.host_min_rtt(Micros(0), Micros(30'000));
  w.host_min_rtt(Micros(30'000), Micros(20'000));  // host 2 got faster: mean 15 ms
  for (int i = 0; i < 2000; ++i) {
    now += Micros(100);  // 10 per ms
    w.answered(now, {});
  }
  EXPECT_NEAR(w.cap(), 2 * 10 * 15, 40);
  w.host_left(Micros(10'000));  // only the 20 ms host is left
  for (int i = 0; i < 200; ++i) {
    now += Micros(100);
    w.answered(now, {});
  }
  EXPECT_NEAR(w.cap(), 2 * 10 * 20, 40);
}

TEST_F(ProbeWindowTest, SilenceNeitherShrinksTheWindowNorClosesTheCap) {
  // Half the probes go to a firewalled port: they age out unanswered. That is no loss.
  ProbeWindow w(4096, Micros(100'000));
  answers(w, 600, milliseconds(60), Micros(1'000));
  const double before = w.window();
  for (int i = 0; i < 4000; ++i) {
    now += Micros(50);
    if (i % 2 == 0) {
      w.aged(now, Micros(4'000));
    } else {
      w.answered(now, {});
    }
  }
  EXPECT_GE(w.window(), before);
  // Occupancy is half 1 ms answers, half 4 ms horizons, at 20 completions per ms: the cap
  // leaves room for the unanswered share instead of throttling on it.
  EXPECT_NEAR(w.cap(), 2 * 20 * (0.5 * 1'000 + 0.5 * 4'000) / 1'000, 15);
}

TEST_F(ProbeWindowTest, DelayedAnswersStopTheWindowGrowing) {
  // Round trips well over the smallest: a queue is filling on the path. Answers still come
  // (no loss yet), but a wider window would only lengthen the queue.
  ProbeWindow w(65536, Micros(100'000));
  answers(w, 600, milliseconds(60), Micros(20'000));
  const double before = w.window();
  for (int i = 0; i < 1000; ++i) {
    now += Micros(10);
    w.answered(now, {.delayed = true});
  }
  EXPECT_EQ(w.window(), before);
  w.answered(now, {});
  EXPECT_EQ(w.window(), before + 1);
}

TEST_F(ProbeWindowTest, AnAnswerAfterItsProbeAgedIsNotCountedTwice) {
  // A path that delays answers past the horizon: each probe ages, then is answered. If both
  // counted as completions the rate, and with it the cap, would double and let more probes
  // into the queue that delays them.
  ProbeWindow once(65536, Micros(100'000)), twice(65536, Micros(100'000));
  once.host_min_rtt(Micros(0), Micros(20'000));
  twice.host_min_rtt(Micros(0), Micros(20'000));
  for (int i = 0; i < 4000; ++i) {
    now += Micros(50);
    once.aged(now, Micros(40'000));
    once.answered(now, {.aged = true});
    twice.aged(now, Micros(40'000));
    twice.answered(now, {});
  }
  EXPECT_LT(once.cap(), twice.cap() * 3 / 4);
}

TEST_F(ProbeWindowTest, RandomLossDoesNotShrinkTheWindow) {
  ProbeWindow w(4096, Micros(100'000));
  answers(w, 600, milliseconds(60), Micros(1'000));
  const double before = w.window();
  for (int i = 0; i < 1000; ++i) {  // 2 % of answers come to a retry
    now += Micros(100);
    w.answered(now, {.retry = i % 50 == 0});
  }
  EXPECT_GE(w.window(), before);
}

TEST_F(ProbeWindowTest, AnsweredRetriesAtCongestionRatesHalveTheWindow) {
  ProbeWindow w(4096, Micros(100'000));
  answers(w, 600, milliseconds(60), Micros(1'000));
  const double before = w.window();
  for (int i = 0; i < 400; ++i) {  // half of the answers needed a retry: congestion
    now += Micros(100);
    w.answered(now, {.retry = i % 2 == 0});
  }
  EXPECT_LT(w.window(), before * 0.75);
  EXPECT_GE(w.window(), ProbeWindow::kMinWindow);
}

TEST_F(ProbeWindowTest, NothingAnsweredLeavesTheCapOpenAndSilenceWidensTheWindow) {
  // Nothing answers (every port filtered): no round trip to size the cap by, and no loss to
  // read, so a dead range is swept as fast as the slots allow, not at the initial window.
  ProbeWindow w(2048, Micros(100'000));
  for (int i = 0; i < 100; ++i) {
    now += milliseconds(1);
    w.aged(now, Micros(100'000));
  }
  EXPECT_EQ(w.cap(), 2048u);
  EXPECT_EQ(w.window(), ProbeWindow::kInitialWindow + 100);
  for (int i = 0; i < 2000; ++i) {
    now += Micros(10);
    w.aged(now, Micros(100'000));
  }
  EXPECT_EQ(w.limit(), 2048u);
}

TEST_F(ProbeWindowTest, OnceAHostAnswersSilenceNoLongerWidensTheWindow) {
  // A lost first try ages before its retry is answered: with answers to go by, aging must
  // not undo what the loss rule decides.
  ProbeWindow w(4096, Micros(100'000));
  answers(w, 10, milliseconds(1), Micros(1'000));
  const double before = w.window();
  for (int i = 0; i < 500; ++i) {
    now += Micros(10);
    w.aged(now, Micros(4'000));
  }
  EXPECT_EQ(w.window(), before);
}

TEST_F(ProbeWindowTest, OutOfDescriptorsShrinksForGood) {
  ProbeWindow w(4096, Micros(100'000));
  w.out_of_descriptors(100);
  EXPECT_EQ(w.max_in_flight(), 92u);
  EXPECT_LE(w.limit(), 92u);
  w.out_of_descriptors(3);
  EXPECT_EQ(w.max_in_flight(), 1u);
  EXPECT_EQ(w.limit(), 1u);
}

TEST_F(ProbeWindowTest, OutOfPortsHalvesButKeepsAFloor) {
  ProbeWindow w(4096, Micros(100'000));
  const double start = w.window();
  w.out_of_ports();
  EXPECT_EQ(w.window(), start / 2);
  for (int i = 0; i < 20; ++i)
    w.out_of_ports();
  EXPECT_EQ(w.window(), ProbeWindow::kMinWindow);
}

}  // namespace
}  // namespace sockit::scan
