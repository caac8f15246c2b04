#include "sys/sys.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace sockit::sys {
namespace {

std::atomic<FaultHook> g_hook{nullptr};
std::atomic<void*> g_hook_context{nullptr};

// Returns true (with errno set) when a test asked this call to fail.
inline bool injected(Call call) noexcept {
  FaultHook hook = g_hook.load(std::memory_order_relaxed);
  if (hook == nullptr) [[likely]]
    return false;
  int err = hook(call, g_hook_context.load(std::memory_order_relaxed));
  if (err == 0) return false;
  errno = err;
  return true;
}

// Runs `fn` until it fails with something other than EINTR.
template <typename Fn>
inline auto retry(Call call, Fn fn) noexcept -> decltype(fn()) {
  for (;;) {
    decltype(fn()) rc = injected(call) ? -1 : fn();
    if (rc >= 0 || errno != EINTR) return rc;
  }
}

}  // namespace

void set_fault_hook(FaultHook hook, void* context) noexcept {
  g_hook_context.store(context, std::memory_order_relaxed);
  g_hook.store(hook, std::memory_order_release);
}

int socket(int domain, int type, int protocol) noexcept {
  return retry(Call::socket, [&] { return ::socket(domain, type, protocol); });
}
int socketpair(int domain, int type, int protocol, int fds[2]) noexcept {
  return retry(Call::socketpair, [&] { return ::socketpair(domain, type, protocol, fds); });
}
int bind(int fd, const sockaddr* addr, socklen_t len) noexcept {
  return retry(Call::bind, [&] { return ::bind(fd, addr, len); });
}
int listen(int fd, int backlog) noexcept {
  return retry(Call::listen, [&] { return ::listen(fd, backlog); });
}
int accept(int fd, sockaddr* addr, socklen_t* len, int flags) noexcept {
  return retry(Call::accept, [&] { return ::accept4(fd, addr, len, flags); });
}
int connect(int fd, const sockaddr* addr, socklen_t len) noexcept {
  int rc;
  if (injected(Call::connect)) {
    if (errno != EINTR) return -1;
    // An injected EINTR stands for a signal arriving mid-handshake, after the kernel has
    // started the connection (which then carries on): start it for real, or the caller
    // would wait for a handshake that never began and take the idle socket as connected.
    rc = ::connect(fd, addr, len);
    if (rc == 0 || errno == EINPROGRESS) {
      rc = -1;
      errno = EINTR;
    }
  } else {
    rc = ::connect(fd, addr, len);
  }
  if (rc < 0 && errno == EINTR) errno = EINPROGRESS;
  return rc;
}
ssize_t send(int fd, const void* buf, size_t len, int flags) noexcept {
  return retry(Call::send, [&] { return ::send(fd, buf, len, flags | MSG_NOSIGNAL); });
}
ssize_t recv(int fd, void* buf, size_t len, int flags) noexcept {
  return retry(Call::recv, [&] { return ::recv(fd, buf, len, flags); });
}
ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* addr,
               socklen_t addr_len) noexcept {
  return retry(Call::sendto,
               [&] { return ::sendto(fd, buf, len, flags | MSG_NOSIGNAL, addr, addr_len); });
}
ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* addr,
                 socklen_t* addr_len) noexcept {
  return retry(Call::recvfrom, [&] { return ::recvfrom(fd, buf, len, flags, addr, addr_len); });
}
ssize_t sendmsg(int fd, const msghdr* msg, int flags) noexcept {
  return retry(Call::sendmsg, [&] { return ::sendmsg(fd, msg, flags | MSG_NOSIGNAL); });
}
ssize_t recvmsg(int fd, msghdr* msg, int flags) noexcept {
  return retry(Call::recvmsg, [&] { return ::recvmsg(fd, msg, flags); });
}
ssize_t writev(int fd, const iovec* iov, int count) noexcept {
  // writev has no MSG_NOSIGNAL; sendmsg with the same vector does the same job safely.
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = static_cast<size_t>(count);
  return retry(Call::writev, [&] { return ::sendmsg(fd, &msg, MSG_NOSIGNAL); });
}
ssize_t readv(int fd, const iovec* iov, int count) noexcept {
  return retry(Call::readv, [&] { return ::readv(fd, iov, count); });
}
int shutdown(int fd, int how) noexcept {
  return retry(Call::shutdown, [&] { return ::shutdown(fd, how); });
}
int setsockopt(int fd, int level, int name, const void* value, socklen_t len) noexcept {
  return retry(Call::setsockopt, [&] { return ::setsockopt(fd, level, name, value, len); });
}
int getsockopt(int fd, int level, int name, void* value, socklen_t* len) noexcept {
  return retry(Call::getsockopt, [&] { return ::getsockopt(fd, level, name, value, len); });
}
int getsockname(int fd, sockaddr* addr, socklen_t* len) noexcept {
  return ::getsockname(fd, addr, len);
}
int getpeername(int fd, sockaddr* addr, socklen_t* len) noexcept {
  return ::getpeername(fd, addr, len);
}
int poll(pollfd* fds, nfds_t count, int timeout_ms) noexcept {
  if (injected(Call::poll)) return -1;
  return ::poll(fds, count, timeout_ms);
}
int epoll_create() noexcept {
  return retry(Call::epoll_create, [&] { return ::epoll_create1(EPOLL_CLOEXEC); });
}
int epoll_ctl(int epfd, int op, int fd, epoll_event* event) noexcept {
  return retry(Call::epoll_ctl, [&] { return ::epoll_ctl(epfd, op, fd, event); });
}
int epoll_wait(int epfd, epoll_event* events, int max_events, const timespec* timeout) noexcept {
  // epoll_pwait2 takes a timespec, so timers are not rounded to milliseconds. Kernels older
  // than 5.11 lack it; fall back to epoll_wait with the timeout rounded up.
  static std::atomic<bool> have_pwait2{true};
  int rc;
  if (injected(Call::epoll_wait)) {
    rc = -1;
  } else if (have_pwait2.load(std::memory_order_relaxed)) {
    rc = ::epoll_pwait2(epfd, events, max_events, timeout, nullptr);
    if (rc < 0 && errno == ENOSYS) {
      have_pwait2.store(false, std::memory_order_relaxed);
      return epoll_wait(epfd, events, max_events, timeout);
    }
  } else {
    int ms = -1;
    if (timeout != nullptr) {
      long long ns = static_cast<long long>(timeout->tv_sec) * 1'000'000'000LL + timeout->tv_nsec;
      ms = static_cast<int>((ns + 999'999) / 1'000'000);
    }
    rc = ::epoll_wait(epfd, events, max_events, ms);
  }
  if (rc < 0 && errno == EINTR) return 0;
  return rc;
}
int close(int fd) noexcept {
  if (injected(Call::close)) return -1;
  return ::close(fd);
}
ssize_t read(int fd, void* buf, size_t len) noexcept {
  return retry(Call::read, [&] { return ::read(fd, buf, len); });
}
ssize_t write(int fd, const void* buf, size_t len) noexcept {
  return retry(Call::write, [&] { return ::write(fd, buf, len); });
}
int set_nonblocking(int fd, bool on) noexcept {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return -1;
  int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted == flags) return 0;
  return ::fcntl(fd, F_SETFL, wanted);
}

std::size_t raise_open_file_limit() noexcept {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit wanted = limit;
    wanted.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &wanted) == 0) limit = wanted;
  }
  return static_cast<std::size_t>(limit.rlim_cur);
}

std::vector<int> usable_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

int pin_this_thread(int cpu) noexcept {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return EINVAL;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return set_this_thread_cpus(set);
}

int this_thread_cpus(cpu_set_t& mask) noexcept {
  CPU_ZERO(&mask);
  return ::pthread_getaffinity_np(::pthread_self(), sizeof mask, &mask);
}

int set_this_thread_cpus(const cpu_set_t& mask) noexcept {
  return ::pthread_setaffinity_np(::pthread_self(), sizeof mask, &mask);
}

int drop_capabilities() noexcept {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  // The ambient set goes first (it can't exceed what is about to be emptied anyway).
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (::syscall(SYS_capset, &header, data) < 0) return errno;
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return errno;
  return 0;
}

int eventfd(unsigned initial, int flags) noexcept {
  return retry(Call::eventfd, [&] { return ::eventfd(initial, flags); });
}
int sendmmsg(int fd, mmsghdr* messages, unsigned count, int flags) noexcept {
  return retry(Call::sendmmsg, [&] { return ::sendmmsg(fd, messages, count, flags); });
}
int recvmmsg(int fd, mmsghdr* messages, unsigned count, int flags) noexcept {
  return retry(Call::recvmmsg, [&] { return ::recvmmsg(fd, messages, count, flags, nullptr); });
}

}  // namespace sockit::sys
