// Endpoint: where a socket is or connects to. An IP address and port, a Unix socket path, or
// a Linux abstract Unix name.
//
// Stored as the kernel's own sockaddr (no allocation, trivially copyable), so `data()` and
// `size()` go straight to bind/connect. Text forms, accepted by parse() and written by
// to_string():
//   10.15.2.94:1502     [::1]:80     [fe80::1%lo]:80     unix:/tmp/s     unix:@name
// parse() is strict and numeric; a host name needs resolve(). Every refusal says what is
// wrong and quotes the input: "invalid endpoint '1.2.3.4:70000': port out of range (0-65535)".
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "sockit/ip_address.hpp"
#include "sockit/result.hpp"

namespace sockit {

// The longest Unix path (or abstract name) a sockaddr_un holds, not counting the NUL.
inline constexpr std::size_t kMaxUnixPath = sizeof(sockaddr_un::sun_path) - 1;

// "80" -> 80. Digits only, 0-65535.
Result<std::uint16_t> parse_port(std::string_view text);

class Endpoint {
 public:
  // 0.0.0.0:0
  Endpoint() noexcept;
  Endpoint(const IpAddress& address, std::uint16_t port) noexcept;

  static Result<Endpoint> parse(std::string_view text);
  static Result<Endpoint> unix_path(std::string_view path);
  static Result<Endpoint> unix_abstract(std::string_view name);
  // From what the kernel filled in (accept, recvfrom, getsockname). Unknown families fail.
  static Result<Endpoint> from_sockaddr(const sockaddr* addr, socklen_t len);

  int family() const noexcept { return addr_.base.sa_family; }  // AF_INET, AF_INET6, AF_UNIX
  bool is_ip() const noexcept { return family() == AF_INET || family() == AF_INET6; }
  bool is_v4() const noexcept { return family() == AF_INET; }
  bool is_v6() const noexcept { return family() == AF_INET6; }
  bool is_unix() const noexcept { return family() == AF_UNIX; }
  bool is_abstract() const noexcept;
  // An unbound Unix socket's name (e.g. a client that never called bind).
  bool is_unnamed_unix() const noexcept;

  IpAddress address() const noexcept;   // 0.0.0.0 for Unix endpoints
  std::uint16_t port() const noexcept;  // 0 for Unix endpoints
  Endpoint with_port(std::uint16_t port) const noexcept;
  // The path, or the abstract name without its leading NUL; empty for IP endpoints.
  std::string_view unix_name() const noexcept;

  bool is_loopback() const noexcept { return is_ip() && address().is_loopback(); }

  const sockaddr* data() const noexcept { return &addr_.base; }
  socklen_t size() const noexcept { return len_; }

  std::string to_string() const;

  friend bool operator==(const Endpoint& a, const Endpoint& b) noexcept;
  friend std::strong_ordering operator<=>(const Endpoint& a, const Endpoint& b) noexcept;

 private:
  union Storage {
    sockaddr base;
    sockaddr_in v4;
    sockaddr_in6 v6;
    sockaddr_un un;
  };
  Storage addr_;
  socklen_t len_;
};

std::size_t hash_value(const Endpoint& endpoint) noexcept;

}  // namespace sockit

template <>
struct std::hash<sockit::Endpoint> {
  std::size_t operator()(const sockit::Endpoint& e) const noexcept { return sockit::hash_value(e); }
};
