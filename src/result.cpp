#include "sockit/result.hpp"

#include <netdb.h>

#include <cstdio>
#include <cstdlib>

namespace sockit {
namespace {

class ParseCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sockit.parse"; }
  std::string message(int value) const override {
    switch (static_cast<ParseErrc>(value)) {
      case ParseErrc::empty:
        return "empty input";
      case ParseErrc::bad_ipv4:
        return "not a valid IPv4 address";
      case ParseErrc::bad_ipv6:
        return "not a valid IPv6 address";
      case ParseErrc::bad_scope:
        return "unknown IPv6 scope (interface)";
      case ParseErrc::bad_port:
        return "port must be a number";
      case ParseErrc::port_out_of_range:
        return "port out of range (0-65535)";
      case ParseErrc::missing_port:
        return "missing port (expected HOST:PORT)";
      case ParseErrc::missing_bracket:
        return "missing ']' after IPv6 address";
      case ParseErrc::path_too_long:
        return "Unix socket path too long (max 107 bytes)";
      case ParseErrc::trailing_garbage:
        return "unexpected characters after the address";
      case ParseErrc::bad_family:
        return "wrong address family for this operation";
      case ParseErrc::not_numeric:
        return "not a numeric IP address";
      case ParseErrc::needs_brackets:
        return "IPv6 address with a port needs brackets: [ADDR]:PORT";
      case ParseErrc::bad_number:
        return "not a number";
      case ParseErrc::bad_range:
        return "invalid range";
      case ParseErrc::unknown_name:
        return "unknown name";
      case ParseErrc::unsupported:
        return "not supported";
    }
    return "invalid input";
  }
};

class GaiCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int value) const override { return ::gai_strerror(value); }
};

}  // namespace

const std::error_category& parse_category() noexcept {
  static const ParseCategory category;
  return category;
}

const std::error_category& gai_category() noexcept {
  static const GaiCategory category;
  return category;
}

std::error_code make_error_code(ParseErrc e) noexcept {
  return {static_cast<int>(e), parse_category()};
}

namespace detail {
void bad_result_access(const Error& error) noexcept {
  std::fprintf(stderr, "sockit: Result::value() called on an error: %s\n", error.message().c_str());
  std::abort();
}
}  // namespace detail

std::string Error::message() const {
  std::string reason = code_.message();
  if (context_.empty()) return reason;
  return context_ + ": " + reason;
}

}  // namespace sockit
