#include "process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

namespace examples_test {
namespace {

using Clock = std::chrono::steady_clock;

int to_poll_ms(Clock::duration left) {
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::clamp<long long>(ms, 0, 1000 * 1000));
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// The state letter and parent of `pid` from /proc/PID/stat; false if there is no such
// process. The command name is in parentheses and may itself hold ") ", hence rfind.
bool read_stat(pid_t pid, char& state, pid_t& parent) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!file || !std::getline(file, text)) return false;
  auto close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(text.substr(close + 1));
  long ppid = 0;
  if (!(rest >> state >> ppid)) return false;
  parent = static_cast<pid_t>(ppid);
  return true;
}

}  // namespace

Process Process::spawn(const std::string& path, const std::vector<std::string>& args) {
  // A test writing to the stdin of a program that has exited must get EPIPE, not die.
  std::signal(SIGPIPE, SIG_IGN);

  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) < 0 || ::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0) {
    std::perror("pipe2");
    std::abort();
  }
  // Built before fork: the child may only make async-signal-safe calls.
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& arg : args)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    std::abort();
  }
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);  // dup2 clears close-on-exec on the copies
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::signal(SIGPIPE, SIG_DFL);  // an ignored signal would stay ignored across exec
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(path.c_str(), argv.data());
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  return Process(pid, in[1], out[0], err[0]);
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      in_(std::exchange(other.in_, -1)),
      out_(std::exchange(other.out_, -1)),
      err_fd_(std::exchange(other.err_fd_, -1)),
      reaped_(std::exchange(other.reaped_, true)),
      status_(other.status_),
      partial_(std::move(other.partial_)),
      lines_(std::move(other.lines_)),
      err_(std::move(other.err_)) {}

Process::~Process() {
  close_fd(in_);
  close_fd(out_);
  close_fd(err_fd_);
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool Process::write_stdin(std::string_view data) {
  while (!data.empty() && in_ >= 0) {
    ssize_t n = ::write(in_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return data.empty();
}

void Process::close_stdin() {
  close_fd(in_);
}

int Process::pump(Patience patience) {
  pollfd fds[2];
  nfds_t n = 0;
  if (out_ >= 0) fds[n++] = {out_, POLLIN, 0};
  if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
  if (n == 0) return -1;
  if (::poll(fds, n, to_poll_ms(patience)) <= 0) return 0;  // nothing yet (or EINTR)

  int total = 0;
  char buffer[4096];
  for (nfds_t i = 0; i < n; ++i) {
    if (fds[i].revents == 0) continue;
    ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    const bool is_out = fds[i].fd == out_;
    if (got <= 0) {
      close_fd(is_out ? out_ : err_fd_);
      continue;
    }
    total += static_cast<int>(got);
    if (!is_out) {
      err_.append(buffer, static_cast<std::size_t>(got));
      continue;
    }
    partial_.append(buffer, static_cast<std::size_t>(got));
    for (auto end = partial_.find('\n'); end != std::string::npos; end = partial_.find('\n')) {
      lines_.push_back(partial_.substr(0, end));
      partial_.erase(0, end + 1);
    }
  }
  if (out_ < 0 && err_fd_ < 0 && total == 0) return -1;
  return total;
}

void Process::flush_partial() {
  if (!partial_.empty()) lines_.push_back(std::move(partial_));
  partial_.clear();
}

std::optional<std::string> Process::wait_for_line(
    const std::function<bool(const std::string&)>& match, Patience patience) {
  const auto deadline = Clock::now() + patience;
  for (;;) {
    auto found = std::find_if(lines_.begin(), lines_.end(), match);
    if (found != lines_.end()) return *found;
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) return std::nullopt;
    if (pump(std::chrono::duration_cast<Patience>(left)) < 0) {
      flush_partial();
      found = std::find_if(lines_.begin(), lines_.end(), match);
      if (found != lines_.end()) return *found;
      return std::nullopt;
    }
  }
}

std::optional<std::string> Process::wait_for_line(std::string_view exact, Patience patience) {
  return wait_for_line([exact](const std::string& line) { return line == exact; }, patience);
}

std::optional<int> Process::wait(Patience patience) {
  const auto deadline = Clock::now() + patience;
  for (;;) {
    int status = 0;
    if (!reaped_ && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      status_ = status;
    }
    if (reaped_) {
      // Take what is already written; children it left behind may hold the pipes open.
      while (pump(Patience(0)) > 0) {
      }
      flush_partial();
      return status_;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    if (pump(std::chrono::milliseconds(10)) < 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

bool Process::send_signal(int signo) const {
  return pid_ > 0 && !reaped_ && ::kill(pid_, signo) == 0;
}

std::string Process::out() const {
  std::string text;
  for (const std::string& line : lines_)
    text += line + '\n';
  return text;
}

Outcome run(const std::string& path, const std::vector<std::string>& args, std::string_view input,
            Patience patience) {
  Process process = Process::spawn(path, args);
  process.write_stdin(input);
  process.close_stdin();
  Outcome outcome;
  outcome.status = process.wait(patience);
  outcome.out = process.out();
  outcome.err = process.err();
  return outcome;  // if it did not end, ~Process kills it
}

int exit_code(const std::optional<int>& status) {
  return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

bool killed_by(const std::optional<int>& status, int signo) {
  return status && WIFSIGNALED(*status) && WTERMSIG(*status) == signo;
}

std::vector<ProcessState> children_of(pid_t parent) {
  std::vector<ProcessState> children;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return children;
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    char state = '?';
    pid_t ppid = 0;
    if (read_stat(static_cast<pid_t>(pid), state, ppid) && ppid == parent) {
      children.push_back({static_cast<pid_t>(pid), state});
    }
  }
  ::closedir(proc);
  return children;
}

std::size_t thread_count(pid_t pid) {
  std::size_t count = 0;
  DIR* tasks = ::opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (tasks == nullptr) return 0;
  while (const dirent* entry = ::readdir(tasks)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(tasks);
  return count;
}

bool is_gone(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) return true;  // ours, and now reaped
  char state = '?';
  pid_t parent = 0;
  if (!read_stat(pid, state, parent)) return true;  // no such process any more
  return state == 'Z' || state == 'X';              // dead, waiting for its parent
}

bool wait_readable(int fd, Patience patience) {
  const auto deadline = Clock::now() + patience;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int rc = ::poll(&p, 1, to_poll_ms(deadline - Clock::now()));
    if (rc > 0) return true;
    if (rc == 0 || errno != EINTR) return false;
  }
}

bool eventually(const std::function<bool()>& condition, Patience patience) {
  const auto deadline = Clock::now() + patience;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace examples_test
