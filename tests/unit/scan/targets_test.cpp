// expand_target (single addresses, CIDR blocks, octet ranges, names, the size guard) and
// AddressFilter. Every address here is documentation/benchmark space or loopback; the only
// name looked up is "localhost", which /etc/hosts answers.
#include "sockit/scan/targets.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace sockit::scan {
namespace {

IpAddress ip(std::string_view text) {
  auto r = IpAddress::parse(text);
  EXPECT_TRUE(r) << text;
  return r ? *r : IpAddress();
}

std::vector<Target> expanded(std::string_view spec, TargetOptions options = {}) {
  auto r = expand_target(spec, options);
  EXPECT_TRUE(r) << "'" << spec << "': " << (r ? "" : r.error().message());
  return r ? *r : std::vector<Target>{};
}

std::vector<std::string> addresses(const std::vector<Target>& targets) {
  std::vector<std::string> out;
  for (const Target& t : targets)
    out.push_back(t.address.to_string());
  return out;
}

TEST(Targets, SingleAddresses) {
  auto v4 = expanded("198.18.0.5");
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(v4[0].address, ip("198.18.0.5"));
  EXPECT_EQ(v4[0].name, "198.18.0.5");
  auto v6 = expanded("::1");
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0].address, IpAddress::v6_loopback());
  EXPECT_EQ(v6[0].name, "::1");
}

TEST(Targets, CidrBlockClearsHostBits) {
  auto block = expanded("198.18.0.7/28");
  ASSERT_EQ(block.size(), 16u);
  for (unsigned i = 0; i < 16; ++i) {
    EXPECT_EQ(block[i].address.to_string(), "198.18.0." + std::to_string(i));
    EXPECT_EQ(block[i].name, block[i].address.to_string());
  }
  EXPECT_EQ(addresses(expanded("198.18.0.5/32")), std::vector<std::string>{"198.18.0.5"});
  auto wide = expanded("198.18.255.255/22");
  ASSERT_EQ(wide.size(), 1024u);
  EXPECT_EQ(wide.front().address.to_string(), "198.18.252.0");
  EXPECT_EQ(wide[256].address.to_string(), "198.18.253.0");
  EXPECT_EQ(wide.back().address.to_string(), "198.18.255.255");
}

TEST(Targets, Ipv6CidrBlock) {
  auto block = expanded("fd00::/120");
  ASSERT_EQ(block.size(), 256u);
  EXPECT_EQ(block.front().address.to_string(), "fd00::");
  EXPECT_EQ(block[1].address.to_string(), "fd00::1");
  EXPECT_EQ(block.back().address.to_string(), "fd00::ff");
  auto cleared = expanded("fd00::1:2:3/112");
  ASSERT_EQ(cleared.size(), 65536u);
  EXPECT_EQ(cleared.front().address.to_string(), "fd00::1:2:0");
  EXPECT_EQ(cleared[0x1234].address.to_string(), "fd00::1:2:1234");
  EXPECT_EQ(cleared.back().address.to_string(), "fd00::1:2:ffff");
}

TEST(Targets, OctetRanges) {
  auto range = expanded("198.18.0.1-20");
  ASSERT_EQ(range.size(), 20u);
  for (unsigned i = 0; i < 20; ++i)
    EXPECT_EQ(range[i].address.to_string(), "198.18.0." + std::to_string(i + 1));
  EXPECT_EQ(addresses(expanded("198.18.0-1.1,3")),
            (std::vector<std::string>{"198.18.0.1", "198.18.0.3", "198.18.1.1", "198.18.1.3"}));
  EXPECT_EQ(addresses(expanded("198.18.0.9,5-7,6")),
            (std::vector<std::string>{"198.18.0.5", "198.18.0.6", "198.18.0.7", "198.18.0.9"}));
  EXPECT_EQ(expanded("198.18.0-255.0-255").size(), 65536u) << "exactly the limit is allowed";
}

TEST(Targets, LargeTargetsNeedAllowLarge) {
  auto refused = expand_target("198.18.0.0/15", {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code().category(), parse_category());
  EXPECT_NE(refused.error().message().find("--allow-large"), std::string::npos)
      << refused.error().message();
  EXPECT_NE(refused.error().message().find("131072"), std::string::npos)
      << refused.error().message();

  auto accepted = expanded("198.18.0.0/15", {.allow_large = true});
  ASSERT_EQ(accepted.size(), 131072u);
  EXPECT_EQ(accepted.front().address.to_string(), "198.18.0.0");
  EXPECT_EQ(accepted.back().address.to_string(), "198.19.255.255");

  EXPECT_FALSE(expand_target("198.18-19.0-255.0-255", {})) << "octet ranges are counted too";
  EXPECT_EQ(expanded("198.18-19.0-255.0-255", {.allow_large = true}).size(), 131072u);
}

TEST(Targets, TooLargeEvenWithAllowLarge) {
  for (const char* spec :
       {"127.0.0.0/8", "0.0.0.0/0", "fd00::/64", "::/0", "127.0-255.0-255.0-255"}) {
    auto r = expand_target(spec, {.allow_large = true});
    ASSERT_FALSE(r) << spec;
    EXPECT_EQ(r.error().code().category(), parse_category()) << spec;
    EXPECT_NE(r.error().message().find("at most 1048576"), std::string::npos)
        << r.error().message();
  }
  // 17·256·256 hosts is just over the 2^20 ceiling (16·256·256 would be allowed).
  EXPECT_FALSE(expand_target("10.0-16.0-255.0-255", {.allow_large = true}));
}

TEST(Targets, MalformedTargetsAreParseErrors) {
  for (const char* spec : {"198.18.0.1-300", "198.18.0.20-1", "1.2.3.4/33", "", "198.18.0.1-",
                           "198.18..1,2", "1-2", "198.18.0,1", "1.2.3.4.5,6", "::1/129",
                           "198.18.0.1/", "/24", "198.18.0.1/x", "256.1.1.1", "1.2.3"}) {
    auto r = expand_target(spec, {});
    ASSERT_FALSE(r) << "'" << spec << "' was accepted";
    EXPECT_EQ(r.error().code().category(), parse_category())
        << "'" << spec << "': " << r.error().message();
    EXPECT_NE(r.error().message().find("'" + std::string(spec) + "'"), std::string::npos)
        << r.error().message();
  }
}

TEST(Targets, LocalhostResolves) {
  auto all = expanded("localhost");
  ASSERT_FALSE(all.empty());
  for (const Target& t : all) {
    EXPECT_EQ(t.name, "localhost");
    EXPECT_TRUE(t.address.is_loopback()) << t.address.to_string();
  }
  EXPECT_NE(std::find_if(all.begin(), all.end(),
                         [](const Target& t) { return t.address == IpAddress::v4_loopback(); }),
            all.end());
  EXPECT_EQ(expanded("localhost", {.first_address_only = true}).size(), 1u);
  auto v4 = expanded("localhost", {.family = Family::V4});
  ASSERT_FALSE(v4.empty());
  for (const Target& t : v4)
    EXPECT_TRUE(t.address.is_v4());
}

TEST(AddressFilter, MatchesCidrBlocks) {
  AddressFilter f;
  EXPECT_TRUE(f.empty());
  ASSERT_TRUE(f.add("198.18.0.7/28"));
  EXPECT_FALSE(f.empty());
  EXPECT_TRUE(f.matches(ip("198.18.0.0")));
  EXPECT_TRUE(f.matches(ip("198.18.0.15")));
  EXPECT_FALSE(f.matches(ip("198.18.0.16")));
  EXPECT_FALSE(f.matches(ip("198.18.1.3")));
  EXPECT_FALSE(f.matches(ip("::1")));
  ASSERT_TRUE(f.add("fd00::/120"));
  EXPECT_TRUE(f.matches(ip("fd00::ab")));
  EXPECT_FALSE(f.matches(ip("fd00::1:0")));
}

TEST(AddressFilter, MatchesOctetRanges) {
  AddressFilter f;
  ASSERT_TRUE(f.add("198.18.0-1.1,3,10-12"));
  for (const char* yes : {"198.18.0.1", "198.18.1.3", "198.18.0.10", "198.18.1.12"})
    EXPECT_TRUE(f.matches(ip(yes))) << yes;
  for (const char* no : {"198.18.0.2", "198.18.2.1", "198.19.0.1", "198.18.0.13", "::1"})
    EXPECT_FALSE(f.matches(ip(no))) << no;
}

TEST(AddressFilter, MatchesSingleAddresses) {
  AddressFilter f;
  ASSERT_TRUE(f.add("127.0.0.2"));
  ASSERT_TRUE(f.add("::1"));
  EXPECT_TRUE(f.matches(ip("127.0.0.2")));
  EXPECT_TRUE(f.matches(ip("::1")));
  EXPECT_FALSE(f.matches(ip("127.0.0.1")));
  EXPECT_FALSE(f.matches(ip("127.0.0.3")));
  EXPECT_FALSE(f.matches(ip("::2")));
}

TEST(AddressFilter, NamesAndLargeBlocks) {
  AddressFilter f;
  ASSERT_TRUE(f.add("localhost"));
  EXPECT_TRUE(f.matches(IpAddress::v4_loopback()));
  EXPECT_FALSE(f.matches(ip("127.0.0.2")));
  AddressFilter big;
  ASSERT_TRUE(big.add("127.0.0.0/8")) << "no size limit on exclusions";
  EXPECT_TRUE(big.matches(ip("127.200.3.4")));
  EXPECT_FALSE(big.matches(ip("128.0.0.0")));
}

TEST(AddressFilter, BadSpecsAreParseErrors) {
  AddressFilter f;
  for (const char* spec : {"", "198.18.0.1-300", "1.2.3.4/33", "198.18.0.20-1"}) {
    auto r = f.add(spec);
    ASSERT_FALSE(r) << spec;
    EXPECT_EQ(r.error().code().category(), parse_category()) << spec;
  }
  EXPECT_TRUE(f.empty());
}

}  // namespace
}  // namespace sockit::scan
