// `sockit resolve` on names this machine answers without DNS: localhost, numeric addresses,
// and its own host name (all in /etc/hosts or numeric). DNS behaviour proper is tested by
// resolve_dns_test.sh inside a private namespace.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "run_command.hpp"

namespace sockit::test {
namespace {

CommandResult sockit(std::vector<std::string> args) {
  args.insert(args.begin(), SOCKIT_BIN);
  return run_command(args);
}

bool has_line(const std::string& text, const std::string& line) {
  auto lines = lines_of(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

TEST(ResolveCli, LocalhostHasLoopbackAddress) {
  auto r = sockit({"resolve", "localhost"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "localhost");
  EXPECT_TRUE(has_line(r.out, "  ipv4     127.0.0.1")) << r.out;
}

TEST(ResolveCli, AnAddressIsLookedUpInReverse) {
  auto r = sockit({"resolve", "127.0.0.1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_GE(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0], "127.0.0.1");
  EXPECT_EQ(lines[1], "  name     localhost");  // the first name /etc/hosts gives 127.0.0.1
  EXPECT_TRUE(has_line(r.out, "  ipv4     127.0.0.1")) << r.out;
}

TEST(ResolveCli, NoArgumentDescribesThisHost) {
  char name[256] = {};
  ASSERT_EQ(::gethostname(name, sizeof name - 1), 0);
  auto r = sockit({"resolve"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], name);
  EXPECT_NE(r.out.find("  ipv"), std::string::npos) << "no address for this host: " << r.out;
}

TEST(ResolveCli, FamilyFlagsFilterAddresses) {
  auto r = sockit({"resolve", "-4", "localhost"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("ipv6"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ipv4"), std::string::npos) << r.out;
}

TEST(ResolveCli, SeveralNamesGiveOneBlockEachInOrder) {
  auto r = sockit({"resolve", "localhost", "127.0.0.1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  auto second = std::find(lines.begin(), lines.end(), "127.0.0.1");
  ASSERT_NE(second, lines.end()) << r.out;
  EXPECT_EQ(lines[0], "localhost");
  EXPECT_EQ(*(second - 1), "") << "blocks are separated by a blank line";
}

TEST(ResolveCli, JsonWritesOneObjectPerName) {
  auto r = sockit({"resolve", "--json", "localhost", "127.0.0.1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0].find(R"({"query":"localhost","reverse":false,"name":"localhost",)"), 0u)
      << lines[0];
  EXPECT_NE(lines[0].find(R"("ipv4":["127.0.0.1")"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1].find(R"({"query":"127.0.0.1","reverse":true,"name":"localhost",)"), 0u)
      << lines[1];
}

TEST(ResolveCli, MalformedAddressIsBadInputNotALookup) {
  for (const char* bad : {"256.1.1.1", "1.2.3", "1.2.3.4.5", "::g"}) {
    auto r = sockit({"resolve", bad});
    EXPECT_EQ(r.exit_code, 64) << bad;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_EQ(r.err.find(std::string("sockit: invalid address '") + bad + "': "), 0u) << r.err;
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  }
}

TEST(ResolveCli, EmptyNameIsBadInput) {
  auto r = sockit({"resolve", ""});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_EQ(r.err, "sockit: resolve '': empty input\n");
}

TEST(ResolveCli, BadUsageExits64WithOneLine) {
  for (auto args :
       std::vector<std::vector<std::string>>{{"resolve", "-4", "-6", "localhost"},
                                             {"resolve", "--no-such-option"},
                                             {"resolve", "--parallel", "0", "localhost"},
                                             {},
                                             {"no-such-command"}}) {
    auto r = sockit(args);
    EXPECT_EQ(r.exit_code, 64) << r.err;
    EXPECT_EQ(r.err.rfind("sockit: ", 0), 0u) << r.err;
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  }
}

TEST(ResolveCli, HelpAndVersionSucceed) {
  auto help = sockit({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("resolve"), std::string::npos);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos);
  auto sub = sockit({"resolve", "--help"});
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_NE(sub.out.find("--json"), std::string::npos);
  auto version = sockit({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("sockit ", 0), 0u);
}

}  // namespace
}  // namespace sockit::test
