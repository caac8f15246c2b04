// UDP: UdpSocket, bound or not, connected or not; broadcast and multicast.
//
//   auto server = UdpSocket::bind(*Endpoint::parse("127.0.0.1:0"));
//   auto client = UdpSocket::open(IpFamily::V4);
//   client->send_to("ping", server->local().value());
//   auto got = server->recv_from(buffer);   // got->size, got->from
#pragma once

#include "sockit/socket.hpp"

namespace sockit {

// Every member has an initializer, so {.reuse_port = true} compiles cleanly under
// -Wextra (GCC warns about members without one left out of a designated initializer).
struct UdpOptions {
  bool reuse_address = false;
  bool reuse_port = false;
  std::optional<bool> v6only{};
  bool broadcast = false;
  bool nonblocking = false;
};

class UdpSocket : public DatagramSocket {
 public:
  static Result<UdpSocket> bind(const Endpoint& at, UdpOptions options = {});
  // Unbound: the kernel picks an address and port at the first send.
  static Result<UdpSocket> open(IpFamily family, UdpOptions options = {});

  Result<void> set_broadcast(bool on);
  // Joins/leaves a multicast group on an interface (0 lets the kernel choose).
  Result<void> join_group(const IpAddress& group, unsigned interface_index = 0);
  Result<void> leave_group(const IpAddress& group, unsigned interface_index = 0);
  Result<void> set_multicast_loopback(bool on);

 private:
  using DatagramSocket::DatagramSocket;
  Result<void> membership(const IpAddress& group, unsigned interface_index, bool join);
};

}  // namespace sockit
