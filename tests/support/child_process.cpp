#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace sockit::test {
namespace {

using Clock = std::chrono::steady_clock;

void write_text(int fd, const char* text) {
  [[maybe_unused]] ssize_t n = ::write(fd, text, std::strlen(text));
}

}  // namespace

std::unique_ptr<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv,
                                                  SpawnOptions options) {
  // A test writing to a socket the server has reset must get EPIPE, not die.
  std::signal(SIGPIPE, SIG_IGN);

  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) < 0) return nullptr;
  if (::pipe2(err, O_CLOEXEC) < 0) {
    ::close(out[0]);
    ::close(out[1]);
    return nullptr;
  }
  int wake = ::eventfd(0, EFD_CLOEXEC);
  // Built before fork: the child may only make async-signal-safe calls.
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const pid_t pid = wake < 0 ? -1 : ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);  // dup2 clears close-on-exec on the copies
    ::dup2(err[1], STDERR_FILENO);
    ::signal(SIGPIPE, SIG_DFL);  // an ignored signal would stay ignored across exec
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (options.own_process_group) ::setpgid(0, 0);
    if (options.max_open_files) {
      rlimit limit{*options.max_open_files, *options.max_open_files};
      if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        write_text(STDERR_FILENO, "child_process: setrlimit(RLIMIT_NOFILE) failed\n");
        ::_exit(127);
      }
    }
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) {
      write_text(STDERR_FILENO, "child_process: chdir failed\n");
      ::_exit(127);
    }
    ::execv(args[0], args.data());
    write_text(STDERR_FILENO, "child_process: exec failed: ");
    write_text(STDERR_FILENO, std::strerror(errno));
    write_text(STDERR_FILENO, "\n");
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(out[0]);
    ::close(err[0]);
    if (wake >= 0) ::close(wake);
    return nullptr;
  }
  // Also set here, so that the group exists before anyone signals it (whichever of the
  // two runs first, the outcome is the same).
  if (options.own_process_group) ::setpgid(pid, pid);
  std::unique_ptr<ChildProcess> child(new ChildProcess(pid, out[0], err[0], wake));
  child->own_group_ = options.own_process_group;
  return child;
}

ChildProcess::ChildProcess(pid_t pid, int out, int err, int wake)
    : pid_(pid), out_fd_(out), err_fd_(err), wake_fd_(wake) {
  reader_ = std::thread([this] { read_loop(); });
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    ::kill(own_group_ ? -pid_ : pid_, SIGKILL);
    reap(0);
  }
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  reader_.join();
  ::close(out_fd_);
  ::close(err_fd_);
  ::close(wake_fd_);
}

void ChildProcess::read_loop() {
  bool out_open = true, err_open = true;
  char buffer[65536];
  while (out_open || err_open) {
    pollfd fds[3] = {{out_open ? out_fd_ : -1, POLLIN, 0},
                     {err_open ? err_fd_ : -1, POLLIN, 0},
                     {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got < 0 && errno == EINTR) continue;
      std::lock_guard lock(mutex_);
      Output& o = output(i == 0 ? Stream::Out : Stream::Err);
      if (got <= 0) {
        (i == 0 ? out_open : err_open) = false;
        if (!o.partial.empty()) o.lines.push_back(std::move(o.partial));
        o.partial.clear();
        o.ended = true;
      } else {
        o.all.append(buffer, static_cast<std::size_t>(got));
        o.partial.append(buffer, static_cast<std::size_t>(got));
        std::size_t start = 0;
        for (auto end = o.partial.find('\n'); end != std::string::npos;
             end = o.partial.find('\n', start)) {
          o.lines.push_back(o.partial.substr(start, end - start));
          start = end + 1;
        }
        o.partial.erase(0, start);
      }
      changed_.notify_all();
    }
    if (fds[2].revents != 0) break;  // the destructor: the program is gone
  }
  std::lock_guard lock(mutex_);
  out_.ended = err_.ended = true;
  changed_.notify_all();
}

std::optional<std::string> ChildProcess::wait_for_line(Stream stream, const LineMatch& match,
                                                       Patience patience) {
  const auto deadline = Clock::now() + patience;
  std::unique_lock lock(mutex_);
  const Output& o = output(stream);
  std::size_t next = 0;  // lines before this one were already looked at
  for (;;) {
    for (; next < o.lines.size(); ++next)
      if (match(o.lines[next])) return o.lines[next];
    if (o.ended) return std::nullopt;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; next < o.lines.size(); ++next)
        if (match(o.lines[next])) return o.lines[next];
      return std::nullopt;
    }
  }
}

std::optional<std::string> ChildProcess::wait_for_line(Stream stream, std::string_view exact,
                                                       Patience patience) {
  return wait_for_line(
      stream, [exact](std::string_view line) { return line == exact; }, patience);
}

std::size_t ChildProcess::wait_for_count(Stream stream, const LineMatch& match, std::size_t count,
                                         Patience patience) {
  const auto deadline = Clock::now() + patience;
  std::unique_lock lock(mutex_);
  const Output& o = output(stream);
  std::size_t next = 0, found = 0;
  for (;;) {
    for (; next < o.lines.size(); ++next)
      if (match(o.lines[next])) ++found;
    if (found >= count || o.ended) return found;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; next < o.lines.size(); ++next)
        if (match(o.lines[next])) ++found;
      return found;
    }
  }
}

std::vector<std::string> ChildProcess::lines(Stream stream) const {
  std::lock_guard lock(mutex_);
  return output(stream).lines;
}

std::string ChildProcess::text(Stream stream) const {
  std::lock_guard lock(mutex_);
  return output(stream).all;
}

bool ChildProcess::send_signal(int signo) const {
  return !reaped_ && ::kill(pid_, signo) == 0;
}

bool ChildProcess::send_signal_to_group(int signo) const {
  return own_group_ && !reaped_ && ::kill(-pid_, signo) == 0;
}

bool ChildProcess::reap(int flags) {
  if (reaped_) return true;
  int status = 0;
  pid_t got;
  do {
    got = ::waitpid(pid_, &status, flags);
  } while (got < 0 && errno == EINTR);
  if (got != pid_) return false;
  reaped_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

bool ChildProcess::running() {
  return !reap(WNOHANG);
}

std::optional<int> ChildProcess::wait(Patience patience) {
  const auto deadline = Clock::now() + patience;
  while (!reap(WNOHANG)) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // What it wrote before exiting is in the pipes; a child it left behind could hold them
  // open, so wait for their end only a little.
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, std::chrono::seconds(2), [this] { return out_.ended && err_.ended; });
  return exit_code_;
}

}  // namespace sockit::test
