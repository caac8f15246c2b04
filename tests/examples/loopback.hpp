// Loopback helpers for the example tests, built on sockit itself: sockets on 127.0.0.1
// with kernel-chosen ports (never a fixed one, so tests can run in parallel).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "process.hpp"
#include "sockit/tcp.hpp"

namespace examples_test {

// The value of `result`, or an exception naming `what` (GoogleTest reports it as the
// test's failure), so that a test never reads the value of a failed Result.
template <typename T>
T must(sockit::Result<T> result, std::string_view what) {
  if (!result) throw std::runtime_error(std::string(what) + ": " + result.error().message());
  return std::move(*result);
}

inline void must(sockit::Result<void> result, std::string_view what) {
  if (!result) throw std::runtime_error(std::string(what) + ": " + result.error().message());
}

inline sockit::Endpoint loopback(std::uint16_t port = 0) {
  return {sockit::IpAddress::v4_loopback(), port};
}

// A TCP port on 127.0.0.1 that refuses connections for as long as this object lives: the
// local port of a connected client socket. Nothing listens there, and nobody else can
// bind it while the connection exists.
struct ClosedPort {
  ClosedPort()
      : listener(must(sockit::TcpListener::bind(loopback()), "listen")),
        client(must(sockit::TcpStream::connect(must(listener.local(), "local")), "connect")),
        port(must(client.local(), "local").port()) {}

  sockit::TcpListener listener;
  sockit::TcpStream client;
  std::uint16_t port;
};

// Everything the peer sends until it shuts down its side, an error, or `patience` passes
// with nothing new.
inline std::string read_to_eof(sockit::StreamSocket& stream, Patience patience = kPatience) {
  std::string all;
  char buffer[1024];
  while (wait_readable(stream.native_handle(), patience)) {
    auto got = stream.recv(buffer);
    if (!got || *got == 0) break;
    all.append(buffer, *got);
  }
  return all;
}

// True if the peer closes the connection (end of stream, or a reset) within `patience`,
// without sending anything first.
inline bool closed_by_peer(sockit::StreamSocket& stream, Patience patience = kPatience) {
  char buffer[64];
  if (!wait_readable(stream.native_handle(), patience)) return false;
  auto got = stream.recv(buffer);
  return !got || *got == 0;
}

}  // namespace examples_test
