#include "sockit/scan/scanner.hpp"

#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include "scan/probe_window.hpp"
#include "sockit/endpoint.hpp"
#include "sockit/event_loop.hpp"
#include "sockit/scan/permutation.hpp"
#include "sockit/scan/rtt.hpp"
#include "sys/sys.hpp"

namespace sockit::scan {
namespace {

using Clock = EventLoop::Clock;
using std::chrono::microseconds;

constexpr std::size_t kBannerBytes = 512;

unsigned default_in_flight() {
  // Leave room for the loop, stdio and the resolver; past a few thousand, more connects
  // in flight only queue in the kernel.
  std::size_t limit = sys::raise_open_file_limit();
  std::size_t usable = limit > 128 ? limit - 64 : 64;
  return static_cast<unsigned>(std::min<std::size_t>(usable, 4096));
}

// What every worker shares: the work, the options, progress counters.
struct Shared {
  const std::vector<Target>& targets;
  const ScanOptions& options;
  std::uint64_t total;  // hosts x ports
  Permutation order;
  unsigned workers;
  Clock::time_point start;
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> open{0};
};

struct Outcome {
  std::uint32_t host;
  PortResult result;
};

struct HostCounts {
  std::uint32_t open = 0, closed = 0, filtered = 0;
};

class Worker {
 public:
  Worker(Shared& shared, unsigned index, unsigned max_window,
         const std::function<void(const ScanProgress&)>* progress)
      : shared_(shared),
        o_(shared.options),
        index_(index),
        progress_(progress),
        window_(shared.targets.size(), max_window, microseconds(o_.min_timeout)),
        rtt_(shared.targets.size(),
             RttEstimator(o_.timeout, o_.min_timeout, std::max(o_.max_timeout, o_.timeout))),
        counts_(shared.targets.size()) {
    // This worker's share: indices index, index + workers, index + 2·workers, ...
    share_ =
        shared.total > index ? (shared.total - index + shared.workers - 1) / shared.workers : 0;
    tokens_ = rate() > 0 ? 1.0 : 0.0;
  }

  Result<void> run() {
    auto loop = EventLoop::create();
    if (!loop) return std::move(loop).error();
    loop_ = std::move(*loop);
    last_refill_ = Clock::now();
    if (progress_ != nullptr && *progress_) {
      ticker_ = loop_->every(std::chrono::milliseconds(200), [this] { report_progress(); });
    }
    fill();
    Result<void> ran;
    if (!finished()) ran = loop_->run();
    probes_.clear();
    ticker_.cancel();
    resume_.cancel();
    loop_.reset();
    if (!fatal_ && ran) return {};
    return fatal_ ? *fatal_ : ran;
  }

  std::vector<Outcome>& outcomes() { return outcomes_; }
  std::vector<HostCounts>& counts() { return counts_; }

 private:
  struct Work {
    std::uint32_t host;
    std::uint16_t port;
    std::uint8_t tries;
  };
  struct Probe {
    UniqueFd fd;
    Watch watch;  // after fd: unwatched before the descriptor closes
    Timer timer;
    Work work{};
    Clock::time_point started;
    std::uint32_t rtt_us = 0;
    bool reading_banner = false;
  };

  double rate() const { return o_.rate > 0 ? o_.rate / shared_.workers : 0; }

  bool next_work(Work& w) {
    if (!retries_.empty()) {
      w = retries_.front();
      retries_.pop_front();
      return true;
    }
    if (next_ >= share_) return false;
    std::uint64_t idx = shared_.order[index_ + next_ * shared_.workers];
    ++next_;
    const std::uint64_t ports = o_.ports.size();
    w = {static_cast<std::uint32_t>(idx / ports), o_.ports[idx % ports], 0};
    return true;
  }

  bool finished() const { return in_flight_ == 0 && retries_.empty() && next_ >= share_; }

  // Starts probes until the window is full, the rate says wait, or the work runs out.
  void fill() {
    if (fatal_) return;
    while (in_flight_ < window_.max_in_flight() && in_flight_ - banners_ < window_.limit() &&
           !resume_.active()) {
      if (rate() > 0 && !take_token()) break;
      Work w;
      if (!next_work(w)) break;
      start(w);
      if (fatal_) return;
    }
    if (finished()) loop_->stop();
  }

  bool take_token() {
    auto now = Clock::now();
    double seconds = std::chrono::duration<double>(now - last_refill_).count();
    last_refill_ = now;
    tokens_ = std::min(tokens_ + seconds * rate(), std::max(1.0, rate() / 50));
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return true;
    }
    auto wait = std::chrono::duration<double>((1.0 - tokens_) / rate());
    pause(std::chrono::duration_cast<Clock::duration>(wait));
    return false;
  }

  void pause(Clock::duration delay) {
    resume_ = loop_->after(delay, [this] {
      resume_.cancel();
      fill();
    });
  }

  void start(const Work& w) {
    const IpAddress& address = shared_.targets[w.host].address;
    int fd = sys::socket(address.is_v4() ? AF_INET : AF_INET6,
                         SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: shrink the window to what we have, and try again shortly.
        window_.out_of_descriptors(in_flight_);
        retries_.push_front(w);
        if (in_flight_ == 0) pause(std::chrono::milliseconds(10));
        return;
      }
      fatal_ = Error::from_errno("socket");
      loop_->stop();
      return;
    }
    UniqueFd owned(fd);
    const Endpoint to(address, w.port);
    const auto started = Clock::now();
    if (sys::connect(fd, to.data(), to.size()) == 0) {
      // Loopback can connect at once.
      conclude_now(std::move(owned), w, started, 0);
      return;
    }
    const int err = errno;
    if (err == EINPROGRESS) {
      auto index = static_cast<std::size_t>(fd);
      if (index >= probes_.size()) probes_.resize(std::max(index + 1, probes_.size() * 2));
      Probe& p = probes_[index];
      auto watch =
          loop_->watch(fd, kWritable, [this, fd](std::uint32_t ready) { on_ready(fd, ready); });
      if (!watch) {
        fatal_ = watch.error();
        loop_->stop();
        return;
      }
      p.fd = std::move(owned);
      p.watch = std::move(*watch);
      p.work = w;
      p.started = started;
      p.reading_banner = false;
      p.timer = loop_->after(timeout_for(w), [this, fd] { on_timeout(fd); });
      ++in_flight_;
      return;
    }
    if (err == EADDRNOTAVAIL || err == EAGAIN) {
      // Out of local ports (TIME_WAIT): back off briefly and retry this probe.
      retries_.push_front(w);
      window_.out_of_ports();
      pause(std::chrono::milliseconds(20));
      return;
    }
    conclude_now(std::move(owned), w, started, err);
  }

  // A connect that finished inside connect() itself.
  void conclude_now(UniqueFd fd, const Work& w, Clock::time_point started, int err) {
    auto rtt = std::chrono::duration_cast<microseconds>(Clock::now() - started);
    PortState state = classify(fd.get(), w, err);
    if (state != PortState::Filtered && w.tries == 0) sample(w.host, rtt);
    if (state == PortState::Open) abort_connection(fd.get());
    record(w, state, static_cast<std::uint32_t>(rtt.count()), {});
    answered();
  }

  PortState classify(int fd, const Work& w, int err) {
    if (err == 0) return is_self_connect(fd, w) ? PortState::Closed : PortState::Open;
    if (err == ECONNREFUSED) return PortState::Closed;
    return PortState::Filtered;  // EHOSTUNREACH, ENETUNREACH, EACCES…: an ICMP unreachable
  }

  // Linux can connect a loopback socket to itself when the port probed is the ephemeral
  // port it picked: a "connection" with nothing listening. Nothing is open there.
  bool is_self_connect(int fd, const Work& w) {
    sockaddr_storage local;
    socklen_t len = sizeof local;
    if (sys::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) < 0) return false;
    auto e = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&local), len);
    return e && e->port() == w.port && e->address() == shared_.targets[w.host].address;
  }

  // Close with a reset (SO_LINGER 0): no TIME_WAIT left on our side, nothing for the
  // service to wait on.
  static void abort_connection(int fd) {
    linger l{1, 0};
    sys::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }

  microseconds timeout_for(const Work& w) const {
    microseconds t = rtt_[w.host].timeout();
    for (unsigned i = 0; i < w.tries; ++i)
      t *= 2;  // back off per retry
    return std::min(t, microseconds(std::max(o_.max_timeout, o_.timeout)) * 2);
  }

  void on_ready(int fd, std::uint32_t ready) {
    Probe& p = probes_[static_cast<std::size_t>(fd)];
    if (p.reading_banner) return read_banner(fd, ready);
    int err = 0;
    socklen_t len = sizeof err;
    if (sys::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err == ETIMEDOUT) return give_up(fd);
    auto rtt = std::chrono::duration_cast<microseconds>(loop_->now() - p.started);
    PortState state = classify(fd, p.work, err);
    if (state != PortState::Filtered && p.work.tries == 0) sample(p.work.host, rtt);
    p.rtt_us = static_cast<std::uint32_t>(rtt.count());
    if (state == PortState::Open && o_.banner) {
      // Wait a moment for a greeting (SSH, SMTP, FTP speak first).
      p.reading_banner = true;
      ++banners_;  // answered: no longer counts against the window
      if (auto r = p.watch.modify(kReadable); !r) return finish(fd, state, {});
      p.timer = loop_->after(o_.banner_wait, [this, fd] { finish(fd, PortState::Open, {}); });
      answered();
      return;
    }
    finish(fd, state, {});
    answered();
  }

  void read_banner(int fd, std::uint32_t) {
    char buf[kBannerBytes];
    ssize_t n = sys::recv(fd, buf, sizeof buf, 0);
    std::string line;
    if (n > 0) {
      line.assign(buf, static_cast<std::size_t>(n));
      if (auto nl = line.find('\n'); nl != std::string::npos) line.resize(nl);
      if (!line.empty() && line.back() == '\r') line.pop_back();
    }
    finish(fd, PortState::Open, std::move(line));
  }

  // The timer fired, but the answer may be in and not yet dispatched: the loop runs the
  // timers due after the events it was handed, and on a busy machine the reply (processed
  // late in softirq) lands in between. Measured on a loaded 2-core VM: half the "timeouts"
  // of a 10000-port scan already held their RST. Look before calling the probe lost.
  void on_timeout(int fd) {
    pollfd ready{fd, POLLOUT, 0};
    if (sys::poll(&ready, 1, 0) == 1 && ready.revents != 0) return on_ready(fd, kWritable);
    give_up(fd);
  }

  void give_up(int fd) {
    Probe& p = probes_[static_cast<std::size_t>(fd)];
    Work w = p.work;
    auto waited = std::chrono::duration_cast<microseconds>(loop_->now() - p.started);
    p.watch.reset();
    p.timer.cancel();
    p.fd.reset();
    --in_flight_;
    window_.lost(loop_->now(), waited);
    if (w.tries < o_.retries) {
      ++w.tries;
      retries_.push_back(w);
    } else {
      record(w, PortState::Filtered, 0, {});
    }
    fill();
  }

  void finish(int fd, PortState state, std::string banner) {
    Probe& p = probes_[static_cast<std::size_t>(fd)];
    if (state == PortState::Open) abort_connection(fd);
    if (p.reading_banner) {
      p.reading_banner = false;
      --banners_;
    }
    Work w = p.work;
    std::uint32_t rtt = p.rtt_us;
    p.watch.reset();
    p.timer.cancel();
    p.fd.reset();
    --in_flight_;
    record(w, state, rtt, std::move(banner));
    fill();
  }

  void record(const Work& w, PortState state, std::uint32_t rtt_us, std::string banner) {
    HostCounts& c = counts_[w.host];
    switch (state) {
      case PortState::Open:
        ++c.open;
        shared_.open.fetch_add(1, std::memory_order_relaxed);
        break;
      case PortState::Closed:
        ++c.closed;
        break;
      case PortState::Filtered:
        ++c.filtered;
        break;
    }
    if (state != PortState::Closed || o_.keep_closed) {
      outcomes_.push_back({w.host, {w.port, state, rtt_us, std::move(banner)}});
    }
    shared_.done.fetch_add(1, std::memory_order_relaxed);
  }

  // An unambiguous RTT sample (Karn's rule): for the host's timeout and for the window.
  void sample(std::uint32_t host, microseconds rtt) {
    rtt_[host].sample(rtt);
    window_.sample(host, rtt);
  }
  void answered() { window_.answered(loop_->now()); }

  void report_progress() {
    ScanProgress p;
    p.done = shared_.done.load(std::memory_order_relaxed);
    p.total = shared_.total;
    p.open = shared_.open.load(std::memory_order_relaxed);
    p.elapsed = Clock::now() - shared_.start;
    (*progress_)(p);
  }

  Shared& shared_;
  const ScanOptions& o_;
  unsigned index_;
  const std::function<void(const ScanProgress&)>* progress_;
  ProbeWindow window_;
  std::vector<RttEstimator> rtt_;   // per host
  std::vector<HostCounts> counts_;  // per host
  std::vector<Outcome> outcomes_;
  std::uint64_t share_ = 0;
  std::uint64_t next_ = 0;
  std::deque<Work> retries_;
  unsigned in_flight_ = 0;
  unsigned banners_ = 0;  // of in_flight_, open ports waiting for a greeting
  double tokens_ = 0;
  Clock::time_point last_refill_;
  std::optional<Error> fatal_;
  std::vector<Probe> probes_;  // indexed by descriptor
  std::unique_ptr<EventLoop> loop_;
  Timer ticker_;
  Timer resume_;
};

}  // namespace

std::string_view to_string(PortState state) noexcept {
  switch (state) {
    case PortState::Open:
      return "open";
    case PortState::Closed:
      return "closed";
    case PortState::Filtered:
      return "filtered";
  }
  return "?";
}

Result<std::vector<HostReport>> scan(const std::vector<Target>& targets, const ScanOptions& options,
                                     const std::function<void(const ScanProgress&)>& on_progress) {
  std::vector<HostReport> reports(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i)
    reports[i].target = targets[i];
  if (targets.empty() || options.ports.empty()) return reports;

  const std::uint64_t total = targets.size() * options.ports.size();
  std::uint64_t seed = options.seed != 0 ? options.seed : std::random_device{}();
  unsigned workers = options.threads;
  if (workers == 0) {
    // A connect costs the kernel ~16 µs here: big scans need both cores, small ones don't.
    workers = total >= 4096 ? std::max(1u, std::thread::hardware_concurrency()) : 1;
  }
  workers = static_cast<unsigned>(std::min<std::uint64_t>(workers, total));
  const unsigned in_flight =
      options.max_in_flight != 0 ? options.max_in_flight : default_in_flight();

  Shared shared{targets, options,     total, Permutation(total, seed, !options.sequential),
                workers, Clock::now()};
  std::vector<std::unique_ptr<Worker>> pool;
  for (unsigned i = 0; i < workers; ++i) {
    pool.push_back(std::make_unique<Worker>(shared, i, std::max(1u, in_flight / workers),
                                            i == 0 ? &on_progress : nullptr));
  }
  std::vector<Result<void>> results(workers);
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < workers; ++i)
    threads.emplace_back([&, i] { results[i] = pool[i]->run(); });
  results[0] = pool[0]->run();
  for (auto& t : threads)
    t.join();
  for (auto& r : results)
    if (!r) return std::move(r).error();

  for (auto& worker : pool) {
    for (std::size_t h = 0; h < targets.size(); ++h) {
      reports[h].open += worker->counts()[h].open;
      reports[h].closed += worker->counts()[h].closed;
      reports[h].filtered += worker->counts()[h].filtered;
    }
    for (Outcome& o : worker->outcomes())
      reports[o.host].ports.push_back(std::move(o.result));
  }
  for (auto& r : reports) {
    std::sort(r.ports.begin(), r.ports.end(),
              [](const PortResult& a, const PortResult& b) { return a.port < b.port; });
  }
  if (on_progress) {
    ScanProgress p{total, total, shared.open.load(), Clock::now() - shared.start};
    on_progress(p);
  }
  return reports;
}

}  // namespace sockit::scan
