// UdpSocket on real loopback sockets, always on port 0.
#include "sockit/udp.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <array>
#include <ostream>
#include <string>

namespace sockit {

// Readable values in assertion failures (found by argument-dependent lookup).
void PrintTo(const Endpoint& e, std::ostream* os) {
  *os << e.to_string();
}
void PrintTo(const IpAddress& a, std::ostream* os) {
  *os << a.to_string();
}

namespace {

const Endpoint kLoopbackAnyPort(IpAddress::v4_loopback(), 0);

UdpSocket bound(const Endpoint& at = kLoopbackAnyPort, UdpOptions options = {}) {
  auto s = UdpSocket::bind(at, options);
  EXPECT_TRUE(s) << s.error().message();
  return std::move(s).value();
}

Endpoint local_of(const Socket& s) {
  auto e = s.local();
  EXPECT_TRUE(e) << e.error().message();
  return e ? *e : Endpoint();
}

// Waits up to 5 s for `events` on `fd` (UDP on loopback is immediate; this only bounds a
// broken test so it fails instead of hanging).
short wait_for(const Socket& s, short events) {
  pollfd p{s.native_handle(), events, 0};
  EXPECT_EQ(::poll(&p, 1, 5000), 1) << "nothing arrived within 5 s";
  return p.revents;
}

TEST(Udp, SendToAndRecvFromRoundTrip) {
  UdpSocket server = bound();
  const Endpoint server_at = local_of(server);
  EXPECT_NE(server_at.port(), 0);

  auto client = UdpSocket::open(IpFamily::V4);
  ASSERT_TRUE(client) << client.error().message();
  auto sent = client->send_to("ping", server_at);
  ASSERT_TRUE(sent) << sent.error().message();
  EXPECT_EQ(*sent, 4u);

  std::array<char, 64> buf;
  wait_for(server, POLLIN);
  auto got = server.recv_from(buf);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->size, 4u);
  EXPECT_FALSE(got->truncated);
  EXPECT_EQ(std::string(buf.data(), got->size), "ping");
  // The kernel bound the client (to 0.0.0.0:<port>) at its first send; the server sees
  // the port and the loopback address the datagram came from.
  const Endpoint client_at = local_of(*client);
  EXPECT_TRUE(client_at.address().is_unspecified());
  EXPECT_NE(client_at.port(), 0);
  EXPECT_EQ(got->from, Endpoint(IpAddress::v4_loopback(), client_at.port()));

  ASSERT_TRUE(server.send_to("pong", got->from));
  wait_for(*client, POLLIN);
  auto reply = client->recv_from(buf);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(std::string(buf.data(), reply->size), "pong");
  EXPECT_EQ(reply->from, server_at);
}

TEST(Udp, ConnectedSendAndRecv) {
  UdpSocket server = bound();
  UdpSocket client = bound();
  ASSERT_TRUE(client.connect(local_of(server)));
  auto peer = client.peer();
  ASSERT_TRUE(peer) << peer.error().message();
  EXPECT_EQ(*peer, local_of(server));

  ASSERT_TRUE(client.send("hello"));
  std::array<char, 64> buf;
  wait_for(server, POLLIN);
  auto got = server.recv_from(buf);
  ASSERT_TRUE(got);
  EXPECT_EQ(std::string(buf.data(), got->size), "hello");
  EXPECT_EQ(got->from, local_of(client));

  ASSERT_TRUE(server.send_to("back", got->from));
  wait_for(client, POLLIN);
  auto n = client.recv(buf);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(std::string(buf.data(), *n), "back");
}

TEST(Udp, DatagramBoundariesAndEmptyDatagrams) {
  UdpSocket server = bound();
  UdpSocket client = bound();
  const Endpoint to = local_of(server);
  ASSERT_TRUE(client.send_to("one", to));
  ASSERT_TRUE(client.send_to("", to));
  ASSERT_TRUE(client.send_to("three", to));
  std::array<char, 64> buf;
  for (const std::string expected : {"one", "", "three"}) {
    wait_for(server, POLLIN);
    auto got = server.recv_from(buf);
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(std::string(buf.data(), got->size), expected);
    EXPECT_FALSE(got->truncated);
  }
}

TEST(Udp, SmallBufferReportsTruncation) {
  UdpSocket server = bound();
  UdpSocket client = bound();
  const std::string big(100, 'z');
  ASSERT_TRUE(client.send_to(big, local_of(server)));
  std::array<char, 10> small;
  wait_for(server, POLLIN);
  auto got = server.recv_from(small);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_TRUE(got->truncated);
  EXPECT_EQ(got->size, small.size());  // what fit, not the datagram's real length
  EXPECT_EQ(std::string(small.data(), got->size), std::string(10, 'z'));

  // A datagram that fits exactly is not truncated.
  ASSERT_TRUE(client.send_to(std::string(10, 'y'), local_of(server)));
  wait_for(server, POLLIN);
  auto exact = server.recv_from(small);
  ASSERT_TRUE(exact);
  EXPECT_FALSE(exact->truncated);
  EXPECT_EQ(exact->size, 10u);
}

TEST(Udp, ConnectedToAClosedPortLaterRecvIsRefused) {
  Endpoint closed;
  {
    UdpSocket probe = bound();  // find a free port, then free it
    closed = local_of(probe);
  }
  UdpSocket client = bound();
  ASSERT_TRUE(client.connect(closed));
  auto sent = client.send("anyone?");
  ASSERT_TRUE(sent) << sent.error().message();  // UDP can't know yet
  // The ICMP port-unreachable comes back and is reported on the next call.
  short revents = wait_for(client, POLLIN);
  EXPECT_TRUE(revents & POLLERR);
  std::array<char, 16> buf;
  auto r = client.recv(buf);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(std::errc::connection_refused)) << r.error().message();
  EXPECT_EQ(r.error().message(), "recv: Connection refused");
}

TEST(Udp, NonBlockingRecvSaysWouldBlock) {
  UdpSocket s = bound(kLoopbackAnyPort, {.nonblocking = true});
  std::array<char, 16> buf;
  auto r = s.recv_from(buf);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(would_block)) << r.error().message();
  auto r2 = s.recv(buf);
  ASSERT_FALSE(r2);
  EXPECT_TRUE(r2.error().is(would_block));
}

TEST(Udp, Ipv6Loopback) {
  auto server = UdpSocket::bind(*Endpoint::parse("[::1]:0"));
  if (!server && (server.error().is(std::errc::address_not_available) ||
                  server.error().is(std::errc::address_family_not_supported))) {
    GTEST_SKIP() << "no IPv6 loopback: " << server.error().message();
  }
  ASSERT_TRUE(server) << server.error().message();
  auto client = UdpSocket::open(IpFamily::V6);
  ASSERT_TRUE(client) << client.error().message();
  ASSERT_TRUE(client->send_to("v6", local_of(*server)));
  std::array<char, 16> buf;
  wait_for(*server, POLLIN);
  auto got = server->recv_from(buf);
  ASSERT_TRUE(got);
  EXPECT_EQ(std::string(buf.data(), got->size), "v6");
  EXPECT_TRUE(got->from.is_v6());
  EXPECT_EQ(got->from.address(), IpAddress::v6_loopback());
}

TEST(Udp, SendToTheWrongFamilyNamesTheDestination) {
  UdpSocket v4 = bound();
  const Endpoint v6_dest = *Endpoint::parse("[::1]:9");
  auto r = v4.send_to("x", v6_dest);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().context(), "sendto [::1]:9");
}

TEST(Udp, OptionsAndBadInput) {
  UdpOptions options;
  options.reuse_address = true;
  options.reuse_port = true;
  options.broadcast = true;
  UdpSocket a = bound(kLoopbackAnyPort, options);
  // reuse_port: a second socket may bind the same port.
  auto b = UdpSocket::bind(local_of(a), options);
  ASSERT_TRUE(b) << b.error().message();
  ASSERT_TRUE(a.set_broadcast(false));
  ASSERT_TRUE(a.set_multicast_loopback(true));

  auto not_unix = UdpSocket::bind(*Endpoint::parse("unix:/tmp/x"));
  ASSERT_FALSE(not_unix);
  EXPECT_EQ(not_unix.error().code(), ParseErrc::bad_family);
  EXPECT_EQ(not_unix.error().context(), "bind unix:/tmp/x");

  auto join = a.join_group(IpAddress::v4({198, 18, 0, 1}));
  ASSERT_FALSE(join);
  EXPECT_EQ(join.error().code(), ParseErrc::bad_family);
  EXPECT_EQ(join.error().context(), "join multicast group 198.18.0.1");

  auto in_use = UdpSocket::bind(local_of(a));  // no reuse options this time
  ASSERT_FALSE(in_use);
  EXPECT_TRUE(in_use.error().is(std::errc::address_in_use)) << in_use.error().message();
  EXPECT_EQ(in_use.error().context(), "bind " + local_of(a).to_string());
}

}  // namespace
}  // namespace sockit
