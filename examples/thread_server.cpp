// usage: thread_server PORT | ADDR:PORT
//
// A concurrent TCP server, one thread per client: the course's servidorThreads.py. Each
// thread owns its client's socket (moved into it) and prints that client's lines; a mutex
// makes every printed line whole, so lines from different clients never mix mid-line.
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "sockit/tcp.hpp"

namespace {

constexpr int kUsageError = 64;  // EX_USAGE from <sysexits.h>
std::mutex print_mutex;

void say(const std::string& line) {
  std::lock_guard lock(print_mutex);
  std::cout << line << std::endl;
}

int fail(const sockit::Error& error, int status = EXIT_FAILURE) {
  std::lock_guard lock(print_mutex);
  std::cerr << "thread_server: " << error.message() << std::endl;
  return status;
}

// "5000" listens on every interface (0.0.0.0:5000) as the course did; "127.0.0.1:5000" on one.
sockit::Result<sockit::Endpoint> listen_endpoint(std::string text) {
  if (text.find(':') == std::string::npos) text = "0.0.0.0:" + text;
  return sockit::Endpoint::parse(text);
}

// Runs on the client's own thread until the client closes. TCP is a byte stream, so lines
// are cut here: one recv() may hold half a line or several.
void serve(sockit::TcpStream client, const std::string& who) {
  say("connected " + who);
  std::string pending;
  char buffer[1024];
  for (;;) {
    auto got = client.recv(buffer);
    if (!got) fail(got.error());
    if (!got || *got == 0) break;  // an error, or the client has closed its side
    pending.append(buffer, *got);
    for (auto end = pending.find('\n'); end != std::string::npos; end = pending.find('\n')) {
      say(who + ' ' + pending.substr(0, end));
      pending.erase(0, end + 1);
    }
  }
  if (!pending.empty()) say(who + ' ' + pending);
  say("closed " + who);
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 2) {
    std::cerr << "usage: thread_server PORT | ADDR:PORT\n";
    return kUsageError;
  }
  auto at = listen_endpoint(argv[1]);
  if (!at) return fail(at.error(), kUsageError);
  auto listener = sockit::TcpListener::bind(*at);
  if (!listener) return fail(listener.error());
  auto local = listener->local();
  if (!local) return fail(local.error());
  say("listening on " + local->to_string());

  for (;;) {
    auto client = listener->accept();
    if (!client) return fail(client.error());
    // Detached: the thread owns everything it uses, and the server never waits for it.
    std::thread(serve, std::move(client->stream), client->peer.to_string()).detach();
  }
}
