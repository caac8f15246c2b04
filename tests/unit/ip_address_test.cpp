// IpAddress: parsing (good and bad), formatting, classification, ordering and hashing.
#include "sockit/ip_address.hpp"

#include <gtest/gtest.h>
#include <net/if.h>

#include <ostream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace sockit {

// Readable values in assertion failures (found by argument-dependent lookup).
void PrintTo(const IpAddress& a, std::ostream* os) {
  *os << a.to_string();
}

namespace {

IpAddress must_parse(std::string_view text) {
  auto r = IpAddress::parse(text);
  EXPECT_TRUE(r) << "'" << text << "': " << (r ? "" : r.error().message());
  return r ? *r : IpAddress();
}

TEST(IpAddressParse, V4Loopback) {
  IpAddress a = must_parse("127.0.0.1");
  EXPECT_TRUE(a.is_v4());
  EXPECT_FALSE(a.is_v6());
  EXPECT_EQ(a.family(), IpFamily::V4);
  EXPECT_EQ(a, IpAddress::v4_loopback());
  EXPECT_EQ(a, IpAddress::v4({127, 0, 0, 1}));
  EXPECT_EQ(a, IpAddress::v4_from_uint(0x7f000001));
  EXPECT_EQ(a.to_v4_uint(), 0x7f000001u);
  EXPECT_EQ(a.size(), 4u);
  EXPECT_EQ(a.bytes()[0], 127);
  EXPECT_EQ(a.bytes()[3], 1);
  EXPECT_EQ(a.scope_id(), 0u);
}

TEST(IpAddressParse, V6Loopback) {
  IpAddress a = must_parse("::1");
  EXPECT_TRUE(a.is_v6());
  EXPECT_EQ(a.family(), IpFamily::V6);
  EXPECT_EQ(a, IpAddress::v6_loopback());
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a.bytes()[15], 1);
  EXPECT_EQ(a.to_v4_uint(), 0u);
}

TEST(IpAddressParse, ScopeByInterfaceName) {
  unsigned lo = ::if_nametoindex("lo");
  if (lo == 0) GTEST_SKIP() << "no interface named lo";
  IpAddress a = must_parse("fe80::1%lo");
  EXPECT_TRUE(a.is_v6());
  EXPECT_EQ(a.scope_id(), lo);
  EXPECT_TRUE(a.is_link_local());
  EXPECT_EQ(a.to_string(), "fe80::1%lo");
}

TEST(IpAddressParse, ScopeByIndex) {
  IpAddress a = must_parse("fe80::1%1");
  EXPECT_EQ(a.scope_id(), 1u);
  // Formatting prefers the interface's name when index 1 has one.
  char name[IF_NAMESIZE];
  std::string expected = ::if_indextoname(1, name) != nullptr ? std::string("fe80::1%") + name
                                                              : std::string("fe80::1%1");
  EXPECT_EQ(a.to_string(), expected);
  // An index no interface has is kept, and printed as a number.
  IpAddress b = must_parse("fe80::1%999999");
  EXPECT_EQ(b.scope_id(), 999999u);
  EXPECT_EQ(b.to_string(), "fe80::1%999999");
}

TEST(IpAddressParse, ScopeMakesADifferentAddress) {
  EXPECT_NE(must_parse("fe80::1%1"), must_parse("fe80::1"));
  EXPECT_EQ(must_parse("fe80::1").scope_id(), 0u);
}

TEST(IpAddressParse, MoreGoodForms) {
  EXPECT_EQ(must_parse("0.0.0.0"), IpAddress::v4_any());
  EXPECT_EQ(must_parse("255.255.255.255").to_v4_uint(), 0xffffffffu);
  EXPECT_EQ(must_parse("::"), IpAddress::v6_any());
  EXPECT_EQ(must_parse("2001:DB8::1").to_string(), "2001:db8::1");
  IpAddress mapped = must_parse("::ffff:198.18.1.3");
  EXPECT_TRUE(mapped.is_v6());
  EXPECT_TRUE(mapped.is_v4_mapped());
}

struct BadAddress {
  const char* text;
  ParseErrc code;
};

// Names the case by its input (shortened) in test listings and failures.
void PrintTo(const BadAddress& bad, std::ostream* os) {
  std::string text(bad.text);
  if (text.size() > 24) text = text.substr(0, 20) + "...";
  *os << "'" << text << "'";
}

class IpAddressRefuses : public ::testing::TestWithParam<BadAddress> {};

TEST_P(IpAddressRefuses, WithCodeAndQuotedInput) {
  const BadAddress& bad = GetParam();
  auto r = IpAddress::parse(bad.text);
  ASSERT_FALSE(r) << "'" << bad.text << "' was accepted as " << r->to_string();
  EXPECT_EQ(r.error().code(), bad.code) << r.error().message();
  EXPECT_EQ(r.error().code().category(), parse_category());
  EXPECT_NE(r.error().message().find("'" + std::string(bad.text) + "'"), std::string::npos)
      << r.error().message();
  // The reason follows the context: "invalid address '...': <what is wrong>".
  EXPECT_NE(r.error().message().find(r.error().code().message()), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    BadInput, IpAddressRefuses,
    ::testing::Values(
        BadAddress{"256.1.1.1", ParseErrc::bad_ipv4}, BadAddress{"1.2.3", ParseErrc::bad_ipv4},
        BadAddress{"01.2.3.4", ParseErrc::bad_ipv4}, BadAddress{"1.2.3.4.5", ParseErrc::bad_ipv4},
        BadAddress{"1..2.3", ParseErrc::bad_ipv4}, BadAddress{"", ParseErrc::empty},
        BadAddress{"::g", ParseErrc::bad_ipv6},
        BadAddress{"1:2:3:4:5:6:7:8:9", ParseErrc::bad_ipv6},
        BadAddress{"fe80::1%nosuchif", ParseErrc::bad_scope},
        BadAddress{"fe80::1%", ParseErrc::bad_scope},
        BadAddress{"fe80::1%averyveryverylonginterfacename", ParseErrc::bad_scope},
        BadAddress{"host.name", ParseErrc::not_numeric},
        BadAddress{"localhost", ParseErrc::not_numeric},
        BadAddress{"1.2.3.4 ", ParseErrc::not_numeric}, BadAddress{"[::1]", ParseErrc::bad_ipv6}),
    [](const ::testing::TestParamInfo<BadAddress>& case_info) {
      return "Case" + std::to_string(case_info.index);
    });

TEST(IpAddressParse, VeryLongInputIsRefusedNotOverflowed) {
  std::string digits(200, '1');
  auto r = IpAddress::parse(digits);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ParseErrc::bad_ipv4);
  std::string v6(200, ':');
  auto r6 = IpAddress::parse(v6);
  ASSERT_FALSE(r6);
  EXPECT_EQ(r6.error().code().category(), parse_category());
}

TEST(IpAddressFormat, RoundTrips) {
  for (std::string_view text :
       {"127.0.0.1", "0.0.0.0", "198.18.2.94", "255.255.255.255", "::1", "::", "2001:db8::1",
        "fe80::1:2:3:4", "ff02::1", "::ffff:198.18.1.3", "1:2:3:4:5:6:7:8"}) {
    IpAddress a = must_parse(text);
    EXPECT_EQ(a.to_string(), text);
    EXPECT_EQ(must_parse(a.to_string()), a);
  }
  if (::if_nametoindex("lo") != 0) {
    EXPECT_EQ(must_parse("fe80::1%lo").to_string(), "fe80::1%lo");
    EXPECT_EQ(must_parse(must_parse("fe80::1%lo").to_string()), must_parse("fe80::1%lo"));
  }
}

TEST(IpAddressFormat, Factories) {
  EXPECT_EQ(IpAddress().to_string(), "0.0.0.0");
  EXPECT_EQ(IpAddress::v4_any().to_string(), "0.0.0.0");
  EXPECT_EQ(IpAddress::v4_loopback().to_string(), "127.0.0.1");
  EXPECT_EQ(IpAddress::v6_any().to_string(), "::");
  EXPECT_EQ(IpAddress::v6_loopback().to_string(), "::1");
  EXPECT_EQ(IpAddress::v4_from_uint(0xc612025e).to_string(), "198.18.2.94");
  EXPECT_EQ(IpAddress::v4_from_uint(0xc612025e).to_v4_uint(), 0xc612025eu);
}

TEST(IpAddressClassify, Loopback) {
  EXPECT_TRUE(must_parse("127.0.0.1").is_loopback());
  EXPECT_TRUE(must_parse("127.255.3.4").is_loopback());
  EXPECT_TRUE(must_parse("::1").is_loopback());
  EXPECT_TRUE(must_parse("::ffff:127.0.0.1").is_loopback());
  EXPECT_FALSE(must_parse("128.0.0.1").is_loopback());
  EXPECT_FALSE(must_parse("::2").is_loopback());
  EXPECT_FALSE(must_parse("::").is_loopback());
  EXPECT_FALSE(must_parse("::ffff:198.18.0.1").is_loopback());
}

TEST(IpAddressClassify, Unspecified) {
  EXPECT_TRUE(must_parse("0.0.0.0").is_unspecified());
  EXPECT_TRUE(must_parse("::").is_unspecified());
  EXPECT_FALSE(must_parse("0.0.0.1").is_unspecified());
  EXPECT_FALSE(must_parse("::1").is_unspecified());
}

TEST(IpAddressClassify, Multicast) {
  EXPECT_TRUE(must_parse("224.0.0.1").is_multicast());
  EXPECT_TRUE(must_parse("239.255.255.255").is_multicast());
  EXPECT_FALSE(must_parse("223.255.255.255").is_multicast());
  EXPECT_FALSE(must_parse("240.0.0.0").is_multicast());
  EXPECT_TRUE(must_parse("ff02::1").is_multicast());
  EXPECT_FALSE(must_parse("fe80::1").is_multicast());
}

TEST(IpAddressClassify, LinkLocal) {
  EXPECT_TRUE(must_parse("169.254.1.1").is_link_local());
  EXPECT_FALSE(must_parse("169.253.1.1").is_link_local());
  EXPECT_FALSE(must_parse("170.254.1.1").is_link_local());
  EXPECT_TRUE(must_parse("fe80::1").is_link_local());
  EXPECT_TRUE(must_parse("febf::1").is_link_local());
  EXPECT_FALSE(must_parse("fec0::1").is_link_local());
  EXPECT_FALSE(must_parse("::1").is_link_local());
}

TEST(IpAddressClassify, V4Mapped) {
  EXPECT_TRUE(must_parse("::ffff:1.2.3.4").is_v4_mapped());
  EXPECT_FALSE(must_parse("1.2.3.4").is_v4_mapped());
  EXPECT_FALSE(must_parse("::1.2.3.4").is_v4_mapped());  // deprecated v4-compatible form
  EXPECT_FALSE(must_parse("::fffe:1.2.3.4").is_v4_mapped());
  EXPECT_FALSE(must_parse("1::ffff:1.2.3.4").is_v4_mapped());
}

TEST(IpAddressOrder, V4SortsBeforeV6) {
  EXPECT_LT(must_parse("255.255.255.255"), must_parse("::"));
  EXPECT_LT(must_parse("198.18.0.1"), must_parse("198.18.0.2"));
  EXPECT_LT(must_parse("99.255.255.255"), must_parse("198.18.0.0"));  // by bytes, not text
  EXPECT_LT(must_parse("::1"), must_parse("::2"));
  EXPECT_LT(must_parse("fe80::1"), must_parse("fe80::1%1"));  // scope breaks the tie
  EXPECT_EQ(must_parse("198.18.0.1"), must_parse("198.18.0.1"));
  EXPECT_NE(must_parse("198.18.0.1"), must_parse("::ffff:198.18.0.1"));
  EXPECT_EQ(must_parse("198.18.0.1") <=> must_parse("198.18.0.1"), std::strong_ordering::equal);
}

TEST(IpAddressHash, WorksInUnorderedSet) {
  std::unordered_set<IpAddress> set;
  std::vector<std::string_view> texts = {
      "127.0.0.1", "127.0.0.2", "::1", "::", "0.0.0.0", "fe80::1", "fe80::1%1"};
  for (auto t : texts)
    set.insert(must_parse(t));
  EXPECT_EQ(set.size(), texts.size());
  for (auto t : texts)
    EXPECT_EQ(set.count(must_parse(t)), 1u) << t;
  set.insert(must_parse("127.0.0.1"));  // a duplicate changes nothing
  EXPECT_EQ(set.size(), texts.size());
  EXPECT_EQ(set.count(must_parse("198.18.0.1")), 0u);
  EXPECT_EQ(std::hash<IpAddress>()(must_parse("::1")), hash_value(IpAddress::v6_loopback()));
}

}  // namespace
}  // namespace sockit
