#include "scan/connect_engine.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <string>

#include "scan/mailbox.hpp"
#include "scan/scheduler.hpp"
#include "sockit/endpoint.hpp"
#include "sys/sys.hpp"

namespace sockit::scan {

using Clock = EventLoop::Clock;

struct ConnectEngine::Command {
  enum class Op : std::uint8_t { Start, Expire, Cancel } op;
  Probe probe;  // Expire and Cancel use probe.id only
};

struct ConnectEngine::Report {
  std::uint32_t id;
  bool lost;
  Answer answer;
  Clock::time_point at;
  std::string banner;
};

// Where a lane's verdicts go: straight to the scheduler (lane 0), or into a mailbox.
class ConnectEngine::Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void answered(std::uint32_t id, Answer answer, Clock::time_point at,
                        std::string_view banner) = 0;
  virtual void lost(std::uint32_t id) = 0;
  virtual void done() = 0;
};

namespace {

constexpr std::size_t kBannerBytes = 512;
constexpr auto kResourceRetry = std::chrono::milliseconds(20);

Answer answer_for(int err) {
  if (err == 0) return Answer::Open;
  if (err == ECONNREFUSED) return Answer::Closed;
  return Answer::Unreachable;  // EHOSTUNREACH, ENETUNREACH, EACCES…: an ICMP unreachable
}

}  // namespace

class ConnectEngine::Lane {
 public:
  Lane(EventLoop& loop, Reporter& reporter, const Options& options, std::uint32_t capacity)
      : loop_(loop), reporter_(reporter), options_(options), fd_of_(capacity, -1) {}
  ~Lane() { close_all(); }

  StartStatus start(const Probe& probe) {
    const IpAddress& address = probe.address;
    int fd = sys::socket(address.is_v4() ? AF_INET : AF_INET6,
                         SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        return StartStatus::NoDescriptors;
      error_ = Error::from_errno("socket");
      return StartStatus::Failed;
    }
    UniqueFd owned(fd);
    const Endpoint to(address, probe.port);
    const auto started = Clock::now();
    int err = 0;
    if (sys::connect(fd, to.data(), to.size()) < 0) err = errno;
    if (err == EADDRNOTAVAIL || err == EAGAIN) return StartStatus::NoPorts;
    auto index = static_cast<std::size_t>(fd);
    if (index >= conns_.size()) conns_.resize(std::max(index + 1, conns_.size() * 2));
    Conn& c = conns_[index];
    c.id = probe.id;
    c.address = address;
    c.port = probe.port;
    c.answered_at = started;
    c.reading_banner = false;
    if (err != EINPROGRESS) {
      // Loopback can answer inside connect() itself.
      c.fd = std::move(owned);
      fd_of_[slot_of(probe.id)] = fd;
      c.answered_at = Clock::now();
      settle(fd, err);
      return StartStatus::Started;
    }
    auto watch = loop_.watch(fd, kWritable, [this, fd](std::uint32_t) { on_ready(fd); });
    if (!watch) {
      error_ = watch.error();
      return StartStatus::Failed;
    }
    c.fd = std::move(owned);
    c.watch = std::move(*watch);
    fd_of_[slot_of(probe.id)] = fd;
    return StartStatus::Started;
  }

  // The scheduler's timer ran out: answered already, or lost.
  void expire(std::uint32_t id) {
    const int fd = fd_for(id);
    if (fd < 0) return;
    Conn& c = conns_[static_cast<std::size_t>(fd)];
    if (c.reading_banner) return;  // answered; the banner's own timer ends it
    pollfd ready{fd, POLLOUT, 0};
    if (sys::poll(&ready, 1, 0) == 1 && ready.revents != 0) return on_ready(fd);
    drop(fd);
    reporter_.lost(id);
  }

  void cancel(std::uint32_t id) {
    const int fd = fd_for(id);
    if (fd >= 0) drop(fd);
  }

  void close_all() {
    for (int& fd : fd_of_) {
      if (fd >= 0) drop(fd);
    }
  }

  const Error& error() const { return error_; }

 private:
  struct Conn {
    UniqueFd fd;
    Watch watch;  // after fd: unwatched before the descriptor closes
    Timer banner_timer;
    IpAddress address;
    Clock::time_point answered_at;
    std::uint32_t id = 0;
    std::uint16_t port = 0;
    bool reading_banner = false;
  };

  int fd_for(std::uint32_t id) const {
    const int fd = fd_of_[slot_of(id)];
    if (fd < 0 || conns_[static_cast<std::size_t>(fd)].id != id) return -1;
    return fd;
  }

  void on_ready(int fd) {
    Conn& c = conns_[static_cast<std::size_t>(fd)];
    if (c.reading_banner) return read_banner(fd);
    int err = 0;
    socklen_t len = sizeof err;
    if (sys::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err == ETIMEDOUT) {  // the kernel gave up first: no answer
      const std::uint32_t id = c.id;
      drop(fd);
      reporter_.lost(id);
      reporter_.done();
      return;
    }
    c.answered_at = Clock::now();
    settle(fd, err);
  }

  // The connect finished with `err`: report, or wait for a banner first.
  void settle(int fd, int err) {
    Conn& c = conns_[static_cast<std::size_t>(fd)];
    Answer answer = answer_for(err);
    if (answer == Answer::Open && is_self_connect(fd, c)) answer = Answer::Closed;
    if (answer == Answer::Open && options_.banner) {
      // Wait a moment for a greeting (SSH, SMTP, FTP speak first).
      c.reading_banner = true;
      if (!c.watch) {
        auto watch = loop_.watch(fd, kReadable, [this, fd](std::uint32_t) { on_ready(fd); });
        if (watch) c.watch = std::move(*watch);
      } else if (auto r = c.watch.modify(kReadable); !r) {
        return finish(fd, answer, {});
      }
      if (c.watch) {
        c.banner_timer = loop_.after(options_.banner_wait, [this, fd] {
          finish(fd, Answer::Open, {});
          reporter_.done();
        });
        return;
      }
    }
    finish(fd, answer, {});
    reporter_.done();
  }

  void read_banner(int fd) {
    char buf[kBannerBytes];
    ssize_t n = sys::recv(fd, buf, sizeof buf, 0);
    std::string_view line;
    if (n > 0) {
      line = std::string_view(buf, static_cast<std::size_t>(n));
      if (auto nl = line.find('\n'); nl != std::string_view::npos) line = line.substr(0, nl);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    }
    finish(fd, Answer::Open, line);
    reporter_.done();
  }

  // Linux can connect a loopback socket to itself when the port probed is the ephemeral
  // port it picked: a "connection" with nothing listening. Nothing is open there.
  static bool is_self_connect(int fd, const Conn& c) {
    sockaddr_storage local;
    socklen_t len = sizeof local;
    if (sys::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) < 0) return false;
    auto e = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&local), len);
    return e && e->port() == c.port && e->address() == c.address;
  }

  void finish(int fd, Answer answer, std::string_view banner) {
    Conn& c = conns_[static_cast<std::size_t>(fd)];
    const std::uint32_t id = c.id;
    const auto at = c.answered_at;
    if (answer == Answer::Open) {
      linger l{1, 0};  // close with a reset
      sys::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    reporter_.answered(id, answer, at, banner);
    drop(fd);
  }

  void drop(int fd) {
    Conn& c = conns_[static_cast<std::size_t>(fd)];
    fd_of_[slot_of(c.id)] = -1;
    c.banner_timer.cancel();
    c.watch.reset();
    c.fd.reset();
    c.reading_banner = false;
  }

  EventLoop& loop_;
  Reporter& reporter_;
  const Options& options_;
  std::vector<Conn> conns_;  // by descriptor
  std::vector<int> fd_of_;   // by probe slot
  Error error_;
};

namespace {

// Lane 0: verdicts go straight to the scheduler.
class DirectReporter final : public ConnectEngine::Reporter {
 public:
  explicit DirectReporter(EngineEvents& events, std::vector<std::uint32_t>& outstanding)
      : events_(events), outstanding_(outstanding) {}
  void answered(std::uint32_t id, Answer answer, Clock::time_point at,
                std::string_view banner) override {
    --outstanding_[0];
    events_.answered(Reply{id, answer, at, banner, true});
  }
  void lost(std::uint32_t id) override {
    --outstanding_[0];
    events_.lost(id);
  }
  void done() override { events_.replies_done(); }

 private:
  EngineEvents& events_;
  std::vector<std::uint32_t>& outstanding_;
};

}  // namespace

// A lane on a thread of its own. Commands come in through `inbox`; verdicts are collected
// while a batch is handled and go out in one push to the engine's report mailbox.
class ConnectEngine::Remote final : public Reporter {
 public:
  static Result<std::unique_ptr<Remote>> create(const Options& options, std::uint32_t capacity,
                                                Mailbox<Report>& outbox) {
    auto loop = EventLoop::create();
    if (!loop) return std::move(loop).error();
    auto inbox = Mailbox<Command>::create();
    if (!inbox) return std::move(inbox).error();
    std::unique_ptr<Remote> r(new Remote(std::move(*loop), std::move(*inbox), outbox));
    r->lane_ = std::make_unique<Lane>(*r->loop_, *r, options, capacity);
    auto watch = r->loop_->watch(r->inbox_->fd(), kReadable,
                                 [raw = r.get()](std::uint32_t) { raw->take_commands(); });
    if (!watch) return std::move(watch).error();
    r->inbox_watch_ = std::move(*watch);
    return r;
  }

  void run() {
    thread_ = std::thread([this] { (void)loop_->run(); });
  }
  // Scheduler's thread.
  void send(Command c) { pending_.push_back(c); }
  void flush() { inbox_->push(pending_); }
  void stop() {
    if (!thread_.joinable()) return;
    loop_->post([this] {
      lane_->close_all();
      inbox_watch_.reset();
      loop_->stop();
    });
    thread_.join();
  }
  ~Remote() { stop(); }

  // Reporter (the lane's thread).
  void answered(std::uint32_t id, Answer answer, Clock::time_point at,
                std::string_view banner) override {
    outgoing_.push_back(Report{id, false, answer, at, std::string(banner)});
  }
  void lost(std::uint32_t id) override {
    outgoing_.push_back(Report{id, true, Answer::Unreachable, {}, {}});
  }
  void done() override { outbox_.push(outgoing_); }

 private:
  Remote(std::unique_ptr<EventLoop> loop, std::unique_ptr<Mailbox<Command>> inbox,
         Mailbox<Report>& outbox)
      : loop_(std::move(loop)), inbox_(std::move(inbox)), outbox_(outbox) {}

  void take_commands() {
    commands_.clear();
    inbox_->take(commands_);
    for (const Command& c : commands_) {
      switch (c.op) {
        case Command::Op::Start:
          start(c.probe);
          break;
        case Command::Op::Expire:
          lane_->expire(c.probe.id);
          break;
        case Command::Op::Cancel:
          lane_->cancel(c.probe.id);
          break;
      }
    }
    if (!deferred_.empty() && !retry_timer_.active()) {
      retry_timer_ = loop_->after(kResourceRetry, [this] { retry_deferred(); });
    }
    done();
  }

  // Out of descriptors or local ports here is this lane's problem: try again shortly.
  // Anything else counts as no answer (the scheduler retries it or calls it filtered).
  void start(const Probe& probe) {
    switch (lane_->start(probe)) {
      case StartStatus::Started:
        break;
      case StartStatus::NoDescriptors:
      case StartStatus::NoPorts:
        deferred_.push_back(probe);
        break;
      case StartStatus::Failed:
        lost(probe.id);
        break;
    }
  }

  void retry_deferred() {
    std::vector<Probe> again;
    again.swap(deferred_);
    for (const Probe& p : again)
      start(p);
    if (!deferred_.empty())
      retry_timer_ = loop_->after(kResourceRetry, [this] { retry_deferred(); });
    done();
  }

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Mailbox<Command>> inbox_;
  Mailbox<Report>& outbox_;
  std::unique_ptr<Lane> lane_;
  Watch inbox_watch_;
  std::thread thread_;
  std::vector<Command> pending_;   // scheduler's side, until flush()
  std::vector<Command> commands_;  // lane's side
  std::vector<Report> outgoing_;   // lane's side, until done()
  std::vector<Probe> deferred_;
  Timer retry_timer_;
};

ConnectEngine::ConnectEngine(Options options) : options_(options) {
  options_.lanes = std::max(1u, options_.lanes);
}

ConnectEngine::~ConnectEngine() {
  close();
}

Result<void> ConnectEngine::open(EventLoop& loop, EngineEvents& events, std::uint32_t capacity) {
  loop_ = &loop;
  events_ = &events;
  lane_of_.assign(capacity, 0);
  outstanding_.assign(options_.lanes, 0);
  direct_ = std::make_unique<DirectReporter>(events, outstanding_);
  local_ = std::make_unique<Lane>(loop, *direct_, options_, capacity);
  if (options_.lanes > 1) {
    auto box = Mailbox<Report>::create();
    if (!box) return std::move(box).error();
    reports_ = std::move(*box);
    auto watch = loop.watch(reports_->fd(), kReadable, [this](std::uint32_t) { take_reports(); });
    if (!watch) return std::move(watch).error();
    reports_watch_ = std::move(*watch);
    for (unsigned i = 1; i < options_.lanes; ++i) {
      auto remote = Remote::create(options_, capacity, *reports_);
      if (!remote) return std::move(remote).error();
      remotes_.push_back(std::move(*remote));
    }
    for (auto& r : remotes_)
      r->run();
  }
  return {};
}

// The lane with the fewest probes in flight takes the next one. Lane 0 shares its thread
// with the scheduler, so it counts a little heavier.
StartStatus ConnectEngine::start(const Probe& probe) {
  std::size_t best = 0;
  std::uint32_t best_load = outstanding_[0] + outstanding_[0] / 4;
  for (std::size_t i = 1; i < outstanding_.size(); ++i) {
    if (outstanding_[i] < best_load) {
      best = i;
      best_load = outstanding_[i];
    }
  }
  if (best == 0) {
    ++outstanding_[0];
    const StartStatus status = local_->start(probe);
    if (status != StartStatus::Started) {
      --outstanding_[0];
      if (status == StartStatus::Failed) error_ = local_->error();
      return status;
    }
    lane_of_[slot_of(probe.id)] = 0;
    return status;
  }
  ++outstanding_[best];
  lane_of_[slot_of(probe.id)] = static_cast<std::uint8_t>(best);
  remotes_[best - 1]->send({Command::Op::Start, probe});
  return StartStatus::Started;
}

void ConnectEngine::flush() {
  for (auto& r : remotes_)
    r->flush();
}

void ConnectEngine::expire(std::uint32_t id) {
  const std::uint8_t lane = lane_of_[slot_of(id)];
  if (lane == 0) return local_->expire(id);
  remotes_[lane - 1]->send({Command::Op::Expire, Probe{id, {}, 0, 0, ProbeKind::TcpConnect}});
  remotes_[lane - 1]->flush();
}

void ConnectEngine::cancel(std::uint32_t id) {
  const std::uint8_t lane = lane_of_[slot_of(id)];
  if (lane == 0) {
    --outstanding_[0];
    return local_->cancel(id);
  }
  --outstanding_[lane];
  remotes_[lane - 1]->send({Command::Op::Cancel, Probe{id, {}, 0, 0, ProbeKind::TcpConnect}});
  remotes_[lane - 1]->flush();
}

void ConnectEngine::take_reports() {
  report_batch_.clear();
  reports_->take(report_batch_);
  if (closed_) return;
  for (const Report& r : report_batch_) {
    --outstanding_[lane_of_[slot_of(r.id)]];
    if (r.lost) {
      events_->lost(r.id);
    } else {
      events_->answered(Reply{r.id, r.answer, r.at, r.banner, true});
    }
  }
  events_->replies_done();
}

void ConnectEngine::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& r : remotes_)
    r->stop();
  remotes_.clear();
  reports_watch_.reset();
  if (local_) local_->close_all();
}

}  // namespace sockit::scan
