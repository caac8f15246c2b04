// scan::packet: probes built byte for byte (checksums checked with a plain RFC 1071 sum
// written here), probes and hand-written replies parsed back, and malformed input refused:
// every truncation, bad headers, fragments, unknown types.
#include "scan/packet.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace sockit::scan::packet {
namespace {

using Packet = std::vector<std::uint8_t>;

const IpAddress kUs = IpAddress::v4({198, 51, 100, 7});
const IpAddress kHost = IpAddress::v4({192, 0, 2, 10});
const IpAddress kUs6 = *IpAddress::parse("2001:db8::1");
const IpAddress kHost6 = *IpAddress::parse("2001:db8::2");
const IpAddress kRouter6 = *IpAddress::parse("2001:db8:ffff::1");

// "45 00 00 2c ..." to bytes; spaces ignored.
Packet hex(std::string_view text) {
  Packet out;
  std::string digits;
  for (char c : text)
    if (c != ' ') digits += c;
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  return out;
}

// RFC 1071 written out plainly: big-endian 16-bit words summed, carries folded back in,
// complemented. Over bytes that include a correct checksum field, the result is 0.
std::uint16_t rfc1071(const std::uint8_t* p, std::size_t n) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < n; i += 2)
    sum += std::uint64_t{p[i]} * 256 + (i + 1 < n ? p[i + 1] : 0);
  while (sum > 0xffff)
    sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}
void put16(Packet& p, std::size_t at, unsigned v) {
  p[at] = static_cast<std::uint8_t>(v >> 8);
  p[at + 1] = static_cast<std::uint8_t>(v);
}
std::size_t ihl(const Packet& p) {
  return std::size_t{p[0] & 0x0fu} * 4;
}
// A hand-written datagram with its IPv4 header checksum filled in.
Packet sealed(Packet p) {
  put16(p, 10, 0);
  put16(p, 10, rfc1071(p.data(), ihl(p)));
  return p;
}
// The first `n` bytes, in a buffer of exactly that size: a read past it is one AddressSanitizer
// sees (a span over a longer vector would hide it).
Packet prefix(const Packet& p, std::size_t n) {
  return Packet(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(n));
}
// The datagram's first `n` bytes, its total length and header checksum made to agree.
Packet cut(const Packet& p, std::size_t n) {
  Packet c = prefix(p, n);
  put16(c, 2, static_cast<unsigned>(n));
  return sealed(c);
}
// The TCP checksum over the IPv4 pseudo-header (RFC 9293 3.1) and the segment.
std::uint16_t tcp_checksum_v4(const Packet& datagram) {
  const std::size_t h = ihl(datagram), length = datagram.size() - h;
  Packet pseudo(datagram.begin() + 12, datagram.begin() + 20);
  pseudo.insert(pseudo.end(),
                {0, 6, static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)});
  pseudo.insert(pseudo.end(), datagram.begin() + static_cast<std::ptrdiff_t>(h), datagram.end());
  return rfc1071(pseudo.data(), pseudo.size());
}
// What a host sends back for one of our ICMP requests: the reply type, addresses swapped,
// both checksums redone.
Packet reply_to(Packet p, std::uint8_t type) {
  std::swap_ranges(p.begin() + 12, p.begin() + 16, p.begin() + 16);
  p[20] = type;
  put16(p, 22, 0);
  put16(p, 22, rfc1071(p.data() + 20, p.size() - 20));
  return sealed(p);
}

// A parse result as text, tcpdump-like: the kind, the addresses, then every field that is not
// zero, so a stray value in a field that should be empty shows up in the comparison too.
void field(std::ostream& s, const char* name, std::uint32_t v, bool hex = false) {
  if (v != 0) s << ' ' << name << '=' << (hex ? std::hex : std::dec) << v << std::dec;
}
void ports(std::ostream& s, std::uint16_t from, std::uint16_t to) {
  if (from != 0 || to != 0) s << " ports=" << from << '>' << to;
}
std::string describe(const std::optional<Parsed>& r) {
  if (!r) return "nullopt";
  constexpr const char* kKinds[] = {"tcp", "echo-reply", "timestamp-reply", "unreachable",
                                    "time-exceeded"};
  std::ostringstream s;
  s << kKinds[static_cast<int>(r->kind)] << ' ' << r->from.to_string() << '>' << r->to.to_string();
  field(s, "ttl", r->ttl);
  ports(s, r->source_port, r->destination_port);
  field(s, "seq", r->seq, true);
  field(s, "ack", r->ack, true);
  field(s, "flags", r->flags, true);
  field(s, "window", r->window);
  field(s, "id", r->id);
  field(s, "sequence", r->sequence);
  field(s, "cookie", r->cookie, true);
  if (r->icmp_type != 0 || r->icmp_code != 0)
    s << " icmp=" << int{r->icmp_type} << '/' << int{r->icmp_code};
  const Quoted& q = r->quoted;
  if (q.protocol != 0 || q.source != IpAddress() || q.destination != IpAddress() ||
      q.source_port != 0 || q.destination_port != 0 || q.seq != 0 || q.icmp_type != 0 ||
      q.icmp_id != 0 || q.icmp_seq != 0) {
    s << " quoting " << int{q.protocol} << ' ' << q.source.to_string() << '>'
      << q.destination.to_string();
    ports(s, q.source_port, q.destination_port);
    field(s, "seq", q.seq, true);
    field(s, "type", q.icmp_type);
    field(s, "id", q.icmp_id);
    field(s, "sequence", q.icmp_seq);
  }
  return s.str();
}

std::string v4(const Packet& p) {
  return describe(parse_ipv4(p));
}
std::string icmp6(const Packet& p) {
  return describe(parse_icmp6(p, kRouter6, kUs6));
}
std::string tcp6(const Packet& p) {
  return describe(parse_tcp6(p, kHost6, kUs6));
}

// Cut short anywhere, a datagram parses to nothing, or to the same fields (an echo reply cut
// inside its payload: without the cookie). The span alone cut: always nothing (total length).
void expect_truncations_safe(const Packet& p) {
  const auto full = parse_ipv4(p);
  ASSERT_TRUE(full) << "the whole packet must parse";
  for (std::size_t n = 0; n < p.size(); ++n) {
    EXPECT_EQ(v4(prefix(p, n)), "nullopt") << "span cut at " << n;
    if (n < ihl(p)) continue;
    auto got = parse_ipv4(cut(p, n));
    if (!got) continue;
    Parsed expected = *full;
    if (expected.kind == Kind::EchoReply && n < ihl(p) + 12) expected.cookie = 0;
    EXPECT_EQ(describe(got), describe(expected)) << "cut at " << n;
  }
}
void expect_icmp6_truncations_safe(const Packet& p) {
  const auto full = parse_icmp6(p, kRouter6, kUs6);
  ASSERT_TRUE(full);
  for (std::size_t n = 0; n < p.size(); ++n) {
    auto got = parse_icmp6(prefix(p, n), kRouter6, kUs6);
    if (!got) continue;
    Parsed expected = *full;
    if (expected.kind == Kind::EchoReply && n < 12) expected.cookie = 0;
    EXPECT_EQ(describe(got), describe(expected)) << "cut at " << n;
  }
}

// Our SYN 198.51.100.7:40000 > 192.0.2.10:80, seq a1b2c3d4, IP id 7: the probe that the
// ICMP errors below quote.
TcpProbe syn_probe() {
  TcpProbe p;
  p.source = kUs;
  p.destination = kHost;
  p.source_port = 40000;
  p.destination_port = 80;
  p.seq = 0xa1b2c3d4;
  p.ip_id = 7;
  return p;
}
constexpr std::string_view kSynHeader =
    "45 00 00 2c 00 07 00 00 40 06 12 34 c6 33 64 07 c0 00 02 0a";  // checksum: a router's
constexpr std::string_view kSynTcp =
    "9c 40 00 50 a1 b2 c3 d4 00 00 00 00 60 02 04 00 00 00 00 00 02 04 05 b4";
const std::string kQuotingSyn = " quoting 6 198.51.100.7>192.0.2.10 ports=40000>80 seq=a1b2c3d4";
const std::string kQuotingSyn6 = " quoting 6 2001:db8::1>2001:db8::2 ports=40000>80 seq=a1b2c3d4";

// --- building ----------------------------------------------------------------------------

TEST(BuildTcp, Ipv4SynIsAWholeDatagram) {
  Packet out(kMaxProbeSize + 10, 0xee);
  ASSERT_EQ(build_tcp(syn_probe(), out), 44u);
  out.resize(44);
  EXPECT_EQ(rfc1071(out.data(), 20), 0) << "IPv4 header checksum";
  EXPECT_EQ(tcp_checksum_v4(out), 0) << "TCP checksum";
  put16(out, 10, 0x1234);
  put16(out, 36, 0);
  EXPECT_EQ(out, hex(std::string(kSynHeader) + std::string(kSynTcp)));
}

TEST(BuildTcp, WithoutMssTheHeaderIsFiveWords) {
  TcpProbe probe = syn_probe();
  probe.mss_option = false;
  probe.flags = kAck;
  Packet out(40);
  ASSERT_EQ(build_tcp(probe, out), 40u);
  EXPECT_EQ(out[32], 0x50);
  EXPECT_EQ(out[33], kAck);
  EXPECT_EQ(rfc1071(out.data(), 20), 0);
  EXPECT_EQ(tcp_checksum_v4(out), 0);
}

TEST(BuildTcp, Ipv6IsTheTcpHeaderAloneWithoutChecksum) {
  TcpProbe probe = syn_probe();
  probe.source = kUs6;
  probe.destination = kHost6;
  Packet out(kMaxProbeSize);
  ASSERT_EQ(build_tcp(probe, out), 24u);
  out.resize(24);
  EXPECT_EQ(out, hex(kSynTcp));
}

TEST(BuildTcp, RefusesMixedFamiliesAndShortBuffers) {
  Packet out(kMaxProbeSize);
  EXPECT_EQ(build_tcp({.source = kUs, .destination = kHost6}, out), 0u);
  EXPECT_EQ(build_tcp({.source = kUs6, .destination = kHost}, out), 0u);
  for (std::size_t n = 0; n < 44; ++n)
    EXPECT_EQ(build_tcp({.source = kUs, .destination = kHost}, {out.data(), n}), 0u) << n;
  for (std::size_t n = 0; n < 24; ++n)
    EXPECT_EQ(build_tcp({.source = kUs6, .destination = kHost6}, {out.data(), n}), 0u) << n;
}

TEST(BuildIcmp, Ipv4EchoAndTimestamp) {
  IcmpProbe probe{.source = kUs, .destination = kHost, .id = 0x1234, .seq = 5};
  probe.cookie = 0xcafebabe;
  probe.ttl = 3;
  probe.ip_id = 9;
  Packet out(kMaxProbeSize);
  ASSERT_EQ(build_icmp(probe, out), 36u);
  Packet echo = prefix(out, 36);
  EXPECT_EQ(rfc1071(echo.data(), 20), 0);
  EXPECT_EQ(rfc1071(echo.data() + 20, 16), 0) << "ICMP checksum";
  put16(echo, 10, 0);
  put16(echo, 22, 0);
  EXPECT_EQ(echo, hex("45 00 00 24 00 09 00 00 03 01 00 00 c6 33 64 07 c0 00 02 0a"
                      "08 00 00 00 12 34 00 05 ca fe ba be 00 00 00 00"));

  probe.type = IcmpProbe::Type::Timestamp;
  ASSERT_EQ(build_icmp(probe, out), 40u);
  Packet ts = prefix(out, 40);
  EXPECT_EQ(rfc1071(ts.data(), 20), 0);
  EXPECT_EQ(rfc1071(ts.data() + 20, 20), 0);
  put16(ts, 10, 0);
  put16(ts, 22, 0);
  EXPECT_EQ(ts, hex("45 00 00 28 00 09 00 00 03 01 00 00 c6 33 64 07 c0 00 02 0a"
                    "0d 00 00 00 12 34 00 05 ca fe ba be 00 00 00 00 00 00 00 00"));
  for (std::size_t n = 0; n < 40; ++n)
    EXPECT_EQ(build_icmp(probe, {out.data(), n}), 0u) << n;
}

TEST(BuildIcmp, Ipv6EchoOnly) {
  Packet out(kMaxProbeSize);
  IcmpProbe echo{.source = kUs6, .destination = kHost6, .id = 1, .seq = 2, .cookie = 3};
  ASSERT_EQ(build_icmp(echo, out), 16u);
  out.resize(16);
  EXPECT_EQ(out, hex("80 00 00 00 00 01 00 02 00 00 00 03 00 00 00 00"));
  echo.type = IcmpProbe::Type::Timestamp;
  EXPECT_EQ(build_icmp(echo, out), 0u);
  EXPECT_EQ(build_icmp({.source = kUs, .destination = kHost6}, out), 0u);
}

// --- round trips: a probe parses back to itself, a reply to it to its fields -------------

TEST(RoundTrip, TcpProbes) {
  for (bool mss : {true, false}) {
    for (std::uint8_t flags : {std::uint8_t{kSyn}, std::uint8_t{kAck}, std::uint8_t{0xff}}) {
      TcpProbe probe = syn_probe();
      probe.ack = 0x11111111;
      probe.flags = flags;
      probe.window = 4321;
      probe.ttl = 255;
      probe.mss_option = mss;
      Packet out(kMaxProbeSize);
      out.resize(build_tcp(probe, out));
      std::ostringstream want;
      want << "ports=40000>80 seq=a1b2c3d4 ack=11111111 flags=" << std::hex << int{flags}
           << " window=4321";
      EXPECT_EQ(v4(out), "tcp 198.51.100.7>192.0.2.10 ttl=255 " + want.str());
      expect_truncations_safe(out);

      probe.source = kHost6;
      probe.destination = kUs6;
      out.resize(kMaxProbeSize);
      out.resize(build_tcp(probe, out));
      EXPECT_EQ(tcp6(out), "tcp 2001:db8::2>2001:db8::1 " + want.str());
      for (std::size_t n = 0; n < out.size(); ++n)  // data offset 5 or 6: every byte is needed
        EXPECT_EQ(tcp6(prefix(out, n)), "nullopt") << n;
    }
  }
}

TEST(RoundTrip, IcmpRepliesCarryTheProbesFields) {
  IcmpProbe probe{.source = kUs, .destination = kHost, .id = 0xabcd, .seq = 0x0102};
  probe.cookie = 0x89abcdef;
  Packet out(kMaxProbeSize);
  out.resize(build_icmp(probe, out));
  EXPECT_EQ(v4(out), "nullopt") << "an echo request (ours, seen on loopback) is no answer";
  EXPECT_EQ(v4(reply_to(out, 0)),
            "echo-reply 192.0.2.10>198.51.100.7 ttl=64 id=43981 sequence=258 cookie=89abcdef");
  expect_truncations_safe(reply_to(out, 0));

  probe.type = IcmpProbe::Type::Timestamp;
  out.resize(kMaxProbeSize);
  out.resize(build_icmp(probe, out));
  EXPECT_EQ(v4(out), "nullopt");
  EXPECT_EQ(v4(reply_to(out, 14)),
            "timestamp-reply 192.0.2.10>198.51.100.7 ttl=64 id=43981 "
            "sequence=258 cookie=89abcdef");
  expect_truncations_safe(reply_to(out, 14));

  IcmpProbe probe6{.source = kUs6, .destination = kHost6, .id = 9, .seq = 8, .cookie = 7};
  out.resize(kMaxProbeSize);
  out.resize(build_icmp(probe6, out));
  EXPECT_EQ(icmp6(out), "nullopt");
  out[0] = 129;
  EXPECT_EQ(icmp6(out), "echo-reply 2001:db8:ffff::1>2001:db8::1 id=9 sequence=8 cookie=7");
}

// --- hand-written IPv4 replies -----------------------------------------------------------

const Packet kSynAck = sealed(hex(  // 192.0.2.10:443 > 198.51.100.7:40000, DF, TTL 57
    "45 00 00 2c 00 00 40 00 39 06 00 00 c0 00 02 0a c6 33 64 07"
    "01 bb 9c 40 1a 2b 3c 4d de ad be f0 60 12 fa f0 12 34 00 00 02 04 05 b4"));
const Packet kRstAck = sealed(hex(  // 192.0.2.10:22 > 198.51.100.7:40001, window 0
    "45 00 00 28 12 34 00 00 40 06 00 00 c0 00 02 0a c6 33 64 07"
    "00 16 9c 41 00 00 00 00 01 02 03 04 50 14 00 00 00 00 00 00"));
const Packet kPortUnreachable = sealed(hex(  // from the host itself: all of the SYN quoted
    "45 00 00 48 00 00 00 00 40 01 00 00 c0 00 02 0a c6 33 64 07 03 03 00 00 00 00 00 00" +
    std::string(kSynHeader) + std::string(kSynTcp)));
const Packet kHostUnreachable = sealed(hex(  // from a router, outer IP options, 8 bytes quoted
    "46 00 00 3c 00 00 00 00 fe 01 00 00 cb 00 71 01 c6 33 64 07 01 01 01 00"
    "03 01 00 00 00 00 00 00" +
    std::string(kSynHeader) + std::string(kSynTcp.substr(0, 24))));
const Packet kEchoUnreachable = sealed(hex(  // quoting our echo request, id 1234 seq 5
    "45 00 00 38 00 00 00 00 fe 01 00 00 cb 00 71 01 c6 33 64 07 03 0a 00 00 00 00 00 00"
    "45 00 00 24 00 09 00 00 40 01 ab cd c6 33 64 07 c0 00 02 0a 08 00 f7 ff 12 34 00 05"));
const Packet kTimeExceeded = sealed(hex(  // quoted TTL 1, checksum and length rewritten
    "45 c0 00 38 00 00 00 00 fe 01 00 00 cb 00 71 01 c6 33 64 07 0b 00 00 00 00 00 00 00"
    "45 00 05 dc 00 07 00 00 01 06 ff ff c6 33 64 07 c0 00 02 0a 9c 40 00 50 a1 b2 c3 d4"));
const Packet kEchoReply =
    sealed(hex("45 00 00 24 00 00 00 00 40 01 00 00 c0 00 02 0a c6 33 64 07"
               "00 00 00 00 12 34 00 05 ca fe ba be 00 00 00 00"));
const Packet kTimestampReply =
    sealed(hex("45 00 00 28 00 00 00 00 40 01 00 00 c0 00 02 0a c6 33 64 07"
               "0e 00 00 00 12 34 00 05 00 a1 b2 c3 03 00 00 00 03 00 00 01"));

TEST(ParseIpv4, TcpAnswers) {
  EXPECT_EQ(v4(kSynAck),
            "tcp 192.0.2.10>198.51.100.7 ttl=57 ports=443>40000 seq=1a2b3c4d "
            "ack=deadbef0 flags=12 window=64240")
      << "a wrong TCP checksum is not ours to check";
  EXPECT_EQ(v4(kRstAck), "tcp 192.0.2.10>198.51.100.7 ttl=64 ports=22>40001 ack=1020304 flags=14");
}

TEST(ParseIpv4, IcmpErrors) {
  EXPECT_EQ(v4(kPortUnreachable),
            "unreachable 192.0.2.10>198.51.100.7 ttl=64 icmp=3/3" + kQuotingSyn);
  EXPECT_EQ(v4(kHostUnreachable),
            "unreachable 203.0.113.1>198.51.100.7 ttl=254 icmp=3/1" + kQuotingSyn);
  EXPECT_EQ(v4(kTimeExceeded),
            "time-exceeded 203.0.113.1>198.51.100.7 ttl=254 icmp=11/0" + kQuotingSyn);
  EXPECT_EQ(v4(kEchoUnreachable),
            "unreachable 203.0.113.1>198.51.100.7 ttl=254 icmp=3/10 "
            "quoting 1 198.51.100.7>192.0.2.10 type=8 id=4660 sequence=5");
}

TEST(ParseIpv4, QuotesOfOtherProtocolsAndLaterFragmentsHaveNoPorts) {
  for (int protocol : {17, 58}) {  // UDP; ICMPv6, which has no place under IPv4
    Packet other = kTimeExceeded;
    other[28 + 9] = static_cast<std::uint8_t>(protocol);
    EXPECT_EQ(v4(sealed(other)),
              "time-exceeded 203.0.113.1>198.51.100.7 ttl=254 icmp=11/0 quoting " +
                  std::to_string(protocol) + " 198.51.100.7>192.0.2.10");
  }
  Packet later = kTimeExceeded;
  later[28 + 7] = 0x10;  // fragment offset 16 (× 8 bytes)
  EXPECT_EQ(v4(sealed(later)),
            "time-exceeded 203.0.113.1>198.51.100.7 ttl=254 icmp=11/0 quoting 6 "
            "198.51.100.7>192.0.2.10");
}

TEST(ParseIpv4, EchoAndTimestampReplies) {
  EXPECT_EQ(v4(kEchoReply),
            "echo-reply 192.0.2.10>198.51.100.7 ttl=64 id=4660 sequence=5 cookie=cafebabe");
  EXPECT_EQ(v4(kTimestampReply),
            "timestamp-reply 192.0.2.10>198.51.100.7 ttl=64 id=4660 sequence=5 cookie=a1b2c3");
  EXPECT_EQ(v4(cut(kEchoReply, 28)),
            "echo-reply 192.0.2.10>198.51.100.7 ttl=64 id=4660 sequence=5");
  EXPECT_EQ(v4(cut(kTimestampReply, 39)), "nullopt");
}

TEST(ParseIpv4, BytesPastTheTotalLengthAreIgnored) {
  Packet padded = kRstAck;
  padded.insert(padded.end(), {0xde, 0xad, 0xbe, 0xef, 0, 0});  // Ethernet minimum padding
  EXPECT_EQ(v4(padded), v4(kRstAck));
}

TEST(ParseIpv4, EveryTruncationIsSafe) {
  for (const Packet* p : {&kSynAck, &kRstAck, &kPortUnreachable, &kHostUnreachable,
                          &kEchoUnreachable, &kTimeExceeded, &kEchoReply, &kTimestampReply})
    expect_truncations_safe(*p);
}

TEST(ParseIpv4, MalformedIsRefused) {
  auto with = [](Packet p, std::size_t at, int value) {
    p[at] = static_cast<std::uint8_t>(value);
    return v4(sealed(p));
  };
  EXPECT_EQ(with(kSynAck, 0, 0x65), "nullopt") << "version 6";
  EXPECT_EQ(with(kSynAck, 0, 0x44), "nullopt") << "IHL 4";
  EXPECT_EQ(with(kSynAck, 0, 0x40), "nullopt") << "IHL 0";
  Packet long_header = kSynAck;
  long_header[0] = 0x4f;  // 60 bytes of header in a 44-byte datagram: no checksum to fix
  EXPECT_EQ(v4(long_header), "nullopt") << "IHL past the end";
  EXPECT_EQ(with(kSynAck, 3, 0x2d), "nullopt") << "total length past the span";
  EXPECT_EQ(with(kSynAck, 3, 0x10), "nullopt") << "total length inside the header";
  Packet bad_sum = kSynAck;
  bad_sum[11] ^= 1;
  EXPECT_EQ(v4(bad_sum), "nullopt") << "IPv4 header checksum";
  EXPECT_EQ(with(kSynAck, 6, 0x60), "nullopt") << "DF and MF";
  EXPECT_EQ(with(kSynAck, 7, 0x01), "nullopt") << "fragment offset 8";
  EXPECT_EQ(with(kSynAck, 6, 0x5f), "nullopt") << "fragment offset high bits";
  EXPECT_EQ(with(kSynAck, 9, 17), "nullopt") << "UDP";
  EXPECT_EQ(with(kSynAck, 32, 0x40), "nullopt") << "TCP data offset 4";
  EXPECT_EQ(with(kSynAck, 32, 0x70), "nullopt") << "TCP data offset past the end";
  for (int type : {8, 13, 4, 5, 12, 15, 255})  // requests, quench, redirect, ...
    EXPECT_EQ(with(kEchoReply, 20, type), "nullopt") << "ICMP type " << type;
  EXPECT_EQ(with(kTimeExceeded, 28, 0x65), "nullopt") << "quoted version 6";
  EXPECT_EQ(with(kTimeExceeded, 28, 0x44), "nullopt") << "quoted IHL 4";
  EXPECT_EQ(with(kTimeExceeded, 28, 0x47), "nullopt") << "quote shorter than its header + 8";
}

// --- IPv6 --------------------------------------------------------------------------------

// The IPv6 header of our SYN 2001:db8::1 > 2001:db8::2, next header `next`.
std::string v6_header(std::string_view next) {
  return "60 00 00 00 00 18 " + std::string(next) +
         " 40 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
         " 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02";
}
const Packet kUnreachable6 =
    hex("01 03 00 00 00 00 00 00" + v6_header("06") + std::string(kSynTcp));
const Packet kHopByHop6 = hex("03 00 00 00 00 00 00 00" + v6_header("00") +
                              "06 00 01 04 00 00 00 00" + std::string(kSynTcp));
const Packet kEchoUnreachable6 = hex("01 04 00 00 00 00 00 00" + v6_header("3a") +
                                     "80 00 00 00 12 34 00 05 ca fe ba be 00 00 00 00");
const Packet kEchoReply6 = hex("81 00 00 00 12 34 00 05 ca fe ba be 00 00 00 00");
const std::string kRouterToUs6 = "2001:db8:ffff::1>2001:db8::1";

TEST(ParseIcmp6, Answers) {
  EXPECT_EQ(icmp6(kUnreachable6), "unreachable " + kRouterToUs6 + " icmp=1/3" + kQuotingSyn6);
  EXPECT_EQ(icmp6(kHopByHop6), "time-exceeded " + kRouterToUs6 + " icmp=3/0" + kQuotingSyn6);
  EXPECT_EQ(icmp6(kEchoUnreachable6), "unreachable " + kRouterToUs6 +
                                          " icmp=1/4 quoting 58 2001:db8::1>2001:db8::2 "
                                          "type=128 id=4660 sequence=5");
  EXPECT_EQ(icmp6(kEchoReply6),
            "echo-reply " + kRouterToUs6 + " id=4660 sequence=5 cookie=cafebabe");
  for (const Packet* p : {&kUnreachable6, &kHopByHop6, &kEchoUnreachable6, &kEchoReply6})
    expect_icmp6_truncations_safe(*p);
}

TEST(ParseIcmp6, Fragments) {
  Packet first = hex("01 03 00 00 00 00 00 00" + v6_header("2c") + "06 00 00 01 00 00 00 2a" +
                     std::string(kSynTcp));
  EXPECT_EQ(icmp6(first), "unreachable " + kRouterToUs6 + " icmp=1/3" + kQuotingSyn6);
  expect_icmp6_truncations_safe(first);
  for (int offset : {0x08, 0x41}) {  // 8 bytes; 64 bytes and more to come
    Packet later = first;
    later[8 + 40 + 3] = static_cast<std::uint8_t>(offset);
    EXPECT_EQ(icmp6(later),
              "unreachable " + kRouterToUs6 + " icmp=1/3 quoting 44 2001:db8::1>2001:db8::2");
  }
}

TEST(ParseIcmp6, ExtensionHeaderChainsAreBounded) {
  auto chain = [](int n) {
    std::string s = "01 03 00 00 00 00 00 00" + v6_header("3c");
    for (int i = 0; i < n; ++i)
      s += (i + 1 < n ? "3c" : "06") + std::string(" 00 01 04 00 00 00 00");
    return hex(s + std::string(kSynTcp));
  };
  EXPECT_EQ(icmp6(chain(8)), "unreachable " + kRouterToUs6 + " icmp=1/3" + kQuotingSyn6);
  EXPECT_EQ(icmp6(chain(9)), "nullopt") << "more than 8 extension headers";
  Packet overlong = chain(1);
  overlong[8 + 40 + 1] = 8;  // 72 bytes of options: past the end
  EXPECT_EQ(icmp6(overlong), "nullopt");
}

TEST(ParseIcmp6, MalformedIsRefused) {
  for (int type : {128, 2, 4, 133, 135, 0, 255}) {
    Packet p = kEchoReply6;
    p[0] = static_cast<std::uint8_t>(type);
    EXPECT_EQ(icmp6(p), "nullopt") << "type " << type;
  }
  Packet v4_quoted = kUnreachable6;
  v4_quoted[8] = 0x45;
  EXPECT_EQ(icmp6(v4_quoted), "nullopt") << "quoted version 4";
  EXPECT_FALSE(parse_icmp6(kEchoReply6, kHost, kUs6)) << "addresses must be IPv6";
  for (int protocol : {17, 1}) {  // UDP; ICMP for IPv4, which has no place under IPv6
    Packet other = kUnreachable6;
    other[8 + 6] = static_cast<std::uint8_t>(protocol);
    EXPECT_EQ(icmp6(other), "unreachable " + kRouterToUs6 + " icmp=1/3 quoting " +
                                std::to_string(protocol) + " 2001:db8::1>2001:db8::2");
  }
}

TEST(ParseTcp6, AnswersAndMalformed) {
  Packet syn_ack = hex("01 bb 9c 40 1a 2b 3c 4d de ad be f0 60 12 fa f0 12 34 00 00 02 04 05 b4");
  EXPECT_EQ(tcp6(syn_ack),
            "tcp 2001:db8::2>2001:db8::1 ports=443>40000 seq=1a2b3c4d "
            "ack=deadbef0 flags=12 window=64240");
  EXPECT_FALSE(parse_tcp6(syn_ack, kHost, kUs6)) << "addresses must be IPv6";
  EXPECT_FALSE(parse_tcp6(syn_ack, kHost6, kUs)) << "addresses must be IPv6";
  syn_ack[12] = 0x40;
  EXPECT_EQ(tcp6(syn_ack), "nullopt") << "data offset 4";
  syn_ack[12] = 0x70;
  EXPECT_EQ(tcp6(syn_ack), "nullopt") << "data offset past the end";
}

}  // namespace
}  // namespace sockit::scan::packet
