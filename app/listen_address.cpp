#include "listen_address.hpp"

#include "sockit/resolve.hpp"

namespace sockit::cli {

Result<Endpoint> parse_listen_address(std::string_view text) {
  if (text.find(':') == std::string_view::npos || text.starts_with(':')) {
    std::string_view port_text = text.starts_with(':') ? text.substr(1) : text;
    auto port = parse_port(port_text);
    if (!port) return std::move(port).error();
    return Endpoint(IpAddress::v4_any(), *port);
  }
  auto endpoint = Endpoint::parse(text);
  if (endpoint) return endpoint;
  // Not numeric: HOST:PORT with a name, listening on the name's first address.
  if (endpoint.error().code() != ParseErrc::not_numeric) return endpoint;
  auto colon = text.rfind(':');
  auto port = parse_port(text.substr(colon + 1));
  if (!port) return std::move(port).error();
  auto resolved = resolve(text.substr(0, colon));
  if (!resolved) return std::move(resolved).error();
  return Endpoint(resolved->addresses.front(), *port);
}

Result<Endpoint> parse_unix_option(std::string_view text) {
  if (text.starts_with('@')) return Endpoint::unix_abstract(text.substr(1));
  return Endpoint::unix_path(text);
}

std::string check_unix_option(const std::string& text) {
  auto parsed = parse_unix_option(text);
  return parsed ? std::string() : parsed.error().message();
}

}  // namespace sockit::cli
