// Port lists in nmap's syntax, and service names from /etc/services.
//
//   parse_ports("22,80,1000-2000")   parse_ports("-")  (1-65535)   parse_ports("-1024")
//   parse_ports("60000-")            parse_ports("ssh,http")       parse_ports("U:53")  (refused)
//
// The result is sorted and without duplicates. Port 0 is refused unless written alone as
// a number ("0"), which nothing real listens on but is legal to probe. Refusals quote the
// piece that is wrong: "invalid port list '90-80': invalid range".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sockit/result.hpp"

namespace sockit::scan {

Result<std::vector<std::uint16_t>> parse_ports(std::string_view spec);

// `ports` without those in `excluded` (both sorted).
std::vector<std::uint16_t> exclude_ports(const std::vector<std::uint16_t>& ports,
                                         const std::vector<std::uint16_t>& excluded);

// The TCP service name for a port ("ssh" for 22), or "" when /etc/services has none.
// Thread-safe; reads the file once.
std::string_view service_name(std::uint16_t port);

// The port for a TCP service name ("http" -> 80), or an error.
Result<std::uint16_t> service_port(std::string_view name);

}  // namespace sockit::scan
