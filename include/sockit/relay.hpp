// relay(): copies bytes both ways between a local input/output pair (stdin and stdout, say)
// and a connected socket, at the same time, on an EventLoop — what nc, ncat and socat do.
//
//   auto stream = TcpStream::connect(host, port).value();
//   auto loop = EventLoop::create().value();
//   auto result = relay(*loop, 0, 1, stream.native_handle(), {});
//
// Ends when the peer closes (after the input ended, the stream is half-closed first, so a
// server that answers only after EOF still gets to answer), when the input holds a line
// that is exactly Ctrl+X (the course's client), when nothing moves for `idle_timeout`, or
// when someone calls loop.stop() (a signal handler, say). Input the socket can't take yet
// is held, and reading input pauses until it drains. Input that epoll can't watch (a
// regular file, /dev/null) is read whenever the socket can take more.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "sockit/event_loop.hpp"
#include "sockit/result.hpp"

namespace sockit {

struct RelayOptions {
  bool crlf = false;        // send "\n" from the input as "\r\n"
  bool ctrl_x_ends = true;  // a line that is exactly Ctrl+X (0x18) ends the session
  bool datagram = false;    // connected UDP: each input read is one datagram, no half-close
  std::chrono::milliseconds idle_timeout{0};  // 0: no limit
  // Datagram mode: how long to wait for answers once the input has ended.
  std::chrono::milliseconds datagram_linger{1000};
  // Send this instead of reading input_fd, then end the input.
  std::optional<std::string> input_text;
};

enum class RelayEnd { PeerClosed, CtrlX, IdleTimeout, InputDone, Stopped };

struct RelayResult {
  RelayEnd end = RelayEnd::Stopped;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
};

// `socket_fd` must be connected; it is made non-blocking. Errors name the operation and,
// through `peer_name`, the peer ("recv 127.0.0.1:5000: Connection reset by peer").
Result<RelayResult> relay(EventLoop& loop, int input_fd, int output_fd, int socket_fd,
                          const RelayOptions& options, const std::string& peer_name = {});

}  // namespace sockit
