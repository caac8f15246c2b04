// EventLoop without sockets: timers, post() and stop() across threads, signals.
// Every test ends (in TearDown) by checking that nothing is left registered.
#include "sockit/event_loop.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "loop_test.hpp"

namespace sockit {
namespace {

using namespace std::chrono_literals;

class EventLoopTest : public test::LoopTest {
 protected:
  // Runs the loop to completion; fails the test if it reports an error.
  void run() {
    auto r = loop->run();
    ASSERT_TRUE(r) << r.error().message();
  }
};

// --- timers ---------------------------------------------------------------------------

TEST_F(EventLoopTest, RunReturnsAtOnceWhenNothingIsRegistered) {
  EXPECT_TRUE(loop->idle());
  run();
}

TEST_F(EventLoopTest, AfterFiresOnce) {
  int fired = 0;
  Timer t = loop->after(1ms, [&] { ++fired; });
  EXPECT_TRUE(t.active());
  EXPECT_EQ(loop->timer_count(), 1u);
  EXPECT_FALSE(loop->idle());
  run();  // returns because the one-shot timer is gone after firing
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(t.active());
  EXPECT_EQ(loop->timer_count(), 0u);
  t.cancel();  // harmless after firing
  EXPECT_EQ(fired, 1);
}

TEST_F(EventLoopTest, ZeroDelayFiresOnTheNextTurn) {
  int fired = 0;
  Timer t = loop->after(0ms, [&] { ++fired; });
  auto r = loop->run_once(0ms);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(t.active());
}

TEST_F(EventLoopTest, NegativeDelayCountsAsZero) {
  int fired = 0;
  Timer t = loop->after(-5s, [&] { ++fired; });
  ASSERT_TRUE(loop->run_once(0ms));
  EXPECT_EQ(fired, 1);
}

TEST_F(EventLoopTest, EveryRepeatsUntilItsTaskCancelsIt) {
  int beats = 0;
  Timer tick;
  tick = loop->every(1ms, [&] {
    if (++beats == 5) tick.cancel();
  });
  EXPECT_TRUE(tick.active());
  run();  // returns once the timer cancelled itself
  EXPECT_EQ(beats, 5);
  EXPECT_FALSE(tick.active());
}

TEST_F(EventLoopTest, EveryCanDestroyItsOwnHandleFromItsTask) {
  int beats = 0;
  auto tick = std::make_unique<Timer>();
  *tick = loop->every(1ms, [&] {
    if (++beats == 3) tick.reset();
  });
  run();
  EXPECT_EQ(beats, 3);
}

TEST_F(EventLoopTest, ZeroIntervalFiresAtMostOncePerTurn) {
  int beats = 0;
  Timer tick = loop->every(0ns, [&] { ++beats; });
  for (int turn = 0; turn < 1000 && beats < 3; ++turn) {
    int before = beats;
    ASSERT_TRUE(loop->run_once(0ms));
    EXPECT_LE(beats - before, 1) << "a zero-interval timer must not spin within a turn";
  }
  EXPECT_EQ(beats, 3);
  tick.cancel();
}

TEST_F(EventLoopTest, TimerDestructorCancels) {
  int fired = 0;
  {
    Timer t = loop->after(0ms, [&] { ++fired; });
    EXPECT_EQ(loop->timer_count(), 1u);
  }
  EXPECT_EQ(loop->timer_count(), 0u);
  run();
  ASSERT_TRUE(loop->run_once(0ms));
  EXPECT_EQ(fired, 0);
}

TEST_F(EventLoopTest, CancelStopsATimerAndReleasesItsTask) {
  auto state = std::make_shared<int>(0);
  Timer t = loop->after(0ms, [state] { ++*state; });
  EXPECT_EQ(state.use_count(), 2);
  t.cancel();
  EXPECT_FALSE(t.active());
  EXPECT_EQ(state.use_count(), 1);  // the task was destroyed, not kept until its deadline
  run();
  EXPECT_EQ(*state, 0);
}

TEST_F(EventLoopTest, DetachedTimerStillFires) {
  int fired = 0;
  {
    Timer t = loop->after(1ms, [&] { ++fired; });
    t.detach();
    EXPECT_FALSE(t.active());  // the handle no longer refers to it
  }
  EXPECT_EQ(loop->timer_count(), 1u);
  run();
  EXPECT_EQ(fired, 1);
}

TEST_F(EventLoopTest, MovedTimerHandleStillCancels) {
  int fired = 0;
  Timer a = loop->after(0ms, [&] { ++fired; });
  Timer b = std::move(a);
  EXPECT_FALSE(a.active());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(b.active());
  Timer c;
  EXPECT_FALSE(c.active());
  c = std::move(b);
  EXPECT_TRUE(c.active());
  c.cancel();
  run();
  EXPECT_EQ(fired, 0);
}

TEST_F(EventLoopTest, MoveAssigningOverALiveTimerCancelsIt) {
  int first = 0;
  int second = 0;
  Timer t = loop->after(0ms, [&] { ++first; });
  t = loop->after(0ms, [&] { ++second; });
  EXPECT_EQ(loop->timer_count(), 1u);
  run();
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 1);
}

TEST_F(EventLoopTest, TimersFireInDeadlineOrder) {
  std::vector<int> order;
  // Created out of order; every delay differs by far more than it takes to create them.
  Timer t3 = loop->after(30ms, [&] { order.push_back(3); });
  Timer t1 = loop->after(10ms, [&] { order.push_back(1); });
  Timer t0 = loop->after(0ms, [&] { order.push_back(0); });
  Timer t2 = loop->after(20ms, [&] { order.push_back(2); });
  run();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

TEST_F(EventLoopTest, TimersDueInTheSameTurnRunInDeadlineOrder) {
  std::vector<int> order;
  Timer a = loop->after(0us, [&] { order.push_back(0); });
  Timer b = loop->after(1us, [&] { order.push_back(1); });
  Timer c = loop->after(2us, [&] { order.push_back(2); });
  std::this_thread::sleep_for(5ms);  // all three are now due
  ASSERT_TRUE(loop->run_once(0ms));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

TEST_F(EventLoopTest, TimerCancelsAnotherDueInTheSameTurn) {
  bool second_fired = false;
  Timer second;
  Timer first = loop->after(0us, [&] { second.cancel(); });
  second = loop->after(1us, [&] { second_fired = true; });
  std::this_thread::sleep_for(5ms);  // both are due at the next turn
  ASSERT_TRUE(loop->run_once(0ms));
  EXPECT_FALSE(second_fired);
  EXPECT_FALSE(second.active());
  EXPECT_EQ(loop->timer_count(), 0u);
  run();
  EXPECT_FALSE(second_fired);
}

TEST_F(EventLoopTest, TimerDestroysAnotherHandleDueInTheSameTurn) {
  bool other_fired = false;
  auto other = std::make_unique<Timer>();
  Timer first = loop->after(0us, [&] { other.reset(); });
  *other = loop->after(1us, [&] { other_fired = true; });
  std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(loop->run_once(0ms));
  EXPECT_FALSE(other_fired);
  run();
}

TEST_F(EventLoopTest, TimerTaskCanScheduleMoreTimers) {
  std::vector<int> order;
  std::vector<Timer> timers;
  timers.reserve(8);
  timers.push_back(loop->after(0ms, [&] {
    order.push_back(1);
    // Adding timers while one runs may grow the loop's tables.
    for (int i = 0; i < 5; ++i)
      timers.push_back(
          loop->after(std::chrono::milliseconds(i), [&order, i] { order.push_back(10 + i); }));
  }));
  run();
  EXPECT_EQ(order, (std::vector<int>{1, 10, 11, 12, 13, 14}));
}

TEST_F(EventLoopTest, ManyCancelledTimersLeaveNothingBehind) {
  int fired = 0;
  Timer keep = loop->after(0ms, [&] { ++fired; });
  for (int i = 0; i < 2000; ++i) {
    Timer t = loop->after(1h, [&] { ++fired; });
    EXPECT_EQ(loop->timer_count(), 2u);
  }
  EXPECT_EQ(loop->timer_count(), 1u);
  run();
  EXPECT_EQ(fired, 1);
}

TEST_F(EventLoopTest, NowAdvancesWithTurns) {
  auto before = EventLoop::Clock::now();
  Timer t = loop->after(1ms, [] {});
  run();
  EXPECT_GE(loop->now(), before + 1ms);
}

// --- post and stop --------------------------------------------------------------------

TEST_F(EventLoopTest, PostFromAnotherThreadRunsOnTheLoopThread) {
  const auto loop_thread = std::this_thread::get_id();
  std::thread::id ran_on;
  std::thread::id posted_from;
  Timer keepalive = loop->after(1h, [] {});  // keeps run() going until the post arrives
  std::thread poster([&] {
    posted_from = std::this_thread::get_id();
    loop->post([&] {
      ran_on = std::this_thread::get_id();
      keepalive.cancel();
    });
  });
  run();
  poster.join();
  EXPECT_EQ(ran_on, loop_thread);
  EXPECT_NE(posted_from, loop_thread);
}

TEST_F(EventLoopTest, PostsFromManyThreadsAllRunInOrderPerThread) {
  constexpr int kThreads = 4;
  constexpr int kPosts = 500;
  std::vector<std::vector<int>> seen(kThreads);
  std::atomic<int> remaining{kThreads * kPosts};
  Timer keepalive = loop->after(1h, [] {});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPosts; ++i) {
        loop->post([&, t, i] {
          seen[static_cast<std::size_t>(t)].push_back(i);
          if (--remaining == 0) keepalive.cancel();
        });
      }
    });
  }
  run();
  for (auto& th : threads)
    th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(seen[static_cast<std::size_t>(t)].size(), static_cast<std::size_t>(kPosts));
    for (int i = 0; i < kPosts; ++i)
      EXPECT_EQ(seen[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)], i);
  }
}

TEST_F(EventLoopTest, PostBeforeRunKeepsRunGoingUntilItRan) {
  bool ran = false;
  loop->post([&] { ran = true; });
  run();
  EXPECT_TRUE(ran);
}

TEST_F(EventLoopTest, StopFromAnotherThreadEndsRun) {
  Timer keepalive = loop->after(1h, [] {});
  std::promise<void> running;
  loop->post([&] { running.set_value(); });
  std::thread stopper([&] {
    running.get_future().wait();  // the loop is inside run() now
    loop->stop();
  });
  run();  // would wait an hour without stop()
  stopper.join();
  EXPECT_TRUE(keepalive.active());
  keepalive.cancel();
}

TEST_F(EventLoopTest, StopFromATaskEndsRunAndRunCanResume) {
  int beats = 0;
  Timer tick = loop->every(1ms, [&] {
    ++beats;
    loop->stop();
  });
  run();
  EXPECT_EQ(beats, 1);
  run();  // stop() is one-shot: the next run() goes on
  EXPECT_EQ(beats, 2);
  tick.cancel();
  run();
}

// --- signals --------------------------------------------------------------------------

bool signal_blocked(int signo) {
  sigset_t current;
  pthread_sigmask(SIG_BLOCK, nullptr, &current);
  return sigismember(&current, signo) == 1;
}

TEST_F(EventLoopTest, RaisedSignalReachesItsHandler) {
  int got = 0;
  int calls = 0;
  SignalWatch watch;
  auto r = loop->on_signal(SIGUSR1, [&](int signo) {
    got = signo;
    ++calls;
    watch.reset();  // the only registration: run() returns
  });
  ASSERT_TRUE(r) << r.error().message();
  watch = std::move(r).value();
  EXPECT_EQ(loop->signal_count(), 1u);
  EXPECT_TRUE(signal_blocked(SIGUSR1));  // routed through signalfd, not a handler
  ASSERT_EQ(::raise(SIGUSR1), 0);
  run();
  EXPECT_EQ(got, SIGUSR1);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(signal_blocked(SIGUSR1));  // given back when the watch went away
}

TEST_F(EventLoopTest, SignalFromAnotherThreadReachesTheLoop) {
  int got = 0;
  SignalWatch watch;
  auto r = loop->on_signal(SIGUSR1, [&](int signo) {
    got = signo;
    watch.reset();
  });
  ASSERT_TRUE(r) << r.error().message();
  watch = std::move(r).value();
  // The new thread inherits the blocked mask, so the signal stays aimed at the loop thread.
  const pthread_t target = pthread_self();
  std::thread sender([target] { pthread_kill(target, SIGUSR1); });
  run();
  sender.join();
  EXPECT_EQ(got, SIGUSR1);
}

TEST_F(EventLoopTest, SignalHandlerMayResetItsOwnWatchAndKeepUsingItsCaptures) {
  // "Handlers may destroy any handle, including their own, while they run": the handler's
  // captures (here an owning pointer) must stay alive until it returns.
  int got = 0;
  SignalWatch watch;
  auto r = loop->on_signal(SIGUSR1, [&watch, &got, token = std::make_unique<int>(1000)](int signo) {
    watch.reset();
    got = *token + signo;
  });
  ASSERT_TRUE(r) << r.error().message();
  watch = std::move(r).value();
  ASSERT_EQ(::raise(SIGUSR1), 0);
  run();
  EXPECT_EQ(got, 1000 + SIGUSR1);
}

TEST_F(EventLoopTest, TwoSignalsEachReachTheirOwnHandler) {
  int usr1 = 0;
  int usr2 = 0;
  SignalWatch w1;
  SignalWatch w2;
  auto maybe_done = [&] {
    if (usr1 > 0 && usr2 > 0) {
      w1.reset();
      w2.reset();
    }
  };
  auto r1 = loop->on_signal(SIGUSR1, [&](int) {
    ++usr1;
    maybe_done();
  });
  auto r2 = loop->on_signal(SIGUSR2, [&](int) {
    ++usr2;
    maybe_done();
  });
  ASSERT_TRUE(r1 && r2);
  w1 = std::move(r1).value();
  w2 = std::move(r2).value();
  EXPECT_EQ(loop->signal_count(), 2u);
  ASSERT_EQ(::raise(SIGUSR2), 0);
  ASSERT_EQ(::raise(SIGUSR1), 0);
  run();
  EXPECT_EQ(usr1, 1);
  EXPECT_EQ(usr2, 1);
}

TEST_F(EventLoopTest, OnSignalRefusesBadAndDuplicateSignals) {
  auto zero = loop->on_signal(0, [](int) {});
  ASSERT_FALSE(zero);
  EXPECT_TRUE(zero.error().is(std::errc::invalid_argument));
  auto too_big = loop->on_signal(65, [](int) {});
  ASSERT_FALSE(too_big);
  EXPECT_TRUE(too_big.error().is(std::errc::invalid_argument));

  auto first = loop->on_signal(SIGUSR2, [](int) {});
  ASSERT_TRUE(first) << first.error().message();
  auto again = loop->on_signal(SIGUSR2, [](int) {});
  ASSERT_FALSE(again);
  EXPECT_TRUE(again.error().is(std::errc::file_exists));
  EXPECT_EQ(again.error().context(), "signal " + std::to_string(SIGUSR2));
  EXPECT_EQ(loop->signal_count(), 1u);
  first->reset();
  EXPECT_EQ(loop->signal_count(), 0u);
  EXPECT_FALSE(signal_blocked(SIGUSR2));
}

}  // namespace
}  // namespace sockit
