// The course's concurrent server: a process per client. The parent only accepts, forks and
// reaps; each child serves one client with the same session loop as the threaded models
// and exits. Children are reaped as soon as they end (SIGCHLD through a signalfd), so none
// lingers as a zombie, and on stop the parent waits for them, then kills what is left.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include "serve/engine.hpp"
#include "sys/sys.hpp"

namespace sockit::serve {
namespace {

using Clock = std::chrono::steady_clock;

class Children {
 public:
  explicit Children(EngineContext& ctx) : ctx_(ctx) {}
  void add(pid_t pid) { pids_.insert(pid); }
  std::size_t size() const { return pids_.size(); }
  // Collects every child that has ended.
  void reap() {
    int status;
    for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;)
      remove(pid);
  }
  void remove(pid_t pid) {
    if (pids_.erase(pid) > 0) ctx_.counters.active.fetch_sub(1, std::memory_order_relaxed);
  }
  void kill_all(int signo) {
    for (pid_t pid : pids_)
      ::kill(pid, signo);
  }

 private:
  EngineContext& ctx_;
  std::set<pid_t> pids_;
};

void drain(int signal_fd) {
  signalfd_siginfo info[8];
  while (sys::read(signal_fd, info, sizeof info) > 0) {
  }
}

}  // namespace

Result<void> run_forking(EngineContext& ctx) {
  sigset_t chld, old_mask;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::pthread_sigmask(SIG_BLOCK, &chld, &old_mask);
  UniqueFd signal_fd(::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd) {
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    return Error::from_errno("signalfd(SIGCHLD)");
  }
  UniqueFd spare = open_spare_fd();
  Children children(ctx);

  for (;;) {
    pollfd fds[3] = {
        {ctx.listener, POLLIN, 0}, {ctx.stop_fd, POLLIN, 0}, {signal_fd.get(), POLLIN, 0}};
    if (sys::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[2].revents != 0) {
      drain(signal_fd.get());
      children.reap();
    }
    if (fds[1].revents != 0) break;
    if (fds[0].revents == 0) continue;

    auto accepted = accept_client(ctx, ctx.listener, spare);
    if (!accepted) {
      ctx.events.on_error(accepted.error());
      continue;
    }
    if (!accepted->fd) continue;
    if (children.size() >= ctx.max_conns) {
      reject_client(ctx, std::move(accepted->fd), accepted->peer, "too many connections");
      continue;
    }
    Client client = new_client(ctx, accepted->peer);
    std::fflush(nullptr);  // or the child would repeat whatever stdio still buffers
    pid_t pid = ::fork();
    if (pid == 0) {
      // Child: only the client and the stop descriptor matter now.
      ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
      signal_fd.reset();
      spare.reset();
      ::close(ctx.listener);
      serve_blocking(ctx, std::move(accepted->fd), client, nullptr);
      ::_exit(0);  // not exit(): the parent's atexit handlers and buffers are not ours
    }
    if (pid < 0) {
      ctx.events.on_error(Error::from_errno("fork"));
      reject_client(ctx, std::move(accepted->fd), client.peer, "cannot fork");
      continue;
    }
    children.add(pid);
    ctx.counters.active.fetch_add(1, std::memory_order_relaxed);
  }

  // Stopping: children saw the stop descriptor too and are finishing; give them the grace
  // period, then make sure none is left behind.
  const auto deadline = Clock::now() + ctx.options.grace;
  children.reap();
  while (children.size() > 0 && Clock::now() < deadline) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{signal_fd.get(), POLLIN, 0};
    sys::poll(&p, 1, static_cast<int>(std::max<long long>(left, 1)));
    drain(signal_fd.get());
    children.reap();
  }
  if (children.size() > 0) {
    children.kill_all(SIGKILL);
    while (children.size() > 0) {
      int status;
      pid_t pid = ::waitpid(-1, &status, 0);
      if (pid < 0) break;
      children.remove(pid);
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return {};
}

}  // namespace sockit::serve
