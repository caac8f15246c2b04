// usage: port_scanner HOST [FIRST [LAST]]      (ports 1-1024 by default)
//
// Tries a TCP connection to each port in turn and prints the ones that accept, with the
// service name /etc/services gives them. The course's scannerDePortas.c filled a
// sockaddr_in with htons() by hand and waited as long as the kernel liked on each port;
// here the name is resolved once, every address it has is tried (a service may listen on
// IPv4 only), and each attempt gives up after a short timeout.
//
//   $ port_scanner localhost 20 25
//   22/tcp open ssh
#include <netdb.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "sockit/resolve.hpp"
#include "sockit/tcp.hpp"

namespace {

constexpr int kUsageError = 64;  // EX_USAGE from <sysexits.h>
constexpr sockit::Timeout kTimeout = std::chrono::milliseconds(300);

int fail(const sockit::Error& error, int status = EXIT_FAILURE) {
  std::cerr << "port_scanner: " << error.message() << '\n';
  return status;
}

// Open if any of the host's addresses accepts a connection. Refused, timed out and
// unreachable all mean "not open"; the connection is closed again at once.
bool is_open(const std::vector<sockit::IpAddress>& addresses, std::uint16_t port) {
  for (const sockit::IpAddress& address : addresses) {
    if (sockit::TcpStream::connect({address, port}, {.timeout = kTimeout})) return true;
  }
  return false;
}

// "ssh" for 22, from /etc/services (getnameinfo takes the port as the endpoint holds it,
// so no htons); "unknown" when the port has no name there.
std::string service_name(std::uint16_t port) {
  const sockit::Endpoint at(sockit::IpAddress::v4_any(), port);
  char name[NI_MAXSERV];
  if (getnameinfo(at.data(), at.size(), nullptr, 0, name, sizeof name, 0) != 0) return "unknown";
  return std::isdigit(static_cast<unsigned char>(name[0])) ? "unknown" : name;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 2 || argc > 4) {
    std::cerr << "usage: port_scanner HOST [FIRST [LAST]]\n";
    return kUsageError;
  }
  auto first = sockit::parse_port(argc > 2 ? argv[2] : "1");
  if (!first) return fail(first.error(), kUsageError);
  auto last = sockit::parse_port(argc > 3 ? argv[3] : "1024");
  if (!last) return fail(last.error(), kUsageError);
  if (*first == 0 || *first > *last) {
    const auto range = std::to_string(*first) + "-" + std::to_string(*last);
    return fail({sockit::ParseErrc::bad_range, "port range " + range}, kUsageError);
  }

  auto host = sockit::resolve(argv[1]);
  if (!host) return fail(host.error());

  for (unsigned port = *first; port <= *last; ++port) {
    const auto p = static_cast<std::uint16_t>(port);
    if (is_open(host->addresses, p)) std::cout << p << "/tcp open " << service_name(p) << '\n';
  }
  return EXIT_SUCCESS;
}
