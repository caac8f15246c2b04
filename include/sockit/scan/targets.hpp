// Scan targets as nmap users write them, expanded to addresses.
//
//   localhost          every address of a name (or the first, with first_address_only)
//   198.18.0.5  ::1    one address
//   198.18.0.0/28      a CIDR block (fd00::/120 for IPv6)
//   198.18.0.1-20      octet ranges and lists in any octet: 198.18.0-1.1,3,5-9
//
// A target that expands to more than 65,536 hosts is refused unless allow_large is set
// (a typo must not scan half the internet); even then 2^20 hosts is the ceiling. Errors:
// parse_category() for malformed text (quoted), gai_category() when a name doesn't resolve.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sockit/ip_address.hpp"
#include "sockit/resolve.hpp"
#include "sockit/result.hpp"

namespace sockit::scan {

struct Target {
  std::string name;  // what the user wrote when it was a name; else the address itself
  IpAddress address;
};

struct TargetOptions {
  bool first_address_only = false;
  bool allow_large = false;
  Family family = Family::Any;
};

inline constexpr std::size_t kLargeTarget = 65536;
inline constexpr std::size_t kMaxTargetHosts = std::size_t{1} << 20;

// Expands one target. Numeric forms never touch the resolver.
Result<std::vector<Target>> expand_target(std::string_view spec, const TargetOptions& options);

// Matches addresses against exclusion specs (the same syntax, without the size limit).
class AddressFilter {
 public:
  Result<void> add(std::string_view spec);
  bool matches(const IpAddress& address) const;
  bool empty() const noexcept { return patterns_.empty(); }

 private:
  struct Pattern {
    IpAddress network;
    int prefix = -1;                        // CIDR prefix length, or -1
    std::vector<std::vector<bool>> octets;  // IPv4 octet ranges: 4 x 256 flags, or empty
  };
  std::vector<Pattern> patterns_;
};

}  // namespace sockit::scan
