// Addresses and durations as users write them on the command line. Where a server listens:
// "5000" (every IPv4 address), ":5000", "127.0.0.1:5000", "[::]:5000", "localhost:5000" (a
// name: its first address).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "sockit/endpoint.hpp"

namespace sockit::cli {

Result<Endpoint> parse_listen_address(std::string_view text);

// A --unix option: a filesystem path, or @name for a Linux abstract socket.
Result<Endpoint> parse_unix_option(std::string_view text);
// The same as a CLI11 check: why `text` is not a --unix value, or "" when it is. An empty
// --unix would otherwise read as "not given".
std::string check_unix_option(const std::string& text);

// Seconds as users type them (0.5) to the milliseconds the library takes.
inline std::chrono::milliseconds seconds_to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

}  // namespace sockit::cli
