// Clients for the `sockit serve` tests: connections made with the library, reading lines
// and bytes with deadlines, resets, random payloads, and an echo driver that runs many
// connections at once in one poll loop.
//
// Setup failures (no connection) throw std::runtime_error, which GoogleTest reports as the
// test's failure; everything a test checks comes back as a value.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "child_process.hpp"
#include "sockit/endpoint.hpp"
#include "sockit/tcp.hpp"
#include "sockit/unix.hpp"

namespace sockit::test {

// The value of `result`, or an exception naming `what`.
template <typename T>
T must(Result<T> result, std::string_view what) {
  if (!result) throw std::runtime_error(std::string(what) + ": " + result.error().message());
  return std::move(*result);
}
inline void must(Result<void> result, std::string_view what) {
  if (!result) throw std::runtime_error(std::string(what) + ": " + result.error().message());
}

// Connects (blocking, with kPatience as the connect timeout) or throws.
TcpStream connect_tcp(const Endpoint& to);
UnixStream connect_unix(const Endpoint& to);
// The client's own address, as the server labels it ("127.0.0.1:53422").
std::string tag_of(const TcpStream& client);

// Sends everything on a blocking socket; false on error.
bool send_text(StreamSocket& socket, std::string_view data);

// Lines from a stream socket, each with a deadline.
class LineReader {
 public:
  explicit LineReader(StreamSocket& socket) : socket_(socket) {}
  // The next line without its "\n"; nullopt on timeout, EOF or error.
  std::optional<std::string> next(Patience patience = kPatience);

 private:
  StreamSocket& socket_;
  std::string buffer_;
};

// Exactly `n` bytes, or what arrived before a timeout, EOF or error.
std::string read_bytes(StreamSocket& socket, std::size_t n, Patience patience = kPatience);
// True if the peer closes the connection (EOF or reset) within `patience`; bytes that
// arrive first are skipped.
bool closed_by_peer(StreamSocket& socket, Patience patience = kPatience);
// Closes with SO_LINGER 0, so the peer gets a reset instead of an orderly close.
void reset_connection(Socket& socket);

// `n` pseudo-random bytes (every value 0-255), the same for the same seed.
std::string random_bytes(std::size_t n, std::uint32_t seed);

// How an echo client ends: closing once everything came back, or shutting down its
// sending side once everything is sent and expecting the server to close after echoing.
enum class EchoEnd { Close, HalfClose };

// Sends payloads[i] on fds[i] and reads it back, all connections at once (one poll loop).
// Returns "" if every echo came back identical (and, with HalfClose, the server then
// closed), otherwise what went wrong first.
std::string echo_all(std::vector<UniqueFd> fds, const std::vector<std::string>& payloads,
                     Patience patience, EchoEnd end = EchoEnd::Close);

}  // namespace sockit::test
