// The system-call seam: the only place in sockit that calls the kernel's socket, epoll and
// descriptor calls.
//
// Every wrapper has the raw call's signature and return convention (-1 and errno on
// failure), and adds three things:
//  - EINTR is retried inside, except for close() (never retried: see unique_fd.hpp);
//  - descriptors are born close-on-exec (callers pass SOCK_CLOEXEC etc.; wrappers assert
//    nothing, they only add what the raw call can't);
//  - a fault hook: tests install one to make a chosen call fail with a chosen errno
//    (EINTR, EAGAIN, EMFILE, ECONNREFUSED…) without a kernel that misbehaves. With no hook
//    installed the cost is one relaxed atomic load and a predictable branch.
#pragma once

#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <vector>

namespace sockit::sys {

enum class Call {
  socket,
  socketpair,
  bind,
  listen,
  accept,
  connect,
  send,
  recv,
  sendto,
  recvfrom,
  sendmsg,
  recvmsg,
  writev,
  readv,
  shutdown,
  setsockopt,
  getsockopt,
  poll,
  epoll_create,
  epoll_ctl,
  epoll_wait,
  close,
  read,
  write,
  eventfd,
  sendmmsg,
  recvmmsg,
  count_
};

// Returns 0 to let the call through, or an errno value to fail it with.
using FaultHook = int (*)(Call call, void* context);
void set_fault_hook(FaultHook hook, void* context) noexcept;

int socket(int domain, int type, int protocol) noexcept;
int socketpair(int domain, int type, int protocol, int fds[2]) noexcept;
int bind(int fd, const sockaddr* addr, socklen_t len) noexcept;
int listen(int fd, int backlog) noexcept;
// accept4 with the flags given (callers pass SOCK_CLOEXEC, and SOCK_NONBLOCK for loops).
int accept(int fd, sockaddr* addr, socklen_t* len, int flags) noexcept;
// connect: an EINTR here means the handshake goes on in the background, so it is not
// retried (a retry would fail with EALREADY); it is reported as EINPROGRESS instead.
int connect(int fd, const sockaddr* addr, socklen_t len) noexcept;
ssize_t send(int fd, const void* buf, size_t len, int flags) noexcept;
ssize_t recv(int fd, void* buf, size_t len, int flags) noexcept;
ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* addr,
               socklen_t addr_len) noexcept;
ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* addr,
                 socklen_t* addr_len) noexcept;
ssize_t sendmsg(int fd, const msghdr* msg, int flags) noexcept;
ssize_t recvmsg(int fd, msghdr* msg, int flags) noexcept;
ssize_t writev(int fd, const iovec* iov, int count) noexcept;
ssize_t readv(int fd, const iovec* iov, int count) noexcept;
int shutdown(int fd, int how) noexcept;
int setsockopt(int fd, int level, int name, const void* value, socklen_t len) noexcept;
int getsockopt(int fd, int level, int name, void* value, socklen_t* len) noexcept;
int getsockname(int fd, sockaddr* addr, socklen_t* len) noexcept;
int getpeername(int fd, sockaddr* addr, socklen_t* len) noexcept;
// poll: EINTR is returned, not retried, because the caller owns the deadline.
int poll(pollfd* fds, nfds_t count, int timeout_ms) noexcept;
int epoll_create() noexcept;
int epoll_ctl(int epfd, int op, int fd, epoll_event* event) noexcept;
// epoll_pwait2 (nanosecond timeout; nullptr waits forever). EINTR is returned as 0 events.
int epoll_wait(int epfd, epoll_event* events, int max_events, const timespec* timeout) noexcept;
int close(int fd) noexcept;
ssize_t read(int fd, void* buf, size_t len) noexcept;
ssize_t write(int fd, const void* buf, size_t len) noexcept;
int set_nonblocking(int fd, bool on) noexcept;
// eventfd with the flags given (callers pass EFD_CLOEXEC | EFD_NONBLOCK).
int eventfd(unsigned initial, int flags) noexcept;
// sendmmsg/recvmmsg: EINTR retried (before anything was transferred, as the kernel reports).
int sendmmsg(int fd, mmsghdr* messages, unsigned count, int flags) noexcept;
int recvmmsg(int fd, mmsghdr* messages, unsigned count, int flags) noexcept;

// Raises the soft RLIMIT_NOFILE to the hard limit (servers and scanners need many
// descriptors) and returns the soft limit now in force.
std::size_t raise_open_file_limit() noexcept;

// Gives up every capability of the calling thread (effective, permitted, inheritable) and
// sets no_new_privs, so nothing it runs later can regain them. Threads started afterwards
// inherit the empty sets. 0, or an errno value.
int drop_capabilities() noexcept;

// The CPUs this process may run on (sched_getaffinity), in ascending order; never empty
// (falls back to CPU 0 if the kernel won't say).
std::vector<int> usable_cpus();
// Pins the calling thread to `cpu`. Returns 0, or the errno of pthread_setaffinity_np.
int pin_this_thread(int cpu) noexcept;
// The calling thread's CPU mask, and setting it back (to undo pin_this_thread). 0 or errno.
int this_thread_cpus(cpu_set_t& mask) noexcept;
int set_this_thread_cpus(const cpu_set_t& mask) noexcept;

}  // namespace sockit::sys
