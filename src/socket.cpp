#include "sockit/socket.hpp"

#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <string>

#include "sys/sys.hpp"

namespace sockit {
namespace {

// Every send/recv error carries one of these short, static contexts: building an Error
// must not allocate on the I/O path (std::string keeps up to 15 chars inline).
constexpr const char* kSend = "send";
constexpr const char* kRecv = "recv";

Result<std::size_t> io_result(ssize_t n, const char* what) {
  if (n < 0) return Error::from_errno(what);
  return static_cast<std::size_t>(n);
}

Result<Endpoint> sockname(int fd, bool peer, const char* what) {
  sockaddr_storage storage;
  socklen_t len = sizeof storage;
  auto* addr = reinterpret_cast<sockaddr*>(&storage);
  int rc = peer ? sys::getpeername(fd, addr, &len) : sys::getsockname(fd, addr, &len);
  if (rc < 0) return Error::from_errno(what);
  return Endpoint::from_sockaddr(addr, len);
}

// Waits for `events` on `fd` for up to `timeout` (negative: forever). EINTR restarts the
// wait with what is left of the time, so a signal never shortens a deadline.
Result<void> wait_for(int fd, short events, Timeout timeout, const std::string& what) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int ms = -1;
    if (timeout.count() >= 0) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      ms = static_cast<int>(std::max<long long>(0, left.count()));
    }
    pollfd p{fd, events, 0};
    int rc = sys::poll(&p, 1, ms);
    if (rc > 0) return {};
    if (rc == 0) return Error::from_errno(ETIMEDOUT, what);
    if (errno != EINTR) return Error::from_errno(what);
  }
}

}  // namespace

// --- Socket ---------------------------------------------------------------------------

Result<Endpoint> Socket::local() const {
  return sockname(fd_.get(), false, "getsockname");
}

Result<void> Socket::set_nonblocking(bool on) {
  if (sys::set_nonblocking(fd_.get(), on) < 0) return Error::from_errno("fcntl(O_NONBLOCK)");
  return {};
}

Result<void> Socket::set_int_option(int level, int name, int value, const char* what) {
  if (sys::setsockopt(fd_.get(), level, name, &value, sizeof value) < 0) {
    return Error::from_errno(what);
  }
  return {};
}

Result<int> Socket::int_option(int level, int name, const char* what) const {
  int value = 0;
  socklen_t len = sizeof value;
  if (sys::getsockopt(fd_.get(), level, name, &value, &len) < 0) return Error::from_errno(what);
  return value;
}

Result<void> Socket::set_send_buffer_size(int bytes) {
  return set_int_option(SOL_SOCKET, SO_SNDBUF, bytes, "setsockopt(SO_SNDBUF)");
}
Result<void> Socket::set_recv_buffer_size(int bytes) {
  return set_int_option(SOL_SOCKET, SO_RCVBUF, bytes, "setsockopt(SO_RCVBUF)");
}
Result<int> Socket::send_buffer_size() const {
  return int_option(SOL_SOCKET, SO_SNDBUF, "getsockopt(SO_SNDBUF)");
}
Result<int> Socket::recv_buffer_size() const {
  return int_option(SOL_SOCKET, SO_RCVBUF, "getsockopt(SO_RCVBUF)");
}
Result<int> Socket::take_error() {
  return int_option(SOL_SOCKET, SO_ERROR, "getsockopt(SO_ERROR)");
}

Result<void> Socket::set_linger(std::optional<std::chrono::seconds> linger) {
  ::linger value{};
  value.l_onoff = linger.has_value() ? 1 : 0;
  value.l_linger = linger ? static_cast<int>(linger->count()) : 0;
  if (sys::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &value, sizeof value) < 0) {
    return Error::from_errno("setsockopt(SO_LINGER)");
  }
  return {};
}

// --- StreamSocket ---------------------------------------------------------------------

Result<std::size_t> StreamSocket::send(ConstBuffer data) {
  return io_result(sys::send(fd_.get(), data.data(), data.size(), 0), kSend);
}

Result<std::size_t> StreamSocket::send(std::span<const ConstBuffer> buffers) {
  iovec iov[64];
  int n = static_cast<int>(std::min<std::size_t>(buffers.size(), 64));
  for (int i = 0; i < n; ++i) {
    iov[i] = {const_cast<void*>(buffers[i].data()), buffers[i].size()};
  }
  return io_result(sys::writev(fd_.get(), iov, n), kSend);
}

Result<void> StreamSocket::send_all(ConstBuffer data) {
  const char* p = static_cast<const char*>(data.data());
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = sys::send(fd_.get(), p, left, 0);
    if (n < 0) return Error::from_errno(kSend);
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return {};
}

Result<std::size_t> StreamSocket::recv(MutableBuffer data) {
  return io_result(sys::recv(fd_.get(), data.data(), data.size(), 0), kRecv);
}

Result<std::size_t> StreamSocket::recv(std::span<const MutableBuffer> buffers) {
  iovec iov[64];
  int n = static_cast<int>(std::min<std::size_t>(buffers.size(), 64));
  for (int i = 0; i < n; ++i)
    iov[i] = {buffers[i].data(), buffers[i].size()};
  return io_result(sys::readv(fd_.get(), iov, n), kRecv);
}

Result<void> StreamSocket::shutdown(Shutdown how) {
  if (sys::shutdown(fd_.get(), static_cast<int>(how)) < 0) return Error::from_errno("shutdown");
  return {};
}

Result<Endpoint> StreamSocket::peer() const {
  return sockname(fd_.get(), true, "getpeername");
}

// --- DatagramSocket -------------------------------------------------------------------

Result<std::size_t> DatagramSocket::send_to(ConstBuffer data, const Endpoint& to) {
  ssize_t n = sys::sendto(fd_.get(), data.data(), data.size(), 0, to.data(), to.size());
  if (n < 0) return Error::from_errno("sendto " + to.to_string());
  return static_cast<std::size_t>(n);
}

Result<Datagram> DatagramSocket::recv_from(MutableBuffer data) {
  sockaddr_storage storage;
  socklen_t len = sizeof storage;
  // MSG_TRUNC makes recvfrom return the datagram's real length, so truncation is visible.
  ssize_t n = sys::recvfrom(fd_.get(), data.data(), data.size(), MSG_TRUNC,
                            reinterpret_cast<sockaddr*>(&storage), &len);
  if (n < 0) return Error::from_errno(kRecv);
  // An unbound Unix sender has no name at all (len 0): report it as an unnamed Unix
  // endpoint, as accept() does, rather than as 0.0.0.0:0.
  if (len < sizeof(sa_family_t)) {
    storage.ss_family = AF_UNIX;
    len = sizeof(sa_family_t);
  }
  auto from = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), len);
  Endpoint sender = from ? *from : Endpoint();
  auto size = static_cast<std::size_t>(n);
  return Datagram{std::min(size, data.size()), sender, size > data.size()};
}

Result<void> DatagramSocket::connect(const Endpoint& peer) {
  if (sys::connect(fd_.get(), peer.data(), peer.size()) < 0) {
    return Error::from_errno("connect " + peer.to_string());
  }
  return {};
}

Result<std::size_t> DatagramSocket::send(ConstBuffer data) {
  return io_result(sys::send(fd_.get(), data.data(), data.size(), 0), kSend);
}

Result<std::size_t> DatagramSocket::recv(MutableBuffer data) {
  return io_result(sys::recv(fd_.get(), data.data(), data.size(), 0), kRecv);
}

Result<Endpoint> DatagramSocket::peer() const {
  return sockname(fd_.get(), true, "getpeername");
}

// --- ListenerSocket -------------------------------------------------------------------

Result<Accepted<UniqueFd>> ListenerSocket::accept_fd(Timeout timeout) {
  if (timeout.count() >= 0) {
    auto ready = wait_for(fd_.get(), POLLIN, timeout, "accept");
    if (!ready) return std::move(ready).error();
  }
  sockaddr_storage storage;
  socklen_t len = sizeof storage;
  int flags = SOCK_CLOEXEC | (nonblocking_ ? SOCK_NONBLOCK : 0);
  int fd = sys::accept(fd_.get(), reinterpret_cast<sockaddr*>(&storage), &len, flags);
  if (fd < 0) return Error::from_errno("accept");
  UniqueFd owned(fd);
  auto peer = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), len);
  return Accepted<UniqueFd>{std::move(owned), peer ? *peer : Endpoint()};
}

// --- detail ---------------------------------------------------------------------------

namespace detail {

Result<UniqueFd> open_socket(int domain, int type, bool nonblocking, const char* what) {
  int fd = sys::socket(domain, type | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return Error::from_errno(what);
  return UniqueFd(fd);
}

Result<void> bind_to(int fd, const Endpoint& at, const char* verb) {
  if (sys::bind(fd, at.data(), at.size()) < 0) {
    return Error::from_errno(std::string(verb) + " " + at.to_string());
  }
  return {};
}

Result<void> connect_fd(int fd, const Endpoint& to, Timeout timeout, std::string_view what) {
  // Always connect non-blocking and wait with poll: that gives the timeout, and a signal
  // arriving mid-handshake can't leave the socket in an unknown state.
  auto context = [&] { return std::string(what) + " " + to.to_string(); };
  if (sys::set_nonblocking(fd, true) < 0) return Error::from_errno(context());
  if (sys::connect(fd, to.data(), to.size()) == 0) return {};
  if (errno != EINPROGRESS && errno != EAGAIN) return Error::from_errno(context());
  if (auto ready = wait_for(fd, POLLOUT, timeout, context()); !ready) {
    return std::move(ready).error();
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (sys::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
    return Error::from_errno(context());
  }
  if (err != 0) return Error::from_errno(err, context());
  return {};
}

}  // namespace detail
}  // namespace sockit
