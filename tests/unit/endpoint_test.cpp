// Endpoint and parse_port: parsing (good and bad), formatting, comparison, hashing and
// conversion from kernel socket addresses.
#include "sockit/endpoint.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>

#include <cstddef>
#include <cstring>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace sockit {

// Readable values in assertion failures (found by argument-dependent lookup).
void PrintTo(const Endpoint& e, std::ostream* os) {
  *os << e.to_string();
}
void PrintTo(const IpAddress& a, std::ostream* os) {
  *os << a.to_string();
}

namespace {

Endpoint must_parse(std::string_view text) {
  auto r = Endpoint::parse(text);
  EXPECT_TRUE(r) << "'" << text << "': " << (r ? "" : r.error().message());
  return r ? *r : Endpoint();
}

// --- parse_port -----------------------------------------------------------------------

TEST(ParsePort, AcceptsDecimalZeroTo65535) {
  EXPECT_EQ(parse_port("0").value_or(1), 0);
  EXPECT_EQ(parse_port("80").value_or(0), 80);
  EXPECT_EQ(parse_port("1502").value_or(0), 1502);
  EXPECT_EQ(parse_port("65535").value_or(0), 65535);
  EXPECT_EQ(parse_port("00080").value_or(0), 80);
}

TEST(ParsePort, RefusesWithCodeAndQuotedInput) {
  struct Case {
    std::string_view text;
    ParseErrc code;
  };
  for (const Case& c : {Case{"", ParseErrc::empty}, Case{"65536", ParseErrc::port_out_of_range},
                        Case{"99999999999999999999", ParseErrc::port_out_of_range},
                        Case{"-1", ParseErrc::bad_port}, Case{"+80", ParseErrc::bad_port},
                        Case{"8a", ParseErrc::bad_port}, Case{" 80", ParseErrc::bad_port},
                        Case{"80 ", ParseErrc::bad_port}, Case{"http", ParseErrc::bad_port}}) {
    auto r = parse_port(c.text);
    ASSERT_FALSE(r) << "'" << c.text << "' accepted as " << *r;
    EXPECT_EQ(r.error().code(), c.code) << c.text;
    EXPECT_EQ(r.error().message(),
              "invalid port '" + std::string(c.text) + "': " + make_error_code(c.code).message());
  }
}

// --- parse: good input ----------------------------------------------------------------

TEST(EndpointParse, V4AddressAndPort) {
  Endpoint e = must_parse("198.18.2.94:1502");
  EXPECT_TRUE(e.is_ip());
  EXPECT_TRUE(e.is_v4());
  EXPECT_FALSE(e.is_v6());
  EXPECT_FALSE(e.is_unix());
  EXPECT_EQ(e.family(), AF_INET);
  EXPECT_EQ(e.address(), IpAddress::v4({198, 18, 2, 94}));
  EXPECT_EQ(e.port(), 1502);
  EXPECT_EQ(e.size(), sizeof(sockaddr_in));
  const auto* sin = reinterpret_cast<const sockaddr_in*>(e.data());
  EXPECT_EQ(ntohs(sin->sin_port), 1502);
  EXPECT_EQ(ntohl(sin->sin_addr.s_addr), 0xc612025eu);
  EXPECT_TRUE(e.unix_name().empty());
}

TEST(EndpointParse, V6InBrackets) {
  Endpoint e = must_parse("[::1]:80");
  EXPECT_TRUE(e.is_ip());
  EXPECT_TRUE(e.is_v6());
  EXPECT_EQ(e.family(), AF_INET6);
  EXPECT_EQ(e.address(), IpAddress::v6_loopback());
  EXPECT_EQ(e.port(), 80);
  EXPECT_EQ(e.size(), sizeof(sockaddr_in6));
  EXPECT_TRUE(e.is_loopback());
}

TEST(EndpointParse, V6WithScopeName) {
  unsigned lo = ::if_nametoindex("lo");
  if (lo == 0) GTEST_SKIP() << "no interface named lo";
  Endpoint e = must_parse("[fe80::1%lo]:80");
  EXPECT_TRUE(e.is_v6());
  EXPECT_EQ(e.port(), 80);
  EXPECT_EQ(e.address().scope_id(), lo);
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(e.data());
  EXPECT_EQ(sin6->sin6_scope_id, lo);
  EXPECT_EQ(e.to_string(), "[fe80::1%lo]:80");
}

TEST(EndpointParse, UnixPath) {
  Endpoint e = must_parse("unix:/tmp/s");
  EXPECT_TRUE(e.is_unix());
  EXPECT_FALSE(e.is_ip());
  EXPECT_FALSE(e.is_abstract());
  EXPECT_FALSE(e.is_unnamed_unix());
  EXPECT_EQ(e.family(), AF_UNIX);
  EXPECT_EQ(e.unix_name(), "/tmp/s");
  EXPECT_EQ(e.port(), 0);
  EXPECT_EQ(e.address(), IpAddress());
  EXPECT_FALSE(e.is_loopback());
  // The kernel's length: the path and its NUL.
  EXPECT_EQ(e.size(), offsetof(sockaddr_un, sun_path) + 6 + 1);
  EXPECT_STREQ(reinterpret_cast<const sockaddr_un*>(e.data())->sun_path, "/tmp/s");
}

TEST(EndpointParse, UnixAbstract) {
  Endpoint e = must_parse("unix:@name");
  EXPECT_TRUE(e.is_unix());
  EXPECT_TRUE(e.is_abstract());
  EXPECT_FALSE(e.is_unnamed_unix());
  EXPECT_EQ(e.unix_name(), "name");
  // A leading NUL, then exactly the name (no terminating NUL).
  EXPECT_EQ(e.size(), offsetof(sockaddr_un, sun_path) + 1 + 4);
  const auto* un = reinterpret_cast<const sockaddr_un*>(e.data());
  EXPECT_EQ(un->sun_path[0], '\0');
  EXPECT_EQ(std::string_view(un->sun_path + 1, 4), "name");
}

TEST(EndpointParse, LongestUnixNamesFit) {
  std::string path = "/" + std::string(kMaxUnixPath - 1, 'p');
  ASSERT_EQ(path.size(), 107u);
  Endpoint e = must_parse("unix:" + path);
  EXPECT_EQ(e.unix_name(), path);
  EXPECT_LE(e.size(), sizeof(sockaddr_un));

  std::string name(kMaxUnixPath, 'n');
  Endpoint a = must_parse("unix:@" + name);
  EXPECT_EQ(a.unix_name(), name);
  EXPECT_LE(a.size(), sizeof(sockaddr_un));
}

TEST(EndpointParse, EdgePorts) {
  EXPECT_EQ(must_parse("0.0.0.0:0"), Endpoint());
  EXPECT_EQ(must_parse("[::]:65535").port(), 65535);
  EXPECT_TRUE(must_parse("[::]:65535").address().is_unspecified());
  EXPECT_TRUE(must_parse("[::ffff:1.2.3.4]:7").address().is_v4_mapped());
}

// --- parse: bad input -----------------------------------------------------------------

struct BadEndpoint {
  std::string text;
  ParseErrc code;
};

std::vector<BadEndpoint> bad_endpoints() {
  return {
      {"", ParseErrc::empty},
      {"1.2.3.4:70000", ParseErrc::port_out_of_range},
      {"1.2.3.4:99999999999", ParseErrc::port_out_of_range},
      {"1.2.3.4", ParseErrc::missing_port},
      {"[::1", ParseErrc::missing_bracket},
      {"[::1]80", ParseErrc::trailing_garbage},
      {"[::1]", ParseErrc::missing_port},
      {"::1:80", ParseErrc::needs_brackets},
      {"1.2.3.4:-1", ParseErrc::bad_port},
      {"1.2.3.4:8a", ParseErrc::bad_port},
      {"1.2.3.4:", ParseErrc::missing_port},
      {"[::1]:", ParseErrc::missing_port},
      {"[1.2.3.4]:80", ParseErrc::bad_ipv6},
      {"[::g]:80", ParseErrc::bad_ipv6},
      {"256.1.1.1:80", ParseErrc::bad_ipv4},
      {"01.2.3.4:80", ParseErrc::bad_ipv4},
      {"host.name:80", ParseErrc::not_numeric},
      {"[fe80::1%nosuchif]:80", ParseErrc::bad_scope},
      {"unix:", ParseErrc::empty},
      {"unix:@", ParseErrc::empty},
      {"unix:/" + std::string(kMaxUnixPath, 'p'), ParseErrc::path_too_long},
      {"unix:@" + std::string(kMaxUnixPath + 1, 'n'), ParseErrc::path_too_long},
  };
}

// Names the case by its input (shortened) in test listings and failures.
void PrintTo(const BadEndpoint& bad, std::ostream* os) {
  std::string text(bad.text);
  if (text.size() > 24) text = text.substr(0, 20) + "...";
  *os << "'" << text << "'";
}

class EndpointRefuses : public ::testing::TestWithParam<BadEndpoint> {};

TEST_P(EndpointRefuses, QuotingTheInputAndSayingWhatIsWrong) {
  const BadEndpoint& bad = GetParam();
  auto r = Endpoint::parse(bad.text);
  ASSERT_FALSE(r) << "'" << bad.text << "' was accepted as " << r->to_string();
  EXPECT_EQ(r.error().code(), bad.code) << r.error().message();
  EXPECT_EQ(r.error().code().category(), parse_category());
  // "invalid endpoint '<the whole input>': <reason>"
  EXPECT_EQ(r.error().message(),
            "invalid endpoint '" + bad.text + "': " + make_error_code(bad.code).message());
}

INSTANTIATE_TEST_SUITE_P(BadInput, EndpointRefuses, ::testing::ValuesIn(bad_endpoints()),
                         [](const ::testing::TestParamInfo<BadEndpoint>& case_info) {
                           return "Case" + std::to_string(case_info.index);
                         });

TEST(EndpointParse, PortOutOfRangeMessageReadsWell) {
  auto r = Endpoint::parse("1.2.3.4:70000");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("'1.2.3.4:70000'"), std::string::npos);
  EXPECT_EQ(r.error().message(), "invalid endpoint '1.2.3.4:70000': port out of range (0-65535)");
}

TEST(EndpointUnix, FactoriesRefuseBadNames) {
  auto empty = Endpoint::unix_path("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code(), ParseErrc::empty);

  auto long_path = Endpoint::unix_path(std::string(kMaxUnixPath + 1, 'p'));
  ASSERT_FALSE(long_path);
  EXPECT_EQ(long_path.error().code(), ParseErrc::path_too_long);
  EXPECT_NE(long_path.error().message().find("invalid Unix socket path '"), std::string::npos);

  auto nul = Endpoint::unix_path(std::string_view("/tmp/a\0b", 8));
  ASSERT_FALSE(nul);
  EXPECT_EQ(nul.error().code(), ParseErrc::trailing_garbage);

  auto long_name = Endpoint::unix_abstract(std::string(kMaxUnixPath + 1, 'n'));
  ASSERT_FALSE(long_name);
  EXPECT_EQ(long_name.error().code(), ParseErrc::path_too_long);
  EXPECT_NE(long_name.error().message().find("'@nnn"), std::string::npos);

  auto no_name = Endpoint::unix_abstract("");
  ASSERT_FALSE(no_name);
  EXPECT_EQ(no_name.error().code(), ParseErrc::empty);
}

// --- formatting -----------------------------------------------------------------------

TEST(EndpointFormat, RoundTrips) {
  std::vector<std::string> texts = {
      "198.18.2.94:1502",  "0.0.0.0:0",   "127.0.0.1:65535", "[::1]:80",           "[::]:0",
      "[2001:db8::7]:443", "unix:/tmp/s", "unix:@name",      "unix:relative/path", "[fe80::1%1]:9"};
  for (const auto& text : texts) {
    Endpoint e = must_parse(text);
    Endpoint again = must_parse(e.to_string());
    EXPECT_EQ(again, e) << text;
    if (text != "[fe80::1%1]:9") {  // printed with the interface's name instead
      EXPECT_EQ(e.to_string(), text);
    }
  }
}

TEST(EndpointFormat, ConstructedFromAddressAndPort) {
  EXPECT_EQ(Endpoint().to_string(), "0.0.0.0:0");
  EXPECT_EQ(Endpoint(IpAddress::v4_loopback(), 8080).to_string(), "127.0.0.1:8080");
  EXPECT_EQ(Endpoint(IpAddress::v6_loopback(), 8080).to_string(), "[::1]:8080");
  Endpoint scoped(*IpAddress::parse("fe80::1%7"), 1);
  EXPECT_EQ(scoped.address().scope_id(), 7u);
}

TEST(EndpointFormat, WithPort) {
  Endpoint v4 = must_parse("127.0.0.1:1");
  Endpoint v4b = v4.with_port(2);
  EXPECT_EQ(v4b.port(), 2);
  EXPECT_EQ(v4b.address(), v4.address());
  EXPECT_EQ(v4.port(), 1);  // the original is unchanged
  EXPECT_EQ(v4b.to_string(), "127.0.0.1:2");

  Endpoint v6 = must_parse("[::1]:1").with_port(65535);
  EXPECT_EQ(v6.to_string(), "[::1]:65535");

  Endpoint un = must_parse("unix:/tmp/s");
  EXPECT_EQ(un.with_port(80), un);
  EXPECT_EQ(un.with_port(80).port(), 0);
}

// --- comparison and hashing -----------------------------------------------------------

TEST(EndpointCompare, EqualityAndOrder) {
  EXPECT_EQ(must_parse("1.2.3.4:5"), must_parse("1.2.3.4:5"));
  EXPECT_NE(must_parse("1.2.3.4:5"), must_parse("1.2.3.4:6"));
  EXPECT_NE(must_parse("1.2.3.4:5"), must_parse("1.2.3.5:5"));
  EXPECT_LT(must_parse("1.2.3.4:6"), must_parse("1.2.3.5:5"));  // address before port
  EXPECT_LT(must_parse("1.2.3.4:5"), must_parse("1.2.3.4:6"));
  EXPECT_LT(must_parse("255.255.255.255:65535"), must_parse("[::]:0"));  // v4 before v6
  EXPECT_NE(must_parse("unix:/a"), must_parse("unix:@/a"));              // path vs abstract
  EXPECT_LT(must_parse("unix:/a"), must_parse("unix:/b"));
  EXPECT_EQ(must_parse("unix:@x"), must_parse("unix:@x"));
  EXPECT_NE(must_parse("unix:/a"), must_parse("0.0.0.0:0"));
  EXPECT_EQ(must_parse("[::1]:9") <=> must_parse("[::1]:9"), std::strong_ordering::equal);
}

TEST(EndpointHash, WorksInUnorderedSet) {
  std::vector<std::string> texts = {"1.2.3.4:5", "1.2.3.4:6", "[::1]:5", "[::1]:6",
                                    "unix:/a",   "unix:@a",   "unix:/b", "0.0.0.0:0"};
  std::unordered_set<Endpoint> set;
  for (const auto& t : texts)
    set.insert(must_parse(t));
  EXPECT_EQ(set.size(), texts.size());
  for (const auto& t : texts)
    EXPECT_EQ(set.count(must_parse(t)), 1u) << t;
  set.insert(must_parse("1.2.3.4:5"));
  EXPECT_EQ(set.size(), texts.size());
  EXPECT_EQ(std::hash<Endpoint>()(must_parse("unix:/a")), hash_value(must_parse("unix:/a")));
}

// --- from_sockaddr --------------------------------------------------------------------

TEST(EndpointFromSockaddr, V4AndV6) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(1234);
  sin.sin_addr.s_addr = htonl(0x7f000001);
  auto e = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_EQ(e->to_string(), "127.0.0.1:1234");

  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(80);
  sin6.sin6_addr = in6addr_loopback;
  // The kernel may report a longer length (sockaddr_storage); only the address counts.
  sockaddr_storage storage{};
  std::memcpy(&storage, &sin6, sizeof sin6);
  auto e6 = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), sizeof sin6);
  ASSERT_TRUE(e6) << e6.error().message();
  EXPECT_EQ(e6->to_string(), "[::1]:80");
  EXPECT_EQ(e6->size(), sizeof(sockaddr_in6));
}

TEST(EndpointFromSockaddr, BadFamilyOrLengthFails) {
  sockaddr_storage storage{};
  storage.ss_family = AF_APPLETALK;
  auto bad = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), sizeof(sockaddr_in));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ParseErrc::bad_family);

  auto null = Endpoint::from_sockaddr(nullptr, sizeof(sockaddr_in));
  ASSERT_FALSE(null);
  EXPECT_EQ(null.error().code(), ParseErrc::bad_family);

  storage.ss_family = AF_INET;
  auto short_v4 = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), 4);
  ASSERT_FALSE(short_v4);
  EXPECT_EQ(short_v4.error().code(), ParseErrc::bad_family);

  storage.ss_family = AF_INET6;
  auto short_v6 =
      Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), sizeof(sockaddr_in));
  ASSERT_FALSE(short_v6);

  auto too_long = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), sizeof storage);
  ASSERT_FALSE(too_long);

  auto tiny = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), 1);
  ASSERT_FALSE(tiny);
}

TEST(EndpointFromSockaddr, UnixPathWithOrWithoutNulIsTheSameName) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, "/tmp/x", 6);
  auto base = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path));
  auto without_nul = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&un), base + 6);
  auto with_nul = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&un), base + 7);
  auto whole = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&un), sizeof un);
  ASSERT_TRUE(without_nul && with_nul && whole);
  EXPECT_EQ(*without_nul, *with_nul);
  EXPECT_EQ(*whole, *with_nul);
  EXPECT_EQ(with_nul->unix_name(), "/tmp/x");
  EXPECT_EQ(whole->size(), base + 7);
  EXPECT_EQ(*with_nul, must_parse("unix:/tmp/x"));
}

TEST(EndpointFromSockaddr, UnixPathFillingSunPathWithoutNul) {
  // Linux lets a socket bind a 108-byte path with no NUL; getsockname then returns it so.
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memset(un.sun_path, 'q', sizeof un.sun_path);
  auto e = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&un), sizeof un);
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_EQ(e->unix_name(), std::string(sizeof un.sun_path, 'q'));
  EXPECT_LE(e->size(), sizeof(sockaddr_un));
}

TEST(EndpointFromSockaddr, UnnamedAndAbstractUnix) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  auto unnamed = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&un), sizeof(sa_family_t));
  ASSERT_TRUE(unnamed);
  EXPECT_TRUE(unnamed->is_unix());
  EXPECT_TRUE(unnamed->is_unnamed_unix());
  EXPECT_FALSE(unnamed->is_abstract());
  EXPECT_TRUE(unnamed->unix_name().empty());
  EXPECT_EQ(unnamed->to_string(), "unix:(unnamed)");

  std::memcpy(un.sun_path + 1, "abs", 3);
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 4);
  auto abstract = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&un), len);
  ASSERT_TRUE(abstract);
  EXPECT_TRUE(abstract->is_abstract());
  EXPECT_EQ(abstract->unix_name(), "abs");
  EXPECT_EQ(*abstract, must_parse("unix:@abs"));
}

}  // namespace
}  // namespace sockit
