// Name lookup: hostname(), resolve() (getaddrinfo), reverse() (getnameinfo), aliases.
//
// Blocking calls that consult the system's resolver (nsswitch: /etc/hosts, then DNS).
// Numeric addresses never touch the network (AI_NUMERICHOST). AI_ADDRCONFIG is never used:
// it hides ::1 and 127.0.0.1 on a machine with only loopback configured, and a lookup tool
// must show every address a name has. Failures come back in gai_category() (EAI_*), with
// the name as context: "resolve no-such.test: Name or service not known".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sockit/ip_address.hpp"
#include "sockit/result.hpp"

namespace sockit {

enum class Family { Any, V4, V6 };

struct Resolution {
  std::string canonical_name;        // the name the resolver settled on (CNAME target)
  std::vector<IpAddress> addresses;  // every address, resolver order, no duplicates
};

// This host's name (gethostname).
Result<std::string> hostname();

// Every address of `host` (a name or a numeric address) in `family`.
Result<Resolution> resolve(std::string_view host, Family family = Family::Any);

// The name for an address (PTR or /etc/hosts); fails if there is none.
Result<std::string> reverse(const IpAddress& address);

// Other names the resolver knows for `host` (gethostbyname's h_aliases: /etc/hosts aliases
// and DNS CNAMEs); empty when there are none or the lookup fails.
std::vector<std::string> aliases(std::string_view host, Family family = Family::Any);

// True if `code` means "this name does not exist" (rather than "lookup failed").
bool is_unknown_host(const std::error_code& code) noexcept;

}  // namespace sockit
