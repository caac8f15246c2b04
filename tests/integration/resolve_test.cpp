// hostname(), resolve(), reverse(), aliases() against the local resolver.
//
// Only names /etc/hosts holds are looked up (the DNS server may be off-machine or absent):
// numeric addresses, "localhost", and this machine's own name when /etc/hosts lists it.
// Every lookup that could reach DNS first checks /etc/hosts and skips if the name is not
// there for the family asked.
#include "sockit/resolve.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

// Counts calls to getaddrinfo made from this test binary (the library is linked in
// statically, so its calls land here first), then forwards to the real one.
namespace {
std::atomic<int> g_getaddrinfo_calls{0};
}

extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                           addrinfo** res) noexcept {
  using Fn = int (*)(const char*, const char*, const addrinfo*, addrinfo**);
  static const auto real = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, "getaddrinfo"));
  ++g_getaddrinfo_calls;
  return real(node, service, hints, res);
}

namespace sockit {

// Readable values in assertion failures (found by argument-dependent lookup).
void PrintTo(const IpAddress& a, std::ostream* os) {
  *os << a.to_string();
}

namespace {

// name -> addresses, as /etc/hosts lists them.
std::map<std::string, std::vector<IpAddress>> read_hosts_file() {
  std::map<std::string, std::vector<IpAddress>> out;
  std::ifstream in("/etc/hosts");
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream fields(line);
    std::string addr_text;
    if (!(fields >> addr_text)) continue;
    auto addr = IpAddress::parse(addr_text);
    if (!addr) continue;
    std::string name;
    while (fields >> name)
      out[name].push_back(*addr);
  }
  return out;
}

bool hosts_file_has(const std::string& name, Family family) {
  auto hosts = read_hosts_file();
  auto it = hosts.find(name);
  if (it == hosts.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(), [&](const IpAddress& a) {
    return family == Family::Any || (family == Family::V4) == a.is_v4();
  });
}

bool contains(const std::vector<IpAddress>& list, const IpAddress& a) {
  return std::find(list.begin(), list.end(), a) != list.end();
}

TEST(Resolve, LocalhostGivesLoopback) {
  if (!hosts_file_has("localhost", Family::Any)) GTEST_SKIP() << "/etc/hosts has no localhost";
  auto r = resolve("localhost");
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_FALSE(r->addresses.empty());
  if (hosts_file_has("localhost", Family::V4)) {
    EXPECT_TRUE(contains(r->addresses, IpAddress::v4_loopback()));
  }
  for (const IpAddress& a : r->addresses)
    EXPECT_TRUE(a.is_loopback()) << a.to_string();
  // No duplicates, even though getaddrinfo may repeat addresses.
  auto sorted = r->addresses;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
  EXPECT_FALSE(r->canonical_name.empty());
}

TEST(Resolve, FamilyFilterV4) {
  if (!hosts_file_has("localhost", Family::V4)) GTEST_SKIP() << "no IPv4 localhost in /etc/hosts";
  auto r = resolve("localhost", Family::V4);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_FALSE(r->addresses.empty());
  for (const IpAddress& a : r->addresses)
    EXPECT_TRUE(a.is_v4()) << a.to_string();
}

TEST(Resolve, FamilyFilterV6) {
  if (!hosts_file_has("localhost", Family::V6)) {
    GTEST_SKIP() << "no IPv6 localhost in /etc/hosts (a lookup would go to DNS)";
  }
  auto r = resolve("localhost", Family::V6);
  ASSERT_TRUE(r) << r.error().message();
  for (const IpAddress& a : r->addresses)
    EXPECT_TRUE(a.is_v6()) << a.to_string();
}

TEST(Resolve, NumericAddressesAreTheirOwnAnswerWithoutALookup) {
  const int before = g_getaddrinfo_calls.load();
  auto v4 = resolve("127.0.0.1");
  ASSERT_TRUE(v4) << v4.error().message();
  ASSERT_EQ(v4->addresses.size(), 1u);
  EXPECT_EQ(v4->addresses[0], IpAddress::v4_loopback());
  EXPECT_EQ(v4->canonical_name, "127.0.0.1");

  auto v6 = resolve("::1");
  ASSERT_TRUE(v6) << v6.error().message();
  ASSERT_EQ(v6->addresses.size(), 1u);
  EXPECT_EQ(v6->addresses[0], IpAddress::v6_loopback());

  auto v6_only = resolve("::1", Family::V6);
  ASSERT_TRUE(v6_only);
  auto v4_only = resolve("198.18.1.3", Family::V4);
  ASSERT_TRUE(v4_only);
  EXPECT_EQ(v4_only->addresses[0].to_string(), "198.18.1.3");
  EXPECT_EQ(g_getaddrinfo_calls.load(), before) << "a numeric address went to getaddrinfo";
}

TEST(Resolve, TheInterposerSeesRealLookups) {
  // Proves the counter above would notice a lookup (so its silence means something).
  if (!hosts_file_has("localhost", Family::Any)) GTEST_SKIP() << "/etc/hosts has no localhost";
  const int before = g_getaddrinfo_calls.load();
  ASSERT_TRUE(resolve("localhost"));
  EXPECT_GT(g_getaddrinfo_calls.load(), before);
}

TEST(Resolve, NumericAddressOfTheWrongFamilyIsRefused) {
  auto r = resolve("127.0.0.1", Family::V6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), std::error_code(EAI_ADDRFAMILY, gai_category()));
  EXPECT_EQ(r.error().context(), "resolve 127.0.0.1");
  EXPECT_TRUE(is_unknown_host(r.error().code()));

  auto r6 = resolve("::1", Family::V4);
  ASSERT_FALSE(r6);
  EXPECT_EQ(r6.error().code().category(), gai_category());
}

TEST(Resolve, EmptyNameIsAParseError) {
  auto r = resolve("");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ParseErrc::empty);
  EXPECT_EQ(r.error().context(), "resolve ''");
}

TEST(Resolve, MalformedNumericAddressIsRefusedWithoutALookup) {
  // getaddrinfo would read "1.2.3" as 1.2.0.3, or send "256.1.1.1" to DNS as a name.
  const int before = g_getaddrinfo_calls.load();
  for (const char* text : {"256.1.1.1", "1.2.3", "01.2.3.4"}) {
    auto r = resolve(text);
    ASSERT_FALSE(r) << text << " resolved to " << r->addresses.front().to_string();
    EXPECT_EQ(r.error().code(), ParseErrc::bad_ipv4) << text;
  }
  auto v6 = resolve("::g");
  ASSERT_FALSE(v6);
  EXPECT_EQ(v6.error().code(), ParseErrc::bad_ipv6);
  EXPECT_EQ(g_getaddrinfo_calls.load(), before);
}

TEST(Resolve, ReverseOfLoopbackGivesAName) {
  auto hosts = read_hosts_file();
  std::vector<std::string> names;
  for (const auto& [name, addrs] : hosts) {
    if (contains(addrs, IpAddress::v4_loopback())) names.push_back(name);
  }
  if (names.empty()) GTEST_SKIP() << "/etc/hosts has no name for 127.0.0.1 (would ask DNS)";
  auto r = reverse(IpAddress::v4_loopback());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->empty());
  EXPECT_NE(std::find(names.begin(), names.end(), *r), names.end())
      << *r << " is not one of /etc/hosts' names for 127.0.0.1";
}

TEST(Resolve, HostnameMatchesGethostname) {
  char buf[256] = {};
  ASSERT_EQ(::gethostname(buf, sizeof buf - 1), 0);
  auto r = hostname();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, std::string(buf));
  EXPECT_FALSE(r->empty());
}

TEST(Resolve, OwnHostnameWhenHostsFileListsIt) {
  auto name = hostname();
  ASSERT_TRUE(name);
  if (!hosts_file_has(*name, Family::Any)) {
    GTEST_SKIP() << "/etc/hosts does not list '" << *name << "' (a lookup would go to DNS)";
  }
  auto family = hosts_file_has(*name, Family::V6) ? Family::Any : Family::V4;
  auto r = resolve(*name, family);
  ASSERT_TRUE(r) << r.error().message();
  auto listed = read_hosts_file()[*name];
  for (const IpAddress& a : listed) {
    if (family == Family::Any || a.is_v4()) {
      EXPECT_TRUE(contains(r->addresses, a)) << a.to_string();
    }
  }
}

TEST(Resolve, AliasesNeverRepeatTheName) {
  if (!hosts_file_has("localhost", Family::V4)) GTEST_SKIP() << "no IPv4 localhost in /etc/hosts";
  auto list = aliases("localhost", Family::V4);
  EXPECT_EQ(std::find(list.begin(), list.end(), "localhost"), list.end());
  // Every alias /etc/hosts gives is itself a name for the same address.
  auto hosts = read_hosts_file();
  for (const std::string& alias : list) {
    ASSERT_TRUE(hosts.count(alias)) << alias;
  }
}

TEST(Resolve, UnknownHostClassification) {
  EXPECT_TRUE(is_unknown_host(std::error_code(EAI_NONAME, gai_category())));
  EXPECT_TRUE(is_unknown_host(std::error_code(EAI_NODATA, gai_category())));
  EXPECT_TRUE(is_unknown_host(std::error_code(EAI_FAIL, gai_category())));
  EXPECT_FALSE(is_unknown_host(std::error_code(EAI_AGAIN, gai_category())));
  EXPECT_FALSE(is_unknown_host(std::error_code(EAI_NONAME, std::system_category())));
  EXPECT_FALSE(is_unknown_host(make_error_code(ParseErrc::empty)));
}

}  // namespace
}  // namespace sockit
