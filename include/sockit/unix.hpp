// Unix-domain sockets: UnixStream, UnixListener, UnixDatagram; filesystem paths
// (unix:/run/app.sock) and Linux abstract names (unix:@name, no file, gone with the socket).
//
//   auto [a, b] = UnixStream::pair().value();   // socketpair: two connected ends
#pragma once

#include <utility>

#include "sockit/socket.hpp"

namespace sockit {

class UnixStream : public StreamSocket {
 public:
  static Result<UnixStream> connect(const Endpoint& to, ConnectOptions options = {});
  static Result<std::pair<UnixStream, UnixStream>> pair(bool nonblocking = false);
  static UnixStream adopt(UniqueFd fd) noexcept { return UnixStream(std::move(fd)); }

 private:
  using StreamSocket::StreamSocket;
};

struct UnixListenOptions {
  int backlog = SOMAXCONN;
  // Removes a socket file left at the path by an earlier run (never a non-socket file).
  bool replace_stale = false;
  bool nonblocking = false;
};

class UnixListener : public ListenerSocket {
 public:
  static Result<UnixListener> bind(const Endpoint& at, UnixListenOptions options = {});
  Result<Accepted<UnixStream>> accept();
  Result<Accepted<UnixStream>> accept(Timeout timeout);

 private:
  using ListenerSocket::ListenerSocket;
};

class UnixDatagram : public DatagramSocket {
 public:
  static Result<UnixDatagram> bind(const Endpoint& at, bool nonblocking = false);
  static Result<UnixDatagram> open(bool nonblocking = false);  // unbound
  static Result<std::pair<UnixDatagram, UnixDatagram>> pair(bool nonblocking = false);

 private:
  using DatagramSocket::DatagramSocket;
};

}  // namespace sockit
