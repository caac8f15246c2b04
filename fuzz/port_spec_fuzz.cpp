// scan::parse_ports and scan::exclude_ports. Invariants (port_spec.hpp's promises):
//  - a parsed list is non-empty, strictly increasing (sorted, no duplicates), and holds 0
//    only when some piece of the spec is the number 0 on its own;
//  - for specs of digits, ',' and '-' only, the result is exactly that of a reference
//    parser written here from the header's grammar (open ends, 0 alone, no reversed range);
//  - exclude_ports(a, b) is exactly a minus b, sorted.
// The input is "SPEC" or "SPEC\nEXCLUDED-SPEC".
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "sockit/scan/port_spec.hpp"

namespace {

using sockit::fuzz::show;
using Ports = std::vector<std::uint16_t>;

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::optional<std::uint32_t> number(std::string_view s) {
  if (!all_digits(s)) return std::nullopt;
  s = s.substr(std::min(s.find_first_not_of('0'), s.size()));
  if (s.size() > 5) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s)
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  if (v > 65535) return std::nullopt;
  return v;
}

// The grammar for numeric specs, written out again without looking at the implementation.
std::optional<Ports> reference(std::string_view spec) {
  if (spec.empty()) return std::nullopt;
  std::vector<bool> wanted(65536);
  for (std::size_t start = 0;;) {
    std::size_t comma = spec.find(',', start);
    std::string_view piece = spec.substr(start, comma == spec.npos ? spec.npos : comma - start);
    std::size_t dash = piece.find('-');
    std::uint32_t low, high;
    if (dash == std::string_view::npos) {
      auto p = number(piece);
      if (!p) return std::nullopt;
      low = high = *p;
    } else {
      std::string_view left = piece.substr(0, dash), right = piece.substr(dash + 1);
      auto l = left.empty() ? std::optional<std::uint32_t>(1) : number(left);
      auto r = right.empty() ? std::optional<std::uint32_t>(65535) : number(right);
      if (!l || !r || *l == 0 || *l > *r) return std::nullopt;
      low = *l;
      high = *r;
    }
    for (std::uint32_t p = low; p <= high; ++p)
      wanted[p] = true;
    if (comma == spec.npos) break;
    start = comma + 1;
  }
  Ports out;
  for (std::uint32_t p = 0; p < 65536; ++p)
    if (wanted[p]) out.push_back(static_cast<std::uint16_t>(p));
  return out;
}

bool has_zero_alone(std::string_view spec) {
  for (std::size_t start = 0;;) {
    std::size_t comma = spec.find(',', start);
    std::string_view piece = spec.substr(start, comma == spec.npos ? spec.npos : comma - start);
    if (all_digits(piece) && number(piece) == 0u) return true;
    if (comma == spec.npos) return false;
    start = comma + 1;
  }
}

std::optional<Ports> check_spec(std::string_view spec) {
  auto parsed = sockit::scan::parse_ports(spec);
  if (spec.find_first_not_of("0123456789,-") == std::string_view::npos) {
    auto expected = reference(spec);
    SOCKIT_FUZZ_CHECK(parsed.has_value() == expected.has_value(), show(spec));
    if (parsed) SOCKIT_FUZZ_CHECK(*parsed == *expected, show(spec));
  }
  if (!parsed) return std::nullopt;
  const Ports& ports = *parsed;
  SOCKIT_FUZZ_CHECK(!ports.empty(), show(spec));
  for (std::size_t i = 1; i < ports.size(); ++i)
    SOCKIT_FUZZ_CHECK(ports[i - 1] < ports[i], show(spec));
  if (ports.front() == 0) SOCKIT_FUZZ_CHECK(has_zero_alone(spec), show(spec));
  return ports;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A long list of "-" pieces is 65,535 ports each: keep the run time per input sane.
  if (size > 512) return 0;
  sockit::fuzz::Reader in(data, size);
  std::string_view spec = in.until('\n');
  std::string_view excluded_spec = in.rest();
  auto ports = check_spec(spec);
  auto excluded = check_spec(excluded_spec);
  if (!ports || !excluded) return 0;
  Ports rest = sockit::scan::exclude_ports(*ports, *excluded);
  std::bitset<65536> gone;
  for (auto p : *excluded)
    gone.set(p);
  Ports expected;
  for (auto p : *ports)
    if (!gone.test(p)) expected.push_back(p);
  SOCKIT_FUZZ_CHECK(rest == expected, show(spec) + " minus " + show(excluded_spec));
  return 0;
}
