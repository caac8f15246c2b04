// The README's "library in ten lines", verbatim: built against the installed package so the
// README can't drift from the API.
#include <cstdio>
#include <sockit/sockit.hpp>
using namespace sockit;

int main() {
  auto listener = TcpListener::bind(*Endpoint::parse("127.0.0.1:0")).value();
  auto client = TcpStream::connect(listener.local().value()).value();
  auto [server, peer] = listener.accept().value();
  client.send_all("hello").value();  // value(): the result, or abort with the error
  client.shutdown(Shutdown::Write).value();
  char buf[64];
  auto n = server.recv(buf).value();
  std::printf("%s sent %.*s\n", peer.to_string().c_str(), int(n), buf);
}
