// Uses the installed sockit: every public header through the umbrella include, then a TCP
// round trip on 127.0.0.1 (port 0, so parallel runs never collide). Prints "ok", exits 0.
#include <cstdio>
#include <sockit/sockit.hpp>
#include <string>

namespace {

int fail(const char* what, const sockit::Error& error) {
  std::fprintf(stderr, "consumer: %s: %s\n", what, error.message().c_str());
  return 1;
}

}  // namespace

int main() {
  auto at = sockit::Endpoint::parse("127.0.0.1:0");
  if (!at) return fail("parse", at.error());
  auto listener = sockit::TcpListener::bind(*at);
  if (!listener) return fail("bind", listener.error());
  auto bound = listener->local();
  if (!bound) return fail("local", bound.error());

  auto client = sockit::TcpStream::connect(*bound, {.timeout = sockit::Timeout(5000)});
  if (!client) return fail("connect", client.error());
  auto accepted = listener->accept(sockit::Timeout(5000));
  if (!accepted) return fail("accept", accepted.error());

  if (auto sent = client->send_all("ping"); !sent) return fail("send", sent.error());
  std::string got(4, '\0');
  std::size_t have = 0;
  while (have < got.size()) {
    auto n = accepted->stream.recv(sockit::MutableBuffer(got.data() + have, got.size() - have));
    if (!n) return fail("recv", n.error());
    if (*n == 0) break;
    have += *n;
  }
  if (got != "ping") {
    std::fprintf(stderr, "consumer: received '%s', expected 'ping'\n", got.c_str());
    return 1;
  }
  std::printf("ok (sockit %s, %s)\n", sockit::kVersion, bound->to_string().c_str());
  return 0;
}
