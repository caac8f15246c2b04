// Where a server listens, as users write it: "5000" (every IPv4 address), ":5000",
// "127.0.0.1:5000", "[::]:5000", "localhost:5000" (a name: its first address).
#pragma once

#include <string_view>

#include "sockit/endpoint.hpp"

namespace sockit::cli {

Result<Endpoint> parse_listen_address(std::string_view text);

}  // namespace sockit::cli
