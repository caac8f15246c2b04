// TcpStream and TcpListener on real loopback sockets, always on port 0.
#include "sockit/tcp.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

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

Endpoint loopback_any_port() {
  return Endpoint(IpAddress::v4_loopback(), 0);
}

TcpListener listen_on(const Endpoint& at, ListenOptions options = {}) {
  auto l = TcpListener::bind(at, options);
  EXPECT_TRUE(l) << l.error().message();
  return std::move(l).value();
}

Endpoint local_of(const Socket& s) {
  auto e = s.local();
  EXPECT_TRUE(e) << e.error().message();
  return e ? *e : Endpoint();
}

// A connected client and the server side of the same connection.
struct Connection {
  TcpStream client;
  TcpStream server;
  Endpoint server_saw_peer;
};

Connection connect_pair(TcpListener& listener, ConnectOptions options = {}) {
  auto client = TcpStream::connect(local_of(listener), options);
  EXPECT_TRUE(client) << client.error().message();
  auto accepted = listener.accept(5s);
  EXPECT_TRUE(accepted) << accepted.error().message();
  auto got = std::move(accepted).value();  // aborts the test with the error if it failed
  return {std::move(client).value(), std::move(got.stream), got.peer};
}

// Reads until `n` bytes arrived or EOF.
std::string recv_exactly(StreamSocket& s, std::size_t n) {
  std::string out;
  std::array<char, 4096> buf;
  while (out.size() < n) {
    auto got = s.recv(MutableBuffer(buf.data(), std::min(buf.size(), n - out.size())));
    EXPECT_TRUE(got) << got.error().message();
    if (!got || *got == 0) break;
    out.append(buf.data(), *got);
  }
  return out;
}

// Reads until EOF.
std::string recv_all(StreamSocket& s) {
  std::string out;
  std::array<char, 4096> buf;
  for (;;) {
    auto got = s.recv(buf);
    EXPECT_TRUE(got) << got.error().message();
    if (!got || *got == 0) break;
    out.append(buf.data(), *got);
  }
  return out;
}

// Waits (up to 5 s) until at least `n` bytes are queued for reading on `fd`.
bool wait_readable_bytes(int fd, int n) {
  for (int i = 0; i < 500; ++i) {
    int queued = 0;
    if (::ioctl(fd, FIONREAD, &queued) == 0 && queued >= n) return true;
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, 10);
  }
  return false;
}

// A TCP port on 127.0.0.1 that is bound but not listening: connecting to it is refused,
// and no other test can take it meanwhile.
class ClosedPort {
 public:
  ClosedPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    socklen_t len = sizeof sin;
    EXPECT_EQ(::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&sin), &len), 0);
    port_ = ntohs(sin.sin_port);
  }
  std::uint16_t port() const { return port_; }
  Endpoint endpoint() const { return Endpoint(IpAddress::v4_loopback(), port_); }

 private:
  UniqueFd fd_;
  std::uint16_t port_ = 0;
};

int int_sockopt(int fd, int level, int name) {
  int value = -1;
  socklen_t len = sizeof value;
  EXPECT_EQ(::getsockopt(fd, level, name, &value, &len), 0);
  return value;
}

// --- data -----------------------------------------------------------------------------

TEST(Tcp, EchoBothDirections) {
  TcpListener listener = listen_on(loopback_any_port());
  Connection c = connect_pair(listener);
  ASSERT_TRUE(c.client.send_all("ping"));
  EXPECT_EQ(recv_exactly(c.server, 4), "ping");
  ASSERT_TRUE(c.server.send_all("pong!"));
  EXPECT_EQ(recv_exactly(c.client, 5), "pong!");
}

TEST(Tcp, LargeTransferBothWaysAtOnce) {
  // More than the socket buffers hold, in both directions concurrently.
  TcpListener listener = listen_on(loopback_any_port());
  Connection c = connect_pair(listener);
  std::string up(4 << 20, '\0');
  std::string down(3 << 20, '\0');
  for (std::size_t i = 0; i < up.size(); ++i)
    up[i] = static_cast<char>(i * 7);
  for (std::size_t i = 0; i < down.size(); ++i)
    down[i] = static_cast<char>(i * 13);
  std::string server_got;
  std::thread server([&] {
    std::thread writer([&] {
      ASSERT_TRUE(c.server.send_all(down));
      ASSERT_TRUE(c.server.shutdown(Shutdown::Write));
    });
    server_got = recv_all(c.server);
    writer.join();
  });
  std::thread client_writer([&] {
    ASSERT_TRUE(c.client.send_all(up));
    ASSERT_TRUE(c.client.shutdown(Shutdown::Write));
  });
  std::string client_got = recv_all(c.client);
  client_writer.join();
  server.join();
  EXPECT_TRUE(server_got == up) << "server got " << server_got.size() << " bytes";
  EXPECT_TRUE(client_got == down) << "client got " << client_got.size() << " bytes";
}

TEST(Tcp, HalfCloseStillLetsTheServerAnswer) {
  TcpListener listener = listen_on(loopback_any_port());
  Connection c = connect_pair(listener);
  ASSERT_TRUE(c.client.send_all("request"));
  ASSERT_TRUE(c.client.shutdown(Shutdown::Write));

  EXPECT_EQ(recv_all(c.server), "request");  // ends with recv() == 0: EOF, not an error
  std::array<char, 8> buf;
  auto again = c.server.recv(buf);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);  // EOF stays EOF

  ASSERT_TRUE(c.server.send_all("answer"));
  c.server.close();
  EXPECT_EQ(recv_all(c.client), "answer");

  // Sending after our own shutdown(Write) fails (EPIPE), and does not raise SIGPIPE.
  auto late = c.client.send("more");
  ASSERT_FALSE(late);
  EXPECT_TRUE(late.error().is(std::errc::broken_pipe)) << late.error().message();
  EXPECT_EQ(late.error().context(), "send");
}

TEST(Tcp, PeerAndLocalNamesAgreeAcrossTheEnds) {
  TcpListener listener = listen_on(loopback_any_port());
  Endpoint listening = local_of(listener);
  EXPECT_TRUE(listening.is_v4());
  EXPECT_TRUE(listening.is_loopback());
  EXPECT_NE(listening.port(), 0) << "port 0 asks the kernel for a free port";

  Connection c = connect_pair(listener);
  auto client_local = c.client.local();
  auto client_peer = c.client.peer();
  auto server_local = c.server.local();
  auto server_peer = c.server.peer();
  ASSERT_TRUE(client_local && client_peer && server_local && server_peer);
  EXPECT_EQ(*client_peer, listening);
  EXPECT_EQ(*server_local, listening);
  EXPECT_EQ(*server_peer, *client_local);
  EXPECT_EQ(c.server_saw_peer, *client_local);  // what accept() reported
  EXPECT_NE(client_local->port(), listening.port());
}

TEST(Tcp, ScatterGather) {
  TcpListener listener = listen_on(loopback_any_port());
  Connection c = connect_pair(listener);

  std::array<ConstBuffer, 3> out = {ConstBuffer("abc"), ConstBuffer(""), ConstBuffer("defg")};
  auto sent = c.client.send(std::span<const ConstBuffer>(out));
  ASSERT_TRUE(sent) << sent.error().message();
  EXPECT_EQ(*sent, 7u);
  EXPECT_EQ(recv_exactly(c.server, 7), "abcdefg");

  ASSERT_TRUE(c.server.send_all("0123456789"));
  ASSERT_TRUE(wait_readable_bytes(c.client.native_handle(), 10));
  std::array<char, 4> first{};
  std::array<char, 8> second{};
  std::array<MutableBuffer, 2> in = {MutableBuffer(first), MutableBuffer(second)};
  auto got = c.client.recv(std::span<const MutableBuffer>(in));
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(*got, 10u);
  EXPECT_EQ(std::string(first.data(), 4), "0123");
  EXPECT_EQ(std::string(second.data(), 6), "456789");
}

TEST(Tcp, GatherSendTakesAtMost64Buffers) {
  TcpListener listener = listen_on(loopback_any_port());
  Connection c = connect_pair(listener);
  std::vector<ConstBuffer> many(70, ConstBuffer("x"));
  auto sent = c.client.send(std::span<const ConstBuffer>(many));
  ASSERT_TRUE(sent) << sent.error().message();
  EXPECT_EQ(*sent, 64u);
  EXPECT_EQ(recv_exactly(c.server, 64), std::string(64, 'x'));
}

TEST(Tcp, ResetByPeerIsAnErrorAndRaisesNoSignal) {
  TcpListener listener = listen_on(loopback_any_port());
  Connection c = connect_pair(listener);
  ASSERT_TRUE(c.server.set_linger(0s));  // close() now sends a reset
  c.server.close();
  pollfd p{c.client.native_handle(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  std::array<char, 8> buf;
  auto r = c.client.recv(buf);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(std::errc::connection_reset)) << r.error().message();
  EXPECT_EQ(r.error().message(), "recv: Connection reset by peer");
  auto s = c.client.send("after reset");  // MSG_NOSIGNAL: an error, not SIGPIPE
  ASSERT_FALSE(s);
  EXPECT_TRUE(s.error().is(std::errc::broken_pipe)) << s.error().message();
}

// --- connect and accept failures ------------------------------------------------------

TEST(Tcp, ConnectToAClosedPortIsRefused) {
  ClosedPort closed;
  auto r = TcpStream::connect(closed.endpoint());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(std::errc::connection_refused)) << r.error().message();
  const std::string where = "connect 127.0.0.1:" + std::to_string(closed.port());
  EXPECT_EQ(r.error().context(), where);
  EXPECT_NE(r.error().message().find(where), std::string::npos);
  EXPECT_EQ(r.error().message(), where + ": Connection refused");
}

TEST(Tcp, ConnectTimesOutWhenTheBacklogIsFull) {
  // Linux drops SYNs to a listener whose accept queue is full, so a connect to it neither
  // completes nor fails: it waits for the timeout.
  ListenOptions options;
  options.backlog = 1;
  TcpListener listener = listen_on(loopback_any_port(), options);
  const Endpoint at = local_of(listener);
  ConnectOptions quick;
  quick.timeout = 200ms;
  std::vector<TcpStream> queued;
  bool filled = false;
  for (int i = 0; i < 16 && !filled; ++i) {
    auto s = TcpStream::connect(at, quick);
    if (s) {
      queued.push_back(std::move(s).value());
    } else {
      ASSERT_TRUE(s.error().is(std::errc::timed_out)) << s.error().message();
      filled = true;
    }
  }
  ASSERT_TRUE(filled) << "the accept queue never filled after " << queued.size() << " clients";
  auto r = TcpStream::connect(at, quick);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(std::errc::timed_out)) << r.error().message();
  EXPECT_EQ(r.error().context(), "connect " + at.to_string());
}

TEST(Tcp, AcceptTimesOutWithoutAClient) {
  TcpListener listener = listen_on(loopback_any_port());
  auto r = listener.accept(50ms);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(std::errc::timed_out)) << r.error().message();
  EXPECT_EQ(r.error().context(), "accept");
}

TEST(Tcp, AcceptWithTimeoutReturnsAPendingClient) {
  TcpListener listener = listen_on(loopback_any_port());
  auto client = TcpStream::connect(local_of(listener));
  ASSERT_TRUE(client);
  auto r = listener.accept(5s);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->peer, local_of(*client));
}

TEST(Tcp, ConnectAndListenRefuseUnixEndpoints) {
  Endpoint unix_ep = *Endpoint::parse("unix:/tmp/not-tcp");
  auto c = TcpStream::connect(unix_ep);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ParseErrc::bad_family);
  EXPECT_EQ(c.error().context(), "connect unix:/tmp/not-tcp");
  auto l = TcpListener::bind(unix_ep);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code(), ParseErrc::bad_family);
}

TEST(Tcp, BindingAPortInUseNamesTheEndpoint) {
  ListenOptions exclusive;
  exclusive.reuse_address = false;
  TcpListener first = listen_on(loopback_any_port(), exclusive);
  const Endpoint at = local_of(first);
  auto second = TcpListener::bind(at, exclusive);
  ASSERT_FALSE(second);
  EXPECT_TRUE(second.error().is(std::errc::address_in_use)) << second.error().message();
  EXPECT_EQ(second.error().context(), "listen " + at.to_string());
}

// --- by name, IPv6 --------------------------------------------------------------------

TEST(Tcp, ConnectByNameLocalhost) {
  TcpListener listener = listen_on(loopback_any_port());
  const std::uint16_t port = local_of(listener).port();
  auto client = TcpStream::connect("localhost", port);
  ASSERT_TRUE(client) << client.error().message();
  auto accepted = listener.accept(5s);
  ASSERT_TRUE(accepted) << accepted.error().message();
  ASSERT_TRUE(client->send_all("by name"));
  EXPECT_EQ(recv_exactly(accepted->stream, 7), "by name");
  EXPECT_TRUE(client->peer().value().is_loopback());

  auto numeric = TcpStream::connect("127.0.0.1", port);
  ASSERT_TRUE(numeric) << numeric.error().message();
}

TEST(Tcp, ConnectByNameReportsTheNameOnFailure) {
  ClosedPort closed;
  auto r = TcpStream::connect("localhost", closed.port());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(std::errc::connection_refused)) << r.error().message();
  EXPECT_EQ(r.error().context(), "connect localhost:" + std::to_string(closed.port()));

  auto v6 = TcpStream::connect("::1", closed.port());
  ASSERT_FALSE(v6);
  EXPECT_EQ(v6.error().context(), "connect [::1]:" + std::to_string(closed.port()));
}

TEST(Tcp, Ipv6Loopback) {
  auto listener = TcpListener::bind(*Endpoint::parse("[::1]:0"));
  if (!listener && (listener.error().is(std::errc::address_not_available) ||
                    listener.error().is(std::errc::address_family_not_supported))) {
    GTEST_SKIP() << "no IPv6 loopback: " << listener.error().message();
  }
  ASSERT_TRUE(listener) << listener.error().message();
  Endpoint at = local_of(*listener);
  EXPECT_TRUE(at.is_v6());
  EXPECT_EQ(at.address(), IpAddress::v6_loopback());
  Connection c = connect_pair(*listener);
  ASSERT_TRUE(c.client.send_all("six"));
  EXPECT_EQ(recv_exactly(c.server, 3), "six");
  ASSERT_TRUE(c.server.send_all("ok"));
  EXPECT_EQ(recv_exactly(c.client, 2), "ok");
  EXPECT_EQ(c.client.peer().value(), at);
  EXPECT_EQ(c.server_saw_peer, local_of(c.client));
  EXPECT_EQ(c.server_saw_peer.to_string().front(), '[');
}

// --- listener options -----------------------------------------------------------------

TEST(Tcp, ReuseAddressIsOnByDefault) {
  TcpListener listener = listen_on(loopback_any_port());
  EXPECT_EQ(int_sockopt(listener.native_handle(), SOL_SOCKET, SO_REUSEADDR), 1);
  ListenOptions off;
  off.reuse_address = false;
  TcpListener plain = listen_on(loopback_any_port(), off);
  EXPECT_EQ(int_sockopt(plain.native_handle(), SOL_SOCKET, SO_REUSEADDR), 0);
}

TEST(Tcp, ReuseAddressLetsAServerRestartWhileOldConnectionsLinger) {
  TcpListener listener = listen_on(loopback_any_port());
  const Endpoint at = local_of(listener);
  {
    Connection c = connect_pair(listener);
    c.server.close();  // the server closes first: its end lingers (FIN_WAIT/TIME_WAIT)
    EXPECT_EQ(recv_all(c.client), "");
  }
  listener.close();

  ListenOptions no_reuse;
  no_reuse.reuse_address = false;
  auto refused = TcpListener::bind(at, no_reuse);
  ASSERT_FALSE(refused) << "the old connection should still hold the port";
  EXPECT_TRUE(refused.error().is(std::errc::address_in_use)) << refused.error().message();

  auto restarted = TcpListener::bind(at);  // default: SO_REUSEADDR
  ASSERT_TRUE(restarted) << restarted.error().message();
  EXPECT_EQ(local_of(*restarted), at);
}

TEST(Tcp, ReusePortLetsTwoListenersShareAPort) {
  // Designated initializers are the documented way to pass options (and must compile
  // cleanly under -Wextra -Werror).
  const ListenOptions shared{.reuse_port = true};
  TcpListener first = listen_on(loopback_any_port(), shared);
  const Endpoint at = local_of(first);
  EXPECT_EQ(int_sockopt(first.native_handle(), SOL_SOCKET, SO_REUSEPORT), 1);
  auto second = TcpListener::bind(at, shared);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(local_of(*second), at);

  // Every connection lands on one of the two.
  std::vector<TcpStream> clients;
  for (int i = 0; i < 4; ++i) {
    auto s = TcpStream::connect(at);
    ASSERT_TRUE(s) << s.error().message();
    clients.push_back(std::move(s).value());
  }
  int accepted = 0;
  while (accepted < 4) {
    std::array<pollfd, 2> p = {pollfd{first.native_handle(), POLLIN, 0},
                               pollfd{second->native_handle(), POLLIN, 0}};
    ASSERT_GT(::poll(p.data(), p.size(), 5000), 0) << "only " << accepted << " arrived";
    if (p[0].revents & POLLIN) accepted += first.accept() ? 1 : 0;
    if (p[1].revents & POLLIN) accepted += second->accept() ? 1 : 0;
  }
  EXPECT_EQ(accepted, 4);

  // Without the option a third listener is refused.
  auto third = TcpListener::bind(at);
  ASSERT_FALSE(third);
  EXPECT_TRUE(third.error().is(std::errc::address_in_use)) << third.error().message();
}

// --- non-blocking and options ---------------------------------------------------------

TEST(Tcp, NonBlockingStreamsSayWouldBlock) {
  ListenOptions nb;
  nb.nonblocking = true;
  TcpListener listener = listen_on(loopback_any_port(), nb);
  auto none = listener.accept();
  ASSERT_FALSE(none);
  EXPECT_TRUE(none.error().is(would_block)) << none.error().message();

  ConnectOptions options;
  options.nonblocking = true;
  auto client = TcpStream::connect(local_of(listener), options);
  ASSERT_TRUE(client) << client.error().message();
  std::array<char, 8> buf;
  auto r = client->recv(buf);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(would_block)) << r.error().message();
  EXPECT_EQ(r.error().context(), "recv");

  pollfd p{listener.native_handle(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  auto accepted = listener.accept();
  ASSERT_TRUE(accepted) << accepted.error().message();
  auto r2 = accepted->stream.recv(buf);  // accepted streams inherit non-blocking
  ASSERT_FALSE(r2);
  EXPECT_TRUE(r2.error().is(would_block));

  ASSERT_TRUE(accepted->stream.set_nonblocking(false));
  ASSERT_TRUE(client->send_all("b"));
  EXPECT_EQ(recv_exactly(accepted->stream, 1), "b");
}

TEST(Tcp, SocketOptions) {
  TcpListener listener = listen_on(loopback_any_port());
  ConnectOptions options;
  options.nodelay = true;
  Connection c = connect_pair(listener, options);
  const int fd = c.client.native_handle();
  EXPECT_EQ(int_sockopt(fd, IPPROTO_TCP, TCP_NODELAY), 1);
  ASSERT_TRUE(c.client.set_nodelay(false));
  EXPECT_EQ(int_sockopt(fd, IPPROTO_TCP, TCP_NODELAY), 0);
  ASSERT_TRUE(c.client.set_keepalive(true));
  EXPECT_EQ(int_sockopt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);

  ASSERT_TRUE(c.client.set_send_buffer_size(64 * 1024));
  ASSERT_TRUE(c.client.set_recv_buffer_size(64 * 1024));
  auto snd = c.client.send_buffer_size();
  auto rcv = c.client.recv_buffer_size();
  ASSERT_TRUE(snd && rcv);
  EXPECT_GE(*snd, 64 * 1024);  // Linux doubles the value for bookkeeping
  EXPECT_GE(*rcv, 64 * 1024);

  ASSERT_TRUE(c.client.set_linger(5s));
  linger lg{};
  socklen_t len = sizeof lg;
  ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len), 0);
  EXPECT_EQ(lg.l_onoff, 1);
  EXPECT_EQ(lg.l_linger, 5);
  ASSERT_TRUE(c.client.set_linger(std::nullopt));
  ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len), 0);
  EXPECT_EQ(lg.l_onoff, 0);

  auto pending = c.client.take_error();
  ASSERT_TRUE(pending);
  EXPECT_EQ(*pending, 0);

  // Descriptors are born close-on-exec; blocking unless asked otherwise.
  EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
  EXPECT_FALSE(::fcntl(fd, F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(::fcntl(c.server.native_handle(), F_GETFD) & FD_CLOEXEC);
  EXPECT_TRUE(::fcntl(listener.native_handle(), F_GETFD) & FD_CLOEXEC);
}

TEST(Tcp, ReleaseAndClose) {
  TcpListener listener = listen_on(loopback_any_port());
  Connection c = connect_pair(listener);
  const int fd = c.client.native_handle();
  UniqueFd owned = c.client.release();
  EXPECT_FALSE(c.client.is_open());
  EXPECT_EQ(owned.get(), fd);
  TcpStream adopted = TcpStream::adopt(std::move(owned));
  ASSERT_TRUE(adopted.send_all("adopted"));
  EXPECT_EQ(recv_exactly(c.server, 7), "adopted");
  adopted.close();
  EXPECT_FALSE(adopted.is_open());
  EXPECT_EQ(recv_all(c.server), "");  // the peer sees EOF
}

}  // namespace
}  // namespace sockit
