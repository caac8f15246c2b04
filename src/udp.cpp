#include "sockit/udp.hpp"

#include <netinet/in.h>

#include <cstring>

#include "sys/sys.hpp"

namespace sockit {
namespace {

Result<UniqueFd> open_udp(int family, const UdpOptions& options, const std::string& context) {
  auto fd = detail::open_socket(family, SOCK_DGRAM, options.nonblocking, "socket");
  if (!fd) return std::move(fd).error();
  auto option = [&](int level, int name, int value) -> Result<void> {
    if (sys::setsockopt(fd->get(), level, name, &value, sizeof value) < 0) {
      return Error::from_errno(context);
    }
    return {};
  };
  if (options.reuse_address) {
    if (auto r = option(SOL_SOCKET, SO_REUSEADDR, 1); !r) return std::move(r).error();
  }
  if (options.reuse_port) {
    if (auto r = option(SOL_SOCKET, SO_REUSEPORT, 1); !r) return std::move(r).error();
  }
  if (options.broadcast) {
    if (auto r = option(SOL_SOCKET, SO_BROADCAST, 1); !r) return std::move(r).error();
  }
  if (options.v6only && family == AF_INET6) {
    if (auto r = option(IPPROTO_IPV6, IPV6_V6ONLY, *options.v6only ? 1 : 0); !r) {
      return std::move(r).error();
    }
  }
  return fd;
}

}  // namespace

Result<UdpSocket> UdpSocket::bind(const Endpoint& at, UdpOptions options) {
  if (!at.is_ip()) return Error(ParseErrc::bad_family, "bind " + at.to_string());
  auto fd = open_udp(at.family(), options, "bind " + at.to_string());
  if (!fd) return std::move(fd).error();
  if (auto r = detail::bind_to(fd->get(), at, "bind"); !r) return std::move(r).error();
  return UdpSocket(std::move(*fd));
}

Result<UdpSocket> UdpSocket::open(IpFamily family, UdpOptions options) {
  auto fd = open_udp(family == IpFamily::V4 ? AF_INET : AF_INET6, options, "socket");
  if (!fd) return std::move(fd).error();
  return UdpSocket(std::move(*fd));
}

Result<void> UdpSocket::set_broadcast(bool on) {
  return set_int_option(SOL_SOCKET, SO_BROADCAST, on ? 1 : 0, "setsockopt(SO_BROADCAST)");
}

Result<void> UdpSocket::set_multicast_loopback(bool on) {
  auto local_end = local();
  bool v6 = local_end && local_end->is_v6();
  return v6 ? set_int_option(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, on,
                             "setsockopt(IPV6_MULTICAST_LOOP)")
            : set_int_option(IPPROTO_IP, IP_MULTICAST_LOOP, on, "setsockopt(IP_MULTICAST_LOOP)");
}

Result<void> UdpSocket::join_group(const IpAddress& group, unsigned interface_index) {
  return membership(group, interface_index, true);
}

Result<void> UdpSocket::leave_group(const IpAddress& group, unsigned interface_index) {
  return membership(group, interface_index, false);
}

Result<void> UdpSocket::membership(const IpAddress& group, unsigned interface_index, bool join) {
  std::string context =
      (join ? "join multicast group " : "leave multicast group ") + group.to_string();
  if (!group.is_multicast()) return Error(ParseErrc::bad_family, context);
  int rc;
  if (group.is_v4()) {
    ip_mreqn req{};
    std::memcpy(&req.imr_multiaddr, group.bytes(), 4);
    req.imr_ifindex = static_cast<int>(interface_index);
    rc = sys::setsockopt(fd_.get(), IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &req,
                         sizeof req);
  } else {
    ipv6_mreq req{};
    std::memcpy(&req.ipv6mr_multiaddr, group.bytes(), 16);
    req.ipv6mr_interface = interface_index;
    rc = sys::setsockopt(fd_.get(), IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &req,
                         sizeof req);
  }
  if (rc < 0) return Error::from_errno(context);
  return {};
}

}  // namespace sockit
