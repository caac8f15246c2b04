// What the `sockit serve` tests share: the server as a running program (started on port 0,
// its "listening on" line parsed), the checks every test ends with (a client is still
// served, a signal stops it cleanly, the summary agrees with what was printed), and — by
// inclusion — the test clients (serve_clients.hpp) and /proc inspection (process_info.hpp).
//
// Failures to set a test up (no server) throw std::runtime_error, which GoogleTest reports
// as the test's failure; checks on what the user sees return AssertionResults for the
// tests to assert on. Every wait has an upper bound (kPatience).
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
#include "process_info.hpp"
#include "run_command.hpp"
#include "serve_clients.hpp"
#include "sockit/endpoint.hpp"

namespace sockit::test {

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

// The full path of `program` on PATH, or "" if it isn't there.
std::string find_program(const std::string& program);

// Runs `sockit ARGS…` to completion (run_command), retrying if the binary can't be
// executed for a moment because a concurrent build is relinking it.
CommandResult run_sockit(const std::vector<std::string>& args, const std::string& input = {},
                         Patience patience = kPatience);

}  // namespace sockit::test
