// Helpers for the example tests: run an example binary as a user would (arguments, stdin
// through a pipe, stdout read line by line, stderr, exit status) and look at its children.
//
// Every wait has a deadline (kPatience by default) and reports running out of time as a
// value, never by blocking forever, so a broken example fails its test instead of hanging
// it. Nothing here asserts: the tests do.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace examples_test {

using Patience = std::chrono::milliseconds;
// The upper bound for anything a test waits for. Generous: a loaded CI machine is slow.
inline constexpr Patience kPatience = std::chrono::seconds(10);

class Process {
 public:
  // Starts `path` with `args` (argv[0] is `path`). stdin, stdout and stderr are pipes.
  // If pipe2 or fork fails the test program aborts; if exec fails the exit code is 127.
  static Process spawn(const std::string& path, const std::vector<std::string>& args);

  Process(Process&& other) noexcept;
  Process& operator=(Process&&) = delete;
  Process(const Process&) = delete;
  ~Process();  // a process still running is killed (SIGKILL) and reaped

  pid_t pid() const noexcept { return pid_; }

  // Writes all of `data` to the process's stdin (false if it has closed it).
  bool write_stdin(std::string_view data);
  void close_stdin();

  // Returns the first stdout line (from the start) for which `match` is true, reading
  // more output until one arrives; nullopt if none does within `patience` or stdout ends
  // first. Every line read on the way is kept in lines().
  std::optional<std::string> wait_for_line(const std::function<bool(const std::string&)>& match,
                                           Patience patience = kPatience);
  std::optional<std::string> wait_for_line(std::string_view exact, Patience patience = kPatience);

  // Waits for the process to end, collecting its output meanwhile. Returns the wait
  // status (use exit_code / killed_by), or nullopt if it is still running after `patience`.
  std::optional<int> wait(Patience patience = kPatience);

  bool send_signal(int signo) const;

  // stdout, split into lines ('\n' removed), as read so far; a last unterminated piece
  // is included once the process has ended.
  const std::vector<std::string>& lines() const noexcept { return lines_; }
  std::string out() const;  // the same, joined back with '\n' after each line
  const std::string& err() const noexcept { return err_; }

 private:
  Process(pid_t pid, int in, int out, int err) noexcept
      : pid_(pid), in_(in), out_(out), err_fd_(err) {}
  // Waits up to `patience` for output and reads what is there: the bytes read, or -1 once
  // stdout and stderr are both closed.
  int pump(Patience patience);
  void flush_partial();

  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  int err_fd_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string partial_;  // stdout read past the last '\n'
  std::vector<std::string> lines_;
  std::string err_;
};

// The result of running a program to its end.
struct Outcome {
  std::optional<int> status;  // nullopt: it did not end in time (it was then killed)
  std::string out;
  std::string err;
};

// Runs `path` with `args`, writes `input` to its stdin and closes it, waits for the end.
Outcome run(const std::string& path, const std::vector<std::string>& args,
            std::string_view input = {}, Patience patience = kPatience);

// The exit code of a process that exited (-1 if it was killed by a signal or is running).
int exit_code(const std::optional<int>& status);
// True if the process was ended by `signo`.
bool killed_by(const std::optional<int>& status, int signo);

// The processes whose parent is `parent`, with their state letter from /proc/PID/stat
// ('S' sleeping, 'R' running, 'Z' zombie…).
struct ProcessState {
  pid_t pid;
  char state;
};
std::vector<ProcessState> children_of(pid_t parent);

// How many threads `pid` has (entries in /proc/PID/task); 0 if there is no such process.
std::size_t thread_count(pid_t pid);

// True if `pid` has ended: reaped now (if it is our child), gone from /proc, or a zombie
// whose parent has not reaped it yet.
bool is_gone(pid_t pid);

// Waits until `fd` is readable (data, end of stream or an error to read); false on timeout.
bool wait_readable(int fd, Patience patience = kPatience);

// Polls `condition` every few milliseconds until it holds or `patience` runs out.
bool eventually(const std::function<bool()>& condition, Patience patience = kPatience);

}  // namespace examples_test
