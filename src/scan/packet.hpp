// Probe packets for the raw-socket scanner: building them, and parsing whatever a raw socket
// hands back. Internal to the scanner. Every byte that arrives from the network goes through
// the parse_* functions below before anything else looks at it, so they trust nothing: each
// length is checked before the bytes it covers are read, and anything that is not one of the
// answers listed under `Kind` comes back as std::nullopt.
//
// Pure functions: no state, no allocation, no system calls; callable from any thread. Fields
// are in host order; packets are in network order. Linux only: BSD raw sockets hand over the
// IPv4 header with ip_len and ip_off in host order, which parse_ipv4 would refuse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "sockit/ip_address.hpp"

namespace sockit::scan::packet {

// TCP header flags (byte 13). Parsed::flags is that whole byte, ECN bits included.
enum TcpFlag : std::uint8_t {
  kFin = 0x01,
  kSyn = 0x02,
  kRst = 0x04,
  kPsh = 0x08,
  kAck = 0x10,
  kUrg = 0x20,
  kEce = 0x40,
  kCwr = 0x80,
};

// The largest probe either builder writes: IPv4 header + TCP header + MSS option.
inline constexpr std::size_t kMaxProbeSize = 20 + 20 + 4;

struct TcpProbe {
  IpAddress source, destination;  // the same family
  std::uint16_t source_port = 0, destination_port = 0;
  std::uint32_t seq = 0, ack = 0;
  std::uint8_t flags = kSyn;
  std::uint16_t window = 1024;
  std::uint8_t ttl = 64;    // IPv4 only
  std::uint16_t ip_id = 0;  // IPv4 only
  bool mss_option = true;   // MSS 1460: some stacks ignore a SYN without options
};

// IPv4: a 20-byte IPv4 header (checksum filled, no options, DF clear) and the TCP header with
// its checksum: the whole datagram, for an IPPROTO_RAW socket. IPv6: the TCP header alone with
// checksum 0 (an AF_INET6 IPPROTO_TCP raw socket adds the IPv6 header and, with IPV6_CHECKSUM
// set to 16, fills the checksum in). Returns the bytes written: 0 if `out` is too small or the
// two addresses' families differ.
std::size_t build_tcp(const TcpProbe& probe, std::span<std::uint8_t> out) noexcept;

struct IcmpProbe {
  IpAddress source, destination;  // the same family
  // Echo: echo request (8 / ICMPv6 128) with 8 bytes of payload, `cookie` then 4 zero bytes.
  // Timestamp (IPv4 only): timestamp request (13) with `cookie` as the originate timestamp.
  enum class Type : std::uint8_t { Echo, Timestamp } type = Type::Echo;
  std::uint16_t id = 0, seq = 0;
  std::uint32_t cookie = 0;
  std::uint8_t ttl = 64;    // IPv4 only
  std::uint16_t ip_id = 0;  // IPv4 only
};

// IPv4: IPv4 header + ICMP message, both checksums filled. IPv6: the ICMPv6 echo request
// alone with checksum 0 (the kernel computes ICMPv6 checksums on raw sockets). Returns the
// bytes written: 0 if `out` is too small, the families differ, or Timestamp is asked of IPv6.
std::size_t build_icmp(const IcmpProbe& probe, std::span<std::uint8_t> out) noexcept;

// What a packet is. A TCP segment of any flags is Tcp (our own probes too, which a raw socket
// on the sending host also sees); ICMP requests, ours included, are not answers and parse as
// std::nullopt.
enum class Kind : std::uint8_t { Tcp, EchoReply, TimestampReply, Unreachable, TimeExceeded };

// The start of one of our packets, quoted back inside an ICMP error. The quoted IP header's
// checksum and length are not checked: routers may rewrite them (RFC 1812 5.3.1).
struct Quoted {
  // IPPROTO_* of what follows the quoted IP header(s): 6 TCP, 1 ICMP, 58 ICMPv6; 44 for a
  // later IPv6 fragment (the transport header is not in it). The fields below are filled for
  // TCP, and for the family's own ICMP (1 under IPv4, 58 under IPv6); otherwise they stay 0.
  std::uint8_t protocol = 0;
  IpAddress source, destination;
  std::uint16_t source_port = 0, destination_port = 0;  // TCP
  std::uint32_t seq = 0;                                // TCP
  std::uint8_t icmp_type = 0;                           // ICMP / ICMPv6
  std::uint16_t icmp_id = 0, icmp_seq = 0;              // ICMP / ICMPv6
};

struct Parsed {
  Kind kind = Kind::Tcp;
  IpAddress from, to;    // the packet's own source and destination
  std::uint8_t ttl = 0;  // IPv4 TTL; 0 for IPv6 (the socket does not see the hop limit)
  // Kind::Tcp
  std::uint16_t source_port = 0, destination_port = 0;
  std::uint32_t seq = 0, ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;
  // EchoReply, TimestampReply. `cookie`: the first 4 payload bytes of an echo reply (0 when
  // fewer came back), the originate timestamp of a timestamp reply.
  std::uint16_t id = 0, sequence = 0;
  std::uint32_t cookie = 0;
  // Unreachable, TimeExceeded: the ICMP / ICMPv6 type and code, and what they quote.
  std::uint8_t icmp_type = 0, icmp_code = 0;
  Quoted quoted{};
};

// A whole IPv4 datagram, as an AF_INET SOCK_RAW socket (IPPROTO_TCP or IPPROTO_ICMP) delivers
// it. Bytes past the header's total length are ignored.
std::optional<Parsed> parse_ipv4(std::span<const std::uint8_t> datagram) noexcept;

// A TCP segment as an AF_INET6 SOCK_RAW IPPROTO_TCP socket delivers it: no IPv6 header, the
// addresses come from recvmsg (both must be IPv6).
std::optional<Parsed> parse_tcp6(std::span<const std::uint8_t> segment, const IpAddress& from,
                                 const IpAddress& to) noexcept;

// An ICMPv6 message as an AF_INET6 SOCK_RAW IPPROTO_ICMPV6 socket delivers it: no IPv6
// header, the addresses come from recvmsg (both must be IPv6). Quoted addresses carry no
// scope id.
std::optional<Parsed> parse_icmp6(std::span<const std::uint8_t> message, const IpAddress& from,
                                  const IpAddress& to) noexcept;

}  // namespace sockit::scan::packet
