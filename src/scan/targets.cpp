#include "sockit/scan/targets.hpp"

#include <array>
#include <charconv>

namespace sockit::scan {
namespace {

Error target_error(ParseErrc code, std::string_view spec) {
  return Error(code, "invalid target '" + std::string(spec) + "'");
}

Result<unsigned> number(std::string_view text, unsigned max, std::string_view spec) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return target_error(ParseErrc::bad_number, spec);
  }
  if (value > max) return target_error(ParseErrc::bad_ipv4, spec);
  return value;
}

// "1,3,5-9" for one octet -> 256 flags.
Result<std::vector<bool>> octet_set(std::string_view text, std::string_view spec) {
  std::vector<bool> set(256, false);
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = text.find(',', start);
    std::string_view part =
        text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    std::size_t dash = part.find('-');
    auto lo = number(part.substr(0, dash), 255, spec);
    if (!lo) return std::move(lo).error();
    unsigned hi = *lo;
    if (dash != std::string_view::npos) {
      auto h = number(part.substr(dash + 1), 255, spec);
      if (!h) return std::move(h).error();
      if (*h < *lo) return target_error(ParseErrc::bad_range, spec);
      hi = *h;
    }
    for (unsigned v = *lo; v <= hi; ++v)
      set[v] = true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return set;
}

bool is_octet_pattern(std::string_view s) {
  return s.find_first_not_of("0123456789.,-") == std::string_view::npos &&
         (s.find('-') != s.npos || s.find(',') != s.npos);
}

Result<std::vector<std::vector<bool>>> parse_octets(std::string_view spec) {
  std::vector<std::vector<bool>> octets;
  std::size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    std::size_t dot = spec.find('.', start);
    if ((i < 3) == (dot == std::string_view::npos)) return target_error(ParseErrc::bad_ipv4, spec);
    auto set = octet_set(spec.substr(start, i < 3 ? dot - start : spec.npos), spec);
    if (!set) return std::move(set).error();
    octets.push_back(std::move(*set));
    start = dot + 1;
  }
  return octets;
}

struct Cidr {
  IpAddress network;
  int prefix;
};

Result<Cidr> parse_cidr(std::string_view spec) {
  auto slash = spec.find('/');
  auto address = IpAddress::parse(spec.substr(0, slash));
  if (!address) return Error(address.error().code(), "invalid target '" + std::string(spec) + "'");
  unsigned max = address->is_v4() ? 32 : 128;
  auto prefix = number(spec.substr(slash + 1), max, spec);
  if (!prefix) return target_error(ParseErrc::bad_range, spec);
  // Clear the host bits, so 198.18.0.7/28 means the block 198.18.0.0/28, as nmap does.
  std::array<std::uint8_t, 16> bytes{};
  for (std::size_t i = 0; i < address->size(); ++i) {
    int bits_left = static_cast<int>(*prefix) - static_cast<int>(8 * i);
    int mask_bits = bits_left >= 8 ? 0xff : bits_left <= 0 ? 0 : (0xff << (8 - bits_left)) & 0xff;
    auto mask = static_cast<std::uint8_t>(mask_bits);
    bytes[i] = address->bytes()[i] & mask;
  }
  IpAddress network = address->is_v4() ? IpAddress::v4({bytes[0], bytes[1], bytes[2], bytes[3]})
                                       : IpAddress::v6(bytes, address->scope_id());
  return Cidr{network, static_cast<int>(*prefix)};
}

// The i-th address of a block (i < 2^(bits - prefix)).
IpAddress nth(const Cidr& block, std::uint64_t i) {
  std::array<std::uint8_t, 16> bytes{};
  for (std::size_t k = 0; k < block.network.size(); ++k)
    bytes[k] = block.network.bytes()[k];
  std::size_t last = block.network.size() - 1;
  for (std::size_t k = 0; k < 8 && i > 0; ++k, i >>= 8) {
    bytes[last - k] = static_cast<std::uint8_t>(bytes[last - k] | (i & 0xff));
  }
  return block.network.is_v4() ? IpAddress::v4({bytes[0], bytes[1], bytes[2], bytes[3]})
                               : IpAddress::v6(bytes, block.network.scope_id());
}

bool in_block(const IpAddress& a, const IpAddress& network, int prefix) {
  if (a.family() != network.family()) return false;
  for (int bit = 0; bit < prefix; ++bit) {
    std::uint8_t mask = static_cast<std::uint8_t>(0x80 >> (bit % 8));
    if ((a.bytes()[bit / 8] & mask) != (network.bytes()[bit / 8] & mask)) return false;
  }
  return true;
}

Error too_large(std::string_view spec, std::uint64_t hosts, bool allowed) {
  std::string why = "target '" + std::string(spec) + "' is " + std::to_string(hosts) + " hosts";
  why += allowed ? " (at most 1048576)" : " (more than 65536 needs --allow-large)";
  return Error(ParseErrc::bad_range, why);
}

}  // namespace

Result<std::vector<Target>> expand_target(std::string_view spec, const TargetOptions& options) {
  if (spec.empty()) return target_error(ParseErrc::empty, spec);
  const std::uint64_t limit = options.allow_large ? kMaxTargetHosts : kLargeTarget;
  std::vector<Target> out;

  if (spec.find('/') != std::string_view::npos) {
    auto block = parse_cidr(spec);
    if (!block) return std::move(block).error();
    int host_bits = (block->network.is_v4() ? 32 : 128) - block->prefix;
    std::uint64_t hosts = host_bits >= 63 ? ~std::uint64_t{0} : std::uint64_t{1} << host_bits;
    if (hosts > limit) return too_large(spec, hosts, options.allow_large);
    out.reserve(hosts);
    for (std::uint64_t i = 0; i < hosts; ++i) {
      IpAddress a = nth(*block, i);
      out.push_back({a.to_string(), a});
    }
    return out;
  }
  if (is_octet_pattern(spec)) {
    auto octets = parse_octets(spec);
    if (!octets) return std::move(octets).error();
    std::uint64_t hosts = 1;
    for (auto& set : *octets)
      hosts *= static_cast<std::uint64_t>(std::count(set.begin(), set.end(), true));
    if (hosts > limit) return too_large(spec, hosts, options.allow_large);
    for (unsigned a = 0; a < 256; ++a) {
      if (!(*octets)[0][a]) continue;
      for (unsigned b = 0; b < 256; ++b) {
        if (!(*octets)[1][b]) continue;
        for (unsigned c = 0; c < 256; ++c) {
          if (!(*octets)[2][c]) continue;
          for (unsigned d = 0; d < 256; ++d) {
            if (!(*octets)[3][d]) continue;
            IpAddress ip =
                IpAddress::v4({static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b),
                               static_cast<std::uint8_t>(c), static_cast<std::uint8_t>(d)});
            out.push_back({ip.to_string(), ip});
          }
        }
      }
    }
    return out;
  }
  // One address, or a name.
  auto resolved = resolve(spec, options.family);
  if (!resolved) return std::move(resolved).error();
  for (const IpAddress& a : resolved->addresses) {
    out.push_back({std::string(spec), a});
    if (options.first_address_only) break;
  }
  return out;
}

Result<void> AddressFilter::add(std::string_view spec) {
  if (spec.empty()) return target_error(ParseErrc::empty, spec);
  if (spec.find('/') != std::string_view::npos) {
    auto block = parse_cidr(spec);
    if (!block) return std::move(block).error();
    patterns_.push_back({block->network, block->prefix, {}});
    return {};
  }
  if (is_octet_pattern(spec)) {
    auto octets = parse_octets(spec);
    if (!octets) return std::move(octets).error();
    patterns_.push_back({IpAddress(), -1, std::move(*octets)});
    return {};
  }
  auto resolved = resolve(spec);
  if (!resolved) return std::move(resolved).error();
  for (const IpAddress& a : resolved->addresses) {
    patterns_.push_back({a, a.is_v4() ? 32 : 128, {}});
  }
  return {};
}

bool AddressFilter::matches(const IpAddress& address) const {
  for (const Pattern& p : patterns_) {
    if (!p.octets.empty()) {
      if (!address.is_v4()) continue;
      bool all = true;
      for (int i = 0; i < 4 && all; ++i)
        all = p.octets[i][address.bytes()[i]];
      if (all) return true;
    } else if (in_block(address, p.network, p.prefix)) {
      return true;
    }
  }
  return false;
}

}  // namespace sockit::scan
