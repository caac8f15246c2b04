// run_load(): the load generator behind `sockit bench` — N connections over M event loops
// (one per thread) against an echo (or discard) server, every echoed byte checked.
//
//   PingPong  each connection sends `message_size` bytes and waits for all of them back,
//             then sends the next (closed loop), or sends on a fixed schedule with `rate`
//   Bulk      each connection streams as fast as the server takes it (MB/s)
//   Connect   connect, one round trip, close, repeat (connections per second)
// With `datagram`, PingPong runs over connected UDP sockets (a lost datagram is resent
// after `timeout` and counted as a timeout).
//
// Latency is taken from the moment a message was due: with `rate` set, a message that had
// to wait for the previous answer is charged the wait too, which corrects for coordinated
// omission (a slow server can't hide its stalls by slowing the client down).
// Every run ends by itself: after `duration` (past `warmup`), or `count` messages, whichever
// comes first. Errors are counted by kind; a mismatch is never ignored.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "sockit/bench/histogram.hpp"
#include "sockit/endpoint.hpp"
#include "sockit/result.hpp"

namespace sockit::bench {

enum class Mode { PingPong, Bulk, Connect };

struct LoadOptions {
  Endpoint target;
  Mode mode = Mode::PingPong;
  bool datagram = false;
  unsigned connections = 1;
  unsigned threads = 1;
  // Run thread i on the i-th usable CPU (wrapping round). Its connections then start on that
  // CPU, which a server pinning its loops with SO_INCOMING_CPU (sockit serve --pin) uses to
  // keep each connection on one CPU at both ends.
  bool pin_threads = false;
  std::size_t message_size = 64;
  std::chrono::milliseconds duration{5000};
  std::uint64_t count = 0;  // 0: no limit but the duration
  std::chrono::milliseconds warmup{0};
  double rate = 0;  // messages per second across all connections; 0: closed loop
  std::chrono::milliseconds timeout{5000};  // for a connect or an answer
};

struct LoadErrors {
  std::uint64_t refused = 0;
  std::uint64_t reset = 0;
  std::uint64_t timeout = 0;
  std::uint64_t mismatch = 0;
  std::uint64_t other = 0;
  std::uint64_t total() const noexcept { return refused + reset + timeout + mismatch + other; }
};

struct LoadResult {
  double seconds = 0;          // measured time (after warmup)
  std::uint64_t messages = 0;  // round trips (PingPong, Connect) or chunks sent (Bulk)
  std::uint64_t bytes = 0;     // payload bytes sent and (for echoes) verified
  std::uint64_t connections_made = 0;
  Histogram latency;  // nanoseconds
  LoadErrors errors;
  std::optional<Error> first_error;  // the first failure, as it happened
};

struct LoadProgress {
  double seconds = 0;
  std::uint64_t messages = 0;
  std::uint64_t errors = 0;
};

Result<LoadResult> run_load(const LoadOptions& options,
                            const std::function<void(const LoadProgress&)>& on_progress = {});

}  // namespace sockit::bench
