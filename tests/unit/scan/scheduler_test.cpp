// The probe scheduler with a fake engine: no sockets, answers made up by the test on the
// scheduler's own loop. What is asserted is behaviour (who got answered before what timed
// out, which probes were retried, how much was held at once), never how long anything took.
#include "scan/scheduler.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <map>
#include <string>
#include <unordered_map>

namespace sockit::scan {
namespace {

using std::chrono::milliseconds;
using Clock = EventLoop::Clock;

// Hosts 198.18.0.0/15 by index; `live(index)` decides who answers.
class GeneratedTargets final : public TargetSource {
 public:
  explicit GeneratedTargets(std::uint64_t n) : n_(n) {}
  std::uint64_t size() const override { return n_; }
  Target at(std::uint64_t index) const override {
    IpAddress a = IpAddress::v4_from_uint(0xC6120000u + static_cast<std::uint32_t>(index));
    return Target{a.to_string(), a};
  }

 private:
  std::uint64_t n_;
};

std::uint64_t host_index(const IpAddress& a) {
  return a.to_v4_uint() - 0xC6120000u;
}

// Answers what `decide` says after `delay` (a loop timer per probe), or never.
class FakeEngine final : public Engine {
 public:
  enum class Verdict { Open, Closed, Silent };
  using Decide = std::function<Verdict(const Probe&)>;
  FakeEngine(Decide decide, Clock::duration delay) : decide_(std::move(decide)), delay_(delay) {}

  Result<void> open(EventLoop& loop, EngineEvents& events, std::uint32_t capacity) override {
    loop_ = &loop;
    events_ = &events;
    timers_.resize(capacity);
    return {};
  }
  StartStatus start(const Probe& probe) override {
    ++sent_;
    if (record_attempts_) ++attempts_[{host_index(probe.address), probe.port}];
    const Verdict v = decide_(probe);
    if (v == Verdict::Silent) return StartStatus::Started;
    const Answer answer = v == Verdict::Open ? Answer::Open : Answer::Closed;
    if (delay_ == Clock::duration(0)) {  // inside start(), as loopback can
      events_->answered(Reply{probe.id, answer, Clock::now(), {}, true});
      return StartStatus::Started;
    }
    const std::uint32_t id = probe.id;
    timers_[slot_of(id)] = loop_->after(delay_, [this, id, answer] {
      events_->answered(Reply{id, answer, Clock::now(), {}, true});
      events_->replies_done();
    });
    return StartStatus::Started;
  }
  void expire(std::uint32_t id) override {
    ++lost_;
    timers_[slot_of(id)].cancel();
    events_->lost(id);
  }
  void cancel(std::uint32_t id) override { timers_[slot_of(id)].cancel(); }
  void close() override { timers_.clear(); }

  std::uint64_t sent_ = 0;
  std::uint64_t lost_ = 0;
  bool record_attempts_ = true;
  std::map<std::pair<std::uint64_t, std::uint16_t>, unsigned> attempts_;

 private:
  Decide decide_;
  Clock::duration delay_;
  EventLoop* loop_ = nullptr;
  EngineEvents* events_ = nullptr;
  std::vector<Timer> timers_;
};

class RecordingSink final : public ScanSink {
 public:
  std::function<void(std::uint64_t host, const PortResult&)> on_port;
  void port(std::uint64_t host, const Target&, const PortResult& r) override {
    ++ports;
    if (r.state == PortState::Open) ++open;
    if (r.state == PortState::Filtered) ++filtered;
    if (on_port) on_port(host, r);
  }
  void host(const HostResult& h) override {
    ++hosts;
    closed += h.closed;
    complete = complete && h.complete;
  }
  std::uint64_t ports = 0, open = 0, filtered = 0, closed = 0, hosts = 0;
  bool complete = true;
};

ScanPlan plan(Engine& engine, std::uint32_t max_in_flight) {
  ScanPlan p;
  p.port_engine = &engine;
  p.max_in_flight = max_in_flight;
  return p;
}

ScanOptions options(std::vector<std::uint16_t> ports) {
  ScanOptions o;
  o.ports = std::move(ports);
  o.seed = 7;
  o.timeout = milliseconds(2000);
  o.min_timeout = milliseconds(100);
  o.retries = 2;
  return o;
}

TEST(Scheduler, SilenceFromDeadHostsDoesNotHoldUpLiveOnes) {
  // 2,000 dead hosts come first (sequential order), then 20 live ones. Every live answer
  // must be in before the first dead probe's 2 s timeout: the dead hosts' unanswered
  // probes must not have filled the window.
  GeneratedTargets targets(2020);
  ScanOptions o = options({80});
  o.sequential = true;
  FakeEngine engine(
      [](const Probe& p) {
        return host_index(p.address) >= 2000 ? FakeEngine::Verdict::Open
                                             : FakeEngine::Verdict::Silent;
      },
      milliseconds(1));
  RecordingSink sink;
  std::vector<std::uint64_t> lost_when_live_answered;
  sink.on_port = [&](std::uint64_t host, const PortResult& r) {
    if (host >= 2000) {
      EXPECT_EQ(r.state, PortState::Open);
      lost_when_live_answered.push_back(engine.lost_);
    }
  };
  Scheduler s(targets, o, plan(engine, 4096), sink, {});
  auto summary = s.run();
  ASSERT_TRUE(summary) << summary.error().message();
  ASSERT_EQ(lost_when_live_answered.size(), 20u);
  for (auto lost : lost_when_live_answered)
    EXPECT_EQ(lost, 0u);
  EXPECT_EQ(sink.open, 20u);
  EXPECT_EQ(sink.filtered, 2000u);
  EXPECT_EQ(sink.hosts, 2020u);
  // Silence never narrowed the window.
  EXPECT_GE(s.stats().min_window, ProbeWindow::kInitialWindow);
}

TEST(ProbeTimeout, AHostThatNeverAnsweredGetsTheSameTimeoutEveryTry) {
  ScanOptions o = options({80});
  o.timeout = milliseconds(1000);
  o.max_timeout = milliseconds(3000);
  const auto us = [](auto d) { return std::chrono::duration_cast<std::chrono::microseconds>(d); };
  RttEstimator host(o.timeout, o.min_timeout, o.max_timeout);
  RttEstimator group(o.timeout, o.min_timeout, o.max_timeout);
  // Nothing answered anywhere: the configured timeout, every try.
  for (unsigned attempt = 0; attempt < 3; ++attempt)
    EXPECT_EQ(probe_timeout(host, group, o, attempt), us(o.timeout));
  // Other hosts answered in ~20 ms: what they taught, every try.
  for (int i = 0; i < 8; ++i)
    group.sample(milliseconds(20));
  for (unsigned attempt = 0; attempt < 3; ++attempt)
    EXPECT_EQ(probe_timeout(host, group, o, attempt), group.timeout());
  EXPECT_LT(group.timeout(), us(o.timeout));
}

TEST(ProbeTimeout, AHostThatAnsweredBacksOffFromItsSecondRetryWithinTwiceTheMaximum) {
  ScanOptions o = options({80});
  o.timeout = milliseconds(1000);
  o.max_timeout = milliseconds(3000);
  RttEstimator host(o.timeout, o.min_timeout, o.max_timeout);
  RttEstimator group(o.timeout, o.min_timeout, o.max_timeout);
  host.sample(milliseconds(400));
  const auto first = probe_timeout(host, group, o, 0);
  EXPECT_EQ(first, host.timeout());
  EXPECT_EQ(probe_timeout(host, group, o, 1), first);  // one loss: the path's random loss
  EXPECT_EQ(probe_timeout(host, group, o, 2), 2 * first);
  EXPECT_EQ(probe_timeout(host, group, o, 3), 4 * first);
  EXPECT_EQ(probe_timeout(host, group, o, 6), std::chrono::microseconds(6'000'000));
}

TEST(Scheduler, AProbeLostBeforeTheFirstAnswerWaitsWhatThatAnswerTaught) {
  // The first probe of the scan is lost (its retry is answered); every other probe is
  // answered in 1 ms. It went out before any round trip was known, with the configured
  // timeout of a minute: once the first answer is in, it must be retimed to what that
  // answer teaches (~100 ms), not hold the scan for the minute.
  GeneratedTargets targets(1);
  ScanOptions o = options({});
  for (std::uint16_t p = 1; p <= 200; ++p)
    o.ports.push_back(p);
  o.sequential = true;
  o.timeout = milliseconds(60'000);
  o.max_timeout = milliseconds(60'000);
  bool dropped = false;
  FakeEngine engine(
      [&](const Probe& p) {
        if (!dropped && p.attempt == 0) {
          dropped = true;
          return FakeEngine::Verdict::Silent;
        }
        return FakeEngine::Verdict::Closed;
      },
      milliseconds(1));
  RecordingSink sink;
  o.keep_closed = true;
  Scheduler s(targets, o, plan(engine, 4096), sink, {});
  auto summary = s.run();
  ASSERT_TRUE(summary) << summary.error().message();
  EXPECT_EQ(engine.lost_, 1u);
  EXPECT_EQ(sink.closed, 200u);
  EXPECT_EQ(sink.filtered, 0u);
  EXPECT_LT(summary->elapsed, std::chrono::seconds(30));
}

TEST(Scheduler, RetriesOnlyForUnansweredProbes) {
  GeneratedTargets targets(50);
  ScanOptions o = options({22, 80, 443});
  o.timeout = milliseconds(200);
  // Port 443 never answers; the rest do (80 open, 22 closed).
  FakeEngine engine(
      [](const Probe& p) {
        if (p.port == 443) return FakeEngine::Verdict::Silent;
        return p.port == 80 ? FakeEngine::Verdict::Open : FakeEngine::Verdict::Closed;
      },
      milliseconds(1));
  RecordingSink sink;
  Scheduler s(targets, o, plan(engine, 4096), sink, {});
  ASSERT_TRUE(s.run());
  for (const auto& [key, attempts] : engine.attempts_) {
    if (key.second == 443) {
      EXPECT_EQ(attempts, 3u) << key.first;
    } else {
      EXPECT_EQ(attempts, 1u) << key.first << ":" << key.second;
    }
  }
  EXPECT_EQ(sink.open, 50u);
  EXPECT_EQ(sink.closed, 50u);
  EXPECT_EQ(sink.filtered, 50u);
}

TEST(Scheduler, LossFromAnsweringHostsShrinksTheWindow) {
  // A congested path: half of all first tries are lost, their retries answered.
  GeneratedTargets targets(20);
  ScanOptions o = options({});
  for (std::uint16_t p = 1; p <= 1000; ++p)
    o.ports.push_back(p);
  o.timeout = milliseconds(100);
  o.min_timeout = milliseconds(20);
  FakeEngine engine(
      [](const Probe& p) {
        if (p.attempt == 0 && (p.port % 2) == 0) return FakeEngine::Verdict::Silent;
        return FakeEngine::Verdict::Closed;
      },
      milliseconds(1));
  RecordingSink sink;
  Scheduler s(targets, o, plan(engine, 4096), sink, {});
  ASSERT_TRUE(s.run());
  EXPECT_EQ(sink.closed, 20'000u);
  EXPECT_EQ(sink.filtered, 0u);
  EXPECT_LT(s.stats().min_window, ProbeWindow::kInitialWindow / 2.0);
}

long rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST(Scheduler, MemoryIsBoundedByTheWorkInFlightNotTheTargets) {
  // A million hosts, one port each, answered at once: the scheduler holds a few hundred
  // hosts at a time and its memory does not grow with the target count.
  GeneratedTargets targets(1'000'000);
  ScanOptions o = options({80});
  FakeEngine engine([](const Probe&) { return FakeEngine::Verdict::Closed; }, {});
  engine.record_attempts_ = false;
  RecordingSink sink;
  const long before = rss_kib();
  Scheduler s(targets, o, plan(engine, 4096), sink, {});
  ASSERT_TRUE(s.run());
  EXPECT_EQ(sink.hosts, 1'000'000u);
  EXPECT_EQ(sink.closed, 1'000'000u);
  EXPECT_LE(s.stats().max_active_hosts, Scheduler::kSpread + 1);
  EXPECT_LE(s.stats().max_in_flight, 4096u);
  EXPECT_LE(s.stats().max_retry_queue, 0u);
  // 16 MiB is far below what any per-target array of a million would take.
  EXPECT_LT(rss_kib() - before, 16 * 1024) << "RSS grew by " << rss_kib() - before << " KiB";
}

TEST(Scheduler, NoTargetsOrNoPortsFinishAtOnce) {
  RecordingSink sink;
  FakeEngine engine([](const Probe&) { return FakeEngine::Verdict::Closed; }, {});
  GeneratedTargets none(0);
  const ScanOptions one_port = options({80});  // the scheduler keeps a reference
  Scheduler a(none, one_port, plan(engine, 64), sink, {});
  ASSERT_TRUE(a.run());
  GeneratedTargets some(3);
  const ScanOptions no_ports = options({});
  Scheduler b(some, no_ports, plan(engine, 64), sink, {});
  ASSERT_TRUE(b.run());
  EXPECT_EQ(sink.hosts, 0u);
}

// One run of a scan whose results are kept by (host, port), interrupted by SIGUSR1 after
// `stop_after` results if that is not 0.
struct Outcome {
  std::map<std::pair<std::uint64_t, std::uint16_t>, PortState> ports;
  std::uint64_t closed = 0, hosts_down = 0, duplicates = 0;
  ScanSummary summary;
};

Outcome run_scan(const TargetSource& targets, const ScanOptions& o, bool discover,
                 std::uint64_t stop_after) {
  // Hosts whose index ends in 3 are dead; the rest answer port p open when (host + p) % 7
  // is 0 and closed otherwise, except port 9, which is firewalled everywhere.
  FakeEngine engine(
      [](const Probe& p) {
        if (host_index(p.address) % 10 == 3 || p.port == 9) return FakeEngine::Verdict::Silent;
        return (host_index(p.address) + p.port) % 7 == 0 ? FakeEngine::Verdict::Open
                                                         : FakeEngine::Verdict::Closed;
      },
      milliseconds(1));
  Outcome out;
  RecordingSink sink;
  sink.on_port = [&](std::uint64_t host, const PortResult& r) {
    if (!out.ports.emplace(std::pair{host, r.port}, r.state).second) ++out.duplicates;
    if (stop_after != 0 && out.ports.size() == stop_after) ::raise(SIGUSR1);
  };
  ScanPlan p = plan(engine, 64);
  if (discover) {
    p.discovery_engine = &engine;
    p.discover_v4 = {{ProbeKind::TcpConnect, 80}, {ProbeKind::TcpConnect, 443}};
  }
  Scheduler s(targets, o, p, sink, {});
  auto summary = s.run();
  EXPECT_TRUE(summary) << summary.error().message();
  if (summary) out.summary = *summary;
  out.closed = sink.closed;
  out.hosts_down = out.summary.hosts_down;
  return out;
}

class SchedulerResume : public ::testing::TestWithParam<bool> {};

TEST_P(SchedulerResume, InterruptedPlusResumedEqualsUninterrupted) {
  const bool discover = GetParam();
  GeneratedTargets targets(300);
  ScanOptions o = options({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  o.timeout = milliseconds(50);
  o.min_timeout = milliseconds(10);
  o.retries = 1;
  o.stop_signals = {SIGUSR1};
  o.keep_closed = true;
  const Outcome whole = run_scan(targets, o, discover, 0);
  ASSERT_FALSE(whole.summary.interrupted);
  ASSERT_FALSE(whole.summary.checkpoint);

  const Outcome first = run_scan(targets, o, discover, 700);
  ASSERT_TRUE(first.summary.interrupted);
  ASSERT_TRUE(first.summary.checkpoint);
  ScanOptions rest = o;
  rest.resume = first.summary.checkpoint;
  rest.seed = rest.resume->seed;
  const Outcome second = run_scan(targets, rest, discover, 0);
  ASSERT_FALSE(second.summary.interrupted);

  // Nothing twice, nothing missed.
  EXPECT_EQ(first.duplicates + second.duplicates, 0u);
  auto both = first.ports;
  for (const auto& [key, state] : second.ports) {
    EXPECT_TRUE(both.emplace(key, state).second)
        << "reported twice: " << key.first << ":" << key.second;
  }
  EXPECT_EQ(both, whole.ports);
  EXPECT_EQ(first.closed + second.closed, whole.closed);
  if (discover) {
    EXPECT_EQ(first.hosts_down + second.hosts_down, whole.hosts_down);
  }
  EXPECT_GT(first.ports.size(), 0u);
  EXPECT_GT(second.ports.size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Discovery, SchedulerResume, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "Discover" : "PortsOnly";
                         });

TEST(SchedulerResume, ResumedTwiceStillEqualsUninterrupted) {
  GeneratedTargets targets(200);
  ScanOptions o = options({20, 21, 22, 23, 24, 25, 9});
  o.timeout = milliseconds(50);
  o.min_timeout = milliseconds(10);
  o.retries = 0;
  o.stop_signals = {SIGUSR1};
  o.keep_closed = true;
  const Outcome whole = run_scan(targets, o, false, 0);
  const Outcome first = run_scan(targets, o, false, 300);
  ASSERT_TRUE(first.summary.checkpoint);
  ScanOptions second_options = o;
  second_options.resume = first.summary.checkpoint;
  const Outcome second = run_scan(targets, second_options, false, 200);
  ASSERT_TRUE(second.summary.checkpoint);
  ScanOptions third_options = o;
  third_options.resume = second.summary.checkpoint;
  const Outcome third = run_scan(targets, third_options, false, 0);
  auto all = first.ports;
  for (const auto* part : {&second, &third})
    for (const auto& [key, state] : part->ports)
      EXPECT_TRUE(all.emplace(key, state).second) << key.first << ":" << key.second;
  EXPECT_EQ(all, whole.ports);
  EXPECT_EQ(first.closed + second.closed + third.closed, whole.closed);
}

TEST(SchedulerResume, ACheckpointThatDoesNotFitIsRefused) {
  GeneratedTargets targets(10);
  RecordingSink sink;
  ScanOptions o = options({80, 443});
  ScanCheckpoint past_the_end{7, 11, {}};
  ScanCheckpoint unknown_port{7, 5, {{2, false, 1, {22}}}};
  ScanCheckpoint host_not_taken_in{7, 5, {{6, false, 1, {80}}}};
  ScanCheckpoint no_seed{0, 5, {}};
  for (const auto& c : {past_the_end, unknown_port, host_not_taken_in, no_seed}) {
    o.resume = c;
    auto summary = scan(targets, o, sink);
    ASSERT_FALSE(summary);
    EXPECT_TRUE(summary.error().is(std::errc::invalid_argument)) << summary.error().message();
    EXPECT_NE(summary.error().message().find("resume"), std::string::npos);
  }
  EXPECT_EQ(sink.hosts, 0u);
}

}  // namespace
}  // namespace sockit::scan
