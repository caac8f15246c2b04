// Permutation: visits 0..n-1 each exactly once in a scrambled order, in O(1) memory, so a
// scan of every port on many hosts needs no shuffled list. i -> (a·i + c) mod n with a
// coprime to n is a bijection on [0, n); a and c come from the seed.
#pragma once

#include <cstdint>
#include <numeric>

namespace sockit::scan {

class Permutation {
 public:
  // `scrambled` false gives the identity (--sequential).
  Permutation(std::uint64_t n, std::uint64_t seed, bool scrambled = true) : n_(n) {
    if (!scrambled || n < 3) return;
    // Start near n·φ (a well-spread step), move to the nearest value coprime to n. Never
    // a = 1: that is a mere rotation, and the identity when c is 0. n - 1 is coprime to n,
    // so the search ends.
    std::uint64_t a = (n * 0x9E3779B97F4A7C15ULL % n) | 1;
    a = (a + seed) % n;
    if (a < 2) a = 2;
    while (std::gcd(a, n) != 1)
      a = a + 1 == n ? 2 : a + 1;
    a_ = a;
    c_ = (seed * 0xBF58476D1CE4E5B9ULL) % n;
  }
  std::uint64_t size() const noexcept { return n_; }
  std::uint64_t operator[](std::uint64_t i) const noexcept {
    // 128-bit product: a·i can exceed 64 bits for large n.
    __extension__ using Wide = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<Wide>(a_) * i + c_) % n_);
  }

 private:
  std::uint64_t n_;
  std::uint64_t a_ = 1;
  std::uint64_t c_ = 0;
};

}  // namespace sockit::scan
