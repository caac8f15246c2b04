// parse_ports (nmap's syntax, good and bad), exclude_ports and the /etc/services lookups.
#include "sockit/scan/port_spec.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sockit::scan {
namespace {

using Ports = std::vector<std::uint16_t>;

Ports range(std::uint32_t low, std::uint32_t high) {
  Ports out;
  for (std::uint32_t p = low; p <= high; ++p)
    out.push_back(static_cast<std::uint16_t>(p));
  return out;
}

Ports parsed(std::string_view spec) {
  auto r = parse_ports(spec);
  EXPECT_TRUE(r) << "'" << spec << "': " << (r ? "" : r.error().message());
  return r ? *r : Ports{};
}

TEST(PortSpec, ListsAndRanges) {
  Ports want = {22, 80};
  Ports block = range(1000, 2000);
  want.insert(want.end(), block.begin(), block.end());
  EXPECT_EQ(parsed("22,80,1000-2000"), want);
  EXPECT_EQ(parsed("443"), Ports{443});
  EXPECT_EQ(parsed("1-1"), Ports{1});
  EXPECT_EQ(parsed("65535"), Ports{65535});
}

TEST(PortSpec, OpenEndedRanges) {
  EXPECT_EQ(parsed("-"), range(1, 65535)) << "'-' is every port but 0";
  EXPECT_EQ(parsed("-1024"), range(1, 1024));
  EXPECT_EQ(parsed("60000-"), range(60000, 65535));
}

TEST(PortSpec, ServiceNames) {
  EXPECT_EQ(parsed("ssh,http"), (Ports{22, 80}));
  EXPECT_EQ(parsed("http,ssh,22"), (Ports{22, 80}));
  EXPECT_EQ(parsed("www"), Ports{80}) << "an alias in /etc/services";
  EXPECT_EQ(parsed("ssh-http"), range(22, 80));
  EXPECT_EQ(parsed("ssh-"), range(22, 65535)) << "a name is a port, so it can open a range";
}

TEST(PortSpec, ServiceNamesWithADash) {
  // /etc/services has names like ftp-data and netbios-ssn: the dash is not a range.
  ASSERT_EQ(service_port("ftp-data").value_or(0), 20);
  EXPECT_EQ(parsed("ftp-data"), Ports{20});
  EXPECT_EQ(parsed("ftp-data,ssh"), (Ports{20, 22}));
}

TEST(PortSpec, PortZeroOnlyOnItsOwn) {
  EXPECT_EQ(parsed("0"), Ports{0});
  EXPECT_EQ(parsed("0,22"), (Ports{0, 22}));
  for (const char* spec : {"0-10", "0-"}) {
    auto r = parse_ports(spec);
    ASSERT_FALSE(r) << spec;
    EXPECT_EQ(r.error().message(), "invalid port list '" + std::string(spec) + "': invalid range");
  }
}

TEST(PortSpec, OverlapsAndDuplicatesComeOutSortedAndUnique) {
  EXPECT_EQ(parsed("80,22,80,22"), (Ports{22, 80}));
  EXPECT_EQ(parsed("10-20,15-25,1,25,3-4"),
            (Ports{1, 3, 4, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25}));
  EXPECT_EQ(parsed("-,1-5,65535"), range(1, 65535));
  EXPECT_EQ(parsed("http,80,www"), Ports{80});
}

struct Bad {
  const char* spec;
  const char* message;  // the whole Error::message()
};

TEST(PortSpec, RefusalsQuoteTheSpec) {
  const Bad cases[] = {
      {"70000", "invalid port list '70000': port out of range (0-65535)"},
      {"65536", "invalid port list '65536': port out of range (0-65535)"},
      {"99999999999999999999",
       "invalid port list '99999999999999999999': port out of range "
       "(0-65535)"},
      {"90-80", "invalid port list '90-80': invalid range"},
      {"22,90-80", "invalid port list '90-80': invalid range"},
      {"a-b", "invalid port list 'a-b': unknown name"},
      {"", "invalid port list '': empty input"},
      {"1,,2", "invalid port list '1,,2': empty input"},
      {"22,", "invalid port list '22,': empty input"},
      {",22", "invalid port list ',22': empty input"},
      {"-1-2", "invalid port list '-1-2': unknown name"},
      {"no-such-service-xyz", "invalid port list 'no-such-service-xyz': unknown name"},
      {"nosuchservicexyz", "invalid port list 'nosuchservicexyz': unknown name"},
      {"22, 80", "invalid port list ' 80': unknown name"},
      {"U:53", "invalid port list 'U:53': unknown name"},
  };
  for (const Bad& c : cases) {
    auto r = parse_ports(c.spec);
    ASSERT_FALSE(r) << "'" << c.spec << "' was accepted";
    EXPECT_EQ(r.error().code().category(), parse_category()) << c.spec;
    EXPECT_EQ(r.error().message(), c.message);
  }
}

TEST(PortSpec, ExcludePorts) {
  EXPECT_EQ(exclude_ports(range(1, 10), {2, 4, 6}), (Ports{1, 3, 5, 7, 8, 9, 10}));
  EXPECT_EQ(exclude_ports(range(1, 5), {}), range(1, 5));
  EXPECT_EQ(exclude_ports(range(1, 5), range(1, 5)), Ports{});
  EXPECT_EQ(exclude_ports({22, 80}, {80, 443, 8080}), Ports{22});
  EXPECT_EQ(exclude_ports({}, {22}), Ports{});
  EXPECT_EQ(exclude_ports(parsed("-"), parsed("2-65535")), Ports{1});
}

TEST(PortSpec, ServiceNameAndPort) {
  EXPECT_EQ(service_name(22), "ssh");
  EXPECT_EQ(service_name(80), "http");
  EXPECT_EQ(service_name(443), "https");
  EXPECT_EQ(service_port("http").value_or(0), 80);
  EXPECT_EQ(service_port("ssh").value_or(0), 22);
  EXPECT_EQ(service_port("https").value_or(0), 443);
  auto unknown = service_port("no-such-service-xyz");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message(), "service 'no-such-service-xyz': unknown name");
  EXPECT_FALSE(service_port(""));
}

TEST(PortSpec, ServiceNameIsEmptyForUnlistedPortsAndUdpOnlyEntries) {
  EXPECT_EQ(service_name(0), "");
  EXPECT_EQ(service_name(65535), "");
  // 68 (bootpc) and 69 (tftp) are UDP-only in Debian's /etc/services.
  EXPECT_EQ(service_name(69), "");
  EXPECT_FALSE(service_port("tftp"));
}

}  // namespace
}  // namespace sockit::scan
