#include "scan/raw_engine.hpp"

#include <linux/filter.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <ctime>
#include <random>

#include "scan/packet.hpp"
#include "scan/scheduler.hpp"
#include "scan/siphash.hpp"
#include "sockit/endpoint.hpp"
#include "sys/sys.hpp"

namespace sockit::scan {

using Clock = EventLoop::Clock;

namespace {

constexpr unsigned kBatch = 64;                // packets per sendmmsg / recvmmsg
constexpr std::size_t kReceiveBytes = 256;     // what the filters let through of each packet
constexpr unsigned kBatchesPerWakeup = 16;     // bounded work per loop turn
constexpr unsigned kBatchesToEmpty = 1 << 14;  // more than a full receive buffer holds
constexpr int kReceiveBuffer = 32 << 20;       // replies to a burst must not overflow it
// Room for one SO_TIMESTAMPNS control message.
constexpr std::size_t kControlBytes = CMSG_SPACE(sizeof(timespec));

bool same_address(const IpAddress& a, const IpAddress& b) {
  return a.family() == b.family() && std::memcmp(a.bytes(), b.bytes(), a.size()) == 0;
}

// Classic BPF, relative jumps: `to` is the index of the target instruction.
sock_filter jump(std::uint16_t code, std::uint32_t k, int at, int to_true, int to_false) {
  return BPF_JUMP(code, k, static_cast<std::uint8_t>(to_true - at - 1),
                  static_cast<std::uint8_t>(to_false - at - 1));
}

// IPv4 TCP (the datagram starts at the IP header): not a fragment, to one of our ports,
// RST or SYN+ACK.
std::vector<sock_filter> tcp4_filter(std::uint16_t base) {
  constexpr int kDrop = 10, kAccept = 11;
  return {
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),                  // 0 flags + fragment offset
      jump(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 1, kDrop, 2),  // 1 a later fragment
      BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),                 // 2 x = IP header length
      BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),                  // 3 destination port
      jump(BPF_JMP | BPF_JGE | BPF_K, base, 4, 5, kDrop),     // 4
      jump(BPF_JMP | BPF_JGE | BPF_K, base + RawEngine::kSourcePorts, 5, kDrop, 6),  // 5
      BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13),                                        // 6 TCP flags
      jump(BPF_JMP | BPF_JSET | BPF_K, packet::kRst, 7, kAccept, 8),                 // 7
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, packet::kSyn | packet::kAck),              // 8
      jump(BPF_JMP | BPF_JEQ | BPF_K, packet::kSyn | packet::kAck, 9, kAccept, kDrop),  // 9
      BPF_STMT(BPF_RET | BPF_K, 0),                                                     // 10 drop
      BPF_STMT(BPF_RET | BPF_K, kReceiveBytes),                                         // 11 accept
  };
}

// IPv6 TCP (the segment alone): to one of our ports, RST or SYN+ACK.
std::vector<sock_filter> tcp6_filter(std::uint16_t base) {
  constexpr int kDrop = 7, kAccept = 8;
  return {
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 2),
      jump(BPF_JMP | BPF_JGE | BPF_K, base, 1, 2, kDrop),
      jump(BPF_JMP | BPF_JGE | BPF_K, base + RawEngine::kSourcePorts, 2, kDrop, 3),
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
      jump(BPF_JMP | BPF_JSET | BPF_K, packet::kRst, 4, kAccept, 5),
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, packet::kSyn | packet::kAck),
      jump(BPF_JMP | BPF_JEQ | BPF_K, packet::kSyn | packet::kAck, 6, kAccept, kDrop),
      BPF_STMT(BPF_RET | BPF_K, 0),
      BPF_STMT(BPF_RET | BPF_K, kReceiveBytes),
  };
}

// IPv4 ICMP: unreachable and time exceeded (errors quoting a probe), echo and timestamp
// replies. Everything else (other hosts' pings, redirects…) stays in the kernel.
std::vector<sock_filter> icmp4_filter() {
  constexpr int kDrop = 8, kAccept = 9;
  return {
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
      jump(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 1, kDrop, 2),
      BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
      BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),  // ICMP type
      jump(BPF_JMP | BPF_JEQ | BPF_K, 3, 4, kAccept, 5),
      jump(BPF_JMP | BPF_JEQ | BPF_K, 11, 5, kAccept, 6),
      jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 6, kAccept, 7),
      jump(BPF_JMP | BPF_JEQ | BPF_K, 14, 7, kAccept, kDrop),
      BPF_STMT(BPF_RET | BPF_K, 0),
      BPF_STMT(BPF_RET | BPF_K, kReceiveBytes),
  };
}

Result<void> attach(int fd, std::vector<sock_filter> code, const char* what) {
  sock_fprog prog{static_cast<unsigned short>(code.size()), code.data()};
  if (sys::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
    return Error::from_errno(std::string("attach filter to ") + what);
  // Whatever arrived before the filter was in place is not for us.
  std::array<char, 64> sink;
  while (sys::recv(fd, sink.data(), sink.size(), MSG_DONTWAIT) >= 0) {
  }
  return {};
}

// A receive socket: a queue deep enough for the replies to a burst, and the kernel's arrival
// time on each packet, so a round trip is the network's and not how long the packet then
// waited for us (a scanner that measured its own backlog would widen its timeouts to fit).
void prepare_receiver(int fd) {
  int size = kReceiveBuffer;
  if (sys::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    sys::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);  // up to rmem_max
  int on = 1;
  sys::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
}

// When a packet reached the socket, on the loop's clock: SO_TIMESTAMPNS stamps it with the
// wall clock, so take how long ago that was and go back as far from `steady_now`.
Clock::time_point arrival(const msghdr& header, Clock::time_point steady_now,
                          const timespec& wall_now) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&header), c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_TIMESTAMPNS) continue;
    timespec stamp;
    std::memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
    const auto waited = std::chrono::seconds(wall_now.tv_sec - stamp.tv_sec) +
                        std::chrono::nanoseconds(wall_now.tv_nsec - stamp.tv_nsec);
    if (waited <= Clock::duration(0) || waited > std::chrono::seconds(10)) return steady_now;
    return steady_now - std::chrono::duration_cast<Clock::duration>(waited);
  }
  return steady_now;
}

Result<UniqueFd> raw_socket(int family, int protocol, const char* what) {
  int fd = sys::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return Error::from_errno(std::string("raw socket (") + what + ")");
  return UniqueFd(fd);
}

}  // namespace

// The route's source address for recent destinations (a direct-mapped cache: a host's
// ports and retries ask again and again).
struct RawEngine::RouteCache {
  static constexpr std::size_t kSize = 4096;
  struct Entry {
    IpAddress destination, source;
    bool valid = false;
  };
  std::array<Entry, kSize> entries;
  Entry& at(const IpAddress& a) { return entries[hash_value(a) % kSize]; }
};

// Up to kBatch packets waiting for one sendmmsg.
class RawEngine::Batch {
 public:
  std::uint8_t* next(sockaddr_storage*& to, int fd) {
    fd_ = fd;
    to = &to_[count_];
    return buffers_[count_].data();
  }
  void commit(std::size_t length, socklen_t to_length) {
    iov_[count_] = {buffers_[count_].data(), length};
    std::memset(&messages_[count_], 0, sizeof messages_[count_]);
    messages_[count_].msg_hdr.msg_name = &to_[count_];
    messages_[count_].msg_hdr.msg_namelen = to_length;
    messages_[count_].msg_hdr.msg_iov = &iov_[count_];
    messages_[count_].msg_hdr.msg_iovlen = 1;
    ++count_;
  }
  bool full() const { return count_ == kBatch; }
  // Sends what is queued. A packet the kernel won't take now (ENOBUFS, EAGAIN: a full
  // device queue) is dropped: to the scheduler it is a lost probe, retried like any other.
  void send() {
    unsigned sent = 0;
    for (int tries = 0; sent < count_ && tries < 4; ++tries) {
      int n = sys::sendmmsg(fd_, messages_.data() + sent, count_ - sent, 0);
      if (n > 0) {
        sent += static_cast<unsigned>(n);
        tries = 0;
        continue;
      }
      if (n < 0 && errno != ENOBUFS && errno != EAGAIN) ++sent;  // skip a packet it refuses
    }
    count_ = 0;
  }

 private:
  std::array<std::array<std::uint8_t, packet::kMaxProbeSize>, kBatch> buffers_;
  std::array<sockaddr_storage, kBatch> to_;
  std::array<iovec, kBatch> iov_;
  std::array<mmsghdr, kBatch> messages_;
  unsigned count_ = 0;
  int fd_ = -1;
};

RawEngine::RawEngine(bool drop_capabilities)
    : routes_(std::make_unique<RouteCache>()),
      batch4_(std::make_unique<Batch>()),
      batch6_(std::make_unique<Batch>()),
      batch6i_(std::make_unique<Batch>()),
      drop_capabilities_(drop_capabilities) {}

RawEngine::~RawEngine() {
  close();
}

Result<void> RawEngine::open(EventLoop& loop, EngineEvents& events, std::uint32_t capacity) {
  loop_ = &loop;
  events_ = &events;
  slots_.assign(capacity, Slot{});
  if (getrandom(&key0_, sizeof key0_, 0) != sizeof key0_ ||
      getrandom(&key1_, sizeof key1_, 0) != sizeof key1_) {
    std::random_device rd;
    key0_ = (std::uint64_t{rd()} << 32) | rd();
    key1_ = (std::uint64_t{rd()} << 32) | rd();
  }

  // The send socket first: it is the one that says whether we may (EPERM without
  // CAP_NET_RAW).
  auto send4 = raw_socket(AF_INET, IPPROTO_RAW, "IPv4 send");
  if (!send4) return std::move(send4).error();
  send4_ = std::move(*send4);
  if (auto r = reserve_ports(); !r) return r;

  auto tcp4 = raw_socket(AF_INET, IPPROTO_TCP, "IPv4 TCP");
  if (!tcp4) return std::move(tcp4).error();
  tcp4_ = std::move(*tcp4);
  auto icmp4 = raw_socket(AF_INET, IPPROTO_ICMP, "ICMP");
  if (!icmp4) return std::move(icmp4).error();
  icmp4_ = std::move(*icmp4);
  // ICMP too: host discovery's echo and timestamp replies come in as fast as the TCP ones.
  prepare_receiver(tcp4_.get());
  prepare_receiver(icmp4_.get());
  if (auto r = attach(tcp4_.get(), tcp4_filter(base_port_), "IPv4 TCP"); !r) return r;
  if (auto r = attach(icmp4_.get(), icmp4_filter(), "ICMP"); !r) return r;

  // IPv6 is optional: a machine without it scans IPv4 only.
  if (auto tcp6 = raw_socket(AF_INET6, IPPROTO_TCP, "IPv6 TCP")) {
    tcp6_ = std::move(*tcp6);
    int offset = 16;  // the kernel fills the TCP checksum in, pseudo-header included
    sys::setsockopt(tcp6_.get(), IPPROTO_IPV6, IPV6_CHECKSUM, &offset, sizeof offset);
    prepare_receiver(tcp6_.get());
    if (auto r = attach(tcp6_.get(), tcp6_filter(base_port_), "IPv6 TCP"); !r) return r;
    if (auto icmp6 = raw_socket(AF_INET6, IPPROTO_ICMPV6, "ICMPv6")) {
      icmp6_ = std::move(*icmp6);
      prepare_receiver(icmp6_.get());
      icmp6_filter filter;
      ICMP6_FILTER_SETBLOCKALL(&filter);
      ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &filter);
      ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &filter);
      ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
      sys::setsockopt(icmp6_.get(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
    }
  }

  int route4 = sys::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (route4 < 0) return Error::from_errno("socket (route lookup)");
  route4_ = UniqueFd(route4);

  struct Receiver {
    const UniqueFd* fd;
    Source source;
  };
  for (Receiver r : {Receiver{&tcp4_, Source::V4}, Receiver{&icmp4_, Source::V4},
                     Receiver{&tcp6_, Source::Tcp6}, Receiver{&icmp6_, Source::Icmp6}}) {
    if (!*r.fd) continue;
    const int fd = r.fd->get();
    const Source source = r.source;
    auto watch =
        loop.watch(fd, kReadable, [this, fd, source](std::uint32_t) { on_readable(fd, source); });
    if (!watch) return std::move(watch).error();
    watches_.push_back(std::move(*watch));
  }
  // Every socket we need is open: from here on nothing needs a privilege, and a bug in
  // packet handling must not come with one.
  if (drop_capabilities_) {
    if (int err = sys::drop_capabilities(); err != 0)
      return Error::from_errno(err, "give up capabilities");
  }
  return {};
}

// 16 consecutive ports, bound (not listening) for as long as the scan runs.
Result<void> RawEngine::reserve_ports() {
  std::random_device rd;
  for (int attempt = 0; attempt < 32; ++attempt) {
    const auto base = static_cast<std::uint16_t>(20000 + (rd() % 640) * kSourcePorts);
    std::vector<UniqueFd> held;
    for (unsigned i = 0; i < kSourcePorts; ++i) {
      // An IPv6 socket that also takes IPv4 holds the port in both families.
      int fd = sys::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
      bool v6 = fd >= 0;
      if (v6) {
        int off = 0;
        sys::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
      } else {
        fd = sys::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return Error::from_errno("socket (source port)");
      }
      UniqueFd owned(fd);
      const Endpoint at(v6 ? IpAddress::v6_any() : IpAddress::v4_any(),
                        static_cast<std::uint16_t>(base + i));
      if (sys::bind(fd, at.data(), at.size()) < 0) break;
      held.push_back(std::move(owned));
    }
    if (held.size() == kSourcePorts) {
      reserved_ = std::move(held);
      base_port_ = base;
      return {};
    }
  }
  return Error(std::make_error_code(std::errc::address_in_use), "reserve source ports");
}

std::uint32_t RawEngine::cookie(const IpAddress& address, std::uint16_t port,
                                std::uint16_t source_port) const {
  std::array<std::uint8_t, 20> input{};
  std::memcpy(input.data(), address.bytes(), address.size());
  input[16] = static_cast<std::uint8_t>(port >> 8);
  input[17] = static_cast<std::uint8_t>(port);
  input[18] = static_cast<std::uint8_t>(source_port >> 8);
  input[19] = static_cast<std::uint8_t>(source_port);
  return static_cast<std::uint32_t>(siphash24(key0_, key1_, input.data(), input.size()));
}

// The source address of the route to `destination`, as the kernel would pick it.
Result<IpAddress> RawEngine::source_for(const IpAddress& destination) {
  RouteCache::Entry& e = routes_->at(destination);
  if (e.valid && e.destination == destination) return e.source;
  const Endpoint to(destination, 9);
  if (sys::connect(route4_.get(), to.data(), to.size()) < 0)
    return Error::from_errno("route to " + destination.to_string());
  sockaddr_storage local;
  socklen_t len = sizeof local;
  if (sys::getsockname(route4_.get(), reinterpret_cast<sockaddr*>(&local), &len) < 0)
    return Error::from_errno("getsockname");
  auto source = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&local), len);
  if (!source) return std::move(source).error();
  e = {destination, source->address(), true};
  return e.source;
}

bool RawEngine::permitted() {
  int fd = sys::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0) return false;
  sys::close(fd);
  return true;
}

StartStatus RawEngine::start(const Probe& probe) {
  const bool v6 = probe.address.is_v6();
  if (v6 && !tcp6_) {
    error_ =
        Error(std::make_error_code(std::errc::address_family_not_supported), "IPv6 raw socket");
    return StartStatus::Failed;
  }
  Slot& slot = slots_[slot_of(probe.id)];
  slot = {probe.address, probe.id, probe.port, probe.kind, true};
  bool sent;
  switch (probe.kind) {
    case ProbeKind::TcpSyn:
    case ProbeKind::TcpAck:
      sent = start_tcp(probe, slot);
      break;
    case ProbeKind::IcmpEcho:
    case ProbeKind::IcmpTimestamp:
      sent = start_icmp(probe);
      break;
    default:
      slot.live = false;
      error_ = Error(std::make_error_code(std::errc::operation_not_supported), "raw probe");
      return StartStatus::Failed;
  }
  if (!sent) {
    slot.live = false;
    return StartStatus::Failed;
  }
  return StartStatus::Started;
}

bool RawEngine::start_tcp(const Probe& probe, Slot& slot) {
  const bool v6 = probe.address.is_v6();
  packet::TcpProbe tcp;
  tcp.destination = probe.address;
  if (!v6) {
    auto source = source_for(probe.address);
    if (!source) {  // no route: the probe is answered here and now
      match(
          probe.id, probe.address, probe.port, [](ProbeKind) { return Answer::Unreachable; },
          false);
      return true;
    }
    tcp.source = *source;
  } else {
    tcp.source = IpAddress::v6_any();  // the kernel picks it, and the checksum with it
  }
  tcp.source_port =
      static_cast<std::uint16_t>(base_port_ + std::min<unsigned>(probe.attempt, kSourcePorts - 1));
  tcp.destination_port = probe.port;
  const std::uint32_t hash = cookie(probe.address, probe.port, tcp.source_port) ^ probe.id;
  if (slot.kind == ProbeKind::TcpAck) {
    tcp.flags = packet::kAck;
    tcp.ack = hash;
    tcp.seq = hash ^ 0x5a5a5a5au;
    tcp.mss_option = false;
  } else {
    tcp.flags = packet::kSyn;
    tcp.seq = hash;
  }
  tcp.ip_id = static_cast<std::uint16_t>(probe.id);
  queue(v6 ? *batch6_ : *batch4_, v6 ? tcp6_.get() : send4_.get(), probe.address,
        v6 ? 0 : probe.port,
        [&](std::span<std::uint8_t> out) { return packet::build_tcp(tcp, out); });
  return true;
}

bool RawEngine::start_icmp(const Probe& probe) {
  const bool v6 = probe.address.is_v6();
  packet::IcmpProbe icmp;
  icmp.destination = probe.address;
  if (!v6) {
    auto source = source_for(probe.address);
    if (!source) {
      match(
          probe.id, probe.address, 0, [](ProbeKind) { return Answer::Unreachable; }, false);
      return true;
    }
    icmp.source = *source;
  } else {
    if (!icmp6_ || probe.kind != ProbeKind::IcmpEcho) {
      error_ = Error(std::make_error_code(std::errc::operation_not_supported), "ICMPv6 probe");
      return false;
    }
    icmp.source = IpAddress::v6_any();
  }
  icmp.type = probe.kind == ProbeKind::IcmpEcho ? packet::IcmpProbe::Type::Echo
                                                : packet::IcmpProbe::Type::Timestamp;
  icmp.id = static_cast<std::uint16_t>(key0_);
  icmp.seq = static_cast<std::uint16_t>(probe.id);
  icmp.cookie = icmp_cookie(probe.address, probe.kind) ^ probe.id;
  icmp.ip_id = static_cast<std::uint16_t>(probe.id);
  queue(v6 ? *batch6i_ : *batch4_, v6 ? icmp6_.get() : send4_.get(), probe.address, 0,
        [&](std::span<std::uint8_t> out) { return packet::build_icmp(icmp, out); });
  return true;
}

// Builds a packet into `batch` for `to`, sending the batch through `fd` when it is full.
template <class Build>
void RawEngine::queue(Batch& batch, int fd, const IpAddress& to, std::uint16_t port,
                      Build&& build) {
  sockaddr_storage* address;
  std::uint8_t* buffer = batch.next(address, fd);
  const std::size_t length = build(std::span<std::uint8_t>(buffer, packet::kMaxProbeSize));
  // A raw IPv6 socket reads the port field as the protocol: it must be 0.
  const Endpoint destination(to, port);
  std::memcpy(address, destination.data(), destination.size());
  batch.commit(length, destination.size());
  if (batch.full()) batch.send();
}

void RawEngine::flush() {
  batch4_->send();
  batch6_->send();
  batch6i_->send();
}

void RawEngine::expire(std::uint32_t id) {
  Slot& slot = slots_[slot_of(id)];
  if (!slot.live || slot.id != id) return;
  slot.live = false;
  events_->lost(id);
}

void RawEngine::cancel(std::uint32_t id) {
  Slot& slot = slots_[slot_of(id)];
  if (slot.id == id) slot.live = false;
}

// Before timeouts are called: everything already queued is an answer, however much that is
// (the queues are bounded by their buffers).
void RawEngine::poll() {
  if (closed_) return;
  if (tcp4_) drain(tcp4_.get(), Source::V4, kBatchesToEmpty);
  if (icmp4_) drain(icmp4_.get(), Source::V4, kBatchesToEmpty);
  if (tcp6_) drain(tcp6_.get(), Source::Tcp6, kBatchesToEmpty);
  if (icmp6_) drain(icmp6_.get(), Source::Icmp6, kBatchesToEmpty);
}

void RawEngine::close() {
  if (closed_) return;
  closed_ = true;
  watches_.clear();
  for (Slot& s : slots_)
    s.live = false;
  reserved_.clear();
}

void RawEngine::on_readable(int fd, Source source) {
  if (drain(fd, source, kBatchesPerWakeup) > 0) events_->replies_done();
}

// Reads and handles up to `max_batches` batches of packets; returns how many packets.
unsigned RawEngine::drain(int fd, Source source, unsigned max_batches) {
  std::array<std::array<std::uint8_t, kReceiveBytes>, kBatch> buffers;
  std::array<sockaddr_in6, kBatch> from;
  std::array<iovec, kBatch> iov;
  std::array<mmsghdr, kBatch> messages;
  alignas(cmsghdr) std::array<std::array<std::uint8_t, kControlBytes>, kBatch> control;
  unsigned handled = 0;
  for (unsigned b = 0; b < max_batches; ++b) {
    for (unsigned i = 0; i < kBatch; ++i) {
      iov[i] = {buffers[i].data(), buffers[i].size()};
      std::memset(&messages[i], 0, sizeof messages[i]);
      messages[i].msg_hdr.msg_name = &from[i];
      messages[i].msg_hdr.msg_namelen = sizeof from[i];
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
      messages[i].msg_hdr.msg_control = control[i].data();
      messages[i].msg_hdr.msg_controllen = control[i].size();
    }
    int n = sys::recvmmsg(fd, messages.data(), kBatch, MSG_DONTWAIT);
    if (n <= 0) break;
    const Clock::time_point steady_now = Clock::now();
    timespec wall_now;
    clock_gettime(CLOCK_REALTIME, &wall_now);
    for (int i = 0; i < n; ++i) {
      received_at_ = arrival(messages[i].msg_hdr, steady_now, wall_now);
      IpAddress sender;
      if (source != Source::V4) {
        auto e = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&from[i]),
                                         messages[i].msg_hdr.msg_namelen);
        if (!e) continue;
        sender = e->address();
      }
      const std::size_t size = std::min<std::size_t>(messages[i].msg_len, kReceiveBytes);
      handle(buffers[i].data(), size, source, sender);
    }
    handled += static_cast<unsigned>(n);
    if (static_cast<unsigned>(n) < kBatch) break;
  }
  return handled;
}

// One packet that passed a filter: parse it (every byte from the network goes through
// packet::parse_*), then see whether it answers a probe of ours.
void RawEngine::handle(const std::uint8_t* data, std::size_t size, Source source,
                       const IpAddress& sender) {
  const std::span<const std::uint8_t> bytes(data, size);
  std::optional<packet::Parsed> p;
  switch (source) {
    case Source::V4:
      p = packet::parse_ipv4(bytes);
      break;
    case Source::Tcp6:
      p = packet::parse_tcp6(bytes, sender, IpAddress::v6_any());
      break;
    case Source::Icmp6:
      p = packet::parse_icmp6(bytes, sender, IpAddress::v6_any());
      break;
  }
  if (!p) return;
  const auto ours = [this](std::uint16_t port) {
    return port >= base_port_ && port < base_port_ + kSourcePorts;
  };
  if (p->kind == packet::Kind::Tcp) {
    if (!ours(p->destination_port)) return;
    const std::uint32_t hash = cookie(p->from, p->source_port, p->destination_port);
    if (p->flags & packet::kRst) {
      // To a SYN: acknowledges our sequence number + 1. To an ACK: carries our
      // acknowledgement number as its sequence number.
      if (match((p->ack - 1) ^ hash, p->from, p->source_port,
                [](ProbeKind k) { return k == ProbeKind::TcpSyn ? Answer::Closed : Answer::Alive; },
                true)) {
        return;
      }
      match(
          p->seq ^ hash, p->from, p->source_port,
          [](ProbeKind k) { return k == ProbeKind::TcpAck ? Answer::Alive : Answer::Closed; },
          true);
      return;
    }
    if ((p->flags & (packet::kSyn | packet::kAck)) == (packet::kSyn | packet::kAck)) {
      match((p->ack - 1) ^ hash, p->from, p->source_port, [](ProbeKind) { return Answer::Open; },
            true);
    }
    return;
  }
  if (p->kind == packet::Kind::EchoReply || p->kind == packet::Kind::TimestampReply) {
    if (p->id != static_cast<std::uint16_t>(key0_)) return;
    const ProbeKind kind =
        p->kind == packet::Kind::EchoReply ? ProbeKind::IcmpEcho : ProbeKind::IcmpTimestamp;
    match(
        p->cookie ^ icmp_cookie(p->from, kind), p->from, 0,
        [kind](ProbeKind k) { return k == kind ? Answer::Alive : Answer::Unreachable; }, true);
    return;
  }
  if (p->kind == packet::Kind::Unreachable || p->kind == packet::Kind::TimeExceeded) {
    const packet::Quoted& q = p->quoted;
    if (q.protocol != IPPROTO_TCP || !ours(q.source_port)) return;
    const std::uint32_t hash = cookie(q.destination, q.destination_port, q.source_port);
    const auto unreachable = [](ProbeKind) { return Answer::Unreachable; };
    const bool from_target = same_address(p->from, q.destination);
    if (!match(q.seq ^ hash, q.destination, q.destination_port, unreachable, from_target)) {
      match(q.seq ^ 0x5a5a5a5au ^ hash, q.destination, q.destination_port, unreachable,
            from_target);  // an ACK probe's sequence number
    }
  }
}

template <class AnswerOf>
bool RawEngine::match(std::uint32_t id, const IpAddress& address, std::uint16_t port,
                      AnswerOf answer_of, bool from_target) {
  const std::uint32_t index = slot_of(id);
  if (index >= slots_.size()) return false;
  Slot& slot = slots_[index];
  // The id came out of a keyed hash: only a reply to this very probe gives a live slot
  // holding exactly this id, address and port.
  if (!slot.live || slot.id != id || slot.port != port || !same_address(slot.address, address))
    return false;
  const Answer answer = answer_of(slot.kind);
  slot.live = false;
  events_->answered(Reply{id, answer, received_at_, {}, from_target});
  return true;
}

std::uint32_t RawEngine::icmp_cookie(const IpAddress& address, ProbeKind kind) const {
  std::array<std::uint8_t, 17> input{};
  std::memcpy(input.data(), address.bytes(), address.size());
  input[16] = static_cast<std::uint8_t>(kind);
  return static_cast<std::uint32_t>(siphash24(key1_, key0_, input.data(), input.size()));
}

}  // namespace sockit::scan
