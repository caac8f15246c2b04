// The reactor model: one EventLoop per thread, each with its own SO_REUSEPORT listener
// (a Unix listener is shared), serving many clients without blocking. With pin_loops, each
// loop is pinned to a CPU and its listener set to SO_INCOMING_CPU for that CPU.
//
// Costs, after ../shared/PERFORMANCE.md: one read into a per-loop 64 KiB buffer and one
// write straight back from it per echoed message — no copy, no allocation, no epoll_ctl.
// A connection gets its own output buffer only when the kernel takes less than it was
// given; write interest is registered then and dropped once the buffer drains. Past
// `max_output` queued bytes the connection stops being read (backpressure) until the
// client catches up. Idle and partial-line timers are re-armed lazily: a read only stores
// the time, and a timer that fires early re-arms itself for the rest.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include <memory>
#include <thread>
#include <vector>

#include "serve/chat_room.hpp"
#include "serve/engine.hpp"
#include "serve/session.hpp"
#include "sockit/event_loop.hpp"
#include "sockit/tcp.hpp"
#include "sys/sys.hpp"

namespace sockit::serve {
namespace {

using Clock = EventLoop::Clock;

constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr int kReadsPerEvent = 4;  // then let other connections have a turn
constexpr int kAcceptsPerEvent = 64;

class Reactor {
 public:
  // cpu: the CPU to run on, or -1 to let the scheduler choose.
  Reactor(EngineContext& ctx, int listener, ChatRoom* room, bool shared_listener, int cpu)
      : ctx_(ctx),
        listener_(listener),
        room_(room),
        shared_listener_(shared_listener),
        cpu_(cpu),
        buffer_(new char[kReadBuffer]) {}

  Result<void> run() {
    if (cpu_ < 0) return serve();
    // Loop 0 runs on the caller's thread: give it back the CPUs it had.
    cpu_set_t before;
    const bool saved = sys::this_thread_cpus(before) == 0;
    if (int err = sys::pin_this_thread(cpu_); err != 0)
      return Error::from_errno(err, "pin loop to CPU " + std::to_string(cpu_));
    auto served = serve();
    if (saved) sys::set_this_thread_cpus(before);
    return served;
  }

 private:
  Result<void> serve() {
    auto loop = EventLoop::create();
    if (!loop) return std::move(loop).error();
    loop_ = std::move(*loop);
    spare_ = open_spare_fd();
    // Several loops sharing one listener: wake one of them per connection, not all.
    std::uint32_t accept_interest =
        kReadable | (shared_listener_ ? std::uint32_t{EPOLLEXCLUSIVE} : 0u);
    auto lw = loop_->watch(listener_, accept_interest, [this](std::uint32_t) { on_accept(); });
    if (!lw) return std::move(lw).error();
    listen_watch_ = std::move(*lw);
    auto sw = loop_->watch(ctx_.stop_fd, kReadable, [this](std::uint32_t) { begin_stop(); });
    if (!sw) return std::move(sw).error();
    stop_watch_ = std::move(*sw);
    auto ran = loop_->run();
    conns_.clear();
    return ran;
  }

  struct Conn {
    Conn(EngineContext& ctx, UniqueFd f, Client client, ChatRoom* room)
        : fd(std::move(f)), session(ctx, std::move(client), fd.get(), room) {}
    UniqueFd fd;
    Session session;
    Watch watch;      // after fd: unwatched before the descriptor closes
    std::string out;  // output the kernel hasn't taken yet
    std::size_t out_sent = 0;
    Clock::time_point last_active;
    Timer idle;
    Timer flush;
    bool reading = true;
    bool closing = false;  // close once `out` drains
    std::size_t pending() const { return out.size() - out_sent; }
  };

  void on_accept() {
    for (int i = 0; i < kAcceptsPerEvent; ++i) {
      auto accepted = accept_client(ctx_, listener_, spare_);
      if (!accepted) {
        ctx_.events.on_error(accepted.error());
        return;
      }
      if (!accepted->fd) return;
      if (!take_place(ctx_)) {
        reject_client(ctx_, std::move(accepted->fd), accepted->peer, "too many connections");
        continue;
      }
      add(std::move(*accepted));
    }
  }

  void add(AcceptedClient accepted) {
    const int fd = accepted.fd.get();
    auto conn = std::make_unique<Conn>(ctx_, std::move(accepted.fd),
                                       new_client(ctx_, accepted.peer), room_);
    auto watch =
        loop_->watch(fd, kReadable, [this, fd](std::uint32_t ready) { on_ready(fd, ready); });
    if (!watch) {
      ctx_.events.on_error(watch.error());
      ctx_.counters.active.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
    conn->watch = std::move(*watch);
    conn->last_active = loop_->now();
    if (static_cast<std::size_t>(fd) >= conns_.size())
      conns_.resize(static_cast<std::size_t>(fd) + 1);
    Conn& c = *conn;
    conns_[static_cast<std::size_t>(fd)] = std::move(conn);
    ++live_;
    if (ctx_.options.idle_timeout.count() > 0) arm_idle(c, ctx_.options.idle_timeout);
    c.session.start();
  }

  void on_ready(int fd, std::uint32_t ready) {
    Conn& c = *conns_[static_cast<std::size_t>(fd)];
    if (c.pending() > 0 && (ready & (kWritable | kError | kHangup))) {
      if (!flush(c)) return close(fd);
      if (c.closing && c.pending() == 0) return close(fd);
    }
    if (!c.reading) return;
    if (!(ready & (kReadable | kError | kHangup))) return;
    for (int i = 0; i < kReadsPerEvent; ++i) {
      ssize_t n = sys::recv(fd, buffer_.get(), kReadBuffer, 0);
      if (n > 0) {
        c.last_active = loop_->now();
        std::string_view data(buffer_.get(), static_cast<std::size_t>(n));
        if (c.session.on_data(data) && !send_or_queue(c, data)) return close(fd);
        if (!c.reading || static_cast<std::size_t>(n) < kReadBuffer) break;
        continue;
      }
      if (n == 0) {  // the client finished sending: answer what is queued, then close
        if (c.pending() == 0) return close(fd);
        c.closing = true;
        c.reading = false;
        update_interest(c);
        return;
      }
      if (errno == EAGAIN) break;
      return close(fd);  // reset, or another error: nothing more to do for this client
    }
    if (c.session.has_partial_line() && !c.flush.active()) arm_flush(c, ctx_.options.flush_after);
  }

  // Echo: write straight from the read buffer; queue only what the kernel didn't take.
  bool send_or_queue(Conn& c, std::string_view data) {
    if (c.pending() > 0) {  // keep order behind what is already queued
      c.out.append(data);
    } else {
      ssize_t n = sys::send(c.fd.get(), data.data(), data.size(), 0);
      if (n < 0) {
        if (errno != EAGAIN) return false;
        n = 0;
      }
      c.session.sent(static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) == data.size()) return true;
      c.out.assign(data.substr(static_cast<std::size_t>(n)));
      c.out_sent = 0;
    }
    if (c.pending() > ctx_.options.max_output) c.reading = false;  // backpressure
    update_interest(c);
    return true;
  }

  // Sends queued output; false on a write error.
  bool flush(Conn& c) {
    while (c.pending() > 0) {
      ssize_t n = sys::send(c.fd.get(), c.out.data() + c.out_sent, c.pending(), 0);
      if (n < 0) {
        if (errno == EAGAIN) break;
        return false;
      }
      c.out_sent += static_cast<std::size_t>(n);
      c.session.sent(static_cast<std::size_t>(n));
    }
    if (c.pending() == 0) {
      // Give back a big buffer; keep a small one for the next burst.
      if (c.out.capacity() > kReadBuffer) std::string().swap(c.out);
      c.out.clear();
      c.out_sent = 0;
    }
    if (!c.closing && !c.reading && c.pending() <= ctx_.options.max_output / 2) c.reading = true;
    update_interest(c);
    return true;
  }

  void update_interest(Conn& c) {
    std::uint32_t interest = (c.reading ? kReadable : 0) | (c.pending() > 0 ? kWritable : 0);
    if (auto r = c.watch.modify(interest); !r) ctx_.events.on_error(r.error());
  }

  void arm_idle(Conn& c, Clock::duration delay) {
    const int fd = c.fd.get();
    c.idle = loop_->after(delay, [this, fd] {
      Conn& conn = *conns_[static_cast<std::size_t>(fd)];
      auto quiet_until = conn.last_active + ctx_.options.idle_timeout;
      if (loop_->now() < quiet_until) return arm_idle(conn, quiet_until - loop_->now());
      close(fd);
    });
  }

  void arm_flush(Conn& c, Clock::duration delay) {
    const int fd = c.fd.get();
    c.flush = loop_->after(delay, [this, fd] {
      Conn& conn = *conns_[static_cast<std::size_t>(fd)];
      auto quiet_until = conn.last_active + ctx_.options.flush_after;
      if (loop_->now() < quiet_until) return arm_flush(conn, quiet_until - loop_->now());
      conn.session.on_quiet();
    });
  }

  void close(int fd) {
    auto& slot = conns_[static_cast<std::size_t>(fd)];
    slot->session.finish();
    slot.reset();  // unwatches, cancels its timers, closes the descriptor
    --live_;
    ctx_.counters.active.fetch_sub(1, std::memory_order_relaxed);
    if (stopping_ && live_ == 0) loop_->stop();
  }

  void begin_stop() {
    stopping_ = true;
    stop_watch_.reset();
    listen_watch_.reset();
    for (std::size_t fd = 0; fd < conns_.size(); ++fd) {
      if (!conns_[fd]) continue;
      Conn& c = *conns_[fd];
      if (c.pending() == 0) {
        close(static_cast<int>(fd));
      } else {
        c.closing = true;
        c.reading = false;
        update_interest(c);
      }
    }
    if (live_ == 0) return loop_->stop();
    grace_ = loop_->after(ctx_.options.grace, [this] {
      for (std::size_t fd = 0; fd < conns_.size(); ++fd)
        if (conns_[fd]) close(static_cast<int>(fd));
      loop_->stop();
    });
  }

  EngineContext& ctx_;
  int listener_;
  ChatRoom* room_;
  bool shared_listener_;
  int cpu_;
  std::unique_ptr<char[]> buffer_;  // this loop's read buffer, shared by its connections
  UniqueFd spare_;
  std::vector<std::unique_ptr<Conn>> conns_;  // indexed by descriptor
  std::size_t live_ = 0;
  bool stopping_ = false;
  // Destroyed before the loop (members go in reverse order): handles must not outlive it.
  std::unique_ptr<EventLoop> loop_;
  Watch listen_watch_;
  Watch stop_watch_;
  Timer grace_;
};

}  // namespace

Result<void> run_reactor(EngineContext& ctx) {
  ChatRoom room;
  ChatRoom* chat = ctx.options.handler == Handler::Chat ? &room : nullptr;
  const unsigned loops = std::max(1u, ctx.options.threads);
  const bool share = ctx.local.is_unix();

  // Pinned: loop i runs on the i-th usable CPU, and its listener takes the connections whose
  // handshake that CPU processed.
  std::vector<int> cpus;
  if (ctx.options.pin_loops) cpus = sys::usable_cpus();
  auto cpu_of = [&](unsigned i) { return cpus.empty() ? -1 : cpus[i % cpus.size()]; };

  // Loop 0 uses the listener Server::create made; the others open their own on the same
  // port (SO_REUSEPORT spreads connections across them), or share a Unix listener.
  std::vector<UniqueFd> extra;
  std::vector<std::unique_ptr<Reactor>> reactors;
  for (unsigned i = 0; i < loops; ++i) {
    int fd = ctx.listener;
    if (i > 0 && !share) {
      auto l = TcpListener::bind(
          ctx.local, {.reuse_port = true, .v6only = ctx.options.v6only, .nonblocking = true});
      if (!l) return std::move(l).error();
      extra.push_back(l->release());
      fd = extra.back().get();
    }
    if (const int cpu = cpu_of(i); cpu >= 0 && !share) {
      if (sys::setsockopt(fd, SOL_SOCKET, SO_INCOMING_CPU, &cpu, sizeof cpu) != 0) {
        return Error::from_errno("steer connections to CPU " + std::to_string(cpu));
      }
    }
    reactors.push_back(std::make_unique<Reactor>(ctx, fd, chat, share && loops > 1, cpu_of(i)));
  }

  std::vector<Result<void>> results(loops);
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < loops; ++i) {
    threads.emplace_back([&, i] { results[i] = reactors[i]->run(); });
  }
  results[0] = reactors[0]->run();
  for (auto& t : threads)
    t.join();
  for (auto& r : results)
    if (!r) return r;
  return {};
}

}  // namespace sockit::serve
