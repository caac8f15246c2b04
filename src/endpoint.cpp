#include "sockit/endpoint.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>

namespace sockit {
namespace {

constexpr std::string_view kUnixPrefix = "unix:";

Error endpoint_error(ParseErrc code, std::string_view text) {
  return Error(code, "invalid endpoint '" + std::string(text) + "'");
}

// Re-labels an IpAddress::parse error so it quotes the whole endpoint text.
Error endpoint_error(const Error& address_error, std::string_view text) {
  return Error(address_error.code(), "invalid endpoint '" + std::string(text) + "'");
}

}  // namespace

Result<std::uint16_t> parse_port(std::string_view text) {
  auto fail = [&](ParseErrc code) {
    return Error(code, "invalid port '" + std::string(text) + "'");
  };
  if (text.empty()) return fail(ParseErrc::empty);
  if (text.find_first_not_of("0123456789") != std::string_view::npos) {
    return fail(ParseErrc::bad_port);
  }
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) {
    return fail(ParseErrc::port_out_of_range);
  }
  return static_cast<std::uint16_t>(value);
}

Endpoint::Endpoint() noexcept : Endpoint(IpAddress(), 0) {}

Endpoint::Endpoint(const IpAddress& address, std::uint16_t port) noexcept {
  std::memset(&addr_, 0, sizeof addr_);
  if (address.is_v4()) {
    addr_.v4.sin_family = AF_INET;
    addr_.v4.sin_port = htons(port);
    std::memcpy(&addr_.v4.sin_addr, address.bytes(), 4);
    len_ = sizeof(sockaddr_in);
  } else {
    addr_.v6.sin6_family = AF_INET6;
    addr_.v6.sin6_port = htons(port);
    std::memcpy(&addr_.v6.sin6_addr, address.bytes(), 16);
    addr_.v6.sin6_scope_id = address.scope_id();
    len_ = sizeof(sockaddr_in6);
  }
}

Result<Endpoint> Endpoint::unix_path(std::string_view path) {
  auto fail = [&](ParseErrc code) {
    return Error(code, "invalid Unix socket path '" + std::string(path) + "'");
  };
  if (path.empty()) return fail(ParseErrc::empty);
  if (path.size() > kMaxUnixPath) return fail(ParseErrc::path_too_long);
  if (path.find('\0') != std::string_view::npos) return fail(ParseErrc::trailing_garbage);
  Endpoint e;
  std::memset(&e.addr_, 0, sizeof e.addr_);
  e.addr_.un.sun_family = AF_UNIX;
  std::memcpy(e.addr_.un.sun_path, path.data(), path.size());
  e.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return e;
}

Result<Endpoint> Endpoint::unix_abstract(std::string_view name) {
  auto fail = [&](ParseErrc code) {
    return Error(code, "invalid abstract socket name '@" + std::string(name) + "'");
  };
  if (name.empty()) return fail(ParseErrc::empty);
  if (name.size() > kMaxUnixPath) return fail(ParseErrc::path_too_long);
  Endpoint e;
  std::memset(&e.addr_, 0, sizeof e.addr_);
  e.addr_.un.sun_family = AF_UNIX;
  // Abstract names start with a NUL and are exactly as long as the length says (no NUL end).
  std::memcpy(e.addr_.un.sun_path + 1, name.data(), name.size());
  e.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  return e;
}

Result<Endpoint> Endpoint::parse(std::string_view text) {
  if (text.empty()) return endpoint_error(ParseErrc::empty, text);

  if (text.starts_with(kUnixPrefix)) {
    std::string_view rest = text.substr(kUnixPrefix.size());
    auto e = rest.starts_with('@') ? unix_abstract(rest.substr(1)) : unix_path(rest);
    if (!e) return endpoint_error(e.error(), text);
    return e;
  }

  std::string_view host;
  std::string_view port;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return endpoint_error(ParseErrc::missing_bracket, text);
    host = text.substr(1, close - 1);
    std::string_view after = text.substr(close + 1);
    if (after.empty()) return endpoint_error(ParseErrc::missing_port, text);
    if (after.front() != ':') return endpoint_error(ParseErrc::trailing_garbage, text);
    port = after.substr(1);
    if (host.find(':') == std::string_view::npos) return endpoint_error(ParseErrc::bad_ipv6, text);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return endpoint_error(ParseErrc::missing_port, text);
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return endpoint_error(ParseErrc::needs_brackets, text);
    }
  }
  // "1.2.3.4:" has no port: say so, rather than parse_port's "empty input".
  if (port.empty()) return endpoint_error(ParseErrc::missing_port, text);
  auto address = IpAddress::parse(host);
  if (!address) return endpoint_error(address.error(), text);
  auto number = parse_port(port);
  if (!number) return endpoint_error(number.error(), text);
  return Endpoint(*address, *number);
}

Result<Endpoint> Endpoint::from_sockaddr(const sockaddr* addr, socklen_t len) {
  Endpoint e;
  if (addr == nullptr || len < static_cast<socklen_t>(sizeof(sa_family_t)) ||
      len > sizeof e.addr_) {
    return Error(ParseErrc::bad_family, "socket address");
  }
  std::memset(&e.addr_, 0, sizeof e.addr_);
  std::memcpy(&e.addr_, addr, len);
  e.len_ = len;
  switch (addr->sa_family) {
    case AF_INET:
      if (len < sizeof(sockaddr_in)) break;
      e.len_ = sizeof(sockaddr_in);
      return e;
    case AF_INET6:
      if (len < sizeof(sockaddr_in6)) break;
      e.len_ = sizeof(sockaddr_in6);
      return e;
    case AF_UNIX:
      // The storage is a little larger than a sockaddr_un (the union's padding): a longer
      // `len` made an abstract name run past sun_path into it, and size() then handed
      // bind/connect a length the kernel refuses (found by fuzz/endpoint_fuzz.cpp).
      if (len > sizeof(sockaddr_un)) break;
      // A path the kernel returns may or may not count its NUL; normalise to counting it,
      // so equal names compare equal however they were obtained. A path filling all of
      // sun_path has no room for the NUL (Linux allows it): keep it at sizeof(sockaddr_un).
      if (len > offsetof(sockaddr_un, sun_path) && e.addr_.un.sun_path[0] != '\0') {
        std::size_t n = strnlen(e.addr_.un.sun_path, len - offsetof(sockaddr_un, sun_path));
        e.len_ = static_cast<socklen_t>(
            std::min(offsetof(sockaddr_un, sun_path) + n + 1, sizeof(sockaddr_un)));
      }
      return e;
    default:
      break;
  }
  return Error(ParseErrc::bad_family, "socket address");
}

bool Endpoint::is_abstract() const noexcept {
  return is_unix() && len_ > offsetof(sockaddr_un, sun_path) && addr_.un.sun_path[0] == '\0';
}

bool Endpoint::is_unnamed_unix() const noexcept {
  return is_unix() && len_ <= offsetof(sockaddr_un, sun_path);
}

IpAddress Endpoint::address() const noexcept {
  if (is_v4()) {
    std::array<std::uint8_t, 4> b;
    std::memcpy(b.data(), &addr_.v4.sin_addr, 4);
    return IpAddress::v4(b);
  }
  if (is_v6()) {
    std::array<std::uint8_t, 16> b;
    std::memcpy(b.data(), &addr_.v6.sin6_addr, 16);
    return IpAddress::v6(b, addr_.v6.sin6_scope_id);
  }
  return IpAddress();
}

std::uint16_t Endpoint::port() const noexcept {
  if (is_v4()) return ntohs(addr_.v4.sin_port);
  if (is_v6()) return ntohs(addr_.v6.sin6_port);
  return 0;
}

Endpoint Endpoint::with_port(std::uint16_t port) const noexcept {
  Endpoint e = *this;
  if (is_v4()) e.addr_.v4.sin_port = htons(port);
  if (is_v6()) e.addr_.v6.sin6_port = htons(port);
  return e;
}

std::string_view Endpoint::unix_name() const noexcept {
  if (!is_unix() || is_unnamed_unix()) return {};
  std::size_t n = len_ - offsetof(sockaddr_un, sun_path);
  if (is_abstract()) return {addr_.un.sun_path + 1, n - 1};
  return {addr_.un.sun_path, strnlen(addr_.un.sun_path, n)};
}

std::string Endpoint::to_string() const {
  if (is_unix()) {
    if (is_unnamed_unix()) return "unix:(unnamed)";
    return std::string(kUnixPrefix) + (is_abstract() ? "@" : "") + std::string(unix_name());
  }
  std::string port_text = std::to_string(port());
  if (is_v6()) return "[" + address().to_string() + "]:" + port_text;
  return address().to_string() + ":" + port_text;
}

bool operator==(const Endpoint& a, const Endpoint& b) noexcept {
  return (a <=> b) == std::strong_ordering::equal;
}

std::strong_ordering operator<=>(const Endpoint& a, const Endpoint& b) noexcept {
  if (auto c = a.family() <=> b.family(); c != 0) return c;
  if (a.is_unix()) {
    if (auto c = a.is_abstract() <=> b.is_abstract(); c != 0) return c;
    return a.unix_name() <=> b.unix_name();
  }
  if (auto c = a.address() <=> b.address(); c != 0) return c;
  return a.port() <=> b.port();
}

std::size_t hash_value(const Endpoint& endpoint) noexcept {
  if (endpoint.is_unix()) {
    return std::hash<std::string_view>()(endpoint.unix_name()) ^ (endpoint.is_abstract() ? 1 : 0);
  }
  return hash_value(endpoint.address()) * 31 + endpoint.port();
}

}  // namespace sockit
