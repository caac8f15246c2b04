#include "sockit/unix.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "sys/sys.hpp"

namespace sockit {
namespace {

Result<void> require_unix(const Endpoint& e, const char* verb) {
  if (!e.is_unix()) return Error(ParseErrc::bad_family, std::string(verb) + " " + e.to_string());
  return {};
}

template <typename Socket>
Result<std::pair<Socket, Socket>> make_pair(int type, bool nonblocking) {
  int fds[2];
  int flags = SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  if (sys::socketpair(AF_UNIX, type | flags, 0, fds) < 0) return Error::from_errno("socketpair");
  return std::pair<Socket, Socket>{Socket::adopt(UniqueFd(fds[0])),
                                   Socket::adopt(UniqueFd(fds[1]))};
}

// A socket file at `path` left by a process that is gone: nothing accepts on it.
bool is_stale_socket(const Endpoint& at) {
  struct stat st;
  std::string path(at.unix_name());
  if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  auto probe = UnixStream::connect(at);
  return !probe && probe.error().is(std::errc::connection_refused);
}

}  // namespace

Result<UnixStream> UnixStream::connect(const Endpoint& to, ConnectOptions options) {
  if (auto r = require_unix(to, "connect"); !r) return std::move(r).error();
  auto fd = detail::open_socket(AF_UNIX, SOCK_STREAM, true, "socket");
  if (!fd) return std::move(fd).error();
  UnixStream stream(std::move(*fd));
  if (auto r = detail::connect_fd(stream.native_handle(), to, options.timeout, "connect"); !r) {
    return std::move(r).error();
  }
  if (!options.nonblocking) {
    if (auto r = stream.set_nonblocking(false); !r) return std::move(r).error();
  }
  return stream;
}

Result<std::pair<UnixStream, UnixStream>> UnixStream::pair(bool nonblocking) {
  return make_pair<UnixStream>(SOCK_STREAM, nonblocking);
}

Result<UnixListener> UnixListener::bind(const Endpoint& at, UnixListenOptions options) {
  if (auto r = require_unix(at, "listen"); !r) return std::move(r).error();
  auto fd = detail::open_socket(AF_UNIX, SOCK_STREAM, options.nonblocking, "socket");
  if (!fd) return std::move(fd).error();
  UnixListener listener(std::move(*fd));
  listener.nonblocking_ = options.nonblocking;
  if (options.replace_stale && !at.is_abstract() && is_stale_socket(at)) {
    ::unlink(std::string(at.unix_name()).c_str());
  }
  if (auto r = detail::bind_to(listener.native_handle(), at, "listen"); !r) {
    return std::move(r).error();
  }
  if (sys::listen(listener.native_handle(), options.backlog) < 0) {
    return Error::from_errno("listen " + at.to_string());
  }
  return listener;
}

Result<Accepted<UnixStream>> UnixListener::accept() {
  return accept(Timeout(-1));
}

Result<Accepted<UnixStream>> UnixListener::accept(Timeout timeout) {
  auto got = accept_fd(timeout);
  if (!got) return std::move(got).error();
  return Accepted<UnixStream>{UnixStream::adopt(std::move(got->stream)), got->peer};
}

Result<UnixDatagram> UnixDatagram::bind(const Endpoint& at, bool nonblocking) {
  if (auto r = require_unix(at, "bind"); !r) return std::move(r).error();
  auto fd = detail::open_socket(AF_UNIX, SOCK_DGRAM, nonblocking, "socket");
  if (!fd) return std::move(fd).error();
  if (auto r = detail::bind_to(fd->get(), at, "bind"); !r) return std::move(r).error();
  return UnixDatagram(std::move(*fd));
}

Result<UnixDatagram> UnixDatagram::open(bool nonblocking) {
  auto fd = detail::open_socket(AF_UNIX, SOCK_DGRAM, nonblocking, "socket");
  if (!fd) return std::move(fd).error();
  return UnixDatagram(std::move(*fd));
}

Result<std::pair<UnixDatagram, UnixDatagram>> UnixDatagram::pair(bool nonblocking) {
  int fds[2];
  int flags = SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  if (sys::socketpair(AF_UNIX, SOCK_DGRAM | flags, 0, fds) < 0) {
    return Error::from_errno("socketpair");
  }
  return std::pair<UnixDatagram, UnixDatagram>{UnixDatagram(UniqueFd(fds[0])),
                                               UnixDatagram(UniqueFd(fds[1]))};
}

}  // namespace sockit
