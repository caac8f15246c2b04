// Server: the course's servers (iterative, a process per client, a thread per client) plus a
// thread pool and an event-loop reactor, all running the same handlers with the same
// observable behaviour; only concurrency and cost differ.
//
//   struct Printer : serve::ServerEvents { ... };          // what to do with the events
//   Printer events;
//   auto server = serve::Server::create({.listen = *Endpoint::parse("127.0.0.1:5000"),
//                                        .handler = serve::Handler::Echo}, events).value();
//   server->run();                                         // until stop()
//
// Events: the engine never prints. It reports connections, lines and datagrams through
// ServerEvents, from whichever thread (or, with Model::Fork, whichever child process) serves
// the client; an implementation that writes each event with one write() keeps lines whole.
//
// Stopping: stop() is thread-safe and async-signal-safe (one eventfd write), so a SIGINT
// handler may call it. The server then stops accepting, lets each connection finish what it
// has queued for up to `grace`, closes the rest, and run() returns the totals.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sockit/endpoint.hpp"
#include "sockit/result.hpp"
#include "sockit/unique_fd.hpp"

namespace sockit::serve {

enum class Model { Iterative, Fork, Thread, Pool, Reactor };
enum class Handler { Print, Echo, Discard, Chat };
enum class Transport { Stream, Datagram };  // TCP or Unix stream; UDP

// "reactor" -> Model::Reactor, etc.; errors quote the text.
Result<Model> parse_model(std::string_view text);
Result<Handler> parse_handler(std::string_view text);
std::string_view to_string(Model model) noexcept;
std::string_view to_string(Handler handler) noexcept;

struct ServerOptions {
  Endpoint listen;  // IP (port 0 picks one) or Unix path / abstract name
  Model model = Model::Reactor;
  Handler handler = Handler::Print;
  Transport transport = Transport::Stream;
  unsigned threads = 0;  // reactor loops / pool workers; 0 = one per core (pool: 4 per core)
  // Reactor over TCP: run loop i on the i-th usable CPU (wrapping round), and have the kernel
  // hand each new connection to the loop on the CPU that took its handshake
  // (SO_INCOMING_CPU), so a connection's packets, wake-ups and handler all stay on one
  // CPU. With the network card's queues (or loopback clients) spread over the CPUs, this is
  // what makes -j N scale instead of bouncing every message between cores.
  bool pin_loops = false;
  std::size_t max_conns = 0;                  // simultaneous clients; 0 = the model's default
  std::chrono::milliseconds idle_timeout{0};  // close clients silent this long; 0 = never
  std::chrono::milliseconds grace{2000};      // after stop(): time to finish queued output
  std::chrono::milliseconds flush_after{50};  // print a partial line after this much quiet
  std::size_t max_output = 1 << 20;           // per-connection queued output before reading pauses
  std::optional<bool> v6only;                 // for [::] listeners
  bool replace_stale_unix = true;             // remove a dead socket file left at the Unix path
};

// One connected client as events name it. `id` is unique for the server's life and tells
// apart Unix clients, whose peer address is usually unnamed.
struct Client {
  std::uint64_t id;
  Endpoint peer;
};

// A name for a client in text: its address, or "unix#ID" for an unnamed Unix peer.
std::string client_label(const Client& client);

class ServerEvents {
 public:
  virtual ~ServerEvents() = default;
  virtual void on_listening(const Endpoint& /*local*/) {}
  virtual void on_connected(const Client& /*client*/) {}
  // A line (or a piece of an over-long one), raw bytes without the newline.
  virtual void on_line(const Client& /*client*/, std::string_view /*text*/) {}
  virtual void on_closed(const Client& /*client*/, std::uint64_t /*bytes_in*/) {}
  // A connection turned away by max_conns or by running out of descriptors.
  virtual void on_rejected(const Endpoint& /*peer*/, std::string_view /*reason*/) {}
  // A datagram (Transport::Datagram with Handler::Print or Echo).
  virtual void on_datagram(const Endpoint& /*from*/, std::string_view /*data*/) {}
  // Something went wrong that doesn't stop the server (accept failed, fork failed…).
  virtual void on_error(const Error& /*error*/) {}
};

struct ServerTotals {
  std::uint64_t connections = 0;
  std::uint64_t rejected = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t datagrams = 0;
};

class Server {
 public:
  // Binds and listens (so the port is known and errors like "address in use" come back
  // here), but serves nothing until run().
  static Result<std::unique_ptr<Server>> create(const ServerOptions& options, ServerEvents& events);
  ~Server();

  const Endpoint& local() const noexcept { return local_; }
  const ServerOptions& options() const noexcept { return options_; }

  // Serves until stop(); returns the totals.
  Result<ServerTotals> run();
  // Thread-safe and async-signal-safe.
  void stop() noexcept;
  // The descriptor that becomes readable once stop() was called (engines poll it).
  int stop_fd() const noexcept { return stop_.get(); }
  bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }

 private:
  Server(const ServerOptions& options, ServerEvents& events);

  ServerOptions options_;
  ServerEvents& events_;
  Endpoint local_;
  UniqueFd listener_;  // the first listener (reactor loops open more with SO_REUSEPORT)
  UniqueFd stop_;      // eventfd
  std::atomic<bool> stopping_{false};
};

}  // namespace sockit::serve
