// What the `sockit serve` tests share: the server as a running program (started on port 0,
// its "listening on" line parsed), clients that read lines and bytes with deadlines, an
// echo driver for many connections at once, and what /proc says about the server.
//
// Failures to set a test up (no server, no connection) throw std::runtime_error, which
// GoogleTest reports as the test's failure; checks on what the user sees return values or
// AssertionResults for the tests to assert on. Every wait has an upper bound (kPatience).
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <csignal>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "child_process.hpp"
#include "run_command.hpp"
#include "sockit/endpoint.hpp"
#include "sockit/tcp.hpp"
#include "sockit/unix.hpp"

namespace sockit::test {

// The value of `result`, or an exception naming `what`.
template <typename T>
T must(Result<T> result, std::string_view what) {
  if (!result) throw std::runtime_error(std::string(what) + ": " + result.error().message());
  return std::move(*result);
}
inline void must(Result<void> result, std::string_view what) {
  if (!result) throw std::runtime_error(std::string(what) + ": " + result.error().message());
}

// `sockit serve ARGS...` running in the background.
class ServeProcess {
 public:
  // Starts it and waits for "sockit: listening on ENDPOINT (…)" on stderr.
  static std::unique_ptr<ServeProcess> start(const std::vector<std::string>& args,
                                             SpawnOptions options = {});

  ChildProcess& process() { return *process_; }
  pid_t pid() const { return process_->pid(); }
  const Endpoint& at() const { return at_; }
  const std::string& listening_line() const { return listening_; }

  // Waits for an exact stdout line.
  bool saw(std::string_view line, Patience patience = kPatience);
  std::vector<std::string> out_lines() const { return process_->lines(Stream::Out); }

  // A well-behaved client is served: with echo its bytes come back; otherwise the line
  // it sends is printed (labelled with its address, or unix#ID for a Unix client).
  ::testing::AssertionResult serves_a_client();
  // How many clients serves_a_client() has connected, and the bytes they sent.
  std::size_t probes() const { return probes_; }
  std::uint64_t probe_bytes() const { return probe_bytes_; }

  // Sends `signo` and expects what a user sees on a graceful stop: exit code 0 and
  // "sockit: served …" as the last stderr line.
  ::testing::AssertionResult stops_cleanly(int signo = SIGTERM, Patience patience = kPatience);

  // After a stop, for servers that print connections (print, chat, or -v): the summary's
  // counts agree with stdout — connections with the "connected" lines, bytes in with the
  // sum of the "closed (N bytes)" lines, rejections with the "rejected" lines. Other
  // programs on a shared machine may connect too (port scans); this holds regardless.
  ::testing::AssertionResult summary_matches_output() const;

  // The numbers of the last stderr line, "sockit: served N connections, X bytes in,
  // Y bytes out[, R rejected]"; nullopt if it is not that line.
  struct Summary {
    unsigned long long connections = 0, bytes_in = 0, bytes_out = 0, rejected = 0;
  };
  std::optional<Summary> summary() const;

 private:
  std::unique_ptr<ChildProcess> process_;
  Endpoint at_;
  std::string listening_;
  std::string handler_ = "print";
  std::size_t probes_ = 0;
  std::uint64_t probe_bytes_ = 0;
};

// The path of the sockit binary (from the build).
const char* sockit_binary();

// Connects (blocking, with kPatience as the connect timeout) or throws.
TcpStream connect_tcp(const Endpoint& to);
UnixStream connect_unix(const Endpoint& to);
// The client's own address, as the server labels it ("127.0.0.1:53422").
std::string tag_of(const TcpStream& client);

// Sends everything on a blocking socket; false on error.
bool send_text(StreamSocket& socket, std::string_view data);

// Lines from a stream socket, each with a deadline.
class LineReader {
 public:
  explicit LineReader(StreamSocket& socket) : socket_(socket) {}
  // The next line without its "\n"; nullopt on timeout, EOF or error.
  std::optional<std::string> next(Patience patience = kPatience);
  // True if nothing at all arrives within `patience` (buffered text included).
  bool quiet_for(Patience patience);

 private:
  StreamSocket& socket_;
  std::string buffer_;
};

// Exactly `n` bytes, or what arrived before a timeout, EOF or error.
std::string read_bytes(StreamSocket& socket, std::size_t n, Patience patience = kPatience);
// True if the peer closes the connection (EOF or reset) within `patience`; bytes that
// arrive first are skipped.
bool closed_by_peer(StreamSocket& socket, Patience patience = kPatience);
// Closes with SO_LINGER 0, so the peer gets a reset instead of an orderly close.
void reset_connection(Socket& socket);

// `n` pseudo-random bytes (every value 0-255), the same for the same seed.
std::string random_bytes(std::size_t n, std::uint32_t seed);

// How an echo client ends: closing once everything came back, or shutting down its
// sending side once everything is sent and expecting the server to close after echoing.
enum class EchoEnd { Close, HalfClose };

// Sends payloads[i] on fds[i] and reads it back, all connections at once (one poll loop).
// Returns "" if every echo came back identical (and, with HalfClose, the server then
// closed), otherwise what went wrong first.
std::string echo_all(std::vector<UniqueFd> fds, const std::vector<std::string>& payloads,
                     Patience patience, EchoEnd end = EchoEnd::Close);

// From /proc: open descriptors, resident memory (KiB; -1 if unknown), threads, child
// processes.
std::size_t open_fd_count(pid_t pid);
long resident_kib(pid_t pid);
std::size_t thread_count(pid_t pid);
std::vector<pid_t> children_of(pid_t parent);

// What a server holds while it serves nobody: compared before and after a test's clients
// to show that it let go of everything they cost.
struct Holdings {
  std::size_t fds = 0;
  std::size_t threads = 0;
  std::size_t children = 0;
  friend bool operator==(const Holdings&, const Holdings&) = default;
};
Holdings holdings_of(pid_t pid);
std::ostream& operator<<(std::ostream& out, const Holdings& h);
// Samples holdings_of(pid) until it stays the same for a few samples in a row (connections
// that just closed are let go of a moment later), and returns it.
Holdings settled_holdings(pid_t pid);

// Polls `condition` every few milliseconds until it holds or `patience` runs out.
bool eventually(const std::function<bool()>& condition, Patience patience = kPatience);

// The full path of `program` on PATH, or "" if it isn't there.
std::string find_program(const std::string& program);

// Runs `sockit ARGS…` to completion (run_command), retrying if the binary can't be
// executed for a moment because a concurrent build is relinking it.
CommandResult run_sockit(const std::vector<std::string>& args, const std::string& input = {},
                         Patience patience = kPatience);

}  // namespace sockit::test
