#include "sockit/bench/load.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "sockit/event_loop.hpp"
#include "sys/sys.hpp"

namespace sockit::bench {
namespace {

using Clock = EventLoop::Clock;

// Payload bytes follow a fixed pattern with a prime period, by stream offset, so that any
// echoed chunk can be checked with one memcmp against the pattern at its offset.
constexpr std::size_t kPeriod = 251;
constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr std::size_t kSeqBytes = 8;  // UDP: each datagram starts with its sequence number
constexpr auto kReconnectDelay = std::chrono::milliseconds(100);

struct Shared {
  const LoadOptions& o;
  std::vector<char> pattern;
  Clock::time_point start;
  Clock::time_point measure_from;
  Clock::time_point deadline;
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::int64_t> budget{0};  // messages left when a count was given
  std::atomic<bool> stop{false};
  std::atomic<unsigned> live_connections{0};  // made at least once and not given up
};

class Worker {
 public:
  Worker(Shared& shared, unsigned conns, bool reporter,
         const std::function<void(const LoadProgress&)>* progress)
      : s_(shared),
        o_(shared.o),
        reporter_(reporter),
        progress_(progress),
        buffer_(new char[std::max(kReadBuffer, o_.message_size + kSeqBytes)]) {
    conns_.resize(conns);
    for (unsigned i = 0; i < conns; ++i)
      conns_[i] = std::make_unique<Conn>();
    if (o_.rate > 0) {
      // Each connection carries its share of the rate.
      interval_ = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(static_cast<double>(o_.connections) / o_.rate));
    }
  }

  Result<void> run() {
    auto loop = EventLoop::create();
    if (!loop) return std::move(loop).error();
    loop_ = std::move(*loop);
    end_ = loop_->after(s_.deadline - Clock::now(), [this] { finish_all(); });
    if (reporter_ && progress_ != nullptr && *progress_) {
      ticker_ = loop_->every(std::chrono::seconds(1), [this] { report(); });
    }
    for (unsigned i = 0; i < conns_.size(); ++i)
      open(i);
    auto ran = loop_->run();
    conns_.clear();
    end_.cancel();
    ticker_.cancel();
    loop_.reset();
    return ran;
  }

  LoadResult& result() { return result_; }

 private:
  struct Conn {
    UniqueFd fd;
    Watch watch;  // after fd: unwatched first
    Timer timer;
    bool connected = false;
    bool ever_connected = false;
    bool waiting = false;        // a message is out, its echo not all back
    std::uint64_t sent = 0;      // stream offset of the next byte to send
    std::uint64_t received = 0;  // stream offset of the next byte expected back
    std::uint64_t message_end = 0;
    std::uint64_t seq = 0;     // UDP
    std::size_t unsent = 0;    // of the current message, after a partial send
    Clock::time_point due;     // when the current message was due (latency origin)
    Clock::time_point opened;  // Connect mode: latency origin
  };

  bool measuring(Clock::time_point t) const { return t >= s_.measure_from; }
  const char* pattern_at(std::uint64_t offset) const {
    return s_.pattern.data() + offset % kPeriod;
  }

  void open(unsigned i) {
    if (s_.stop.load(std::memory_order_relaxed)) return;
    Conn& c = *conns_[i];
    const Endpoint& to = o_.target;
    int type = (o_.datagram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
    int fd = sys::socket(to.family(), type, 0);
    if (fd < 0) return fail(i, Error::from_errno("socket"), false);
    const bool ever = c.ever_connected;
    c = Conn{};
    c.ever_connected = ever;
    c.fd.reset(fd);
    c.opened = Clock::now();
    if (o_.mode == Mode::Connect) rotate_source(fd);
    if (to.family() != AF_UNIX && !o_.datagram) {
      int one = 1;
      sys::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    int rc = sys::connect(fd, to.data(), to.size());
    if (rc < 0 && errno != EINPROGRESS)
      return fail(i, Error::from_errno("connect " + to.to_string()), false);
    auto watch =
        loop_->watch(fd, kWritable, [this, i](std::uint32_t ready) { on_ready(i, ready); });
    if (!watch) return fail(i, watch.error(), false);
    c.watch = std::move(*watch);
    c.timer = loop_->after(o_.timeout, [this, i] {
      fail(i, Error::from_errno(ETIMEDOUT, "connect " + o_.target.to_string()), false);
    });
  }

  // Connection-rate runs would run out of ephemeral ports within seconds (TIME_WAIT):
  // spread them over 127.0.0.0/8 source addresses (PERFORMANCE.md, lesson 9).
  void rotate_source(int fd) {
    if (!o_.target.is_v4() || !o_.target.is_loopback()) return;
    int one = 1;
    sys::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    // 127.0.0.2 .. 127.0.0.251, a different one for each connection in turn.
    auto host = static_cast<std::uint32_t>(0x7f000002u + next_source_++ % 250);
    Endpoint from(IpAddress::v4_from_uint(host), 0);
    sys::bind(fd, from.data(), from.size());
  }

  void on_ready(unsigned i, std::uint32_t ready) {
    Conn& c = *conns_[i];
    if (!c.connected) {
      int err = 0;
      socklen_t len = sizeof err;
      sys::getsockopt(c.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0)
        return fail(i, Error::from_errno(err, "connect " + o_.target.to_string()), false);
      c.connected = true;
      if (!c.ever_connected) {
        c.ever_connected = true;
        s_.live_connections.fetch_add(1, std::memory_order_relaxed);
      }
      c.timer.cancel();
      result_.connections_made++;
      if (o_.mode == Mode::Bulk) {
        (void)c.watch.modify(kReadable | kWritable);
        return;
      }
      (void)c.watch.modify(kReadable);
      c.due = o_.mode == Mode::Connect ? c.opened : Clock::now();
      return send_message(i);
    }
    if (ready & kWritable) {
      if (o_.mode == Mode::Bulk)
        stream(i);
      else if (c.unsent > 0)
        push(i);
      if (!conns_[i]->fd) return;
    }
    if (ready & (kReadable | kError | kHangup)) receive(i);
  }

  void send_message(unsigned i) {
    Conn& c = *conns_[i];
    if (s_.stop.load(std::memory_order_relaxed)) return finish_all();
    c.waiting = true;
    c.timer = loop_->after(o_.timeout, [this, i] { on_answer_timeout(i); });
    if (o_.datagram) return send_datagram(i);
    c.message_end = c.sent + o_.message_size;
    c.unsent = o_.message_size;
    push(i);
  }

  // Sends what is left of the current message.
  void push(unsigned i) {
    Conn& c = *conns_[i];
    while (c.unsent > 0) {
      ssize_t n = sys::send(c.fd.get(), pattern_at(c.sent), std::min(c.unsent, kReadBuffer), 0);
      if (n < 0) {
        if (errno == EAGAIN) break;
        return fail(i, Error::from_errno("send " + o_.target.to_string()), true);
      }
      c.sent += static_cast<std::uint64_t>(n);
      c.unsent -= static_cast<std::size_t>(n);
    }
    (void)c.watch.modify(kReadable | (c.unsent > 0 ? kWritable : 0u));
  }

  void send_datagram(unsigned i) {
    Conn& c = *conns_[i];
    char* out = buffer_.get();
    std::memcpy(out, &c.seq, kSeqBytes);
    std::memcpy(out + kSeqBytes, pattern_at(c.seq), o_.message_size - kSeqBytes);
    if (sys::send(c.fd.get(), out, o_.message_size, 0) < 0 && errno != EAGAIN) {
      fail(i, Error::from_errno("send " + o_.target.to_string()), true);
    }
  }

  void stream(unsigned i) {
    Conn& c = *conns_[i];
    const std::size_t chunk = o_.message_size;  // the pattern holds a whole message past any offset
    for (int k = 0; k < 16; ++k) {
      if (s_.stop.load(std::memory_order_relaxed)) return finish_all();
      ssize_t n = sys::send(c.fd.get(), pattern_at(c.sent), chunk, 0);
      if (n < 0) {
        if (errno == EAGAIN) return;
        return fail(i, Error::from_errno("send " + o_.target.to_string()), true);
      }
      c.sent += static_cast<std::uint64_t>(n);
      if (measuring(loop_->now())) result_.bytes += static_cast<std::uint64_t>(n);
    }
  }

  void receive(unsigned i) {
    Conn& c = *conns_[i];
    char* buf = buffer_.get();
    ssize_t n = sys::recv(c.fd.get(), buf, std::max(kReadBuffer, o_.message_size), 0);
    if (n == 0) {
      if (o_.datagram) return;
      return fail(i, Error::from_errno(ECONNRESET, "recv " + o_.target.to_string()), true);
    }
    if (n < 0) {
      if (errno == EAGAIN) return;
      return fail(i, Error::from_errno("recv " + o_.target.to_string()), true);
    }
    auto got = static_cast<std::size_t>(n);
    if (o_.datagram) {
      std::uint64_t seq;
      std::memcpy(&seq, buf, kSeqBytes);
      if (seq < c.seq) return;  // a late answer to a datagram we already resent
      if (seq != c.seq || got != o_.message_size ||
          std::memcmp(buf + kSeqBytes, pattern_at(seq), got - kSeqBytes) != 0) {
        return mismatch(i);
      }
      ++c.seq;
      return answered(i);
    }
    if (c.received + got > c.sent || std::memcmp(buf, pattern_at(c.received), got) != 0) {
      return mismatch(i);
    }
    c.received += got;
    if (o_.mode != Mode::Bulk && c.waiting && c.received == c.message_end) answered(i);
  }

  void answered(unsigned i) {
    Conn& c = *conns_[i];
    c.waiting = false;
    c.timer.cancel();
    const auto now = Clock::now();
    if (measuring(c.due)) {
      result_.latency.record(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.due).count()));
      ++result_.messages;
      result_.bytes += o_.message_size;
      s_.messages.fetch_add(1, std::memory_order_relaxed);
      if (o_.count > 0 && s_.budget.fetch_sub(1, std::memory_order_relaxed) <= 1) {
        s_.stop.store(true, std::memory_order_relaxed);
        return finish_all();
      }
    }
    if (o_.mode == Mode::Connect) {
      c.watch.reset();
      c.fd.reset();
      return next_when_due(i, [this, i] { open(i); });
    }
    next_when_due(i, [this, i] { send_message(i); });
  }

  // Closed loop: now. Fixed rate: at the connection's next slot; a late slot is charged
  // from when it was due (coordinated omission).
  template <typename Next>
  void next_when_due(unsigned i, Next next) {
    Conn& c = *conns_[i];
    const auto now = Clock::now();
    if (interval_ == Clock::duration::zero()) {
      c.due = now;
      return next();
    }
    c.due += interval_;
    if (c.due <= now) return next();
    c.timer = loop_->after(c.due - now, [next]() mutable { next(); });
  }

  void on_answer_timeout(unsigned i) {
    count_error(Error::from_errno(ETIMEDOUT, "recv " + o_.target.to_string()));
    if (o_.datagram) return send_message(i);  // lost: send the same sequence number again
    reconnect(i);
  }

  void mismatch(unsigned i) {
    ++result_.errors.mismatch;
    s_.errors.fetch_add(1, std::memory_order_relaxed);
    if (!result_.first_error) {
      result_.first_error =
          Error(std::make_error_code(std::errc::bad_message),
                "echo from " + o_.target.to_string() + " differs from what was sent");
    }
    reconnect(i);
  }

  // A failure: counted, and the connection is made again unless it never worked.
  void fail(unsigned i, Error error, bool was_connected) {
    count_error(error);
    Conn& c = *conns_[i];
    if (!was_connected && !c.ever_connected) {
      c.watch.reset();
      c.timer.cancel();
      c.fd.reset();
      if (++given_up_ == conns_.size() && result_.connections_made == 0) finish_all();
      return;
    }
    reconnect(i);
  }

  void reconnect(unsigned i) {
    Conn& c = *conns_[i];
    c.watch.reset();
    c.fd.reset();
    c.timer = loop_->after(kReconnectDelay, [this, i] { open(i); });
  }

  void count_error(const Error& e) {
    LoadErrors& errs = result_.errors;
    if (e.is(std::errc::connection_refused))
      ++errs.refused;
    else if (e.is(std::errc::connection_reset) || e.is(std::errc::broken_pipe))
      ++errs.reset;
    else if (e.is(std::errc::timed_out))
      ++errs.timeout;
    else
      ++errs.other;
    s_.errors.fetch_add(1, std::memory_order_relaxed);
    if (!result_.first_error) result_.first_error = e;
  }

  void finish_all() {
    s_.stop.store(true, std::memory_order_relaxed);
    loop_->stop();
  }

  void report() {
    LoadProgress p;
    p.seconds = std::chrono::duration<double>(Clock::now() - s_.measure_from).count();
    p.messages = s_.messages.load(std::memory_order_relaxed);
    p.errors = s_.errors.load(std::memory_order_relaxed);
    (*progress_)(p);
  }

  Shared& s_;
  const LoadOptions& o_;
  bool reporter_;
  const std::function<void(const LoadProgress&)>* progress_;
  std::unique_ptr<char[]> buffer_;
  Clock::duration interval_{};
  std::uint64_t next_source_ = 0;
  std::size_t given_up_ = 0;
  LoadResult result_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::unique_ptr<EventLoop> loop_;  // run() empties conns_ (their handles) before this goes
  Timer end_;
  Timer ticker_;
};

}  // namespace

Result<LoadResult> run_load(const LoadOptions& o,
                            const std::function<void(const LoadProgress&)>& on_progress) {
  if (o.connections == 0) return Error(ParseErrc::bad_range, "--connections 0");
  if (o.datagram && o.message_size < kSeqBytes) {
    return Error(ParseErrc::bad_range,
                 "UDP message size under " + std::to_string(kSeqBytes) + " bytes");
  }
  if (o.datagram && o.mode != Mode::PingPong)
    return Error(ParseErrc::unsupported, "UDP other than pingpong");
  if (o.message_size == 0) return Error(ParseErrc::bad_range, "message size 0");

  Shared shared{o, {}, {}, {}, {}};
  shared.pattern.resize(kPeriod + std::max(o.message_size, kReadBuffer));
  for (std::size_t k = 0; k < shared.pattern.size(); ++k) {
    shared.pattern[k] = static_cast<char>('a' + (k % kPeriod) % 26);
  }
  shared.start = Clock::now();
  shared.measure_from = shared.start + o.warmup;
  shared.deadline = shared.measure_from + o.duration;
  shared.budget.store(static_cast<std::int64_t>(o.count));

  const unsigned threads = std::max(1u, std::min(o.threads, o.connections));
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned t = 0; t < threads; ++t) {
    unsigned n = o.connections / threads + (t < o.connections % threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(shared, n, t == 0, &on_progress));
  }
  std::vector<int> cpus;
  if (o.pin_threads) cpus = sys::usable_cpus();
  // Pins thread t (before it opens its connections) when asked, then runs its worker.
  auto run_worker = [&](unsigned t) -> Result<void> {
    if (!cpus.empty()) {
      const int cpu = cpus[t % cpus.size()];
      if (int err = sys::pin_this_thread(cpu); err != 0)
        return Error::from_errno(err, "pin load thread to CPU " + std::to_string(cpu));
    }
    return workers[t]->run();
  };
  std::vector<Result<void>> ran(threads);
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t)
    pool.emplace_back([&, t] { ran[t] = run_worker(t); });
  ran[0] = run_worker(0);
  shared.stop.store(true);
  for (auto& t : pool)
    t.join();
  for (auto& r : ran)
    if (!r) return std::move(r).error();

  LoadResult total;
  const auto ended = std::min(Clock::now(), shared.deadline);
  total.seconds = std::max(0.0, std::chrono::duration<double>(ended - shared.measure_from).count());
  for (auto& w : workers) {
    LoadResult& r = w->result();
    total.messages += r.messages;
    total.bytes += r.bytes;
    total.connections_made += r.connections_made;
    total.latency.merge(r.latency);
    total.errors.refused += r.errors.refused;
    total.errors.reset += r.errors.reset;
    total.errors.timeout += r.errors.timeout;
    total.errors.mismatch += r.errors.mismatch;
    total.errors.other += r.errors.other;
    if (!total.first_error && r.first_error) total.first_error = r.first_error;
  }
  if (o.mode == Mode::Bulk) total.messages = total.bytes / o.message_size;
  return total;
}

}  // namespace sockit::bench
