// Runs a program to completion the way a user would from a shell: feeds it stdin, captures
// stdout and stderr separately, and returns the exit code. A watchdog kills it after
// `timeout` so a hung program fails the test instead of hanging it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace sockit::test {

struct CommandResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
  bool timed_out = false;
};

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Lines of `text`, without their newlines.
std::vector<std::string> lines_of(const std::string& text);

}  // namespace sockit::test
