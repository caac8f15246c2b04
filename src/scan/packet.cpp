// Probe packets out, raw-socket packets in. Layouts: IPv4 RFC 791, TCP RFC 9293, ICMP RFC 792
// (timestamp: type 13/14), IPv6 RFC 8200, ICMPv6 RFC 4443. Every read below sits behind a
// length check on the span it reads from; the parsers never look past what they were given.
//
// Transport checksums (TCP, ICMP) are deliberately not verified on input: on loopback and
// veth the kernel hands raw sockets packets whose transport checksum is only partial
// (CHECKSUM_PARTIAL: the sender's checksum offload never ran), so a check would drop real
// answers. The IPv4 header checksum is always computed in software and is checked. What
// really tells our answers from forgeries is the keyed sequence number (siphash.hpp).
#include "scan/packet.hpp"

#include <array>
#include <cstring>

namespace sockit::scan::packet {
namespace {

using Bytes = std::span<const std::uint8_t>;

constexpr std::size_t kIpv4Header = 20;  // without options
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kTcpHeader = 20;  // without options
constexpr std::size_t kMssOption = 4;
constexpr std::size_t kIcmpHeader = 8;  // type, code, checksum, and 4 bytes that depend on type
constexpr std::size_t kEchoPayload = 8;
constexpr std::size_t kTimestampMessage = 20;
constexpr std::uint16_t kMss = 1460;
constexpr std::uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoFragment = 44, kProtoIcmp6 = 58;
constexpr std::uint8_t kIcmpEchoReply = 0, kIcmpUnreachable = 3, kIcmpEcho = 8,
                       kIcmpTimeExceeded = 11, kIcmpTimestamp = 13, kIcmpTimestampReply = 14;
constexpr std::uint8_t kIcmp6Unreachable = 1, kIcmp6TimeExceeded = 3, kIcmp6Echo = 128,
                       kIcmp6EchoReply = 129;
// More extension headers than this before the transport header in a quote: give up. Bounds
// the work per packet; a quote of one of our own probes has none.
constexpr int kMaxExtensionHeaders = 8;

std::uint16_t load16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
std::uint32_t load32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
void store16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void store32(std::uint8_t* p, std::uint32_t v) noexcept {
  store16(p, static_cast<std::uint16_t>(v >> 16));
  store16(p + 2, static_cast<std::uint16_t>(v));
}

IpAddress load_v4(const std::uint8_t* p) noexcept {
  return IpAddress::v4({p[0], p[1], p[2], p[3]});
}
IpAddress load_v6(const std::uint8_t* p) noexcept {
  std::array<std::uint8_t, 16> bytes;
  std::memcpy(bytes.data(), p, bytes.size());
  return IpAddress::v6(bytes);
}

// RFC 1071: the one's-complement sum of big-endian 16-bit words, an odd last byte padded with
// a zero. Callers sum at most a few hundred bytes, far from overflowing 32 bits.
std::uint32_t add_words(Bytes bytes, std::uint32_t sum) noexcept {
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2)
    sum += load16(&bytes[i]);
  if (i < bytes.size()) sum += std::uint32_t{bytes[i]} << 8;
  return sum;
}
// The checksum field's value: the folded sum, complemented. Over bytes whose checksum field
// is already right, this is 0.
std::uint16_t finish(std::uint32_t sum) noexcept {
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// No options, DF clear (a probe this small is never fragmented, and DF would only earn us
// "fragmentation needed" errors to parse); IPPROTO_RAW would fill in the checksum itself, but
// a complete header keeps the bytes testable.
void write_ipv4_header(std::uint8_t* p, std::size_t total, std::uint8_t ttl, std::uint16_t id,
                       std::uint8_t protocol, const IpAddress& from, const IpAddress& to) noexcept {
  p[0] = 0x45;  // version 4, 5 words
  p[1] = 0;
  store16(p + 2, static_cast<std::uint16_t>(total));
  store16(p + 4, id);
  store16(p + 6, 0);
  p[8] = ttl;
  p[9] = protocol;
  store16(p + 10, 0);
  std::memcpy(p + 12, from.bytes(), 4);
  std::memcpy(p + 16, to.bytes(), 4);
  store16(p + 10, finish(add_words({p, kIpv4Header}, 0)));
}

// The IPv4 pseudo-header (RFC 9293 3.1) summed, for the TCP checksum.
std::uint32_t pseudo_header_sum(const IpAddress& from, const IpAddress& to,
                                std::size_t length) noexcept {
  std::uint32_t sum = add_words({from.bytes(), 4}, 0);
  sum = add_words({to.bytes(), 4}, sum);
  return sum + kProtoTcp + static_cast<std::uint32_t>(length);
}

bool parse_tcp(Bytes s, Parsed& out) noexcept {
  if (s.size() < kTcpHeader) return false;
  const std::size_t header = (std::size_t{s[12]} >> 4) * 4;  // data offset, with the options
  if (header < kTcpHeader || header > s.size()) return false;
  out.kind = Kind::Tcp;
  out.source_port = load16(&s[0]);
  out.destination_port = load16(&s[2]);
  out.seq = load32(&s[4]);
  out.ack = load32(&s[8]);
  out.flags = s[13];
  out.window = load16(&s[14]);
  return true;
}

// The 8 bytes after a quoted IP header: all RFC 792 promises (RFC 1812 routers send more).
// For TCP that is the ports and the sequence number; for ICMP (`icmp`: the family's own,
// 1 under IPv4, 58 under IPv6) the whole header.
void parse_quoted_transport(Bytes t, std::uint8_t icmp, Quoted& q) noexcept {
  if (q.protocol == kProtoTcp) {
    q.source_port = load16(&t[0]);
    q.destination_port = load16(&t[2]);
    q.seq = load32(&t[4]);
  } else if (q.protocol == icmp) {
    q.icmp_type = t[0];
    q.icmp_id = load16(&t[4]);
    q.icmp_seq = load16(&t[6]);
  }
}

bool parse_quoted_v4(Bytes s, Quoted& q) noexcept {
  if (s.size() < kIpv4Header || s[0] >> 4 != 4) return false;
  const std::size_t header = std::size_t{s[0] & 0x0fu} * 4;
  if (header < kIpv4Header || s.size() < header + 8) return false;
  q.protocol = s[9];
  q.source = load_v4(&s[12]);
  q.destination = load_v4(&s[16]);
  // A later fragment: what follows its header is the middle of a payload, not a port pair.
  if ((load16(&s[6]) & 0x1fff) != 0) return true;
  parse_quoted_transport(s.subspan(header), kProtoIcmp, q);
  return true;
}

bool parse_icmp4(Bytes s, Parsed& out) noexcept {
  if (s.size() < kIcmpHeader) return false;
  switch (s[0]) {
    case kIcmpEchoReply:
      out.kind = Kind::EchoReply;
      out.id = load16(&s[4]);
      out.sequence = load16(&s[6]);
      out.cookie = s.size() >= kIcmpHeader + 4 ? load32(&s[8]) : 0;
      return true;
    case kIcmpTimestampReply:
      if (s.size() < kTimestampMessage) return false;
      out.kind = Kind::TimestampReply;
      out.id = load16(&s[4]);
      out.sequence = load16(&s[6]);
      out.cookie = load32(&s[8]);  // originate: ours, echoed back
      return true;
    case kIcmpUnreachable:
    case kIcmpTimeExceeded:
      out.kind = s[0] == kIcmpUnreachable ? Kind::Unreachable : Kind::TimeExceeded;
      out.icmp_type = s[0];
      out.icmp_code = s[1];
      return parse_quoted_v4(s.subspan(kIcmpHeader), out.quoted);
    default:
      return false;
  }
}

// The quoted IPv6 header, then the extension headers RFC 8200 4.1 may put before the
// transport header. Only those whose length field we know how to read are walked; any other
// next-header value (UDP, ESP, "no next header") ends the walk as the quoted protocol.
bool parse_quoted_v6(Bytes s, Quoted& q) noexcept {
  if (s.size() < kIpv6Header || s[0] >> 4 != 6) return false;
  q.source = load_v6(&s[8]);
  q.destination = load_v6(&s[24]);
  std::uint8_t next = s[6];
  std::size_t at = kIpv6Header;
  for (int seen = 0;; ++seen) {
    const bool options = next == 0 || next == 43 || next == 60;  // hop-by-hop, routing, dest.
    if (!options && next != kProtoFragment) break;
    if (seen == kMaxExtensionHeaders || s.size() - at < 8) return false;  // each is ≥ 8 bytes
    if (next == kProtoFragment && (load16(&s[at + 2]) & 0xfff8) != 0) {
      q.protocol = kProtoFragment;  // a later fragment: no transport header in it
      return true;
    }
    const std::size_t length = options ? (std::size_t{s[at + 1]} + 1) * 8 : 8;
    if (length > s.size() - at) return false;
    next = s[at];
    at += length;
  }
  q.protocol = next;
  if (next == kProtoTcp || next == kProtoIcmp6) {
    if (s.size() - at < 8) return false;
    parse_quoted_transport(s.subspan(at), kProtoIcmp6, q);
  }
  return true;
}

}  // namespace

std::size_t build_tcp(const TcpProbe& probe, std::span<std::uint8_t> out) noexcept {
  if (probe.source.family() != probe.destination.family()) return 0;
  const bool v4 = probe.source.is_v4();
  const std::size_t ip_size = v4 ? kIpv4Header : 0;
  const std::size_t tcp_size = kTcpHeader + (probe.mss_option ? kMssOption : 0);
  if (out.size() < ip_size + tcp_size) return 0;
  std::uint8_t* tcp = out.data() + ip_size;
  store16(tcp, probe.source_port);
  store16(tcp + 2, probe.destination_port);
  store32(tcp + 4, probe.seq);
  store32(tcp + 8, probe.ack);
  tcp[12] = static_cast<std::uint8_t>(tcp_size / 4 << 4);
  tcp[13] = probe.flags;
  store16(tcp + 14, probe.window);
  store16(tcp + 16, 0);  // checksum
  store16(tcp + 18, 0);  // urgent pointer
  if (probe.mss_option) {
    tcp[20] = 2;  // kind: maximum segment size
    tcp[21] = 4;  // length
    store16(tcp + 22, kMss);
  }
  if (v4) {
    write_ipv4_header(out.data(), ip_size + tcp_size, probe.ttl, probe.ip_id, kProtoTcp,
                      probe.source, probe.destination);
    const std::uint32_t pseudo = pseudo_header_sum(probe.source, probe.destination, tcp_size);
    store16(tcp + 16, finish(add_words({tcp, tcp_size}, pseudo)));
  }
  return ip_size + tcp_size;
}

std::size_t build_icmp(const IcmpProbe& probe, std::span<std::uint8_t> out) noexcept {
  if (probe.source.family() != probe.destination.family()) return 0;
  const bool v4 = probe.source.is_v4();
  const bool timestamp = probe.type == IcmpProbe::Type::Timestamp;
  if (timestamp && !v4) return 0;  // ICMPv6 has no timestamp request
  const std::size_t ip_size = v4 ? kIpv4Header : 0;
  const std::size_t icmp_size = timestamp ? kTimestampMessage : kIcmpHeader + kEchoPayload;
  if (out.size() < ip_size + icmp_size) return 0;
  std::uint8_t* icmp = out.data() + ip_size;
  icmp[0] = timestamp ? kIcmpTimestamp : v4 ? kIcmpEcho : kIcmp6Echo;
  icmp[1] = 0;
  store16(icmp + 2, 0);
  store16(icmp + 4, probe.id);
  store16(icmp + 6, probe.seq);
  store32(icmp + 8, probe.cookie);       // echo: payload; timestamp: originate
  store32(icmp + 12, 0);                 // echo: payload; timestamp: receive
  if (timestamp) store32(icmp + 16, 0);  // transmit
  if (v4) {
    write_ipv4_header(out.data(), ip_size + icmp_size, probe.ttl, probe.ip_id, kProtoIcmp,
                      probe.source, probe.destination);
    store16(icmp + 2, finish(add_words({icmp, icmp_size}, 0)));
  }
  return ip_size + icmp_size;
}

std::optional<Parsed> parse_ipv4(std::span<const std::uint8_t> datagram) noexcept {
  Bytes d = datagram;
  if (d.size() < kIpv4Header || d[0] >> 4 != 4) return std::nullopt;
  const std::size_t header = std::size_t{d[0] & 0x0fu} * 4;
  const std::size_t total = load16(&d[2]);
  if (header < kIpv4Header || total < header || total > d.size()) return std::nullopt;
  // The kernel already dropped bad checksums before raw delivery; this is for the fuzzer's
  // sake and for callers that feed us bytes from elsewhere (a capture, a test).
  if (finish(add_words(d.first(header), 0)) != 0) return std::nullopt;
  // Linux reassembles before raw delivery, so a fragment here is odd, and its payload is
  // either a cut-off transport header (MF set) or none at all (offset ≠ 0).
  if ((load16(&d[6]) & 0x3fff) != 0) return std::nullopt;
  Parsed out;
  out.from = load_v4(&d[12]);
  out.to = load_v4(&d[16]);
  out.ttl = d[8];
  const Bytes payload = d.subspan(header, total - header);
  const bool ok = d[9] == kProtoTcp    ? parse_tcp(payload, out)
                  : d[9] == kProtoIcmp ? parse_icmp4(payload, out)
                                       : false;
  if (!ok) return std::nullopt;
  return out;
}

std::optional<Parsed> parse_tcp6(std::span<const std::uint8_t> segment, const IpAddress& from,
                                 const IpAddress& to) noexcept {
  Parsed out;
  if (!from.is_v6() || !to.is_v6() || !parse_tcp(segment, out)) return std::nullopt;
  out.from = from;
  out.to = to;
  return out;
}

std::optional<Parsed> parse_icmp6(std::span<const std::uint8_t> message, const IpAddress& from,
                                  const IpAddress& to) noexcept {
  Bytes s = message;
  if (!from.is_v6() || !to.is_v6() || s.size() < kIcmpHeader) return std::nullopt;
  Parsed out;
  out.from = from;
  out.to = to;
  switch (s[0]) {
    case kIcmp6EchoReply:
      out.kind = Kind::EchoReply;
      out.id = load16(&s[4]);
      out.sequence = load16(&s[6]);
      out.cookie = s.size() >= kIcmpHeader + 4 ? load32(&s[8]) : 0;
      return out;
    case kIcmp6Unreachable:
    case kIcmp6TimeExceeded:
      out.kind = s[0] == kIcmp6Unreachable ? Kind::Unreachable : Kind::TimeExceeded;
      out.icmp_type = s[0];
      out.icmp_code = s[1];
      if (!parse_quoted_v6(s.subspan(kIcmpHeader), out.quoted)) return std::nullopt;
      return out;
    default:
      return std::nullopt;
  }
}

}  // namespace sockit::scan::packet
