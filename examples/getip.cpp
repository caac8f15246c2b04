// usage: getip NAME
//
// Looks a host up and prints its official (canonical) name, its aliases and every address
// it has, IPv4 and IPv6. The course's pegaIP.c did this with gethostbyname(), which knows
// only IPv4, returns a static struct shared by every caller, and reports failure through
// h_errno; sockit::resolve() wraps getaddrinfo() and hands back a value or an Error.
//
//   $ getip localhost
//   name    localhost
//   address 127.0.0.1
#include <cstdlib>
#include <iostream>
#include <string>

#include "sockit/resolve.hpp"

namespace {

constexpr int kUsageError = 64;  // EX_USAGE from <sysexits.h>

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 2) {
    std::cerr << "usage: getip NAME\n";
    return kUsageError;
  }
  const std::string name = argv[1];

  auto found = sockit::resolve(name);
  if (!found) {
    std::cerr << "getip: " << found.error().message() << '\n';
    return EXIT_FAILURE;
  }

  std::cout << "name    " << found->canonical_name << '\n';
  for (const std::string& alias : sockit::aliases(name)) {
    if (alias != found->canonical_name) std::cout << "alias   " << alias << '\n';
  }
  for (const sockit::IpAddress& address : found->addresses) {
    std::cout << "address " << address.to_string() << '\n';
  }
  return EXIT_SUCCESS;
}
