// usage: client HOST PORT
//
// Connects to a TCP server and sends it each line typed (or piped) on stdin, until end of
// input or a line holding only Ctrl+X, as the course's cliente.py did. Then it shuts down
// its sending side, so the server sees end-of-stream, and prints whatever the server
// sends back until the server closes the connection too.
//
//   $ printf 'hello\nworld\n' | client localhost 5000
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "sockit/tcp.hpp"

namespace {

constexpr int kUsageError = 64;             // EX_USAGE from <sysexits.h>
constexpr std::string_view kQuit = "\x18";  // Ctrl+X on a line of its own

int fail(const sockit::Error& error, int status = EXIT_FAILURE) {
  std::cerr << "client: " << error.message() << '\n';
  return status;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 3) {
    std::cerr << "usage: client HOST PORT\n";
    return kUsageError;
  }
  auto port = sockit::parse_port(argv[2]);
  if (!port) return fail(port.error(), kUsageError);

  // By name: every address HOST has is tried in turn until one accepts.
  auto server = sockit::TcpStream::connect(argv[1], *port);
  if (!server) return fail(server.error());
  if (isatty(STDIN_FILENO)) std::cerr << "connected; Ctrl+X then Enter (or Ctrl+D) to quit\n";

  for (std::string line; std::getline(std::cin, line) && line != kQuit;) {
    line += '\n';
    if (auto sent = server->send_all(line); !sent) return fail(sent.error());
  }
  // "Nothing more from me": the server reads end-of-stream, but can still answer.
  if (auto done = server->shutdown(sockit::Shutdown::Write); !done) return fail(done.error());

  char buffer[1024];
  for (;;) {
    auto got = server->recv(buffer);
    if (!got) return fail(got.error());
    if (*got == 0) return EXIT_SUCCESS;  // the server closed too
    std::cout.write(buffer, static_cast<std::streamsize>(*got)).flush();
  }
}
