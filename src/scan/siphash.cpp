// SipHash-2-4, written from section 2 of the paper (Aumasson & Bernstein, 2012): four 64-bit
// words of state, two SipRounds per 8-byte message word ("2"), four to finish ("4").
#include "scan/siphash.hpp"

#include <bit>

namespace sockit::scan {
namespace {

struct State {
  std::uint64_t v0, v1, v2, v3;

  void round() noexcept {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }
  void compress(std::uint64_t m) noexcept {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

// Byte by byte rather than a memcpy into a uint64_t: the same little-endian words on any host,
// and no alignment assumption.
std::uint64_t load_le(const std::uint8_t* p, std::size_t n) noexcept {
  std::uint64_t m = 0;
  for (std::size_t i = 0; i < n; ++i)
    m |= std::uint64_t{p[i]} << (8 * i);
  return m;
}

}  // namespace

std::uint64_t siphash24(std::uint64_t k0, std::uint64_t k1, const void* data,
                        std::size_t len) noexcept {
  // The initial state is the key xored with "somepseudorandomlygeneratedbytes".
  State s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
          k1 ^ 0x7465646279746573ULL};
  const auto* p = static_cast<const std::uint8_t*>(data);
  const std::size_t whole = len - len % 8;
  for (std::size_t i = 0; i < whole; i += 8)
    s.compress(load_le(p + i, 8));
  // The last word: the 0-7 bytes left, and the length modulo 256 in the top byte.
  s.compress(load_le(p + whole, len - whole) | (std::uint64_t{len & 0xff} << 56));
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i)
    s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace sockit::scan
