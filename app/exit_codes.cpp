#include "exit_codes.hpp"

#include <netdb.h>

#include <cstdio>
#include <string>

#include "sockit/resolve.hpp"

namespace sockit::cli {

int exit_code_for(const Error& error) noexcept {
  const std::error_code& code = error.code();
  if (code.category() == parse_category()) return kUsage;
  if (code.category() == gai_category()) {
    if (is_unknown_host(code)) return kUnknownHost;
    if (code.value() == EAI_AGAIN) return kTimedOut;
    return kIoError;
  }
  if (error.is(std::errc::connection_refused) || error.is(std::errc::host_unreachable) ||
      error.is(std::errc::network_unreachable) || error.is(std::errc::address_in_use) ||
      error.is(std::errc::address_not_available)) {
    return kUnavailable;
  }
  if (error.is(std::errc::timed_out)) return kTimedOut;
  if (error.is(std::errc::permission_denied) || error.is(std::errc::operation_not_permitted)) {
    return kPermission;
  }
  if (error.is(std::errc::interrupted)) return kInterrupted;
  return kIoError;
}

void report(std::string_view message) {
  std::string line = "sockit: ";
  line += message;
  line += '\n';
  std::fflush(stdout);  // keep stdout and stderr in order when both go to one terminal
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void report(const Error& error) {
  report(error.message());
}

}  // namespace sockit::cli
