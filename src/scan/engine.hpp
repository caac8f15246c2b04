// The seam between the probe scheduler and the engines that put probes on the wire.
//
// The scheduler (scheduler.hpp) decides which probe goes next, when, and what an answer or
// a silence means; an engine knows sockets or packets and nothing else. An engine:
//  - takes probes with start(), and may queue them until flush() (one sendmmsg a batch);
//  - reports each answer it matches with EngineEvents::answered(), then replies_done() once
//    per batch, so the scheduler refills the window once per batch and not once per reply;
//  - on expire(id), decides whether an answer is already in (the reply can sit in a socket
//    buffer while the timer fires) and reports answered() or lost() for it;
//  - on cancel(id), forgets a probe without reporting anything.
// Everything runs on the scheduler's loop thread; an engine that uses threads of its own
// (the connect engine's lanes) hands results back through a mailbox.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "sockit/event_loop.hpp"
#include "sockit/ip_address.hpp"
#include "sockit/result.hpp"

namespace sockit::scan {

// What a probe is. TcpConnect needs no privilege; the others need a raw socket.
enum class ProbeKind : std::uint8_t {
  TcpConnect,     // connect(): open = connected, closed = refused
  TcpSyn,         // SYN: SYN-ACK = open, RST = closed
  TcpAck,         // ACK (host discovery): RST = the host is up
  IcmpEcho,       // echo request (ICMPv6 echo for IPv6)
  IcmpTimestamp,  // timestamp request (IPv4 only)
};

struct Probe {
  std::uint32_t id;  // the scheduler's handle; echoed in every report about this probe
  IpAddress address;
  std::uint16_t port;    // TCP port; 0 for ICMP
  std::uint8_t attempt;  // 0 for the first try
  ProbeKind kind;
};

enum class Answer : std::uint8_t {
  Open,         // connected, or SYN-ACK
  Closed,       // refused, or RST
  Unreachable,  // an ICMP unreachable (from a router, or the host itself)
  Alive,        // echo or timestamp reply, or RST to an ACK probe: the host is up
};

struct Reply {
  std::uint32_t id;
  Answer answer;
  EventLoop::Clock::time_point at;  // when the answer arrived (for the RTT)
  std::string_view banner;          // connect engine with banners: what the service sent first
  bool from_target = true;          // Unreachable: sent by the target itself, not a router
};

enum class StartStatus : std::uint8_t {
  Started,
  NoDescriptors,  // EMFILE/ENFILE/ENOBUFS: fewer at once, then try again
  NoPorts,        // EADDRNOTAVAIL: local ports in TIME_WAIT; back off briefly
  Failed,         // a fault no retry fixes: the scan stops with the engine's error
};

// How an engine reports to the scheduler (on the scheduler's thread).
class EngineEvents {
 public:
  virtual void answered(const Reply& reply) = 0;
  virtual void lost(std::uint32_t id) = 0;  // after expire(): no answer came
  virtual void replies_done() = 0;          // a batch of answered()/lost() calls ended
  virtual void failed(Error error) = 0;     // the engine can't go on

 protected:
  ~EngineEvents() = default;
};

class Engine {
 public:
  virtual ~Engine() = default;

  // Called once, on the scheduler's thread, before the first probe. `capacity` is the
  // most probes the scheduler will have in flight; ids are below 2^32 and their low bits
  // (id % capacity) are unique among live probes.
  virtual Result<void> open(EventLoop& loop, EngineEvents& events, std::uint32_t capacity) = 0;
  virtual StartStatus start(const Probe& probe) = 0;
  virtual void flush() {}
  virtual void expire(std::uint32_t id) = 0;
  virtual void cancel(std::uint32_t id) = 0;
  // Before timeouts are judged: take in the answers already received.
  virtual void poll() {}
  // Stops everything in flight (the scan ended or was interrupted); nothing more is reported.
  virtual void close() = 0;
  // Probes this engine could keep in flight at once; 0 means no limit of its own.
  virtual std::uint32_t max_in_flight() const { return 0; }
  // The last error behind StartStatus::Failed.
  virtual Error error() const { return Error(std::error_code(), "engine"); }
};

}  // namespace sockit::scan
