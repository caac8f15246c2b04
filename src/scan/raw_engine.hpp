// RawEngine: probes as packets of our own through raw sockets — TCP SYN (nmap's -sS), and
// for host discovery TCP ACK, ICMP echo (ICMPv6 echo) and ICMP timestamp.
// Needs CAP_NET_RAW; open() fails with EPERM without it.
//
// Stateless matching, as masscan and zmap do: a probe's sequence number is a keyed hash
// (SipHash-2-4 with a key drawn per scan) of the target address, the target port and our
// source port, XOR the scheduler's probe id. A reply's acknowledgement (or the sequence
// number quoted in an ICMP error) gives the id back; the id's slot must hold a live probe to
// exactly that address and port, so a stray or forged packet — which cannot know the key —
// is dropped. The per-slot table is the retry bookkeeping and nothing more.
//
// Sockets: IPv4 probes go out whole (IP header ours) on an IPPROTO_RAW socket, from the
// source address of the route to each target (a connected UDP socket tells it: the kernel's
// own route lookup), so they leave by that route's interface and no other. Replies come in
// on IPPROTO_TCP and IPPROTO_ICMP raw sockets behind kernel (BPF) filters that pass only TCP
// segments to our source ports carrying RST or SYN+ACK, and ICMP errors; IPv6 likewise with
// IPV6_CHECKSUM and ICMP6_FILTER. Sends go in batches through sendmmsg, replies in batches
// through recvmmsg. Source ports are reserved for the scan by binding TCP sockets to them, so
// no connection of the machine's can be given one; our kernel, having no connection there,
// answers each SYN-ACK with a RST, which frees the target's half-open connection (as with
// nmap -sS). The attempt number is the source port's offset, so an answer names its try.
// An ACK probe carries the hash in its acknowledgement number (the RST that answers it
// returns it as its sequence number); an ICMP echo or timestamp request carries it in its
// payload or originate timestamp, which the reply echoes.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "scan/engine.hpp"
#include "sockit/unique_fd.hpp"

struct mmsghdr;

namespace sockit::scan {

class RawEngine final : public Engine {
 public:
  // `drop_capabilities`: give up every capability once the sockets are open (see open()).
  explicit RawEngine(bool drop_capabilities);
  ~RawEngine() override;

  // Opens the sockets: needs CAP_NET_RAW (EPERM otherwise). Call before dropping it.
  Result<void> open(EventLoop& loop, EngineEvents& events, std::uint32_t capacity) override;
  StartStatus start(const Probe& probe) override;
  void flush() override;
  void expire(std::uint32_t id) override;
  void cancel(std::uint32_t id) override;
  void poll() override;
  void close() override;
  Error error() const override { return error_; }

  static constexpr unsigned kSourcePorts = 16;  // attempts beyond 15 reuse the last

  // Permitted to open raw sockets (CAP_NET_RAW)?
  static bool permitted();

 private:
  struct Slot {
    IpAddress address;
    std::uint32_t id = 0;
    std::uint16_t port = 0;
    ProbeKind kind = ProbeKind::TcpSyn;
    bool live = false;
  };
  struct RouteCache;
  class Batch;

  std::uint32_t cookie(const IpAddress& address, std::uint16_t port,
                       std::uint16_t source_port) const;
  std::uint32_t icmp_cookie(const IpAddress& address, ProbeKind kind) const;
  bool start_tcp(const Probe& probe, Slot& slot);
  bool start_icmp(const Probe& probe);
  Result<IpAddress> source_for(const IpAddress& destination);
  enum class Source : std::uint8_t { V4, Tcp6, Icmp6 };  // which socket a packet came from
  void on_readable(int fd, Source source);
  unsigned drain(int fd, Source source, unsigned max_batches);
  void handle(const std::uint8_t* data, std::size_t size, Source source, const IpAddress& sender);
  // Reports the answer if `id` is a live probe to exactly `address` and `port`; `answer` of
  // the probe's kind. True if it was.
  template <class AnswerOf>
  bool match(std::uint32_t id, const IpAddress& address, std::uint16_t port, AnswerOf answer_of,
             bool from_target);
  Result<void> reserve_ports();
  template <class Build>
  void queue(Batch& batch, int fd, const IpAddress& to, std::uint16_t port, Build&& build);

  EventLoop* loop_ = nullptr;
  EngineEvents* events_ = nullptr;
  std::vector<Slot> slots_;
  std::uint64_t key0_ = 0, key1_ = 0;
  std::uint16_t base_port_ = 0;
  std::vector<UniqueFd> reserved_;  // bound TCP sockets holding our source ports
  UniqueFd send4_, tcp4_, icmp4_, tcp6_, icmp6_;
  UniqueFd route4_, route6_;  // connected UDP sockets: the kernel's route lookup
  std::vector<Watch> watches_;
  std::unique_ptr<RouteCache> routes_;
  std::unique_ptr<Batch> batch4_, batch6_, batch6i_;  // IPv4, TCP over IPv6, ICMPv6
  EventLoop::Clock::time_point received_at_;
  Error error_;
  bool drop_capabilities_;
  bool closed_ = false;
};

}  // namespace sockit::scan
