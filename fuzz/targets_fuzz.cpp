// scan::expand_target, scan::AddressFilter and the CLI's parse_listen_address: user text
// that may be a host name, so this target runs only with no network (isolated_network.hpp).
// Invariants:
//  - an expansion is non-empty and within the host limit; first_address_only gives one;
//    every address has the family asked for;
//  - a numeric block (CIDR or octet ranges) expands to distinct addresses in increasing
//    order, each named by its own text, the size the spec implies (2^(bits - prefix));
//  - AddressFilter::add accepts whatever expand_target accepts, and the filter built from a
//    numeric block matches exactly its expansion (checked on every member and on the
//    neighbours just outside it);
//  - parse_listen_address agrees with Endpoint::parse on numeric text (and "unix:"), and a
//    bare port means every IPv4 address.
// The input: one option byte, then the spec.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "isolated_network.hpp"
#include "listen_address.hpp"
#include "sockit/endpoint.hpp"
#include "sockit/scan/targets.hpp"

namespace {

using sockit::IpAddress;
using sockit::fuzz::show;

// The address one below / above `a` (wrapping), for probing just outside a block.
IpAddress step(const IpAddress& a, int delta) {
  std::array<std::uint8_t, 16> b{};
  for (std::size_t i = 0; i < a.size(); ++i)
    b[i] = a.bytes()[i];
  for (std::size_t i = a.size(); i-- > 0;) {
    int v = b[i] + delta;
    b[i] = static_cast<std::uint8_t>(v & 0xff);
    if (v >= 0 && v <= 0xff) break;
  }
  return a.is_v4() ? IpAddress::v4({b[0], b[1], b[2], b[3]}) : IpAddress::v6(b, a.scope_id());
}

bool is_numeric_block(std::string_view spec) {
  return spec.find('/') != std::string_view::npos ||
         (spec.find_first_not_of("0123456789.,-") == std::string_view::npos &&
          spec.find_first_of(",-") != std::string_view::npos);
}

void check_target(std::string_view spec, std::uint8_t flags) {
  namespace scan = sockit::scan;
  scan::TargetOptions options;
  options.first_address_only = flags & 1;
  options.family = (flags >> 1) % 3 == 0   ? sockit::Family::Any
                   : (flags >> 1) % 3 == 1 ? sockit::Family::V4
                                           : sockit::Family::V6;
  const std::string what = show(spec);
  auto targets = scan::expand_target(spec, options);
  scan::AddressFilter filter;
  auto added = filter.add(spec);
  if (!targets) return;
  SOCKIT_FUZZ_CHECK(added.has_value(), what);
  SOCKIT_FUZZ_CHECK(!targets->empty() && targets->size() <= scan::kLargeTarget, what);
  for (const auto& t : *targets)
    SOCKIT_FUZZ_CHECK(filter.matches(t.address), what + " " + t.address.to_string());

  if (!is_numeric_block(spec)) {
    if (options.first_address_only) SOCKIT_FUZZ_CHECK(targets->size() == 1, what);
    for (const auto& t : *targets) {
      SOCKIT_FUZZ_CHECK(t.name == spec, what);
      if (options.family == sockit::Family::V4) SOCKIT_FUZZ_CHECK(t.address.is_v4(), what);
      if (options.family == sockit::Family::V6) SOCKIT_FUZZ_CHECK(t.address.is_v6(), what);
    }
    return;
  }
  std::set<IpAddress> members;
  for (std::size_t i = 0; i < targets->size(); ++i) {
    const auto& t = (*targets)[i];
    SOCKIT_FUZZ_CHECK(t.name == t.address.to_string(), what);
    if (i > 0) SOCKIT_FUZZ_CHECK((*targets)[i - 1].address < t.address, what);
    members.insert(t.address);
  }
  if (auto slash = spec.find('/'); slash != std::string_view::npos) {
    auto prefix = std::stoul(std::string(spec.substr(slash + 1)));
    std::size_t bits = (targets->front().address.is_v4() ? 32 : 128) - prefix;
    SOCKIT_FUZZ_CHECK(bits < 63 && targets->size() == std::size_t{1} << bits, what);
  }
  // Just outside: the filter must not match what the expansion left out.
  for (const auto& t : *targets) {
    for (int delta : {-1, 1}) {
      IpAddress n = step(t.address, delta);
      SOCKIT_FUZZ_CHECK(filter.matches(n) == members.contains(n), what + " " + n.to_string());
    }
  }
}

void check_listen(std::string_view text) {
  auto listen = sockit::cli::parse_listen_address(text);
  if (!listen) return;
  // "unix:PATH" passes through Endpoint::parse: a Unix endpoint, which serve can listen on.
  SOCKIT_FUZZ_CHECK(listen->is_ip() != text.starts_with("unix:"), show(text));
  if (text.find(':') == std::string_view::npos || text.starts_with(':')) {
    SOCKIT_FUZZ_CHECK(listen->address() == IpAddress::v4_any(), show(text));
  }
  if (auto exact = sockit::Endpoint::parse(text); exact) {
    SOCKIT_FUZZ_CHECK(*exact == *listen, show(text));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sockit::fuzz::require_isolated_network("targets_fuzz");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 256) return 0;  // target specs are short; long ones only slow the resolver down
  sockit::fuzz::Reader in(data, size);
  std::uint8_t flags = in.byte();
  std::string_view spec = in.rest();
  check_target(spec, flags);
  check_listen(spec);
  return 0;
}
