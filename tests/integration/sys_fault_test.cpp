// Fault injection through the system-call seam (sockit::sys::set_fault_hook): the
// wrappers retry EINTR, report the other errors with the right code and context, and
// connect treats an interrupted handshake as one still in progress.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <deque>
#include <mutex>
#include <ostream>
#include <string>
#include <utility>

#include "sockit/event_loop.hpp"
#include "sockit/tcp.hpp"
#include "sockit/udp.hpp"
#include "sockit/unix.hpp"
#include "sys/sys.hpp"

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
using sys::Call;

// Scripted faults: each injected call takes the next errno queued for it; every call
// through the seam is counted. Installed for one test, removed afterwards.
class Faults {
 public:
  void inject(Call call, int err, int times = 1) {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < times; ++i)
      queued_[index(call)].push_back(err);
  }
  int calls(Call call) {
    std::lock_guard lock(mutex_);
    return calls_[index(call)];
  }
  int pending(Call call) {
    std::lock_guard lock(mutex_);
    return static_cast<int>(queued_[index(call)].size());
  }
  void reset_counts() {
    std::lock_guard lock(mutex_);
    calls_.fill(0);
  }

  static int hook(Call call, void* context) {
    auto* self = static_cast<Faults*>(context);
    std::lock_guard lock(self->mutex_);
    ++self->calls_[index(call)];
    auto& queue = self->queued_[index(call)];
    if (queue.empty()) return 0;
    int err = queue.front();
    queue.pop_front();
    return err;
  }

 private:
  static std::size_t index(Call call) { return static_cast<std::size_t>(call); }
  std::mutex mutex_;
  std::array<std::deque<int>, static_cast<std::size_t>(Call::count_)> queued_;
  std::array<int, static_cast<std::size_t>(Call::count_)> calls_{};
};

class SysFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = TcpListener::bind(Endpoint(IpAddress::v4_loopback(), 0));
    ASSERT_TRUE(l) << l.error().message();
    listener.emplace(std::move(l).value());
    auto at = listener->local();
    ASSERT_TRUE(at);
    listening = *at;
    sys::set_fault_hook(&Faults::hook, &faults);
  }
  void TearDown() override {
    sys::set_fault_hook(nullptr, nullptr);
    // A test that leaves a fault queued didn't exercise the path it meant to.
    for (std::size_t c = 0; c < static_cast<std::size_t>(Call::count_); ++c) {
      EXPECT_EQ(faults.pending(static_cast<Call>(c)), 0) << "unused fault for call #" << c;
    }
  }

  // A connected pair over the listener (set up with no faults in play).
  std::pair<TcpStream, TcpStream> connected() {
    auto client = TcpStream::connect(listening);
    EXPECT_TRUE(client) << client.error().message();
    auto accepted = listener->accept(5s);
    EXPECT_TRUE(accepted) << accepted.error().message();
    return {std::move(client).value(), std::move(accepted).value().stream};
  }

  Faults faults;
  std::optional<TcpListener> listener;
  Endpoint listening;
};

// --- EINTR is retried inside ----------------------------------------------------------

TEST_F(SysFaultTest, AcceptRetriesEintr) {
  auto client = TcpStream::connect(listening);
  ASSERT_TRUE(client) << client.error().message();
  faults.reset_counts();
  faults.inject(Call::accept, EINTR);
  auto accepted = listener->accept();
  ASSERT_TRUE(accepted) << accepted.error().message();
  EXPECT_EQ(faults.calls(Call::accept), 2);  // interrupted once, then done
  EXPECT_EQ(accepted->peer, client->local().value());
}

TEST_F(SysFaultTest, SendAndRecvRetryEintr) {
  auto [client, server] = connected();
  faults.reset_counts();
  faults.inject(Call::send, EINTR, 2);
  ASSERT_TRUE(client.send_all("through"));
  EXPECT_EQ(faults.calls(Call::send), 3);

  faults.inject(Call::recv, EINTR);
  std::array<char, 16> buf;
  auto n = server.recv(buf);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(std::string(buf.data(), *n), "through");
  EXPECT_EQ(faults.calls(Call::recv), 2);
}

TEST_F(SysFaultTest, ScatterGatherRetryEintr) {
  auto [client, server] = connected();
  faults.inject(Call::writev, EINTR);
  std::array<ConstBuffer, 2> out = {ConstBuffer("ab"), ConstBuffer("cd")};
  auto sent = client.send(std::span<const ConstBuffer>(out));
  ASSERT_TRUE(sent) << sent.error().message();
  EXPECT_EQ(*sent, 4u);

  faults.inject(Call::readv, EINTR);
  std::array<char, 2> a{};
  std::array<char, 8> b{};
  std::array<MutableBuffer, 2> in = {MutableBuffer(a), MutableBuffer(b)};
  auto got = server.recv(std::span<const MutableBuffer>(in));
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_GE(*got, 1u);
  EXPECT_EQ(a[0], 'a');
}

TEST_F(SysFaultTest, DatagramCallsRetryEintr) {
  auto server = UdpSocket::bind(Endpoint(IpAddress::v4_loopback(), 0));
  auto client = UdpSocket::bind(Endpoint(IpAddress::v4_loopback(), 0));
  ASSERT_TRUE(server && client);
  faults.inject(Call::sendto, EINTR);
  ASSERT_TRUE(client->send_to("dgram", server->local().value()));
  faults.inject(Call::recvfrom, EINTR);
  std::array<char, 16> buf;
  auto got = server->recv_from(buf);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(std::string(buf.data(), got->size), "dgram");
  EXPECT_EQ(got->from, client->local().value());
}

TEST_F(SysFaultTest, AcceptTimeoutSurvivesAnInterruptedPoll) {
  auto client = TcpStream::connect(listening);
  ASSERT_TRUE(client);
  faults.inject(Call::poll, EINTR);
  auto accepted = listener->accept(5s);
  ASSERT_TRUE(accepted) << accepted.error().message();

  faults.inject(Call::poll, EINTR);  // nobody connects: the wait still ends in a timeout
  auto none = listener->accept(20ms);
  ASSERT_FALSE(none);
  EXPECT_TRUE(none.error().is(std::errc::timed_out)) << none.error().message();
}

// --- other errors are reported --------------------------------------------------------

TEST_F(SysFaultTest, AcceptReportsEmfile) {
  auto client = TcpStream::connect(listening);
  ASSERT_TRUE(client);
  faults.inject(Call::accept, EMFILE);
  auto r = listener->accept();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), std::error_code(EMFILE, std::system_category()));
  EXPECT_TRUE(r.error().is(std::errc::too_many_files_open));
  EXPECT_EQ(r.error().context(), "accept");
  // The connection is still queued: the next accept gets it.
  auto again = listener->accept(5s);
  ASSERT_TRUE(again) << again.error().message();
}

TEST_F(SysFaultTest, RecvOnABlockingSocketReportsEagain) {
  auto [client, server] = connected();
  faults.inject(Call::recv, EAGAIN);
  std::array<char, 8> buf;
  auto r = server.recv(buf);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(would_block)) << r.error().message();
  EXPECT_EQ(r.error().context(), "recv");
}

TEST_F(SysFaultTest, SendReportsEpipe) {
  auto [client, server] = connected();
  faults.inject(Call::send, EPIPE);
  auto r = client.send_all("x");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(std::errc::broken_pipe));
  EXPECT_EQ(r.error().message(), "send: Broken pipe");
}

TEST_F(SysFaultTest, ConnectReportsInjectedRefusalNamingTheEndpoint) {
  faults.inject(Call::connect, ECONNREFUSED);
  auto r = TcpStream::connect(listening);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(std::errc::connection_refused)) << r.error().message();
  EXPECT_EQ(r.error().context(), "connect " + listening.to_string());
  EXPECT_EQ(r.error().message(), "connect " + listening.to_string() + ": Connection refused");
}

TEST_F(SysFaultTest, ConnectByNameReportsTheName) {
  faults.inject(Call::connect, ECONNREFUSED);
  auto r = TcpStream::connect("127.0.0.1", listening.port());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(std::errc::connection_refused));
  EXPECT_EQ(r.error().context(), "connect 127.0.0.1:" + std::to_string(listening.port()));
}

TEST_F(SysFaultTest, InterruptedConnectStillConnects) {
  // A signal during connect() leaves the handshake going on in the kernel: the wrapper
  // reports it as in progress, and connect waits for it to complete.
  faults.inject(Call::connect, EINTR);
  auto client = TcpStream::connect(listening, {.timeout = 5s});
  ASSERT_TRUE(client) << client.error().message();
  auto accepted = listener->accept(5s);
  ASSERT_TRUE(accepted) << accepted.error().message();
  auto peer = client->peer();
  ASSERT_TRUE(peer) << "connect reported success on an unconnected socket: "
                    << peer.error().message();
  EXPECT_EQ(*peer, listening);
  ASSERT_TRUE(client->send_all("after EINTR"));
  std::array<char, 32> buf;
  auto n = accepted->stream.recv(buf);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(std::string(buf.data(), *n), "after EINTR");
}

TEST_F(SysFaultTest, InterruptedUnixConnectStillConnects) {
  auto at = Endpoint::parse("unix:@sockit-fault-" + std::to_string(::getpid()));
  ASSERT_TRUE(at);
  auto unix_listener = UnixListener::bind(*at);
  ASSERT_TRUE(unix_listener) << unix_listener.error().message();
  faults.inject(Call::connect, EINTR);
  auto client = UnixStream::connect(*at);
  ASSERT_TRUE(client) << client.error().message();
  auto accepted = unix_listener->accept(5s);
  ASSERT_TRUE(accepted) << accepted.error().message();
  ASSERT_TRUE(client->send_all("unix"));
  std::array<char, 8> buf;
  auto n = accepted->stream.recv(buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(buf.data(), *n), "unix");
}

TEST_F(SysFaultTest, SocketCreationFailureIsReported) {
  faults.inject(Call::socket, EMFILE);
  auto r = TcpStream::connect(listening);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(std::errc::too_many_files_open));
  EXPECT_EQ(r.error().context(), "socket");

  faults.inject(Call::socketpair, ENFILE);
  auto p = UnixStream::pair();
  ASSERT_FALSE(p);
  EXPECT_TRUE(p.error().is(std::errc::too_many_files_open_in_system));
  EXPECT_EQ(p.error().context(), "socketpair");
}

TEST_F(SysFaultTest, ListenerSetupFailuresNameTheEndpoint) {
  const Endpoint any_port(IpAddress::v4_loopback(), 0);
  faults.inject(Call::setsockopt, ENOPROTOOPT);
  auto a = TcpListener::bind(any_port);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), std::error_code(ENOPROTOOPT, std::system_category()));
  EXPECT_EQ(a.error().context(), "listen 127.0.0.1:0");

  faults.inject(Call::bind, EACCES);
  auto b = TcpListener::bind(any_port);
  ASSERT_FALSE(b);
  EXPECT_TRUE(b.error().is(std::errc::permission_denied));
  EXPECT_EQ(b.error().context(), "listen 127.0.0.1:0");

  faults.inject(Call::listen, EADDRINUSE);
  auto c = TcpListener::bind(any_port);
  ASSERT_FALSE(c);
  EXPECT_TRUE(c.error().is(std::errc::address_in_use));
  EXPECT_EQ(c.error().context(), "listen 127.0.0.1:0");
}

TEST_F(SysFaultTest, CloseIsNeverRetried) {
  int fd = ::dup(STDIN_FILENO);
  ASSERT_GE(fd, 0);
  faults.reset_counts();
  faults.inject(Call::close, EINTR);
  {
    UniqueFd owned(fd);
  }  // closes once; an EINTR must not make it try again (the number may be reused)
  EXPECT_EQ(faults.calls(Call::close), 1);
  ::close(fd);  // the injected failure skipped the real close
}

// --- the event loop -------------------------------------------------------------------

TEST_F(SysFaultTest, LoopTurnSurvivesAnInterruptedWait) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop) << loop.error().message();
  int fired = 0;
  {
    Timer t = (*loop)->after(0ms, [&] { ++fired; });
    faults.inject(Call::epoll_wait, EINTR);
    auto r = (*loop)->run_once(0ms);  // EINTR counts as "no events", not as a failure
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_TRUE((*loop)->run());
  }
  EXPECT_EQ(fired, 1);
  EXPECT_TRUE((*loop)->idle());
}

TEST_F(SysFaultTest, LoopReportsAFailedWait) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  faults.inject(Call::epoll_wait, EBADF);
  auto r = (*loop)->run_once(0ms);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(std::errc::bad_file_descriptor));
  EXPECT_EQ(r.error().context(), "epoll_wait");
  EXPECT_TRUE((*loop)->idle());
}

TEST_F(SysFaultTest, FailedWatchLeavesNothingRegistered) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  auto [a, b] = connected();
  faults.inject(Call::epoll_ctl, ENOMEM);
  auto w = (*loop)->watch(a.native_handle(), kReadable, [](std::uint32_t) {});
  ASSERT_FALSE(w);
  EXPECT_TRUE(w.error().is(std::errc::not_enough_memory));
  EXPECT_EQ(w.error().context(), "epoll_ctl(ADD)");
  EXPECT_EQ((*loop)->watch_count(), 0u);
  // The descriptor can be watched once the fault is gone.
  auto ok = (*loop)->watch(a.native_handle(), kReadable, [](std::uint32_t) {});
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ((*loop)->watch_count(), 1u);
  ok->reset();
  EXPECT_TRUE((*loop)->idle());
}

TEST_F(SysFaultTest, LoopCreationFailureIsReported) {
  faults.inject(Call::epoll_create, EMFILE);
  auto loop = EventLoop::create();
  ASSERT_FALSE(loop);
  EXPECT_TRUE(loop.error().is(std::errc::too_many_files_open));
  EXPECT_EQ(loop.error().context(), "epoll_create1");
}

}  // namespace
}  // namespace sockit
