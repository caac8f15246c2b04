// EventLoop with real descriptors: readiness, many watches, handlers that destroy watches
// (their own or another's in the same batch), modify(), and a small echo server.
// Every test ends (in TearDown) by checking that nothing is left registered.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "loop_test.hpp"
#include "sockit/event_loop.hpp"
#include "sockit/tcp.hpp"
#include "sockit/unix.hpp"

namespace sockit {

// Readable values in assertion failures (found by argument-dependent lookup).
void PrintTo(const Endpoint& e, std::ostream* os) {
  *os << e.to_string();
}
void PrintTo(const IpAddress& a, std::ostream* os) {
  *os << a.to_string();
}

namespace {

using namespace std::chrono_literals;

// Generous upper bound for one turn that should find work at once.
constexpr auto kPatience = 5s;

class EventLoopIoTest : public test::LoopTest {
 protected:
  std::pair<UnixStream, UnixStream> make_pair() {
    auto p = UnixStream::pair(true);
    EXPECT_TRUE(p) << p.error().message();
    return std::move(p).value();
  }

  // Turns the loop until `done` holds, each turn waiting at most kPatience.
  template <typename Pred>
  void turn_until(Pred done, int max_turns = 1000) {
    for (int i = 0; i < max_turns && !done(); ++i) {
      auto r = loop->run_once(kPatience);
      ASSERT_TRUE(r) << r.error().message();
    }
    ASSERT_TRUE(done()) << "condition not reached after " << max_turns << " turns";
  }
};

TEST_F(EventLoopIoTest, ReadableHandlerGetsTheReadyMask) {
  auto [a, b] = make_pair();
  std::uint32_t seen = 0;
  int calls = 0;
  auto w = loop->watch(a.native_handle(), kReadable, [&](std::uint32_t ready) {
    seen = ready;
    ++calls;
    std::array<char, 16> buf;
    EXPECT_EQ(a.recv(buf).value_or(0), 2u);
  });
  ASSERT_TRUE(w) << w.error().message();
  EXPECT_EQ(w->fd(), a.native_handle());
  EXPECT_EQ(w->interest(), kReadable);
  EXPECT_EQ(loop->watch_count(), 1u);
  ASSERT_TRUE(b.send_all("hi"));
  turn_until([&] { return calls > 0; });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(seen & kReadable);
  // Drained: another turn does not call it again.
  ASSERT_TRUE(loop->run_once(0ms));
  EXPECT_EQ(calls, 1);
  w->reset();
  EXPECT_FALSE(*w);
}

TEST_F(EventLoopIoTest, NothingReadyMeansNoCall) {
  auto [a, b] = make_pair();
  int calls = 0;
  auto w = loop->watch(a.native_handle(), kReadable, [&](std::uint32_t) { ++calls; });
  ASSERT_TRUE(w);
  ASSERT_TRUE(loop->run_once(0ms));
  EXPECT_EQ(calls, 0);
}

TEST_F(EventLoopIoTest, PeerCloseIsReported) {
  auto [a, b] = make_pair();
  std::uint32_t seen = 0;
  Watch w;
  auto r = loop->watch(a.native_handle(), kReadable | kPeerClosed, [&](std::uint32_t ready) {
    seen = ready;
    w.reset();
  });
  ASSERT_TRUE(r) << r.error().message();
  w = std::move(r).value();
  b.close();
  ASSERT_TRUE(loop->run());
  EXPECT_TRUE(seen & kPeerClosed);
  EXPECT_TRUE(seen & kReadable);  // EOF reads as readable
}

TEST_F(EventLoopIoTest, ThousandWatchedSocketsEachFireExactlyOnce) {
  constexpr std::size_t kPairs = 1000;
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  const rlim_t needed = 2 * kPairs + 64;
  if (lim.rlim_cur < needed) {
    if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < needed) {
      GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << lim.rlim_max << " < " << needed;
    }
    lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? needed : lim.rlim_max;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lim), 0);
  }

  std::vector<std::pair<UnixStream, UnixStream>> pairs;
  pairs.reserve(kPairs);
  for (std::size_t i = 0; i < kPairs; ++i)
    pairs.push_back(make_pair());

  std::vector<int> calls(kPairs, 0);
  std::vector<std::uint32_t> masks(kPairs, 0);
  std::size_t total = 0;
  std::vector<Watch> watches;
  watches.reserve(kPairs);
  for (std::size_t i = 0; i < kPairs; ++i) {
    UnixStream* reader = &pairs[i].first;
    auto w = loop->watch(reader->native_handle(), kReadable, [&, i, reader](std::uint32_t ready) {
      ++calls[i];
      masks[i] = ready;
      ++total;
      char byte = 0;
      EXPECT_EQ(reader->recv(MutableBuffer(&byte, 1)).value_or(0), 1u);
      EXPECT_EQ(byte, static_cast<char>('a' + i % 26));
    });
    ASSERT_TRUE(w) << i << ": " << w.error().message();
    watches.push_back(std::move(w).value());
  }
  EXPECT_EQ(loop->watch_count(), kPairs);

  for (std::size_t i = 0; i < kPairs; ++i) {
    char byte = static_cast<char>('a' + i % 26);
    ASSERT_TRUE(pairs[i].second.send_all(ConstBuffer(&byte, 1)));
  }

  ASSERT_TRUE(loop->run_once(kPatience));
  EXPECT_GT(total, 0u);
  EXPECT_LE(total, static_cast<std::size_t>(EventLoop::kMaxEventsPerTurn))
      << "one turn must do a bounded amount of descriptor work";
  turn_until([&] { return total >= kPairs; });
  ASSERT_TRUE(loop->run_once(0ms));  // nothing is readable any more
  EXPECT_EQ(total, kPairs);
  for (std::size_t i = 0; i < kPairs; ++i) {
    EXPECT_EQ(calls[i], 1) << "pair " << i;
    EXPECT_TRUE(masks[i] & kReadable) << "pair " << i;
  }

  watches.clear();
  EXPECT_EQ(loop->watch_count(), 0u);
  EXPECT_TRUE(loop->idle());
  ASSERT_TRUE(loop->run());  // returns at once: nothing left
}

TEST_F(EventLoopIoTest, HandlerMayDestroyItsOwnWatch) {
  auto [a, b] = make_pair();
  int calls = 0;
  auto w = std::make_unique<Watch>();
  auto r = loop->watch(a.native_handle(), kReadable,
                       [&, token = std::make_unique<int>(5)](std::uint32_t) {
                         w.reset();        // destroys the handle and the registration
                         calls += *token;  // captures still alive until the handler returns
                       });
  ASSERT_TRUE(r) << r.error().message();
  *w = std::move(r).value();
  ASSERT_TRUE(b.send_all("x"));
  ASSERT_TRUE(loop->run());  // ends when the watch is gone
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(loop->watch_count(), 0u);
}

TEST_F(EventLoopIoTest, HandlerMayDestroyAnotherWatchWhoseEventIsInTheSameBatch) {
  auto [a1, b1] = make_pair();
  auto [a2, b2] = make_pair();
  int calls1 = 0;
  int calls2 = 0;
  Watch w1;
  Watch w2;
  // Whichever runs first destroys the other; the other's event is already in the batch.
  auto r1 = loop->watch(a1.native_handle(), kReadable, [&](std::uint32_t) {
    ++calls1;
    w2.reset();
    w1.reset();
  });
  auto r2 = loop->watch(a2.native_handle(), kReadable, [&](std::uint32_t) {
    ++calls2;
    w1.reset();
    w2.reset();
  });
  ASSERT_TRUE(r1 && r2);
  w1 = std::move(r1).value();
  w2 = std::move(r2).value();
  ASSERT_TRUE(b1.send_all("1"));
  ASSERT_TRUE(b2.send_all("2"));
  ASSERT_TRUE(loop->run_once(kPatience));  // both are ready: one batch
  EXPECT_EQ(calls1 + calls2, 1) << "the handler of a watch destroyed in this batch ran";
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(calls1 + calls2, 1);
}

TEST_F(EventLoopIoTest, EventForAReusedDescriptorInTheSameBatchIsDropped) {
  auto [a1, b1] = make_pair();
  auto [a2, b2] = make_pair();
  int calls1 = 0;
  int calls2 = 0;
  int new_calls = 0;
  std::optional<std::pair<UnixStream, UnixStream>> fresh;
  Watch w1;
  Watch w2;
  Watch w_new;
  // The first handler to run closes the other pair's reader and watches a new descriptor
  // that takes its number: the old event, still in the batch, must not reach the new handler.
  auto replace = [&](Watch& other, UnixStream& other_reader) {
    int old_fd = other_reader.native_handle();
    other.reset();
    other_reader.close();
    fresh = make_pair();
    int fd = fresh->first.native_handle();
    ASSERT_EQ(fd, old_fd) << "the kernel gives the lowest free descriptor";
    auto r = loop->watch(fd, kReadable, [&](std::uint32_t) { ++new_calls; });
    ASSERT_TRUE(r) << r.error().message();
    w_new = std::move(r).value();
  };
  auto r1 = loop->watch(a1.native_handle(), kReadable, [&](std::uint32_t) {
    ++calls1;
    if (calls2 == 0) replace(w2, a2);
    w1.reset();
  });
  auto r2 = loop->watch(a2.native_handle(), kReadable, [&](std::uint32_t) {
    ++calls2;
    if (calls1 == 0) replace(w1, a1);
    w2.reset();
  });
  ASSERT_TRUE(r1 && r2);
  w1 = std::move(r1).value();
  w2 = std::move(r2).value();
  ASSERT_TRUE(b1.send_all("1"));
  ASSERT_TRUE(b2.send_all("2"));
  ASSERT_TRUE(loop->run_once(kPatience));
  EXPECT_EQ(calls1 + calls2, 1);
  EXPECT_EQ(new_calls, 0) << "a stale event reached the handler of a reused descriptor";
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(loop->watch_count(), 1u);
  w_new.reset();
}

TEST_F(EventLoopIoTest, HandlerMayWatchManyMoreDescriptorsAndKeepItsCaptures) {
  // Watching a descriptor with a high number grows the loop's table while the handler runs.
  auto [a, b] = make_pair();
  auto [c, d] = make_pair();
  int high = ::fcntl(c.native_handle(), F_DUPFD_CLOEXEC, 1000);
  ASSERT_GE(high, 1000) << "cannot dup to a high descriptor";
  UniqueFd high_fd(high);
  struct State {
    EventLoop* loop;
    int high_fd;
    std::vector<Watch> added;
    Watch self;
    int result = 0;
    int high_calls = 0;
  } st{loop.get(), high_fd.get(), {}, {}};
  auto r = loop->watch(
      a.native_handle(), kReadable, [&st, token = std::make_unique<int>(42)](std::uint32_t) {
        auto more =
            st.loop->watch(st.high_fd, kReadable, [&st](std::uint32_t) { ++st.high_calls; });
        ASSERT_TRUE(more) << more.error().message();
        st.added.push_back(std::move(more).value());
        st.result = *token;  // the handler's own state, after the table grew
        st.self.reset();
      });
  ASSERT_TRUE(r) << r.error().message();
  st.self = std::move(r).value();
  ASSERT_TRUE(b.send_all("go"));
  turn_until([&] { return st.result != 0; });
  EXPECT_EQ(st.result, 42);
  ASSERT_TRUE(d.send_all("x"));
  turn_until([&] { return st.high_calls > 0; });
  st.added.clear();
}

TEST_F(EventLoopIoTest, ModifyChangesInterest) {
  auto [a, b] = make_pair();
  std::uint32_t seen = 0;
  int calls = 0;
  auto w = loop->watch(a.native_handle(), kReadable, [&](std::uint32_t ready) {
    seen = ready;
    ++calls;
  });
  ASSERT_TRUE(w);
  ASSERT_TRUE(loop->run_once(0ms));
  EXPECT_EQ(calls, 0);  // nothing to read yet

  auto m = w->modify(kWritable);  // an empty socket buffer: writable at once
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(w->interest(), kWritable);
  turn_until([&] { return calls > 0; });
  EXPECT_TRUE(seen & kWritable);
  EXPECT_FALSE(seen & kReadable);

  ASSERT_TRUE(w->modify(kWritable));  // unchanged: fine, no system call needed
  ASSERT_TRUE(w->modify(0));          // interest in nothing: no more calls
  calls = 0;
  ASSERT_TRUE(loop->run_once(0ms));
  EXPECT_EQ(calls, 0);
  ASSERT_TRUE(w->modify(kReadable | kWritable));
  ASSERT_TRUE(b.send_all("r"));
  turn_until([&] { return calls > 0; });
  EXPECT_TRUE(seen & kReadable);
  EXPECT_TRUE(seen & kWritable);
  w->reset();
}

TEST_F(EventLoopIoTest, ModifyOnAnEmptyWatchFails) {
  Watch w;
  EXPECT_FALSE(w);
  auto m = w.modify(kReadable);
  ASSERT_FALSE(m);
  EXPECT_TRUE(m.error().is(std::errc::bad_file_descriptor));
  EXPECT_EQ(w.interest(), 0u);
}

TEST_F(EventLoopIoTest, WatchingTwiceOrABadDescriptorFails) {
  auto [a, b] = make_pair();
  auto first = loop->watch(a.native_handle(), kReadable, [](std::uint32_t) {});
  ASSERT_TRUE(first);
  auto again = loop->watch(a.native_handle(), kReadable, [](std::uint32_t) {});
  ASSERT_FALSE(again);
  EXPECT_TRUE(again.error().is(std::errc::file_exists));
  EXPECT_EQ(loop->watch_count(), 1u);

  auto negative = loop->watch(-1, kReadable, [](std::uint32_t) {});
  ASSERT_FALSE(negative);
  EXPECT_TRUE(negative.error().is(std::errc::bad_file_descriptor));

  int closed = ::dup(a.native_handle());
  ASSERT_GE(closed, 0);
  ::close(closed);
  auto stale = loop->watch(closed, kReadable, [](std::uint32_t) {});
  ASSERT_FALSE(stale);
  EXPECT_TRUE(stale.error().is(std::errc::bad_file_descriptor));
  EXPECT_NE(stale.error().message().find("epoll_ctl"), std::string::npos);
  EXPECT_EQ(loop->watch_count(), 1u);
}

TEST_F(EventLoopIoTest, MovedWatchStillUnregisters) {
  auto [a, b] = make_pair();
  auto r = loop->watch(a.native_handle(), kReadable, [](std::uint32_t) {});
  ASSERT_TRUE(r);
  Watch w1 = std::move(r).value();
  Watch w2 = std::move(w1);
  EXPECT_FALSE(w1);  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(w2);
  EXPECT_EQ(loop->watch_count(), 1u);
  Watch w3;
  w3 = std::move(w2);
  EXPECT_EQ(loop->watch_count(), 1u);
  w3 = Watch();
  EXPECT_EQ(loop->watch_count(), 0u);
  // The descriptor can be watched again once the old registration is gone.
  auto again = loop->watch(a.native_handle(), kReadable, [](std::uint32_t) {});
  ASSERT_TRUE(again) << again.error().message();
}

TEST_F(EventLoopIoTest, WatchesAndTimersTogetherKeepRunGoing) {
  auto [a, b] = make_pair();
  std::string got;
  Watch w;
  auto r = loop->watch(a.native_handle(), kReadable, [&](std::uint32_t) {
    std::array<char, 16> buf;
    auto n = a.recv(buf);
    ASSERT_TRUE(n);
    got.append(buf.data(), *n);
    w.reset();
  });
  ASSERT_TRUE(r);
  w = std::move(r).value();
  Timer t = loop->after(1ms, [&] { ASSERT_TRUE(b.send_all("late")); });
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(got, "late");
}

TEST_F(EventLoopIoTest, PostWakesALoopBlockedOnDescriptors) {
  auto [a, b] = make_pair();
  auto w = loop->watch(a.native_handle(), kReadable, [](std::uint32_t) {});
  ASSERT_TRUE(w);
  bool ran = false;
  std::thread poster([&] {
    loop->post([&] {
      ran = true;
      w->reset();
    });
  });
  ASSERT_TRUE(loop->run());  // would block forever on `a` without the post
  poster.join();
  EXPECT_TRUE(ran);
}

// A loop-driven echo server: the accept handler watches each new connection (so the loop's
// tables grow while a handler runs); each connection echoes until EOF, then unwatches.
class EchoServer {
 public:
  EchoServer(EventLoop& loop, TcpListener& listener, int expected)
      : loop_(loop), listener_(listener), expected_(expected) {}

  Result<void> start() {
    auto r =
        loop_.watch(listener_.native_handle(), kReadable, [this](std::uint32_t) { on_accept(); });
    if (!r) return std::move(r).error();
    accept_watch_ = std::move(r).value();
    return {};
  }
  int accepted() const { return accepted_; }
  int finished() const { return finished_; }

 private:
  struct Connection {
    TcpStream stream;
    Watch watch;  // declared after the stream: unwatched before it closes
  };

  void on_accept() {
    auto got = listener_.accept();
    if (!got) {
      ASSERT_TRUE(got.error().is(would_block)) << got.error().message();
      return;
    }
    connections_.push_back(std::make_unique<Connection>(Connection{std::move(got->stream), {}}));
    Connection* c = connections_.back().get();
    auto w = loop_.watch(c->stream.native_handle(), kReadable,
                         [this, c](std::uint32_t) { on_readable(*c); });
    ASSERT_TRUE(w) << w.error().message();
    c->watch = std::move(w).value();
    if (++accepted_ == expected_) accept_watch_.reset();
  }

  void on_readable(Connection& c) {
    std::array<char, 256> buf;
    auto n = c.stream.recv(buf);
    if (!n && n.error().is(would_block)) return;
    ASSERT_TRUE(n) << n.error().message();
    if (*n == 0) {  // the client is done: close our side
      c.watch.reset();
      c.stream.close();
      ++finished_;
      return;
    }
    ASSERT_TRUE(c.stream.send_all(ConstBuffer(buf.data(), *n)));
  }

  EventLoop& loop_;
  TcpListener& listener_;
  int expected_;
  int accepted_ = 0;
  int finished_ = 0;
  std::vector<std::unique_ptr<Connection>> connections_;
  Watch accept_watch_;
};

TEST_F(EventLoopIoTest, EchoServerOverTcp) {
  ListenOptions options;
  options.nonblocking = true;
  auto listener = TcpListener::bind(*Endpoint::parse("127.0.0.1:0"), options);
  ASSERT_TRUE(listener) << listener.error().message();
  auto at = listener->local();
  ASSERT_TRUE(at);

  constexpr int kClients = 5;
  EchoServer server(*loop, *listener, kClients);
  ASSERT_TRUE(server.start());

  std::vector<std::string> replies(kClients);
  std::thread clients([&] {
    for (std::size_t i = 0; i < kClients; ++i) {
      auto s = TcpStream::connect(*at);
      ASSERT_TRUE(s) << s.error().message();
      ASSERT_TRUE(s->send_all("hello " + std::to_string(i)));
      ASSERT_TRUE(s->shutdown(Shutdown::Write));
      std::array<char, 256> buf;
      for (;;) {
        auto n = s->recv(buf);
        ASSERT_TRUE(n) << n.error().message();
        if (*n == 0) break;
        replies[i].append(buf.data(), *n);
      }
    }
  });
  ASSERT_TRUE(loop->run());  // ends when every connection and the listener are unwatched
  clients.join();
  EXPECT_EQ(server.accepted(), kClients);
  EXPECT_EQ(server.finished(), kClients);
  for (std::size_t i = 0; i < kClients; ++i)
    EXPECT_EQ(replies[i], "hello " + std::to_string(i));
}

}  // namespace
}  // namespace sockit
