#include "serve_harness.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <thread>

namespace sockit::test {

const char* sockit_binary() {
  return SOCKIT_BIN;
}

std::unique_ptr<ServeProcess> ServeProcess::start(const std::vector<std::string>& args,
                                                  SpawnOptions options) {
  std::vector<std::string> argv{sockit_binary(), "serve"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::unique_ptr<ServeProcess> server(new ServeProcess);
  for (std::size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "-H" || args[i] == "--handler") server->handler_ = args[i + 1];

  const std::string prefix = "sockit: listening on ";
  std::optional<std::string> line;
  for (int attempt = 0; attempt < 10; ++attempt) {
    server->process_ = ChildProcess::spawn(argv, options);
    if (!server->process_) throw std::runtime_error("cannot start sockit serve");
    line = server->process_->wait_for_line(
        Stream::Err, [&](std::string_view l) { return l.starts_with(prefix); });
    // A concurrent build relinking the binary makes exec fail for a moment: try again.
    if (line || !server->process_->text(Stream::Err).starts_with("child_process: exec")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  if (!line) {
    throw std::runtime_error("no 'listening on' line; stderr: " +
                             server->process_->text(Stream::Err));
  }
  server->listening_ = *line;
  auto end = line->find(" (", prefix.size());
  server->at_ = must(Endpoint::parse(line->substr(prefix.size(), end - prefix.size())),
                     "listening line '" + *line + "'");
  if (server->at_.is_ip() && (!server->at_.is_loopback() || server->at_.port() == 0)) {
    throw std::runtime_error("unexpected listening address: " + *line);
  }
  return server;
}

bool ServeProcess::saw(std::string_view line, Patience patience) {
  return process_->wait_for_line(Stream::Out, line, patience).has_value();
}

::testing::AssertionResult ServeProcess::serves_a_client() {
  const std::string probe = "probe-" + std::to_string(++probes_);
  std::optional<StreamSocket> client;
  std::string label;
  if (at_.is_unix()) {
    client.emplace(connect_unix(at_));
  } else {
    auto tcp = connect_tcp(at_);
    label = tag_of(tcp);
    client.emplace(std::move(tcp));
  }
  if (!send_text(*client, probe + "\n")) return ::testing::AssertionFailure() << "send failed";
  probe_bytes_ += probe.size() + 1;
  if (handler_ == "echo") {
    std::string back = read_bytes(*client, probe.size() + 1);
    if (back != probe + "\n") {
      return ::testing::AssertionFailure()
             << "echo of '" << probe << "' came back as '" << back << "'";
    }
    return ::testing::AssertionSuccess();
  }
  auto printed = process_->wait_for_line(Stream::Out, [&](std::string_view l) {
    return l.ends_with(" " + probe) && (label.empty() || l == label + " " + probe);
  });
  if (!printed) {
    return ::testing::AssertionFailure()
           << "'" << probe << "' was not printed; stderr: " << process_->text(Stream::Err);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ServeProcess::stops_cleanly(int signo, Patience patience) {
  if (!process_->send_signal(signo)) {
    return ::testing::AssertionFailure()
           << "the server is no longer running; stderr: " << process_->text(Stream::Err);
  }
  auto code = process_->wait(patience);
  if (!code) return ::testing::AssertionFailure() << "still running after the signal";
  auto err = process_->lines(Stream::Err);
  if (*code != 0) {
    return ::testing::AssertionFailure()
           << "exit code " << *code << "; stderr: " << process_->text(Stream::Err);
  }
  if (err.empty() || !err.back().starts_with("sockit: served ")) {
    return ::testing::AssertionFailure()
           << "no summary line last; stderr: " << process_->text(Stream::Err);
  }
  return ::testing::AssertionSuccess();
}

std::optional<ServeProcess::Summary> ServeProcess::summary() const {
  auto err = process_->lines(Stream::Err);
  if (err.empty()) return std::nullopt;
  const std::string& line = err.back();
  Summary s;
  char noun[32] = {};
  int n = std::sscanf(line.c_str(), "sockit: served %llu %31[a-z], %llu bytes in, %llu bytes out",
                      &s.connections, noun, &s.bytes_in, &s.bytes_out);
  if (n != 4) return std::nullopt;
  if (auto at = line.find(" bytes out, "); at != std::string::npos) {
    if (std::sscanf(line.c_str() + at, " bytes out, %llu rejected", &s.rejected) != 1) {
      return std::nullopt;
    }
  }
  return s;
}

::testing::AssertionResult ServeProcess::summary_matches_output() const {
  auto totals = summary();
  if (!totals) {
    return ::testing::AssertionFailure()
           << "no summary line; stderr: " << process_->text(Stream::Err);
  }
  Summary printed;
  for (const std::string& line : process_->lines(Stream::Out)) {
    if (line.starts_with("connected ")) ++printed.connections;
    if (line.starts_with("rejected ")) ++printed.rejected;
    if (line.starts_with("closed ") && line.ends_with(" bytes)")) {
      auto open = line.rfind(" (");
      printed.bytes_in += std::stoull(line.substr(open + 2));
    }
  }
  if (totals->connections != printed.connections || totals->bytes_in != printed.bytes_in ||
      totals->rejected != printed.rejected) {
    return ::testing::AssertionFailure()
           << "summary '" << process_->lines(Stream::Err).back() << "' but stdout shows "
           << printed.connections << " connected, " << printed.bytes_in
           << " bytes in closed lines, " << printed.rejected << " rejected";
  }
  return ::testing::AssertionSuccess();
}

std::string find_program(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = dir + "/" + program;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

CommandResult run_sockit(const std::vector<std::string>& args, const std::string& input,
                         Patience patience) {
  std::vector<std::string> argv{sockit_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r;
  for (int attempt = 0; attempt < 10; ++attempt) {
    r = run_command(argv, input, patience);
    if (r.exit_code != 127 || !r.err.empty()) break;  // 127 and silence: exec failed
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  return r;
}

}  // namespace sockit::test
