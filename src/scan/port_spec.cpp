#include "sockit/scan/port_spec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace sockit::scan {
namespace {

// /etc/services, TCP entries only, read once (getservbyport is not thread-safe and
// would reread the file for every port).
struct Services {
  std::array<std::string, 65536> by_port;
  std::unordered_map<std::string, std::uint16_t> by_name;

  Services() {
    std::ifstream in("/etc/services");
    std::string line;
    while (std::getline(in, line)) {
      if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
      std::istringstream fields(line);
      std::string name, port_proto;
      if (!(fields >> name >> port_proto)) continue;
      auto slash = port_proto.find('/');
      if (slash == std::string::npos || port_proto.substr(slash + 1) != "tcp") continue;
      unsigned port = 0;
      auto [end, ec] = std::from_chars(port_proto.data(), port_proto.data() + slash, port);
      if (ec != std::errc() || end != port_proto.data() + slash || port > 65535) continue;
      if (by_port[port].empty()) by_port[port] = name;
      by_name.emplace(name, static_cast<std::uint16_t>(port));
      for (std::string alias; fields >> alias;)
        by_name.emplace(alias, static_cast<std::uint16_t>(port));
    }
  }
};

const Services& services() {
  static const Services table;
  return table;
}

Error spec_error(ParseErrc code, std::string_view piece) {
  return Error(code, "invalid port list '" + std::string(piece) + "'");
}

// A number 0-65535, or a service name.
Result<std::uint16_t> one_port(std::string_view text, std::string_view piece) {
  if (text.empty()) return spec_error(ParseErrc::empty, piece);
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || value > 65535) return spec_error(ParseErrc::port_out_of_range, piece);
    return static_cast<std::uint16_t>(value);
  }
  auto port = service_port(text);
  if (!port) return spec_error(ParseErrc::unknown_name, piece);
  return port;
}

}  // namespace

Result<std::vector<std::uint16_t>> parse_ports(std::string_view spec) {
  if (spec.empty()) return spec_error(ParseErrc::empty, spec);
  std::vector<bool> wanted(65536, false);
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t comma = spec.find(',', start);
    std::string_view piece = spec.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (piece.empty()) return spec_error(ParseErrc::empty, spec);
    std::size_t dash = piece.find('-');
    // A service name may hold a dash itself (ftp-data, netbios-ssn): not a range.
    if (dash != std::string_view::npos && service_port(piece)) dash = std::string_view::npos;
    std::uint32_t low, high;
    if (dash == std::string_view::npos) {
      auto port = one_port(piece, piece);
      if (!port) return std::move(port).error();
      low = high = *port;
    } else {
      std::string_view left = piece.substr(0, dash);
      std::string_view right = piece.substr(dash + 1);
      // Open ends, as in nmap: "-1024" is 1-1024, "60000-" is 60000-65535, "-" is all.
      auto first = left.empty() ? Result<std::uint16_t>(std::uint16_t{1}) : one_port(left, piece);
      if (!first) return std::move(first).error();
      if (*first == 0) return spec_error(ParseErrc::bad_range, piece);  // 0 only on its own
      auto last =
          right.empty() ? Result<std::uint16_t>(std::uint16_t{65535}) : one_port(right, piece);
      if (!last) return std::move(last).error();
      if (*first > *last) return spec_error(ParseErrc::bad_range, piece);
      low = *first;
      high = *last;
    }
    for (std::uint32_t p = low; p <= high; ++p)
      wanted[p] = true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::vector<std::uint16_t> ports;
  for (std::uint32_t p = 0; p < 65536; ++p)
    if (wanted[p]) ports.push_back(static_cast<std::uint16_t>(p));
  return ports;
}

std::vector<std::uint16_t> exclude_ports(const std::vector<std::uint16_t>& ports,
                                         const std::vector<std::uint16_t>& excluded) {
  std::vector<std::uint16_t> out;
  std::set_difference(ports.begin(), ports.end(), excluded.begin(), excluded.end(),
                      std::back_inserter(out));
  return out;
}

std::string_view service_name(std::uint16_t port) {
  return services().by_port[port];
}

Result<std::uint16_t> service_port(std::string_view name) {
  const auto& table = services().by_name;
  auto it = table.find(std::string(name));
  if (it == table.end())
    return Error(ParseErrc::unknown_name, "service '" + std::string(name) + "'");
  return it->second;
}

}  // namespace sockit::scan
