#include "sockit/serve/server.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include <algorithm>
#include <thread>

#include "serve/engine.hpp"
#include "sockit/tcp.hpp"
#include "sockit/udp.hpp"
#include "sockit/unix.hpp"
#include "sys/sys.hpp"

namespace sockit::serve {
namespace {

std::size_t default_max_conns(Model model) {
  switch (model) {
    case Model::Reactor:
      return 10000;
    case Model::Thread:
    case Model::Pool:
      return 1000;
    case Model::Fork:
      return 256;
    case Model::Iterative:
      return 1;
  }
  return 1000;
}

}  // namespace

Result<Model> parse_model(std::string_view text) {
  if (text == "iterative") return Model::Iterative;
  if (text == "fork") return Model::Fork;
  if (text == "thread") return Model::Thread;
  if (text == "pool") return Model::Pool;
  if (text == "reactor") return Model::Reactor;
  return Error(ParseErrc::unknown_name,
               "model '" + std::string(text) + "' (iterative, fork, thread, pool, reactor)");
}

Result<Handler> parse_handler(std::string_view text) {
  if (text == "print") return Handler::Print;
  if (text == "echo") return Handler::Echo;
  if (text == "discard") return Handler::Discard;
  if (text == "chat") return Handler::Chat;
  return Error(ParseErrc::unknown_name,
               "handler '" + std::string(text) + "' (print, echo, discard, chat)");
}

std::string_view to_string(Model model) noexcept {
  switch (model) {
    case Model::Iterative:
      return "iterative";
    case Model::Fork:
      return "fork";
    case Model::Thread:
      return "thread";
    case Model::Pool:
      return "pool";
    case Model::Reactor:
      return "reactor";
  }
  return "?";
}

std::string_view to_string(Handler handler) noexcept {
  switch (handler) {
    case Handler::Print:
      return "print";
    case Handler::Echo:
      return "echo";
    case Handler::Discard:
      return "discard";
    case Handler::Chat:
      return "chat";
  }
  return "?";
}

std::string client_label(const Client& client) {
  if (client.peer.is_unnamed_unix()) return "unix#" + std::to_string(client.id);
  return client.peer.to_string();
}

bool stop_requested(const EngineContext& ctx) {
  pollfd stop{ctx.stop_fd, POLLIN, 0};
  return sys::poll(&stop, 1, 0) == 1;
}

UniqueFd open_spare_fd() {
  return UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

Result<AcceptedClient> accept_client(EngineContext& ctx, int listener, UniqueFd& spare_fd) {
  sockaddr_storage storage;
  socklen_t len = sizeof storage;
  auto* addr = reinterpret_cast<sockaddr*>(&storage);
  // Several reactor loops share the process's descriptor table. Unlocked, the slot one
  // loop frees below could go to another loop's accept, leaving the first without a
  // spare: its listener would then stay readable with nothing able to take or shed the
  // connection, and the loop would spin.
  std::unique_lock lock(ctx.accept_mutex);
  if (!spare_fd) spare_fd = open_spare_fd();  // lost earlier, e.g. to ENFILE
  int fd = sys::accept(listener, addr, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) {
    if (errno == EAGAIN || errno == ECONNABORTED) return AcceptedClient{};
    if ((errno == EMFILE || errno == ENFILE) && spare_fd) {
      // Out of descriptors: the pending connection would keep the listener readable and
      // the loop spinning. Free the spare, take the connection, close it, take the spare
      // back (muduo's Acceptor, libuv's uv__emfile_trick).
      int err = errno;
      spare_fd.reset();
      len = sizeof storage;
      int shed = sys::accept(listener, addr, &len, SOCK_CLOEXEC);
      if (shed >= 0) sys::close(shed);
      spare_fd = open_spare_fd();
      lock.unlock();
      if (shed >= 0) {
        Endpoint peer;
        if (auto e = Endpoint::from_sockaddr(addr, len)) peer = *e;
        ctx.counters.rejected.fetch_add(1, std::memory_order_relaxed);
        ctx.events.on_rejected(peer, "out of file descriptors");
      }
      return Error::from_errno(err, "accept on " + ctx.local.to_string());
    }
    return Error::from_errno("accept on " + ctx.local.to_string());
  }
  lock.unlock();
  AcceptedClient client{UniqueFd(fd), Endpoint()};
  if (auto e = Endpoint::from_sockaddr(addr, len)) client.peer = *e;
  // Every model sends replies in pieces as reads return them. With Nagle's algorithm on, a
  // short last piece waits for the ACK of the ones before it, which the client delays:
  // ~40 ms for a message longer than one read (200 kB echoes on one connection: ~400 a
  // second, p99 47 ms; docs/BENCHMARKS.md, "Serve"). Redis and nginx set it for the same
  // reason. Best effort: a connection without it still works.
  if (client.peer.is_ip()) {
    int one = 1;
    sys::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return client;
}

Server::Server(const ServerOptions& options, ServerEvents& events)
    : options_(options), events_(events) {}

Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::create(const ServerOptions& options, ServerEvents& events) {
  std::unique_ptr<Server> server(new Server(options, events));
  ServerOptions& o = server->options_;
  const std::string where = o.listen.to_string();

  if (o.handler == Handler::Chat && (o.model == Model::Fork || o.model == Model::Iterative)) {
    return Error(ParseErrc::unsupported, "chat with the " + std::string(to_string(o.model)) +
                                             " model (chat needs reactor, thread or pool)");
  }
  if (o.transport == Transport::Datagram) {
    if (!o.listen.is_ip()) return Error(ParseErrc::unsupported, "UDP on " + where);
    if (o.handler == Handler::Chat) return Error(ParseErrc::unsupported, "chat over UDP");
  }
  if (o.pin_loops && (o.model != Model::Reactor || o.transport != Transport::Stream)) {
    return Error(ParseErrc::unsupported,
                 "pinning loops to CPUs with the " + std::string(to_string(o.model)) +
                     (o.transport == Transport::Datagram ? " model over UDP" : " model") +
                     " (needs the reactor over TCP or Unix)");
  }
  const auto cores = std::max(1u, std::thread::hardware_concurrency());
  if (o.threads == 0) o.threads = o.model == Model::Pool ? 4 * cores : cores;
  sys::raise_open_file_limit();
  if (o.max_conns == 0) o.max_conns = default_max_conns(o.model);

  int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) return Error::from_errno("eventfd");
  server->stop_.reset(efd);

  if (o.transport == Transport::Datagram) {
    auto udp =
        UdpSocket::bind(o.listen, {.reuse_address = true, .v6only = o.v6only, .nonblocking = true});
    if (!udp) return std::move(udp).error();
    server->local_ = udp->local().value_or(o.listen);
    server->listener_ = udp->release();
  } else if (o.listen.is_unix()) {
    auto unix_listener =
        UnixListener::bind(o.listen, {.replace_stale = o.replace_stale_unix, .nonblocking = true});
    if (!unix_listener) return std::move(unix_listener).error();
    server->local_ = o.listen;
    server->listener_ = unix_listener->release();
  } else {
    const bool many_loops = o.model == Model::Reactor && o.threads > 1;
    auto tcp = TcpListener::bind(
        o.listen, {.reuse_port = many_loops, .v6only = o.v6only, .nonblocking = true});
    if (!tcp) return std::move(tcp).error();
    server->local_ = tcp->local().value_or(o.listen);
    server->listener_ = tcp->release();
  }
  return server;
}

void Server::stop() noexcept {
  stopping_.store(true, std::memory_order_release);
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_.get(), &one, sizeof one);
}

Result<ServerTotals> Server::run() {
  // Shared memory, so forked children's counts reach the parent's totals.
  void* memory =
      ::mmap(nullptr, sizeof(Counters), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return Error::from_errno("mmap");
  auto* counters = new (memory) Counters();
  struct Unmap {
    Counters* c;
    ~Unmap() {
      c->~Counters();
      ::munmap(c, sizeof(Counters));
    }
  } unmap{counters};

  EngineContext ctx{options_,    events_,   listener_.get(),   local_,
                    stop_.get(), *counters, options_.max_conns};
  events_.on_listening(local_);
  Result<void> ran;
  if (options_.transport == Transport::Datagram) {
    ran = run_datagram(ctx);
  } else {
    switch (options_.model) {
      case Model::Reactor:
        ran = run_reactor(ctx);
        break;
      case Model::Fork:
        ran = run_forking(ctx);
        break;
      case Model::Iterative:
      case Model::Thread:
      case Model::Pool:
        ran = run_blocking(ctx);
        break;
    }
  }
  if (options_.listen.is_unix() && !options_.listen.is_abstract()) {
    // Our socket file: remove it so the next run can bind without --replace.
    ::unlink(std::string(options_.listen.unix_name()).c_str());
  }
  if (!ran) return std::move(ran).error();
  ServerTotals totals;
  totals.connections = counters->connections.load();
  totals.rejected = counters->rejected.load();
  totals.bytes_in = counters->bytes_in.load();
  totals.bytes_out = counters->bytes_out.load();
  totals.datagrams = counters->datagrams.load();
  return totals;
}

}  // namespace sockit::serve
