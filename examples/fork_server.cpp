// usage: fork_server PORT | ADDR:PORT
//
// A concurrent TCP server, one process per client: the course's servidorConcorrente.py.
// The parent accepts and forks; each child serves one client, printing its lines as
// simple_server does, and exits. No child is left a zombie, nor outlives its server.
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include "sockit/tcp.hpp"

namespace {

constexpr int kUsageError = 64;  // EX_USAGE from <sysexits.h>

int fail(const sockit::Error& error, int status = EXIT_FAILURE) {
  std::cerr << "fork_server: " << error.message() << '\n';
  return status;
}

// "5000" listens on every interface (0.0.0.0:5000) as the course did; "127.0.0.1:5000" on one.
sockit::Result<sockit::Endpoint> listen_endpoint(std::string text) {
  if (text.find(':') == std::string::npos) text = "0.0.0.0:" + text;
  return sockit::Endpoint::parse(text);
}

// Prints each line the client sends, tagged with its address, until it closes. std::endl
// flushes each line in one write, so lines from several children never mix.
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
    std::cerr << "usage: fork_server PORT | ADDR:PORT\n";
    return kUsageError;
  }
  auto at = listen_endpoint(argv[1]);
  if (!at) return fail(at.error(), kUsageError);
  auto listener = sockit::TcpListener::bind(*at);
  if (!listener) return fail(listener.error());
  auto local = listener->local();
  if (!local) return fail(local.error());
  std::cout << "listening on " << local->to_string() << std::endl;

  // POSIX: with SIGCHLD ignored the kernel reaps children as they exit (no zombies).
  std::signal(SIGCHLD, SIG_IGN);
  const pid_t server = getpid();

  for (;;) {
    auto client = listener->accept();
    if (!client) return fail(client.error());
    const pid_t pid = fork();
    if (pid < 0) return fail(sockit::Error::from_errno("fork"));
    if (pid == 0) {
      // Linux: SIGTERM this child when the server dies (and if it already has, stop now).
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != server) _exit(EXIT_FAILURE);
      listener->close();  // the listening socket is the parent's business
      serve(client->stream, client->peer.to_string());
      _exit(EXIT_SUCCESS);  // not exit(): the parent's cleanup is not this process's to run
    }
  }  // the parent's copy of the connection closes here; the child keeps its own
}
