// What the server's engines (one per model) share: the context they run in, the shared
// counters, and their entry points. Internal to the library.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "sockit/serve/server.hpp"

namespace sockit::serve {

// Totals kept with atomics; with Model::Fork they live in shared memory so that children
// count too (lock-free 64-bit atomics work across processes on Linux).
struct Counters {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::atomic<std::uint64_t> datagrams{0};
  std::atomic<std::uint64_t> next_id{1};
  std::atomic<std::int64_t> active{0};  // clients being served (pool: plus queued)
};

struct EngineContext {
  const ServerOptions& options;
  ServerEvents& events;
  int listener;  // non-blocking listening (or datagram) socket
  const Endpoint& local;
  int stop_fd;  // readable once stop() was called; never read, so every poller sees it
  Counters& counters;
  std::size_t max_conns;
  // Held around accepting (see accept_client): reactor loops share one descriptor table.
  std::mutex accept_mutex{};
};

class ChatRoom;

Result<void> run_reactor(EngineContext& ctx);
Result<void> run_blocking(EngineContext& ctx);  // iterative, thread, pool
Result<void> run_forking(EngineContext& ctx);
Result<void> run_datagram(EngineContext& ctx);

// Serves one connection with blocking waits (poll on the client and the stop descriptor):
// the session loop of the iterative, thread, pool and fork models. Closes `fd`.
void serve_blocking(EngineContext& ctx, UniqueFd fd, const Client& client, ChatRoom* room);

// Accepts one connection from the non-blocking `listener`. Returns an invalid fd and no
// error when there is nothing to accept; EMFILE/ENFILE are handled by shedding (the
// connection is accepted with a spare descriptor and closed, and reported as rejected).
struct AcceptedClient {
  UniqueFd fd;
  Endpoint peer;
};
Result<AcceptedClient> accept_client(EngineContext& ctx, int listener, UniqueFd& spare_fd);

// Opens the spare descriptor accept_client() sheds load with.
UniqueFd open_spare_fd();

// Counts a new client and gives it its id.
inline Client new_client(EngineContext& ctx, const Endpoint& peer) {
  ctx.counters.connections.fetch_add(1, std::memory_order_relaxed);
  return Client{ctx.counters.next_id.fetch_add(1, std::memory_order_relaxed), peer};
}

// Takes one of the max_conns places, or returns false when all are taken. One atomic
// step, so reactor loops accepting at the same moment cannot overshoot the cap together.
inline bool take_place(EngineContext& ctx) {
  if (ctx.counters.active.fetch_add(1, std::memory_order_relaxed) <
      static_cast<std::int64_t>(ctx.max_conns))
    return true;
  ctx.counters.active.fetch_sub(1, std::memory_order_relaxed);
  return false;
}

// True once stop() was called (the stop descriptor is readable): a last look before taking
// on a new client.
bool stop_requested(const EngineContext& ctx);

// Turns a connection away: closes it, counts it, reports it.
inline void reject_client(EngineContext& ctx, UniqueFd fd, const Endpoint& peer,
                          std::string_view reason) {
  fd.reset();
  ctx.counters.rejected.fetch_add(1, std::memory_order_relaxed);
  ctx.events.on_rejected(peer, reason);
}

}  // namespace sockit::serve
