// ChildProcess: a long-running program under test (a server), started with stdin from
// /dev/null and stdout and stderr on pipes.
//
// A background thread reads both pipes for as long as the program runs, so the program
// never blocks on a full pipe however much it prints, and keeps the output as lines. Tests
// wait for lines with a deadline and get "not in time" back as a value, never a hang.
// The destructor kills (SIGKILL) and reaps a program still running.
//
// Threads: one test thread calls the methods; only the reader thread runs beside it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sockit::test {

using Patience = std::chrono::milliseconds;
// The upper bound for anything a test waits for: generous, a shared CI machine is slow.
inline constexpr Patience kPatience = std::chrono::seconds(10);

enum class Stream { Out, Err };

struct SpawnOptions {
  // RLIMIT_NOFILE (soft and hard) set in the child before exec.
  std::optional<std::uint64_t> max_open_files{};
  // Runs the program in a process group of its own, as a shell runs a job, so that
  // send_signal_to_group() reaches it and everything it forks, like Ctrl+C does.
  bool own_process_group = false;
  // The working directory it starts in; empty: the test's own.
  std::string cwd{};
};

class ChildProcess {
 public:
  using LineMatch = std::function<bool(std::string_view)>;

  // Starts argv[0] (a path) with `argv`; nullptr if pipe or fork fails. If exec fails the
  // program exits 127 after writing the reason on its stderr.
  static std::unique_ptr<ChildProcess> spawn(const std::vector<std::string>& argv,
                                             SpawnOptions options = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }

  // The first line of `stream` (from the start) that `match` accepts, waiting up to
  // `patience` for it; nullopt if none came in time or the stream ended first.
  std::optional<std::string> wait_for_line(Stream stream, const LineMatch& match,
                                           Patience patience = kPatience);
  std::optional<std::string> wait_for_line(Stream stream, std::string_view exact,
                                           Patience patience = kPatience);
  // Waits until `match` has accepted at least `count` lines of `stream`; returns how many
  // it has accepted by then.
  std::size_t wait_for_count(Stream stream, const LineMatch& match, std::size_t count,
                             Patience patience = kPatience);

  // The complete lines read so far (without '\n'); once the stream has ended, a last
  // unterminated piece is included.
  std::vector<std::string> lines(Stream stream) const;
  std::string text(Stream stream) const;  // everything read so far, as is

  bool send_signal(int signo) const;
  // To its whole process group (needs SpawnOptions::own_process_group).
  bool send_signal_to_group(int signo) const;
  bool running();  // false once it has ended (reaping it)

  // Waits for the program to end and its output to be read. Returns its exit code, or 128+N
  // if signal N killed it; nullopt if it still runs after `patience`.
  std::optional<int> wait(Patience patience = kPatience);

 private:
  struct Output {
    std::string all;
    std::string partial;
    std::vector<std::string> lines;
    bool ended = false;
  };

  ChildProcess(pid_t pid, int out, int err, int wake);
  void read_loop();
  Output& output(Stream s) { return s == Stream::Out ? out_ : err_; }
  const Output& output(Stream s) const { return s == Stream::Out ? out_ : err_; }
  bool reap(int flags);

  pid_t pid_;
  bool own_group_ = false;
  int out_fd_;
  int err_fd_;
  int wake_fd_;  // eventfd: tells the reader thread to finish
  bool reaped_ = false;
  int exit_code_ = -1;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  Output out_;
  Output err_;
  std::thread reader_;
};

}  // namespace sockit::test
