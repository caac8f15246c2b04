// IpAddress::parse and parse_port, on any bytes. Invariants:
//  - whatever parses prints back to text that parses to the same address (round trip), and
//    that text is a fixed point of parse/to_string;
//  - an accepted text holds no NUL and no byte a numeric address can't hold (no trailing
//    garbage past a NUL, which C string functions would silently ignore);
//  - IPv4 is strict: an accepted dotted quad prints back exactly as written;
//  - addresses built from raw bytes round-trip through to_string/parse too;
//  - parse_port accepts exactly the digit strings whose value is at most 65535.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "sockit/endpoint.hpp"
#include "sockit/ip_address.hpp"

namespace {

using sockit::IpAddress;
using sockit::fuzz::show;

void check_address(std::string_view text) {
  auto parsed = sockit::IpAddress::parse(text);
  if (!parsed) return;
  const IpAddress a = *parsed;
  SOCKIT_FUZZ_CHECK(!text.empty() && text.find('\0') == std::string_view::npos, show(text));
  // Before any "%scope": hex digits, ':' and '.' only.
  std::string_view host = text.substr(0, text.find('%'));
  SOCKIT_FUZZ_CHECK(host.find_first_not_of("0123456789abcdefABCDEF:.") == std::string_view::npos,
                    show(text));
  SOCKIT_FUZZ_CHECK(a.is_v4() == (text.find(':') == std::string_view::npos), show(text));
  const std::string printed = a.to_string();
  if (a.is_v4()) SOCKIT_FUZZ_CHECK(printed == text, show(text) + " printed " + show(printed));
  auto again = IpAddress::parse(printed);
  SOCKIT_FUZZ_CHECK(again.has_value(), show(text) + " printed " + show(printed));
  SOCKIT_FUZZ_CHECK(*again == a, show(text) + " printed " + show(printed));
  SOCKIT_FUZZ_CHECK(again->to_string() == printed, show(text) + " printed " + show(printed));
  SOCKIT_FUZZ_CHECK(hash_value(*again) == hash_value(a), show(text));
  if (a.is_v4()) {
    SOCKIT_FUZZ_CHECK(IpAddress::v4_from_uint(a.to_v4_uint()) == a, show(text));
  }
}

void check_port(std::string_view text) {
  auto port = sockit::parse_port(text);
  // The reference: digits only, and at most 65535 once leading zeros are gone.
  bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  std::string_view significant = text.substr(std::min(text.find_first_not_of('0'), text.size()));
  bool fits = significant.size() < 5 || (significant.size() == 5 && significant <= "65535");
  SOCKIT_FUZZ_CHECK(port.has_value() == (digits && fits), show(text));
  if (port) {
    std::string canonical = significant.empty() ? "0" : std::string(significant);
    SOCKIT_FUZZ_CHECK(std::to_string(*port) == canonical, show(text));
  }
}

// An address from raw bytes: family, 16 bytes, scope id.
void check_raw(sockit::fuzz::Reader& in) {
  if (in.size() < 21) return;
  bool v6 = in.byte() & 1;
  std::array<std::uint8_t, 16> bytes{};
  for (auto& b : bytes)
    b = in.byte();
  std::uint32_t scope = 0;
  for (int i = 0; i < 4; ++i)
    scope = scope << 8 | in.byte();
  const IpAddress a =
      v6 ? IpAddress::v6(bytes, scope) : IpAddress::v4({bytes[0], bytes[1], bytes[2], bytes[3]});
  const std::string printed = a.to_string();
  auto again = IpAddress::parse(printed);
  SOCKIT_FUZZ_CHECK(again.has_value() && *again == a, show(printed));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_address(text);
  check_port(text);
  sockit::fuzz::Reader in(data, size);
  check_raw(in);
  return 0;
}
