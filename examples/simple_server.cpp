// usage: simple_server PORT | ADDR:PORT
//
// An iterative TCP server: it accepts a client, prints every line the client sends tagged
// with the client's address, and only when that client leaves accepts the next. The
// course's servidorSimples.py; PORT alone listens on every interface as it did
// (0.0.0.0), ADDR:PORT on one, and port 0 lets the kernel choose (the real one is printed).
//
//   $ simple_server 127.0.0.1:5000
//   listening on 127.0.0.1:5000
//   connected 127.0.0.1:53422
//   127.0.0.1:53422 hello
//   closed 127.0.0.1:53422
#include <cstdlib>
#include <iostream>
#include <string>

#include "sockit/tcp.hpp"

namespace {

constexpr int kUsageError = 64;  // EX_USAGE from <sysexits.h>

int fail(const sockit::Error& error, int status = EXIT_FAILURE) {
  std::cerr << "simple_server: " << error.message() << '\n';
  return status;
}

// "5000" listens on every interface (0.0.0.0:5000) as the course did; "127.0.0.1:5000" on one.
sockit::Result<sockit::Endpoint> listen_endpoint(std::string text) {
  if (text.find(':') == std::string::npos) text = "0.0.0.0:" + text;
  return sockit::Endpoint::parse(text);
}

// TCP is a byte stream: one recv() may hold half a line or several. Lines are cut here, so
// each is printed whole and tagged; a last line without '\n' is printed at EOF.
void serve(sockit::TcpStream& client, const std::string& who) {
  std::cout << "connected " << who << std::endl;
  std::string pending;
  char buffer[1024];
  for (;;) {
    auto got = client.recv(buffer);
    if (!got) fail(got.error());
    if (!got || *got == 0) break;  // an error, or the client has closed its side
    pending.append(buffer, *got);
    for (auto end = pending.find('\n'); end != std::string::npos; end = pending.find('\n')) {
      std::cout << who << ' ' << pending.substr(0, end) << std::endl;
      pending.erase(0, end + 1);
    }
  }
  if (!pending.empty()) std::cout << who << ' ' << pending << std::endl;
  std::cout << "closed " << who << std::endl;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 2) {
    std::cerr << "usage: simple_server PORT | ADDR:PORT\n";
    return kUsageError;
  }
  auto at = listen_endpoint(argv[1]);
  if (!at) return fail(at.error(), kUsageError);
  auto listener = sockit::TcpListener::bind(*at);  // SO_REUSEADDR is on by default
  if (!listener) return fail(listener.error());
  auto local = listener->local();
  if (!local) return fail(local.error());
  std::cout << "listening on " << local->to_string() << std::endl;  // endl: a pipe needs it

  for (;;) {
    auto client = listener->accept();
    if (!client) return fail(client.error());
    serve(client->stream, client->peer.to_string());
  }  // `client` goes out of scope here: its socket is closed
}
