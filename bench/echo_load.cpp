// echo_load: a closed-loop load generator for echo servers on loopback (until `sockit bench`
// exists). Used by bench/serve_bench.sh; figures in docs/BENCHMARKS.md.
//
//   echo_load --port P [-c CONNS] [-s BYTES] [-d SECS] [-w SECS] [--rate MSGS/S]
//             [--bulk] [--server-pid PID]
//
// Ping-pong (default): CONNS connections to 127.0.0.1:P; each sends a BYTES-byte message and
// sends the next only once the whole echo is back and matches what was sent (byte for byte,
// a sequence number in the first bytes). With --rate, the connections together start at most
// MSGS/S messages a second (a token bucket), so two servers can be compared at the same
// offered load; latency is then service time, not time spent waiting for a token.
//
// Bulk (--bulk): each connection streams BYTES-byte chunks as fast as the kernel takes them;
// whatever comes back (an echo server) is read and checked, a discard server sends nothing.
//
// Only the D seconds after the W-second warmup count. With --server-pid, the server's CPU
// time in that window (the sum of /proc/PID/task/*/schedstat run times: user + kernel, all
// threads) is reported per message (per MB in bulk mode).
//
// Output: one line of key=value pairs on stdout (the script parses it), errors on stderr and
// exit code 1. Loopback only, bounded: at most 10000 connections, 600 s, 16 MiB messages,
// and an alarm() kills the process if it ever overruns.
//
// Raw epoll rather than sockit's EventLoop, so the loop being measured is not on both sides.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  unsigned port = 0;
  unsigned conns = 1;
  std::size_t size = 64;
  double duration = 5;
  double warmup = 1;
  double rate = 0;  // messages per second over all connections; 0 = as fast as echoes return
  bool bulk = false;
  long server_pid = 0;
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "echo_load: %s\n", what.c_str());
  std::exit(1);
}

[[noreturn]] void fail_errno(const std::string& call) {
  fail(call + ": " + std::strerror(errno));
}

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "echo_load: %s\nusage: echo_load --port P [-c CONNS] [-s BYTES] [-d SECS] "
               "[-w SECS] [--rate MSGS/S] [--bulk] [--server-pid PID]\n",
               why.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> double {
      if (i + 1 >= argc) usage("missing value for " + arg);
      char* end = nullptr;
      double v = std::strtod(argv[++i], &end);
      if (end == argv[i] || *end != '\0') usage("bad number for " + arg + ": " + argv[i]);
      return v;
    };
    if (arg == "--port") {
      o.port = static_cast<unsigned>(value());
    } else if (arg == "-c") {
      o.conns = static_cast<unsigned>(value());
    } else if (arg == "-s") {
      o.size = static_cast<std::size_t>(value());
    } else if (arg == "-d") {
      o.duration = value();
    } else if (arg == "-w") {
      o.warmup = value();
    } else if (arg == "--rate") {
      o.rate = value();
    } else if (arg == "--bulk") {
      o.bulk = true;
    } else if (arg == "--server-pid") {
      o.server_pid = static_cast<long>(value());
    } else {
      usage("unexpected argument '" + arg + "'");
    }
  }
  if (o.port < 1 || o.port > 65535) usage("--port must be 1..65535");
  if (o.conns < 1 || o.conns > 10000) usage("-c must be 1..10000");
  if (o.size < 1 || o.size > (16u << 20)) usage("-s must be 1..16777216");
  if (!(o.duration >= 0.1 && o.duration <= 600)) usage("-d must be 0.1..600 seconds");
  if (!(o.warmup >= 0 && o.warmup <= 60)) usage("-w must be 0..60 seconds");
  if (!(o.rate >= 0 && o.rate <= 1e8)) usage("--rate must be 0..1e8");
  if (o.rate > 0 && o.bulk) usage("--rate applies to ping-pong, not --bulk");
  return o;
}

// Log-linear latency histogram: exact below 128 ns, then 64 buckets per power of two
// (under 1.6 % error), so recording is an increment and memory stays fixed.
class Histogram {
 public:
  void add(std::uint64_t ns) {
    ++counts_[index(ns)];
    ++total_;
  }
  std::uint64_t total() const { return total_; }
  // The value below which `q` of the samples fall (bucket midpoint), in ns.
  double quantile(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
    rank = std::max<std::uint64_t>(rank, 1);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return midpoint(i);
    }
    return midpoint(counts_.size() - 1);
  }

 private:
  static constexpr int kSubBits = 7;
  static constexpr std::uint64_t kSub = 1u << kSubBits;
  static std::size_t index(std::uint64_t v) {
    if (v < kSub) return v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - (kSubBits - 1);
    std::uint64_t mantissa = v >> shift;  // in [kSub/2, kSub)
    return kSub + static_cast<std::size_t>(msb - kSubBits) * (kSub / 2) + (mantissa - kSub / 2);
  }
  static double midpoint(std::size_t i) {
    if (i < kSub) return static_cast<double>(i);
    std::size_t k = i - kSub;
    int msb = static_cast<int>(k / (kSub / 2)) + kSubBits;
    std::uint64_t mantissa = k % (kSub / 2) + kSub / 2;
    int shift = msb - (kSubBits - 1);
    return (static_cast<double>(mantissa) + 0.5) * std::ldexp(1.0, shift);
  }
  std::array<std::uint64_t, kSub + (64 - kSubBits) * (kSub / 2)> counts_{};
  std::uint64_t total_ = 0;
};

// The server's CPU time so far in ns: every thread's run time from schedstat.
std::uint64_t server_cpu_ns(long pid) {
  if (pid <= 0) return 0;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) fail_errno("opendir " + dir);
  std::uint64_t total = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string path = dir + "/" + e->d_name + "/schedstat";
    if (FILE* f = std::fopen(path.c_str(), "r")) {
      unsigned long long run = 0;
      if (std::fscanf(f, "%llu", &run) == 1) total += run;
      std::fclose(f);
    }
  }
  ::closedir(d);
  return total;
}

std::uint64_t own_cpu_ns() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto ns = [](const timeval& tv) {
    return static_cast<std::uint64_t>(tv.tv_sec) * 1'000'000'000u +
           static_cast<std::uint64_t>(tv.tv_usec) * 1000u;
  };
  return ns(ru.ru_utime) + ns(ru.ru_stime);
}

std::uint64_t since(Clock::time_point start, Clock::time_point now) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now - start).count());
}

struct Conn {
  int fd = -1;
  std::unique_ptr<unsigned char[]> message;  // what was sent, so the echo can be compared
  std::uint64_t seq = 0;
  std::size_t sent = 0;      // bytes of the current message (bulk: of the stream) sent
  std::size_t received = 0;  // bytes of its echo (bulk: of the echoed stream) received
  bool want_write = false;
  Clock::time_point started;
};

class Load {
 public:
  explicit Load(const Options& o) : o_(o), rx_(std::max<std::size_t>(o.size, 64 * 1024)) {}

  void connect_all() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < o_.conns + 64) {
      rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, o_.conns + 64);
      ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) fail_errno("epoll_create1");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(o_.port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only, by construction
    // Bulk streams a repeating 256-byte pattern from any offset; ping-pong messages are a
    // per-connection pattern with the sequence number in front.
    if (o_.bulk) {
      pattern_.resize(o_.size + 256);
      for (std::size_t i = 0; i < pattern_.size(); ++i)
        pattern_[i] = static_cast<unsigned char>(i);
    }
    conns_.resize(o_.conns);
    for (unsigned i = 0; i < o_.conns; ++i) {
      Conn& c = conns_[i];
      c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (c.fd < 0) fail_errno("socket");
      if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        fail_errno("connect to 127.0.0.1:" + std::to_string(o_.port));
      }
      int one = 1;
      ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (::fcntl(c.fd, F_SETFL, O_NONBLOCK) < 0) fail_errno("fcntl(O_NONBLOCK)");
      if (!o_.bulk) {
        c.message.reset(new unsigned char[o_.size]);
        for (std::size_t k = 0; k < o_.size; ++k)
          c.message[k] = static_cast<unsigned char>('a' + (i + k) % 26);
      }
      epoll_event ev{};
      ev.events = EPOLLIN | (o_.bulk ? EPOLLOUT : 0u);
      ev.data.u32 = i;
      c.want_write = o_.bulk;
      if (::epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) < 0) fail_errno("epoll_ctl(ADD)");
    }
  }

  void run() {
    const auto start = Clock::now();
    const auto measure_from = start + to_duration(o_.warmup);
    const auto until = measure_from + to_duration(o_.duration);
    last_refill_ = start;
    if (!o_.bulk) {
      for (unsigned i = 0; i < o_.conns; ++i) {
        if (o_.rate > 0) {
          waiting_.push_back(i);
        } else {
          begin_message(i, start);
        }
      }
    }
    std::vector<epoll_event> events(1024);
    bool measuring = false;
    for (;;) {
      auto now = Clock::now();
      if (!measuring && now >= measure_from) {
        measuring = true;
        snapshot(begin_, now);
        counted_msgs_ = 0;
        counted_bytes_sent_ = 0;
        counted_bytes_received_ = 0;
      }
      if (now >= until) break;
      if (o_.rate > 0) release_tokens(now);
      auto next = measuring ? until : measure_from;
      int timeout = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1);
      if (o_.rate > 0 && !waiting_.empty()) timeout = 1;
      int n = ::epoll_wait(ep_, events.data(), static_cast<int>(events.size()), timeout);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_errno("epoll_wait");
      }
      now = Clock::now();
      for (int k = 0; k < n; ++k) {
        const unsigned i = events[static_cast<std::size_t>(k)].data.u32;
        const std::uint32_t ready = events[static_cast<std::size_t>(k)].events;
        if (o_.bulk) {
          if (ready & (EPOLLIN | EPOLLERR | EPOLLHUP)) bulk_read(i);
          if (ready & EPOLLOUT) bulk_write(i);
        } else {
          if ((ready & EPOLLOUT) && conns_[i].want_write) send_rest(i);
          if (ready & (EPOLLIN | EPOLLERR | EPOLLHUP)) read_echo(i, now, measuring);
        }
      }
    }
    snapshot(end_, Clock::now());
    for (auto& c : conns_)
      ::close(c.fd);
    ::close(ep_);
  }

  void report() const {
    const double secs = static_cast<double>(end_.wall - begin_.wall) / 1e9;
    const double client_cpu = static_cast<double>(end_.own_cpu - begin_.own_cpu) / 1e9;
    const double server_cpu = static_cast<double>(end_.server_cpu - begin_.server_cpu) / 1e9;
    if (o_.bulk) {
      const double mb_sent = static_cast<double>(counted_bytes_sent_) / 1e6;
      const double mb_back = static_cast<double>(counted_bytes_received_) / 1e6;
      std::printf(
          "mode=bulk conns=%u size=%zu secs=%.3f mb=%.1f mb_per_s=%.1f echo_mb_per_s=%.1f "
          "client_cpu_pct=%.1f server_cpu_pct=%.1f server_cpu_us_per_mb=%.1f\n",
          o_.conns, o_.size, secs, mb_sent, mb_sent / secs, mb_back / secs, 100 * client_cpu / secs,
          100 * server_cpu / secs,
          o_.server_pid > 0 && mb_sent > 0 ? server_cpu * 1e6 / mb_sent : 0.0);
      return;
    }
    const double msgs = static_cast<double>(counted_msgs_);
    std::printf(
        "mode=pingpong conns=%u size=%zu rate=%.0f secs=%.3f msgs=%llu msgs_per_s=%.0f "
        "p50_us=%.1f p99_us=%.1f client_cpu_pct=%.1f server_cpu_pct=%.1f "
        "server_cpu_us_per_msg=%.3f total_msgs=%llu\n",
        o_.conns, o_.size, o_.rate, secs, static_cast<unsigned long long>(counted_msgs_),
        msgs / secs, latency_.quantile(0.50) / 1e3, latency_.quantile(0.99) / 1e3,
        100 * client_cpu / secs, 100 * server_cpu / secs,
        o_.server_pid > 0 && msgs > 0 ? server_cpu * 1e6 / msgs : 0.0,
        static_cast<unsigned long long>(total_msgs_));
  }

 private:
  struct Snapshot {
    std::uint64_t wall = 0;
    std::uint64_t own_cpu = 0;
    std::uint64_t server_cpu = 0;
  };

  static Clock::duration to_duration(double secs) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(secs));
  }

  void snapshot(Snapshot& s, Clock::time_point now) {
    s.wall = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
    s.own_cpu = own_cpu_ns();
    s.server_cpu = server_cpu_ns(o_.server_pid);
  }

  // --- ping-pong ---------------------------------------------------------------------

  void begin_message(unsigned i, Clock::time_point now) {
    Conn& c = conns_[i];
    ++c.seq;
    std::memcpy(c.message.get(), &c.seq, std::min(sizeof c.seq, o_.size));
    c.sent = 0;
    c.received = 0;
    c.started = now;
    send_rest(i);
  }

  void send_rest(unsigned i) {
    Conn& c = conns_[i];
    while (c.sent < o_.size) {
      ssize_t n = ::send(c.fd, c.message.get() + c.sent, o_.size - c.sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN) break;
        fail_errno("send");
      }
      c.sent += static_cast<std::size_t>(n);
    }
    set_write_interest(i, c.sent < o_.size);
  }

  void read_echo(unsigned i, Clock::time_point now, bool measuring) {
    Conn& c = conns_[i];
    ssize_t n = ::recv(c.fd, rx_.data(), o_.size - c.received, 0);
    if (n == 0) fail("server closed connection " + std::to_string(i));
    if (n < 0) {
      if (errno == EAGAIN) return;
      fail_errno("recv");
    }
    if (c.received + static_cast<std::size_t>(n) > c.sent ||
        std::memcmp(rx_.data(), c.message.get() + c.received, static_cast<std::size_t>(n)) != 0) {
      fail("echo mismatch on connection " + std::to_string(i) + " message " +
           std::to_string(c.seq));
    }
    c.received += static_cast<std::size_t>(n);
    if (c.received < o_.size) return;
    ++total_msgs_;
    if (measuring) {
      ++counted_msgs_;
      latency_.add(since(c.started, now));
    }
    if (o_.rate > 0) {
      if (tokens_ >= 1) {
        tokens_ -= 1;
        begin_message(i, now);
      } else {
        waiting_.push_back(i);
      }
    } else {
      begin_message(i, now);
    }
  }

  // Adds rate × elapsed tokens (a burst is capped at one token per connection) and starts
  // waiting connections with them.
  void release_tokens(Clock::time_point now) {
    double elapsed = std::chrono::duration<double>(now - last_refill_).count();
    last_refill_ = now;
    tokens_ = std::min(tokens_ + elapsed * o_.rate, static_cast<double>(o_.conns));
    while (tokens_ >= 1 && !waiting_.empty()) {
      tokens_ -= 1;
      unsigned i = waiting_.front();
      waiting_.pop_front();
      begin_message(i, now);
    }
  }

  // --- bulk --------------------------------------------------------------------------

  void bulk_write(unsigned i) {
    Conn& c = conns_[i];
    ssize_t n = ::send(c.fd, pattern_.data() + c.sent % 256, o_.size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) return;
      fail_errno("send");
    }
    c.sent += static_cast<std::size_t>(n);
    counted_bytes_sent_ += static_cast<std::uint64_t>(n);
  }

  void bulk_read(unsigned i) {
    Conn& c = conns_[i];
    ssize_t n = ::recv(c.fd, rx_.data(), std::min(rx_.size(), o_.size), 0);
    if (n == 0) fail("server closed connection " + std::to_string(i));
    if (n < 0) {
      if (errno == EAGAIN) return;
      fail_errno("recv");
    }
    if (c.received + static_cast<std::size_t>(n) > c.sent ||
        std::memcmp(rx_.data(), pattern_.data() + c.received % 256, static_cast<std::size_t>(n)) !=
            0) {
      fail("echo mismatch on connection " + std::to_string(i) + " at byte " +
           std::to_string(c.received));
    }
    c.received += static_cast<std::size_t>(n);
    counted_bytes_received_ += static_cast<std::uint64_t>(n);
  }

  void set_write_interest(unsigned i, bool on) {
    Conn& c = conns_[i];
    if (c.want_write == on) return;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.u32 = i;
    if (::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev) < 0) fail_errno("epoll_ctl(MOD)");
    c.want_write = on;
  }

  const Options& o_;
  int ep_ = -1;
  std::vector<Conn> conns_;
  std::vector<unsigned char> rx_;
  std::vector<unsigned char> pattern_;
  Histogram latency_;
  std::deque<unsigned> waiting_;  // --rate: connections waiting for a token
  double tokens_ = 0;
  Clock::time_point last_refill_;
  std::uint64_t total_msgs_ = 0;
  std::uint64_t counted_msgs_ = 0;
  std::uint64_t counted_bytes_sent_ = 0;
  std::uint64_t counted_bytes_received_ = 0;
  Snapshot begin_;
  Snapshot end_;
};

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  // A safety net: whatever happens (a stalled server, a bug), the process ends.
  ::alarm(static_cast<unsigned>(options.warmup + options.duration) + 60);
  auto load = std::make_unique<Load>(options);
  load->connect_all();
  load->run();
  load->report();
  return 0;
}
