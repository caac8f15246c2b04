// Endpoint::parse and Endpoint::from_sockaddr, on any bytes. Invariants:
//  - whatever parses prints back (to_string) to text that parses to an equal endpoint with
//    the same hash, and that text is a fixed point;
//  - the parts agree with the text: brackets iff IPv6, the port is the text after the last
//    ':', a Unix path or abstract name is exactly the text after "unix:" / "unix:@";
//  - size() is what bind() needs for the family;
//  - from_sockaddr never reads past `len`, and an IP endpoint it accepts round-trips too.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "sockit/endpoint.hpp"

namespace {

using sockit::Endpoint;
using sockit::fuzz::show;

void check_round_trip(const Endpoint& e, const std::string& what) {
  const std::string printed = e.to_string();
  auto again = Endpoint::parse(printed);
  SOCKIT_FUZZ_CHECK(again.has_value(), what + " printed " + show(printed));
  SOCKIT_FUZZ_CHECK(*again == e, what + " printed " + show(printed));
  SOCKIT_FUZZ_CHECK(again->to_string() == printed, what + " printed " + show(printed));
  SOCKIT_FUZZ_CHECK(hash_value(*again) == hash_value(e), what);
  SOCKIT_FUZZ_CHECK(again->size() == e.size(), what);
}

void check_parse(std::string_view text) {
  auto parsed = Endpoint::parse(text);
  if (!parsed) return;
  const Endpoint& e = *parsed;
  const std::string what = show(text);
  if (text.starts_with("unix:@")) {
    SOCKIT_FUZZ_CHECK(e.is_unix() && e.is_abstract() && e.unix_name() == text.substr(6), what);
    SOCKIT_FUZZ_CHECK(e.size() == offsetof(sockaddr_un, sun_path) + 1 + e.unix_name().size(), what);
  } else if (text.starts_with("unix:")) {
    SOCKIT_FUZZ_CHECK(e.is_unix() && !e.is_abstract() && e.unix_name() == text.substr(5), what);
    SOCKIT_FUZZ_CHECK(e.size() == offsetof(sockaddr_un, sun_path) + e.unix_name().size() + 1, what);
  } else {
    SOCKIT_FUZZ_CHECK(e.is_ip(), what);
    SOCKIT_FUZZ_CHECK(e.is_v6() == text.starts_with('['), what);
    SOCKIT_FUZZ_CHECK(e.size() == (e.is_v6() ? sizeof(sockaddr_in6) : sizeof(sockaddr_in)), what);
    auto port = sockit::parse_port(text.substr(text.rfind(':') + 1));
    SOCKIT_FUZZ_CHECK(port.has_value() && *port == e.port(), what);
  }
  check_round_trip(e, what);
}

// The input as a sockaddr of its own length (capped at the storage size), the first two
// bytes read as the family, so AF_INET (2), AF_INET6 (10) and AF_UNIX (1) come up often.
void check_sockaddr(const std::uint8_t* data, std::size_t size) {
  sockaddr_storage storage{};
  // A buffer exactly `len` long, so ASan catches a read past it.
  std::size_t len = std::min(size, sizeof storage);
  std::string buf(reinterpret_cast<const char*>(data), len);
  auto e = Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(buf.data()),
                                   static_cast<socklen_t>(len));
  if (!e) return;
  SOCKIT_FUZZ_CHECK(e->size() <= len || e->is_unix(), show(buf));
  if (e->is_ip()) check_round_trip(*e, show(buf));
  if (e->is_unix()) {
    (void)e->to_string();
    SOCKIT_FUZZ_CHECK(e->unix_name().size() <= sizeof(sockaddr_un::sun_path), show(buf));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_parse(std::string_view(reinterpret_cast<const char*>(data), size));
  check_sockaddr(data, size);
  return 0;
}
