// Permutation: a bijection on [0, n) for every n and seed, scrambled unless asked not to be.
#include "sockit/scan/permutation.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace sockit::scan {
namespace {

constexpr std::uint64_t kSizes[] = {1, 2,  3,  4,   5,    6,     7,     8,
                                    9, 12, 30, 210, 1024, 65535, 65536, 100003};
constexpr std::uint64_t kSeeds[] = {1, 2, 3, 42, 65535, 0x9E3779B97F4A7C15ULL, ~std::uint64_t{0}};

// True if p visits every index in [0, n) exactly once (and nothing outside it).
::testing::AssertionResult is_bijection(const Permutation& p) {
  std::vector<bool> seen(p.size(), false);
  for (std::uint64_t i = 0; i < p.size(); ++i) {
    std::uint64_t v = p[i];
    if (v >= p.size()) return ::testing::AssertionFailure() << "p[" << i << "] = " << v;
    if (seen[v]) return ::testing::AssertionFailure() << v << " visited twice (at " << i << ")";
    seen[v] = true;
  }
  return ::testing::AssertionSuccess();
}

bool is_identity(const Permutation& p) {
  for (std::uint64_t i = 0; i < p.size(); ++i)
    if (p[i] != i) return false;
  return true;
}

TEST(Permutation, VisitsEveryIndexOnce) {
  for (std::uint64_t n : kSizes) {
    for (std::uint64_t seed : kSeeds) {
      Permutation p(n, seed);
      EXPECT_EQ(p.size(), n);
      EXPECT_TRUE(is_bijection(p)) << "n=" << n << " seed=" << seed;
    }
  }
}

TEST(Permutation, EverySeedForSmallSizes) {
  for (std::uint64_t n = 1; n <= 64; ++n)
    for (std::uint64_t seed = 0; seed < 200; ++seed)
      ASSERT_TRUE(is_bijection(Permutation(n, seed))) << "n=" << n << " seed=" << seed;
}

TEST(Permutation, ScrambledIsNotTheIdentity) {
  for (std::uint64_t n : kSizes) {
    if (n < 3) continue;
    for (std::uint64_t seed : kSeeds)
      EXPECT_FALSE(is_identity(Permutation(n, seed))) << "n=" << n << " seed=" << seed;
  }
  for (std::uint64_t n = 3; n <= 64; ++n)
    for (std::uint64_t seed = 0; seed < 200; ++seed)
      ASSERT_FALSE(is_identity(Permutation(n, seed))) << "n=" << n << " seed=" << seed;
}

TEST(Permutation, SequentialIsTheIdentity) {
  for (std::uint64_t n : kSizes) {
    Permutation p(n, 12345, /*scrambled=*/false);
    EXPECT_EQ(p.size(), n);
    EXPECT_TRUE(is_identity(p)) << "n=" << n;
  }
}

TEST(Permutation, SeedsGiveDifferentOrders) {
  Permutation a(65535, 1), b(65535, 2);
  bool differ = false;
  for (std::uint64_t i = 0; i < 100 && !differ; ++i)
    differ = a[i] != b[i];
  EXPECT_TRUE(differ);
  Permutation c(65535, 1);
  for (std::uint64_t i = 0; i < 65535; i += 97)
    ASSERT_EQ(a[i], c[i]) << "the same seed gives the same order";
}

TEST(Permutation, HugeSizesStayInRange) {
  // Hosts x ports can pass 2^32: a·i must not overflow 64 bits.
  const std::uint64_t n = (std::uint64_t{1} << 20) * 65535;
  Permutation p(n, 7);
  for (std::uint64_t i : {std::uint64_t{0}, std::uint64_t{1}, n / 2, n - 2, n - 1})
    EXPECT_LT(p[i], n);
  EXPECT_NE(p[n - 1], p[n - 2]);
}

}  // namespace
}  // namespace sockit::scan
