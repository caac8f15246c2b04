// The socket families' common ground: Socket (owns the descriptor, options every socket has),
// StreamSocket (a connected byte stream: TCP or Unix), DatagramSocket (UDP or Unix
// datagrams) and Listener (accepts streams).
//
// All are move-only and own exactly one descriptor, born close-on-exec. Sends never raise
// SIGPIPE (MSG_NOSIGNAL); EINTR is retried inside. A socket is used by one thread at a time.
// recv() returning 0 means the peer closed its side (EOF is a state, not an error). On a
// non-blocking socket "would block" comes back as an Error whose is(would_block) is true.
// Errors from send/recv carry a short static context ("send", "recv") so that the hot path
// never allocates; connect/bind/accept name the endpoint.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>

#include "sockit/buffer.hpp"
#include "sockit/endpoint.hpp"
#include "sockit/result.hpp"
#include "sockit/unique_fd.hpp"

namespace sockit {

inline constexpr std::errc would_block = std::errc::resource_unavailable_try_again;

enum class Shutdown { Read = SHUT_RD, Write = SHUT_WR, Both = SHUT_RDWR };

using Timeout = std::chrono::milliseconds;

struct ConnectOptions {
  Timeout timeout{-1};       // per address tried; negative waits as long as the kernel does
  bool nonblocking = false;  // the stream returned is non-blocking
  bool nodelay = false;      // TCP_NODELAY on the new connection (TCP only)
};

class Socket {
 public:
  Socket(Socket&&) noexcept = default;
  Socket& operator=(Socket&&) noexcept = default;

  int native_handle() const noexcept { return fd_.get(); }
  bool is_open() const noexcept { return fd_.valid(); }
  void close() noexcept { fd_.reset(); }
  // Hands the descriptor to the caller; this socket is then closed.
  [[nodiscard]] UniqueFd release() noexcept { return std::move(fd_); }

  Result<Endpoint> local() const;

  Result<void> set_nonblocking(bool on);
  Result<void> set_send_buffer_size(int bytes);
  Result<void> set_recv_buffer_size(int bytes);
  Result<int> send_buffer_size() const;
  Result<int> recv_buffer_size() const;
  // SO_LINGER: nullopt turns it off; zero makes close() send a reset.
  Result<void> set_linger(std::optional<std::chrono::seconds> linger);
  // SO_ERROR: the pending error (0 for none), e.g. the outcome of a non-blocking connect.
  Result<int> take_error();

 protected:
  Socket() noexcept = default;
  explicit Socket(UniqueFd fd) noexcept : fd_(std::move(fd)) {}

  Result<void> set_int_option(int level, int name, int value, const char* what);
  Result<int> int_option(int level, int name, const char* what) const;

  UniqueFd fd_;
};

class StreamSocket : public Socket {
 public:
  // Sends what fits without blocking (or blocks until something fits): returns bytes sent.
  Result<std::size_t> send(ConstBuffer data);
  // Gather write of several buffers in one call (at most 64 are taken per call).
  Result<std::size_t> send(std::span<const ConstBuffer> buffers);
  // Sends everything, looping over partial writes. On a non-blocking socket, fails with
  // would_block if the kernel buffer fills (the count sent so far is then unknown: use
  // send() in loops that can wait).
  Result<void> send_all(ConstBuffer data);
  // Receives up to data.size() bytes; 0 means the peer has closed (EOF).
  Result<std::size_t> recv(MutableBuffer data);
  // Scatter read into several buffers.
  Result<std::size_t> recv(std::span<const MutableBuffer> buffers);

  Result<void> shutdown(Shutdown how);
  Result<Endpoint> peer() const;

 protected:
  using Socket::Socket;
};

struct Datagram {
  std::size_t size;  // bytes received (the datagram is cut if the buffer was smaller)
  Endpoint from;
  bool truncated;  // the datagram was longer than the buffer
};

class DatagramSocket : public Socket {
 public:
  Result<std::size_t> send_to(ConstBuffer data, const Endpoint& to);
  Result<Datagram> recv_from(MutableBuffer data);
  // Fixes the peer: send()/recv() then talk to it only, and errors (ICMP unreachable)
  // are reported on later calls as ECONNREFUSED.
  Result<void> connect(const Endpoint& peer);
  Result<std::size_t> send(ConstBuffer data);
  Result<std::size_t> recv(MutableBuffer data);
  Result<Endpoint> peer() const;

 protected:
  using Socket::Socket;
};

template <typename Stream>
struct Accepted {
  Stream stream;
  Endpoint peer;
};

// A listening stream socket; TcpListener and UnixListener give it its types.
class ListenerSocket : public Socket {
 protected:
  using Socket::Socket;
  // accept4; the new descriptor is non-blocking when the listener is. `timeout` < 0 waits
  // forever; on expiry the error is ETIMEDOUT.
  Result<Accepted<UniqueFd>> accept_fd(Timeout timeout);

  bool nonblocking_ = false;
};

namespace detail {
// A new socket, close-on-exec, optionally non-blocking, with its context on failure.
Result<UniqueFd> open_socket(int domain, int type, bool nonblocking, const char* what);
// bind() that names the endpoint in its error.
Result<void> bind_to(int fd, const Endpoint& at, const char* verb);
// Non-blocking connect, waiting for completion up to `timeout` (negative: no limit).
Result<void> connect_fd(int fd, const Endpoint& to, Timeout timeout, std::string_view what);
}  // namespace detail

}  // namespace sockit
