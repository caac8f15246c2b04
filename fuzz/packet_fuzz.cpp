// scan::packet's parsers and builders, on any bytes. Invariants:
//  - no crash, no undefined behaviour, no read past the packet (the replay test runs under
//    ASan in `make asan-test`, and libFuzzer builds always do);
//  - each parser returns exactly what a model written here from the rules in packet.hpp
//    returns: nothing, or every field re-read from the bytes at its offset. So the kind
//    matches the protocol and type bytes, the IPv4 header the parser accepted really is
//    version 4, whole, unfragmented and correctly checksummed, and a quoted port pair is
//    the bytes inside the quote;
//  - TCP and ICMP probes built from fields taken from the input are the size they should be,
//    carry valid checksums (IPv4), and parse back to those fields (an ICMP request once its
//    type is turned into the matching reply).
// Input: byte 0 picks parse_ipv4, parse_tcp6 or parse_icmp6 (modulo 3); for the IPv6 two the
// next 32 bytes are the from and to addresses; the rest is the packet.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>

// A private header of the library (src/ is not on the fuzz targets' include path).
#include "../src/scan/packet.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace sockit::scan::packet;
using sockit::IpAddress;
using Bytes = std::span<const std::uint8_t>;

std::string g_input;  // the whole input, escaped, for failure messages

// Big-endian reads that refuse (abort) to leave the packet: the model asks before reading.
std::uint32_t be(Bytes b, std::size_t at, std::size_t n) {
  SOCKIT_FUZZ_CHECK(at <= b.size() && n <= b.size() - at, g_input);
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v = v << 8 | b[at + i];
  return v;
}
std::uint8_t u8(Bytes b, std::size_t at) {
  return static_cast<std::uint8_t>(be(b, at, 1));
}
std::uint16_t u16(Bytes b, std::size_t at) {
  return static_cast<std::uint16_t>(be(b, at, 2));
}
IpAddress addr4(Bytes b, std::size_t at) {
  return IpAddress::v4_from_uint(be(b, at, 4));
}
IpAddress addr6(Bytes b, std::size_t at) {
  std::array<std::uint8_t, 16> a{};
  for (std::size_t i = 0; i < 16; ++i)
    a[i] = u8(b, at + i);
  return IpAddress::v6(a);
}
bool has(Bytes b, std::size_t at, std::size_t n) {
  return at <= b.size() && n <= b.size() - at;
}

// The Internet checksum the slow way: valid when the 16-bit one's-complement sum is all ones.
bool checksum_ok(Bytes b) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < b.size(); ++i)
    sum += i % 2 == 0 ? std::uint64_t{b[i]} << 8 : b[i];
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

std::string describe(const std::optional<Parsed>& r) {
  if (!r) return "nullopt";
  const Quoted& q = r->quoted;
  std::ostringstream s;
  s << int(r->kind) << ' ' << r->from.to_string() << '>' << r->to.to_string() << " ttl "
    << int(r->ttl) << " tcp " << r->source_port << '>' << r->destination_port << ' ' << r->seq
    << ' ' << r->ack << ' ' << int(r->flags) << ' ' << r->window << " echo " << r->id << ' '
    << r->sequence << ' ' << r->cookie << " icmp " << int(r->icmp_type) << '/' << int(r->icmp_code)
    << " quoted " << int(q.protocol) << ' ' << q.source.to_string() << '>'
    << q.destination.to_string() << ' ' << q.source_port << '>' << q.destination_port << ' '
    << q.seq << ' ' << int(q.icmp_type) << ' ' << q.icmp_id << ' ' << q.icmp_seq;
  return s.str();
}

// --- the model ---------------------------------------------------------------------------

bool model_tcp(Bytes t, Parsed& p) {
  if (t.size() < 20 || u8(t, 12) >> 4 < 5 || (u8(t, 12) >> 4) * 4u > t.size()) return false;
  p.kind = Kind::Tcp;
  p.source_port = u16(t, 0);
  p.destination_port = u16(t, 2);
  p.seq = be(t, 4, 4);
  p.ack = be(t, 8, 4);
  p.flags = u8(t, 13);
  p.window = u16(t, 14);
  return true;
}

// The 8 bytes after a quoted IP header, by protocol (`icmp`: 1 in IPv4, 58 in IPv6).
void model_quoted_transport(Bytes b, std::size_t at, unsigned icmp, Quoted& q) {
  if (q.protocol == 6) {
    q.source_port = u16(b, at);
    q.destination_port = u16(b, at + 2);
    q.seq = be(b, at + 4, 4);
  } else if (q.protocol == icmp) {
    q.icmp_type = u8(b, at);
    q.icmp_id = u16(b, at + 4);
    q.icmp_seq = u16(b, at + 6);
  }
}

bool model_quote4(Bytes m, Quoted& q) {  // m: the ICMP message; the quote starts at 8
  if (!has(m, 8, 20) || u8(m, 8) >> 4 != 4) return false;
  const std::size_t ihl = (u8(m, 8) & 15u) * 4;
  if (ihl < 20 || !has(m, 8 + ihl, 8)) return false;
  q.protocol = u8(m, 8 + 9);
  q.source = addr4(m, 8 + 12);
  q.destination = addr4(m, 8 + 16);
  if ((u16(m, 8 + 6) & 0x1fff) == 0) model_quoted_transport(m, 8 + ihl, 1, q);
  return true;
}

bool model_quote6(Bytes m, Quoted& q) {
  if (!has(m, 8, 40) || u8(m, 8) >> 4 != 6) return false;
  q.source = addr6(m, 8 + 8);
  q.destination = addr6(m, 8 + 24);
  unsigned next = u8(m, 8 + 6);
  std::size_t at = 8 + 40;
  int walked = 0;
  while (next == 0 || next == 43 || next == 60 || next == 44) {
    if (++walked > 8 || !has(m, at, 8)) return false;
    if (next == 44) {
      if ((u16(m, at + 2) >> 3) != 0) {
        q.protocol = 44;
        return true;
      }
      next = u8(m, at);
      at += 8;
    } else {
      const std::size_t length = 8 * (1 + std::size_t{u8(m, at + 1)});
      if (!has(m, at, length)) return false;
      next = u8(m, at);
      at += length;
    }
  }
  q.protocol = static_cast<std::uint8_t>(next);
  if ((next == 6 || next == 58) && !has(m, at, 8)) return false;
  model_quoted_transport(m, at, 58, q);
  return true;
}

// ICMP (v6 = false) or ICMPv6 message.
bool model_icmp(Bytes m, bool v6, Parsed& p) {
  if (m.size() < 8) return false;
  const unsigned type = u8(m, 0);
  const unsigned echo_reply = v6 ? 129 : 0, unreachable = v6 ? 1 : 3, exceeded = v6 ? 3 : 11;
  if (type == echo_reply || (!v6 && type == 14)) {
    if (type == 14 && m.size() < 20) return false;
    p.kind = type == 14 ? Kind::TimestampReply : Kind::EchoReply;
    p.id = u16(m, 4);
    p.sequence = u16(m, 6);
    p.cookie = has(m, 8, 4) ? be(m, 8, 4) : 0;
    return true;
  }
  if (type != unreachable && type != exceeded) return false;
  p.kind = type == unreachable ? Kind::Unreachable : Kind::TimeExceeded;
  p.icmp_type = static_cast<std::uint8_t>(type);
  p.icmp_code = u8(m, 1);
  return v6 ? model_quote6(m, p.quoted) : model_quote4(m, p.quoted);
}

std::optional<Parsed> model_ipv4(Bytes d) {
  if (d.size() < 20 || u8(d, 0) >> 4 != 4) return std::nullopt;
  const std::size_t ihl = (u8(d, 0) & 15u) * 4, total = u16(d, 2);
  if (ihl < 20 || total < ihl || total > d.size()) return std::nullopt;
  if (!checksum_ok(d.first(ihl)) || (u16(d, 6) & 0x3fff) != 0) return std::nullopt;
  Parsed p;
  p.from = addr4(d, 12);
  p.to = addr4(d, 16);
  p.ttl = u8(d, 8);
  const Bytes payload = d.subspan(ihl, total - ihl);
  const unsigned protocol = u8(d, 9);
  if (protocol == 6 && model_tcp(payload, p)) return p;
  if (protocol == 1 && model_icmp(payload, false, p)) return p;
  return std::nullopt;
}

// --- the builders, on fields taken from the input ----------------------------------------

// Fields from the input's bytes, zeros once they run out.
class Fields {
 public:
  explicit Fields(Bytes b) : b_(b) {}
  std::uint32_t take(std::size_t n) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < n; ++i, ++at_)
      v = v << 8 | (at_ < b_.size() ? b_[at_] : 0);
    return v;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(take(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(take(2)); }

 private:
  Bytes b_;
  std::size_t at_ = 0;
};

void check_builders(Bytes packet, bool v6, const IpAddress& a, const IpAddress& b) {
  Fields f(packet);
  const TcpProbe tcp{.source = a,
                     .destination = b,
                     .source_port = f.u16(),
                     .destination_port = f.u16(),
                     .seq = f.take(4),
                     .ack = f.take(4),
                     .flags = f.u8(),
                     .window = f.u16(),
                     .ttl = f.u8(),
                     .ip_id = f.u16(),
                     .mss_option = (f.u8() & 1) != 0};
  std::array<std::uint8_t, kMaxProbeSize> out{};
  const std::size_t tcp_size = (v6 ? 20u : 40u) + (tcp.mss_option ? 4u : 0u);
  SOCKIT_FUZZ_CHECK(build_tcp(tcp, {out.data(), tcp_size - 1}) == 0, g_input);
  SOCKIT_FUZZ_CHECK(build_tcp(tcp, out) == tcp_size, g_input);
  const Bytes built(out.data(), tcp_size);
  const Parsed want{.from = a,
                    .to = b,
                    .ttl = v6 ? std::uint8_t{0} : tcp.ttl,
                    .source_port = tcp.source_port,
                    .destination_port = tcp.destination_port,
                    .seq = tcp.seq,
                    .ack = tcp.ack,
                    .flags = tcp.flags,
                    .window = tcp.window};
  if (v6) {
    SOCKIT_FUZZ_CHECK(u16(built, 16) == 0, g_input);  // the kernel's to fill
    SOCKIT_FUZZ_CHECK(describe(parse_tcp6(built, a, b)) == describe(want), g_input);
  } else {
    SOCKIT_FUZZ_CHECK(checksum_ok(built.first(20)) && u16(built, 4) == tcp.ip_id, g_input);
    // The TCP checksum covers the pseudo-header: addresses, protocol, TCP length.
    std::array<std::uint8_t, 12 + kMaxProbeSize> pseudo{};
    std::copy(built.begin() + 12, built.begin() + 20, pseudo.begin());
    pseudo[9] = 6;
    pseudo[11] = static_cast<std::uint8_t>(tcp_size - 20);
    std::copy(built.begin() + 20, built.end(), pseudo.begin() + 12);
    SOCKIT_FUZZ_CHECK(checksum_ok({pseudo.data(), tcp_size - 8}), g_input);
    SOCKIT_FUZZ_CHECK(describe(parse_ipv4(built)) == describe(want), g_input);
  }

  IcmpProbe icmp{.source = a,
                 .destination = b,
                 .id = f.u16(),
                 .seq = f.u16(),
                 .cookie = f.take(4),
                 .ttl = f.u8(),
                 .ip_id = f.u16()};
  if ((f.u8() & 1) != 0) icmp.type = IcmpProbe::Type::Timestamp;
  const bool timestamp = icmp.type == IcmpProbe::Type::Timestamp;
  if (v6 && timestamp) {
    SOCKIT_FUZZ_CHECK(build_icmp(icmp, out) == 0, g_input);
    return;
  }
  const std::size_t icmp_size = (v6 ? 0u : 20u) + (timestamp ? 20u : 16u);
  SOCKIT_FUZZ_CHECK(build_icmp(icmp, {out.data(), icmp_size - 1}) == 0, g_input);
  SOCKIT_FUZZ_CHECK(build_icmp(icmp, out) == icmp_size, g_input);
  std::span<std::uint8_t> message(out.data() + (v6 ? 0 : 20), icmp_size - (v6 ? 0 : 20));
  if (!v6) SOCKIT_FUZZ_CHECK(checksum_ok({out.data(), 20}) && checksum_ok(message), g_input);
  // A request is not an answer; the reply type with the same body is.
  const auto request = v6 ? parse_icmp6(message, a, b) : parse_ipv4({out.data(), icmp_size});
  SOCKIT_FUZZ_CHECK(!request, g_input);
  message[0] = v6 ? 129 : timestamp ? 14 : 0;
  const Parsed reply{.kind = timestamp ? Kind::TimestampReply : Kind::EchoReply,
                     .from = a,
                     .to = b,
                     .ttl = v6 ? std::uint8_t{0} : icmp.ttl,
                     .id = icmp.id,
                     .sequence = icmp.seq,
                     .cookie = icmp.cookie};
  const auto got = v6 ? parse_icmp6(message, a, b) : parse_ipv4({out.data(), icmp_size});
  SOCKIT_FUZZ_CHECK(describe(got) == describe(reply), g_input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  g_input = sockit::fuzz::show({reinterpret_cast<const char*>(data), size});
  const Bytes in(data, size);
  const unsigned which = size == 0 ? 0 : data[0] % 3;
  if (which == 0) {
    const Bytes d = in.subspan(size == 0 ? 0 : 1);
    const auto got = parse_ipv4(d);
    SOCKIT_FUZZ_CHECK(describe(got) == describe(model_ipv4(d)), g_input + " " + describe(got));
    const IpAddress a = has(d, 12, 8) ? addr4(d, 12) : IpAddress::v4_any();
    const IpAddress b = has(d, 12, 8) ? addr4(d, 16) : IpAddress::v4_loopback();
    check_builders(d, false, a, b);
    SOCKIT_FUZZ_CHECK(build_tcp({.source = a, .destination = IpAddress::v6_any()}, {}) == 0,
                      g_input);
    return 0;
  }
  if (size < 33) return 0;
  const IpAddress from = addr6(in, 1), to = addr6(in, 17);
  const Bytes packet = in.subspan(33);
  Parsed base;
  base.from = from;
  base.to = to;
  std::optional<Parsed> want;
  if (which == 1 && model_tcp(packet, base)) want = base;
  if (which == 2 && model_icmp(packet, true, base)) want = base;
  const auto got = which == 1 ? parse_tcp6(packet, from, to) : parse_icmp6(packet, from, to);
  SOCKIT_FUZZ_CHECK(describe(got) == describe(want), g_input + " " + describe(got));
  check_builders(packet, true, from, to);
  return 0;
}
