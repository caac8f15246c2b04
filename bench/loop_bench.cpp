// loop_bench: what the EventLoop's hot path costs, each case next to a minimal raw epoll loop
// doing the same work, so that the loop's own overhead reads as a ratio (docs/BENCHMARKS.md).
//
// Everything runs on one thread over socketpairs, except BM_Post (a second thread posts)
// and the TCP ping-pong (loopback). Handlers call ::read/::write directly, in the loop and
// in the raw baseline alike, so the difference between the two is the loop alone and not
// sockit's socket wrappers. Names: <what>/<loop|raw>/<args>.
//
//   ./build/release/bench/loop_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sockit/event_loop.hpp"
#include "sockit/tcp.hpp"
#include "sockit/unix.hpp"

namespace {

using sockit::EventLoop;
using sockit::UniqueFd;
using namespace std::chrono_literals;

constexpr auto kNoWait = EventLoop::Clock::duration::zero();
constexpr int kMaxEvents = EventLoop::kMaxEventsPerTurn;  // the raw loop takes as many

// A broken invariant makes every figure meaningless: stop rather than report it.
[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "loop_bench: %s\n", what);
  std::abort();
}

void put(int fd, const void* data, std::size_t size) {
  if (::write(fd, data, size) != static_cast<ssize_t>(size)) die("write");
}

void get(int fd, void* data, std::size_t size) {
  if (::read(fd, data, size) != static_cast<ssize_t>(size)) die("read");
}

void poke(int fd) {
  const char byte = 1;
  put(fd, &byte, 1);
}

// Seconds per event, shown next to the per-iteration time.
void report_events(benchmark::State& state, std::int64_t per_iteration) {
  const auto events = state.iterations() * per_iteration;
  state.SetItemsProcessed(events);
  state.counters["per_event"] = benchmark::Counter(
      static_cast<double>(events), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

template <typename T>
bool ok(benchmark::State& state, const sockit::Result<T>& r) {
  if (!r) state.SkipWithError(r.error().message().c_str());
  return r.has_value();
}

// `n` connected non-blocking socketpairs as raw descriptors: the benchmark writes to
// `writers`, the loop under test watches `readers`.
struct Pairs {
  std::vector<sockit::UnixStream> ends;
  std::vector<int> writers;
  std::vector<int> readers;

  bool open(benchmark::State& state, std::size_t n) {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    const rlim_t need = 2 * n + 64;
    if (limit.rlim_cur < need) {
      limit.rlim_cur = std::min(need, limit.rlim_max);
      ::setrlimit(RLIMIT_NOFILE, &limit);
      if (limit.rlim_cur < need) {
        state.SkipWithError("RLIMIT_NOFILE too low for this many socketpairs");
        return false;
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      auto pair = sockit::UnixStream::pair(true);
      if (!ok(state, pair)) return false;
      writers.push_back(pair->first.native_handle());
      readers.push_back(pair->second.native_handle());
      ends.push_back(std::move(pair->first));
      ends.push_back(std::move(pair->second));
    }
    return true;
  }
};

// The baseline: an epoll instance and an event array, nothing else.
struct RawEpoll {
  UniqueFd ep{::epoll_create1(EPOLL_CLOEXEC)};
  epoll_event events[kMaxEvents];

  void add(int fd, std::uint32_t interest) {
    epoll_event ev{};
    ev.events = interest;
    ev.data.fd = fd;
    if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl(ADD)");
  }
  int wait() {
    int n = ::epoll_wait(ep.get(), events, kMaxEvents, 0);
    if (n < 0) die("epoll_wait");
    return n;
  }
};

std::unique_ptr<EventLoop> make_loop(benchmark::State& state) {
  auto loop = EventLoop::create();
  if (!ok(state, loop)) return nullptr;
  return std::move(*loop);
}

void turn(EventLoop& loop) {
  if (!loop.run_once(kNoWait)) die("run_once");
}

// --- dispatch: write one byte to K of N pairs, one turn, handlers read it -------------

void BM_Dispatch_Loop(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto k = static_cast<std::size_t>(state.range(1));
  Pairs pairs;
  if (!pairs.open(state, n)) return;
  auto loop = make_loop(state);
  if (!loop) return;
  std::size_t handled = 0;
  std::vector<sockit::Watch> watches;
  for (int fd : pairs.readers) {
    auto w = loop->watch(fd, sockit::kReadable, [fd, &handled](std::uint32_t) {
      char byte;
      get(fd, &byte, 1);
      ++handled;
    });
    if (!ok(state, w)) return;
    watches.push_back(std::move(*w));
  }
  std::size_t next = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < k; ++i) {
      poke(pairs.writers[next]);
      next = next + 1 == n ? 0 : next + 1;
    }
    handled = 0;
    while (handled < k)
      turn(*loop);
  }
  report_events(state, state.range(1));
}

void BM_Dispatch_Raw(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto k = static_cast<std::size_t>(state.range(1));
  Pairs pairs;
  if (!pairs.open(state, n)) return;
  RawEpoll raw;
  for (int fd : pairs.readers)
    raw.add(fd, EPOLLIN);
  std::size_t next = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < k; ++i) {
      poke(pairs.writers[next]);
      next = next + 1 == n ? 0 : next + 1;
    }
    std::size_t handled = 0;
    while (handled < k) {
      int count = raw.wait();
      for (int i = 0; i < count; ++i) {
        char byte;
        get(raw.events[i].data.fd, &byte, 1);
        ++handled;
      }
    }
  }
  report_events(state, state.range(1));
}

// --- dispatch without I/O: K of N descriptors stay readable (level-triggered, never read),
// so each turn is epoll_wait + K handler calls and nothing else: the loop's overhead bare.

void BM_DispatchOnly_Loop(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto k = static_cast<std::size_t>(state.range(1));
  Pairs pairs;
  if (!pairs.open(state, n)) return;
  auto loop = make_loop(state);
  if (!loop) return;
  std::int64_t handled = 0;
  std::vector<sockit::Watch> watches;
  for (int fd : pairs.readers) {
    auto w = loop->watch(fd, sockit::kReadable, [&handled](std::uint32_t) { ++handled; });
    if (!ok(state, w)) return;
    watches.push_back(std::move(*w));
  }
  for (std::size_t i = 0; i < k; ++i)
    poke(pairs.writers[i * (n / k)]);
  for (auto _ : state)
    turn(*loop);
  if (handled != state.iterations() * state.range(1)) die("dispatch-only: events lost");
  report_events(state, state.range(1));
}

void BM_DispatchOnly_Raw(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto k = static_cast<std::size_t>(state.range(1));
  Pairs pairs;
  if (!pairs.open(state, n)) return;
  RawEpoll raw;
  for (int fd : pairs.readers)
    raw.add(fd, EPOLLIN);
  for (std::size_t i = 0; i < k; ++i)
    poke(pairs.writers[i * (n / k)]);
  std::int64_t handled = 0;
  for (auto _ : state) {
    int count = raw.wait();
    for (int i = 0; i < count; ++i) {
      int fd = raw.events[i].data.fd;
      benchmark::DoNotOptimize(fd);
      ++handled;
    }
  }
  if (handled != state.iterations() * state.range(1)) die("dispatch-only: events lost");
  report_events(state, state.range(1));
}

// --- ping-pong: a 64-byte message to the loop's socket, its handler echoes it, we read
// the echo. One round trip = write, epoll_wait, read, write, read. Arg 0: socketpair,
// 1: TCP over loopback (TCP_NODELAY).

constexpr std::size_t kMessage = 64;

struct Link {
  std::vector<sockit::Socket> keep;  // owns the two ends
  int client = -1;
  int server = -1;
};

bool open_link(benchmark::State& state, Link& link) {
  if (state.range(0) == 0) {
    auto pair = sockit::UnixStream::pair(true);
    if (!ok(state, pair)) return false;
    link.client = pair->first.native_handle();
    link.server = pair->second.native_handle();
    link.keep.push_back(std::move(pair->first));
    link.keep.push_back(std::move(pair->second));
    return true;
  }
  auto at = sockit::Endpoint::parse("127.0.0.1:0");
  if (!ok(state, at)) return false;
  auto listener = sockit::TcpListener::bind(*at);
  if (!ok(state, listener)) return false;
  auto bound = listener->local();
  if (!ok(state, bound)) return false;
  auto client = sockit::TcpStream::connect(*bound, {.nonblocking = true, .nodelay = true});
  if (!ok(state, client)) return false;
  auto accepted = listener->accept();
  if (!ok(state, accepted)) return false;
  auto& server = accepted->stream;
  if (!ok(state, server.set_nonblocking(true)) || !ok(state, server.set_nodelay(true))) {
    return false;
  }
  link.client = client->native_handle();
  link.server = server.native_handle();
  link.keep.push_back(std::move(*client));
  link.keep.push_back(std::move(server));
  return true;
}

void echo(int fd) {
  char buf[kMessage];
  ssize_t got = ::read(fd, buf, sizeof buf);
  if (got > 0) put(fd, buf, static_cast<std::size_t>(got));
}

// The echo is written inside the turn, but over TCP it may not be readable at once.
void await_echo(int client) {
  char buf[kMessage];
  std::size_t have = 0;
  while (have < kMessage) {
    ssize_t got = ::read(client, buf + have, kMessage - have);
    if (got > 0) {
      have += static_cast<std::size_t>(got);
    } else if (got == 0 || errno != EAGAIN) {
      die("read echo");
    }
  }
}

void BM_PingPong_Loop(benchmark::State& state) {
  Link link;
  if (!open_link(state, link)) return;
  auto loop = make_loop(state);
  if (!loop) return;
  const int server = link.server;
  auto watch = loop->watch(server, sockit::kReadable, [server](std::uint32_t) { echo(server); });
  if (!ok(state, watch)) return;
  const char message[kMessage] = {};
  for (auto _ : state) {
    put(link.client, message, kMessage);
    turn(*loop);
    await_echo(link.client);
  }
  report_events(state, 1);
}

void BM_PingPong_Raw(benchmark::State& state) {
  Link link;
  if (!open_link(state, link)) return;
  RawEpoll raw;
  raw.add(link.server, EPOLLIN);
  const char message[kMessage] = {};
  for (auto _ : state) {
    put(link.client, message, kMessage);
    int count = raw.wait();
    for (int i = 0; i < count; ++i)
      echo(raw.events[i].data.fd);
    await_echo(link.client);
  }
  report_events(state, 1);
}

// --- timers ---------------------------------------------------------------------------

// A scanner's pattern: arm a timeout per probe, cancel it when the answer comes first.
// Arg: timers already live in the heap (other probes in flight).
void BM_TimerArmCancel(benchmark::State& state) {
  auto loop = make_loop(state);
  if (!loop) return;
  std::vector<sockit::Timer> live;
  for (std::int64_t i = 0; i < state.range(0); ++i)
    live.push_back(loop->after(1h, [] {}));
  for (auto _ : state) {
    sockit::Timer timeout = loop->after(1s, [] {});
    timeout.cancel();
  }
  report_events(state, 1);
}

// M timers due at once, fired in one turn (arming them is not timed).
void BM_TimerFire(benchmark::State& state) {
  auto loop = make_loop(state);
  if (!loop) return;
  const auto m = state.range(0);
  std::int64_t fired = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (std::int64_t i = 0; i < m; ++i)
      loop->after(0s, [&fired] { ++fired; }).detach();
    state.ResumeTiming();
    turn(*loop);
  }
  if (fired != state.iterations() * m) die("timers: not all fired");
  report_events(state, m);
}

// --- post(): another thread posts a batch of 1000 tasks and waits until all have run ---

void BM_Post(benchmark::State& state) {
  constexpr std::int64_t kBatch = 1000;
  auto loop = make_loop(state);
  if (!loop) return;
  auto keep_running = loop->every(1h, [] {});
  std::atomic<std::int64_t> ran{0};
  std::thread runner([&loop] {
    if (!loop->run()) die("run");
  });
  std::int64_t target = 0;
  for (auto _ : state) {
    for (std::int64_t i = 0; i < kBatch; ++i) {
      loop->post([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
    }
    target += kBatch;
    while (ran.load(std::memory_order_relaxed) < target)
      std::this_thread::yield();
  }
  loop->stop();
  runner.join();
  report_events(state, kBatch);
}

// --- watch/unwatch churn: register and unregister one descriptor --------------------------

void BM_WatchChurn_Loop(benchmark::State& state) {
  auto pair = sockit::UnixStream::pair(true);
  if (!ok(state, pair)) return;
  auto loop = make_loop(state);
  if (!loop) return;
  const int fd = pair->second.native_handle();
  for (auto _ : state) {
    auto w = loop->watch(fd, sockit::kReadable, [](std::uint32_t) {});
    if (!w) die("watch");
    w->reset();
  }
  report_events(state, 1);
}

void BM_WatchChurn_Raw(benchmark::State& state) {
  auto pair = sockit::UnixStream::pair(true);
  if (!ok(state, pair)) return;
  RawEpoll raw;
  const int fd = pair->second.native_handle();
  for (auto _ : state) {
    raw.add(fd, EPOLLIN);
    if (::epoll_ctl(raw.ep.get(), EPOLL_CTL_DEL, fd, nullptr) < 0) die("epoll_ctl(DEL)");
  }
  report_events(state, 1);
}

void dispatch_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"fds", "ready"});
  for (std::int64_t k : {1, 16, 256})
    b->Args({1000, k});
}

}  // namespace

BENCHMARK(BM_Dispatch_Loop)->Apply(dispatch_args);
BENCHMARK(BM_Dispatch_Raw)->Apply(dispatch_args);
BENCHMARK(BM_DispatchOnly_Loop)->Apply(dispatch_args);
BENCHMARK(BM_DispatchOnly_Raw)->Apply(dispatch_args);
BENCHMARK(BM_PingPong_Loop)->ArgName("tcp")->Arg(0)->Arg(1);
BENCHMARK(BM_PingPong_Raw)->ArgName("tcp")->Arg(0)->Arg(1);
BENCHMARK(BM_TimerArmCancel)->ArgName("live")->Arg(0)->Arg(1000);
BENCHMARK(BM_TimerFire)->ArgName("due")->Arg(1000)->Arg(10000);
BENCHMARK(BM_Post)->UseRealTime();
BENCHMARK(BM_WatchChurn_Loop);
BENCHMARK(BM_WatchChurn_Raw);
