// TCP: TcpStream (a connection) and TcpListener (accepts them).
//
//   auto listener = TcpListener::bind(*Endpoint::parse("127.0.0.1:0"));
//   auto client = TcpStream::connect(listener->local().value());
//   auto [server_side, peer] = listener->accept().value();
//
// connect() by name resolves it and tries every address in turn, each with the timeout.
// Sockets are blocking unless `nonblocking` is asked for (event-loop users do).
#pragma once

#include <string_view>

#include "sockit/socket.hpp"

namespace sockit {

class TcpStream : public StreamSocket {
 public:
  static Result<TcpStream> connect(const Endpoint& to, ConnectOptions options = {});
  // Resolves `host` ("localhost", "::1", "db.internal") and tries each address in turn;
  // the error, if all fail, names the host and the most telling failure.
  static Result<TcpStream> connect(std::string_view host, std::uint16_t port,
                                   ConnectOptions options = {});
  // Adopts a connected TCP descriptor (e.g. from accept or socketpair-like plumbing).
  static TcpStream adopt(UniqueFd fd) noexcept { return TcpStream(std::move(fd)); }

  Result<void> set_nodelay(bool on);
  Result<void> set_keepalive(bool on);

 private:
  using StreamSocket::StreamSocket;
};

// Every member has an initializer, so {.reuse_port = true} compiles cleanly under
// -Wextra (GCC warns about members without one left out of a designated initializer).
struct ListenOptions {
  bool reuse_address = true;  // SO_REUSEADDR: restart without "Address already in use"
  bool reuse_port = false;    // SO_REUSEPORT: several listeners, one per loop/thread
  int backlog = SOMAXCONN;
  std::optional<bool> v6only{};  // IPV6_V6ONLY for [::] listeners; unset keeps the default
  bool nonblocking = false;      // the listener and the streams it accepts
};

class TcpListener : public ListenerSocket {
 public:
  static Result<TcpListener> bind(const Endpoint& at, ListenOptions options = {});

  Result<Accepted<TcpStream>> accept();
  // Fails with ETIMEDOUT if no connection arrives in time.
  Result<Accepted<TcpStream>> accept(Timeout timeout);

 private:
  using ListenerSocket::ListenerSocket;
};

}  // namespace sockit
