// netem_delay: holds every packet an iptables NFQUEUE rule hands it for a fixed delay, then
// accepts it — network delay emulation for kernels without sch_netem (bench/scan_bench.sh).
//
//   iptables -A INPUT -i eth0 -j NFQUEUE --queue-num 7
//   netem_delay -q 7 -d 20 [-t SECONDS] [-r READY_FILE]
//
// Run it in the network namespace of the rule (netlink queues are per namespace). Queue what
// a host receives rather than what it sends: a packet the kernel sends on its own (a RST for
// a closed port) stays charged to a per-namespace control socket while it is held, and once
// that socket's send buffer is full the kernel discards further RSTs.
// Only the packet id travels to user space (NFQNL_COPY_META), and with a constant delay
// packets leave in the order they came, so one batch verdict releases every packet that is
// due. Waits use ppoll with a nanosecond timeout. Exits after -t seconds (default 1200) or on
// SIGTERM/SIGINT and then prints what it did on stderr. Packets still held when it exits are
// dropped by the kernel; so is anything queued while no program is bound (no
// --queue-bypass): a delay that silently vanished would make a benchmark lie.
#include <arpa/inet.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

std::int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Held {
  std::uint32_t id;
  std::int64_t release_ns;
};

struct State {
  std::deque<Held> held;
  std::int64_t delay_ns = 0;
  std::int64_t arrived_ns = 0;  // time of the recv() that delivered the current batch
  std::uint64_t packets = 0;
  std::size_t max_held = 0;
};

int on_packet(nfq_q_handle*, nfgenmsg*, nfq_data* data, void* arg) {
  auto* st = static_cast<State*>(arg);
  nfqnl_msg_packet_hdr* ph = nfq_get_msg_packet_hdr(data);
  if (ph == nullptr) return 0;
  st->held.push_back({ntohl(ph->packet_id), st->arrived_ns + st->delay_ns});
  ++st->packets;
  if (st->held.size() > st->max_held) st->max_held = st->held.size();
  return 0;
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: netem_delay -q QUEUE -d MILLISECONDS [-t SECONDS] [-r READY_FILE]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int queue = -1;
  double delay_ms = -1;
  double limit_s = 1200;
  const char* ready = nullptr;
  for (int opt; (opt = ::getopt(argc, argv, "q:d:t:r:")) != -1;) {
    switch (opt) {
      case 'q':
        queue = std::atoi(optarg);
        break;
      case 'd':
        delay_ms = std::atof(optarg);
        break;
      case 't':
        limit_s = std::atof(optarg);
        break;
      case 'r':
        ready = optarg;
        break;
      default:
        usage();
    }
  }
  if (queue < 0 || queue > 65535 || delay_ms < 0 || limit_s <= 0) usage();

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);

  State st;
  st.delay_ns = static_cast<std::int64_t>(delay_ms * 1e6);

  nfq_handle* h = nfq_open();
  if (h == nullptr) {
    std::perror("netem_delay: nfq_open");
    return 1;
  }
  nfq_q_handle* qh = nfq_create_queue(h, static_cast<std::uint16_t>(queue), on_packet, &st);
  if (qh == nullptr) {
    std::perror("netem_delay: nfq_create_queue");
    return 1;
  }
  if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) {
    std::perror("netem_delay: nfq_set_mode");
    return 1;
  }
  // Room for a scanner's burst: at 20 ms and 100k packets/s, 2000 are held at once.
  nfq_set_queue_maxlen(qh, 1 << 17);
  nfnl_rcvbufsiz(nfq_nfnlh(h), 16 << 20);
  int fd = nfq_fd(h);
  int one = 1;
  ::setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);

  if (ready != nullptr) {
    if (FILE* f = std::fopen(ready, "w")) {
      std::fputs("ready\n", f);
      std::fclose(f);
    }
  }

  const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(limit_s * 1e9);
  static char buf[1 << 16];
  std::uint64_t verdict_calls = 0, recv_errors = 0;
  while (!g_stop) {
    std::int64_t now = now_ns();
    if (now >= deadline) break;
    // Release everything due with one batch verdict (ids grow in arrival order).
    if (!st.held.empty() && st.held.front().release_ns <= now) {
      std::uint32_t last = 0;
      while (!st.held.empty() && st.held.front().release_ns <= now) {
        last = st.held.front().id;
        st.held.pop_front();
      }
      nfq_set_verdict_batch(qh, last, NF_ACCEPT);
      ++verdict_calls;
      continue;
    }
    std::int64_t wait = deadline - now;
    if (!st.held.empty()) wait = st.held.front().release_ns - now;
    timespec ts{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
    pollfd pfd{fd, POLLIN, 0};
    int n = ::ppoll(&pfd, 1, &ts, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("netem_delay: ppoll");
      break;
    }
    if (n == 0) continue;
    st.arrived_ns = now_ns();
    for (;;) {
      ssize_t got = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (got > 0) {
        nfq_handle_packet(h, buf, static_cast<int>(got));
        continue;
      }
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ++recv_errors;
      break;
    }
  }
  std::fprintf(stderr,
               "netem_delay: queue %d, %.3f ms: %llu packets delayed, at most %zu held at once, "
               "%llu batch verdicts, %llu receive errors, %zu still held at exit\n",
               queue, delay_ms, static_cast<unsigned long long>(st.packets), st.max_held,
               static_cast<unsigned long long>(verdict_calls),
               static_cast<unsigned long long>(recv_errors), st.held.size());
  nfq_destroy_queue(qh);
  nfq_close(h);
  return 0;
}
