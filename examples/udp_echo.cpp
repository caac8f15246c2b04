// usage: udp_echo server PORT | ADDR:PORT
//        udp_echo client HOST PORT MESSAGE
//
// Datagrams: no connection and no stream, one message per send. The server prints every
// datagram tagged with its sender and sends it straight back; the client sends MESSAGE,
// waits up to two seconds for the echo and prints it.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>

#include "sockit/event_loop.hpp"
#include "sockit/resolve.hpp"
#include "sockit/udp.hpp"

namespace {

constexpr int kUsageError = 64;  // EX_USAGE from <sysexits.h>
constexpr auto kReplyTimeout = std::chrono::seconds(2);

int fail(const sockit::Error& error, int status = EXIT_FAILURE) {
  std::cerr << "udp_echo: " << error.message() << '\n';
  return status;
}

// "5000" listens on every interface (0.0.0.0:5000) as the course did; "127.0.0.1:5000" on one.
sockit::Result<sockit::Endpoint> listen_endpoint(std::string text) {
  if (text.find(':') == std::string::npos) text = "0.0.0.0:" + text;
  return sockit::Endpoint::parse(text);
}

int run_server(const char* where) {
  auto at = listen_endpoint(where);
  if (!at) return fail(at.error(), kUsageError);
  auto udp = sockit::UdpSocket::bind(*at);
  if (!udp) return fail(udp.error());
  auto local = udp->local();
  if (!local) return fail(local.error());
  std::cout << "listening on " << local->to_string() << std::endl;

  char buffer[65536];  // the largest datagram there is
  for (;;) {
    auto got = udp->recv_from(buffer);
    if (!got) return fail(got.error());
    std::cout << got->from.to_string() << ' ' << std::string_view(buffer, got->size) << std::endl;
    if (auto sent = udp->send_to({buffer, got->size}, got->from); !sent) fail(sent.error());
  }
}

int run_client(const char* host, const char* port_text, std::string_view message) {
  auto port = sockit::parse_port(port_text);
  if (!port) return fail(port.error(), kUsageError);
  auto found = sockit::resolve(host);
  if (!found) return fail(found.error());
  const sockit::Endpoint server(found->addresses.front(), *port);
  auto udp = sockit::UdpSocket::open(server.address().family());
  if (!udp) return fail(udp.error());
  // connect() on UDP fixes the peer: others' datagrams are dropped, and an ICMP "port
  // unreachable" comes back as "Connection refused" rather than silence.
  if (auto fixed = udp->connect(server); !fixed) return fail(fixed.error());
  if (auto sent = udp->send(message); !sent) return fail(sent.error());

  // UdpSocket has no receive timeout: let an event loop wait for the reply, at most 2 s.
  auto loop = sockit::EventLoop::create();
  if (!loop) return fail(loop.error());
  bool ready = false;
  auto watch =
      (*loop)->watch(udp->native_handle(), sockit::kReadable, [&ready](auto) { ready = true; });
  if (!watch) return fail(watch.error());
  if (auto turn = (*loop)->run_once(kReplyTimeout); !turn) return fail(turn.error());
  const auto timed_out = std::make_error_code(std::errc::timed_out);
  if (!ready) return fail({timed_out, "no reply from " + server.to_string()});

  char buffer[65536];
  auto got = udp->recv(buffer);
  if (!got) return fail(got.error());
  std::cout << std::string_view(buffer, *got) << '\n';
  return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char* argv[]) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "server" && argc == 3) return run_server(argv[2]);
  if (mode == "client" && argc == 5) return run_client(argv[2], argv[3], argv[4]);
  std::cerr << "usage: udp_echo server PORT | ADDR:PORT\n"
               "       udp_echo client HOST PORT MESSAGE\n";
  return kUsageError;
}
