#include "sockit/tcp.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "sockit/resolve.hpp"
#include "sys/sys.hpp"

namespace sockit {
namespace {

// How telling a connect failure is, when several addresses were tried: "refused" or
// "timed out" beat "network unreachable" (a host with no IPv6 route says nothing about
// the server).
int rank(const Error& e) {
  if (e.is(std::errc::network_unreachable) || e.is(std::errc::address_not_available) ||
      e.is(std::errc::address_family_not_supported)) {
    return 0;
  }
  return 1;
}

}  // namespace

Result<TcpStream> TcpStream::connect(const Endpoint& to, ConnectOptions options) {
  if (!to.is_ip()) return Error(ParseErrc::bad_family, "connect " + to.to_string());
  auto fd = detail::open_socket(to.family(), SOCK_STREAM, true, "socket");
  if (!fd) return std::move(fd).error();
  TcpStream stream(std::move(*fd));
  if (auto r = detail::connect_fd(stream.native_handle(), to, options.timeout, "connect"); !r) {
    return std::move(r).error();
  }
  if (!options.nonblocking) {
    if (auto r = stream.set_nonblocking(false); !r) return std::move(r).error();
  }
  if (options.nodelay) {
    if (auto r = stream.set_nodelay(true); !r) return std::move(r).error();
  }
  return stream;
}

Result<TcpStream> TcpStream::connect(std::string_view host, std::uint16_t port,
                                     ConnectOptions options) {
  auto resolved = resolve(host, Family::Any);
  if (!resolved) return std::move(resolved).error();
  std::optional<Error> best;
  for (const IpAddress& address : resolved->addresses) {
    auto stream = connect(Endpoint(address, port), options);
    if (stream) return stream;
    if (!best || rank(stream.error()) > rank(*best)) best = std::move(stream).error();
  }
  std::string name(host);
  if (name.find(':') != std::string::npos) name = "[" + name + "]";
  return Error(best->code(), "connect " + name + ":" + std::to_string(port));
}

Result<void> TcpStream::set_nodelay(bool on) {
  return set_int_option(IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0, "setsockopt(TCP_NODELAY)");
}

Result<void> TcpStream::set_keepalive(bool on) {
  return set_int_option(SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0, "setsockopt(SO_KEEPALIVE)");
}

Result<TcpListener> TcpListener::bind(const Endpoint& at, ListenOptions options) {
  if (!at.is_ip()) return Error(ParseErrc::bad_family, "listen " + at.to_string());
  auto fd = detail::open_socket(at.family(), SOCK_STREAM, options.nonblocking, "socket");
  if (!fd) return std::move(fd).error();
  TcpListener listener(std::move(*fd));
  listener.nonblocking_ = options.nonblocking;
  const std::string context = "listen " + at.to_string();
  auto option = [&](int level, int name, int value) -> Result<void> {
    if (sys::setsockopt(listener.native_handle(), level, name, &value, sizeof value) < 0) {
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
  if (options.v6only && at.is_v6()) {
    if (auto r = option(IPPROTO_IPV6, IPV6_V6ONLY, *options.v6only ? 1 : 0); !r) {
      return std::move(r).error();
    }
  }
  if (auto r = detail::bind_to(listener.native_handle(), at, "listen"); !r) {
    return std::move(r).error();
  }
  if (sys::listen(listener.native_handle(), options.backlog) < 0) {
    return Error::from_errno(context);
  }
  return listener;
}

Result<Accepted<TcpStream>> TcpListener::accept() {
  return accept(Timeout(-1));
}

Result<Accepted<TcpStream>> TcpListener::accept(Timeout timeout) {
  auto got = accept_fd(timeout);
  if (!got) return std::move(got).error();
  return Accepted<TcpStream>{TcpStream::adopt(std::move(got->stream)), got->peer};
}

}  // namespace sockit
