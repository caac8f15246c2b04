#include "sockit/ip_address.hpp"

#include <arpa/inet.h>
#include <net/if.h>

#include <charconv>
#include <cstring>

namespace sockit {
namespace {

Error parse_error(ParseErrc code, std::string_view text) {
  return Error(code, "invalid address '" + std::string(text) + "'");
}

// Only digits and dots: a candidate IPv4 literal (so "1.2.3" is a bad IPv4, not a name).
bool looks_like_v4(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789.") == std::string_view::npos;
}

Result<std::uint32_t> parse_scope(std::string_view scope, std::string_view text) {
  if (scope.empty()) return parse_error(ParseErrc::bad_scope, text);
  std::uint32_t index = 0;
  auto [end, ec] = std::from_chars(scope.data(), scope.data() + scope.size(), index);
  if (ec == std::errc() && end == scope.data() + scope.size()) return index;
  if (scope.size() >= IF_NAMESIZE) return parse_error(ParseErrc::bad_scope, text);
  char name[IF_NAMESIZE] = {};
  std::memcpy(name, scope.data(), scope.size());
  index = ::if_nametoindex(name);
  if (index == 0) return parse_error(ParseErrc::bad_scope, text);
  return index;
}

}  // namespace

Result<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty()) return parse_error(ParseErrc::empty, text);
  // inet_pton and if_nametoindex stop at a NUL, so "::1\0junk" and "fe80::1%lo\0junk" would
  // pass as ::1 and fe80::1%lo (found by fuzz/ip_address_fuzz.cpp). No address holds a NUL;
  // refusing it here also keeps resolve() from handing getaddrinfo a truncated name.
  if (text.find('\0') != std::string_view::npos) {
    return parse_error(ParseErrc::trailing_garbage, text);
  }
  // inet_pton wants a NUL-terminated string; addresses are short, so a stack copy will do.
  char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
  if (text.size() >= sizeof buf) {
    return parse_error(looks_like_v4(text) ? ParseErrc::bad_ipv4 : ParseErrc::not_numeric, text);
  }
  if (text.find(':') == std::string_view::npos) {
    if (!looks_like_v4(text)) return parse_error(ParseErrc::not_numeric, text);
    std::memcpy(buf, text.data(), text.size());
    std::array<std::uint8_t, 4> octets;
    // glibc's inet_pton is strict: exactly four decimal octets, no leading zeros.
    if (::inet_pton(AF_INET, buf, octets.data()) != 1) {
      return parse_error(ParseErrc::bad_ipv4, text);
    }
    return v4(octets);
  }
  std::string_view host = text;
  std::uint32_t scope = 0;
  if (auto percent = text.find('%'); percent != std::string_view::npos) {
    host = text.substr(0, percent);
    auto parsed = parse_scope(text.substr(percent + 1), text);
    if (!parsed) return std::move(parsed).error();
    scope = *parsed;
  }
  std::memcpy(buf, host.data(), host.size());
  std::array<std::uint8_t, 16> bytes;
  if (::inet_pton(AF_INET6, buf, bytes.data()) != 1) {
    return parse_error(ParseErrc::bad_ipv6, text);
  }
  return v6(bytes, scope);
}

bool IpAddress::is_loopback() const noexcept {
  if (is_v4()) return bytes_[0] == 127;
  if (is_v4_mapped()) return bytes_[12] == 127;
  static constexpr std::array<std::uint8_t, 16> kLoopback = {0, 0, 0, 0, 0, 0, 0, 0,
                                                             0, 0, 0, 0, 0, 0, 0, 1};
  return bytes_ == kLoopback;
}

bool IpAddress::is_unspecified() const noexcept {
  for (std::size_t i = 0; i < size(); ++i)
    if (bytes_[i] != 0) return false;
  return true;
}

bool IpAddress::is_multicast() const noexcept {
  return is_v4() ? (bytes_[0] & 0xf0) == 0xe0 : bytes_[0] == 0xff;
}

bool IpAddress::is_link_local() const noexcept {
  if (is_v4()) return bytes_[0] == 169 && bytes_[1] == 254;
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

bool IpAddress::is_v4_mapped() const noexcept {
  if (!is_v6()) return false;
  for (std::size_t i = 0; i < 10; ++i)
    if (bytes_[i] != 0) return false;
  return bytes_[10] == 0xff && bytes_[11] == 0xff;
}

std::uint32_t IpAddress::to_v4_uint() const noexcept {
  if (!is_v4()) return 0;
  return (std::uint32_t{bytes_[0]} << 24) | (std::uint32_t{bytes_[1]} << 16) |
         (std::uint32_t{bytes_[2]} << 8) | std::uint32_t{bytes_[3]};
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  ::inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  std::string out(buf);
  if (is_v6() && scope_id_ != 0) {
    char name[IF_NAMESIZE];
    out += '%';
    out += ::if_indextoname(scope_id_, name) != nullptr ? name : std::to_string(scope_id_);
  }
  return out;
}

std::size_t hash_value(const IpAddress& address) noexcept {
  // FNV-1a over the meaningful bytes: cheap, and good enough for hash maps of addresses.
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::uint8_t b) { h = (h ^ b) * 1099511628211ULL; };
  mix(static_cast<std::uint8_t>(address.family()));
  for (std::size_t i = 0; i < address.size(); ++i)
    mix(address.bytes()[i]);
  for (int i = 0; i < 4; ++i)
    mix(static_cast<std::uint8_t>(address.scope_id() >> (8 * i)));
  return static_cast<std::size_t>(h);
}

}  // namespace sockit
