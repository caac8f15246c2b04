// `sockit serve` refusing what it cannot do: one line on stderr that says why (quoting the
// input), nothing on stdout, and the exit code a script can act on (64 usage, 69 address in
// use, 77 permission denied).
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "serve_harness.hpp"

namespace sockit::test {
namespace {

CommandResult serve(std::vector<std::string> args) {
  args.insert(args.begin(), "serve");
  return run_sockit(args);
}

// Exit code `code`, stdout empty, and exactly `message` as the one stderr line.
void expect_refused(const CommandResult& r, int code, const std::string& message) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(r.err, "sockit: " + message + "\n");
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(ServeUsage, PortOutOfRange) {
  expect_refused(serve({"70000"}), 64, "invalid port '70000': port out of range (0-65535)");
  expect_refused(serve({"127.0.0.1:70000"}), 64,
                 "invalid endpoint '127.0.0.1:70000': port out of range (0-65535)");
}

TEST(ServeUsage, PortThatIsNotANumber) {
  expect_refused(serve({"abc"}), 64, "invalid port 'abc': port must be a number");
}

TEST(ServeUsage, UnknownModelOrHandler) {
  expect_refused(serve({"-m", "forking", "127.0.0.1:0"}), 64,
                 "model 'forking' (iterative, fork, thread, pool, reactor): unknown name");
  expect_refused(serve({"-H", "shout", "127.0.0.1:0"}), 64,
                 "handler 'shout' (print, echo, discard, chat): unknown name");
}

TEST(ServeUsage, NeedsExactlyOnePlaceToListen) {
  expect_refused(serve({}), 64, "serve needs [ADDR:]PORT or --unix PATH");
  expect_refused(serve({"--unix", "/tmp/x.sock", "127.0.0.1:0"}), 64,
                 "give either [ADDR:]PORT or --unix, not both");
}

TEST(ServeUsage, EmptyUnixNameIsRefusedNotIgnored) {
  expect_refused(serve({"--unix", ""}), 64,
                 "--unix: invalid Unix socket path '': empty input (see sockit --help)");
  expect_refused(serve({"--unix", "@"}), 64,
                 "--unix: invalid abstract socket name '@': empty input (see sockit --help)");
}

TEST(ServeUsage, UdpOnlyWhereItMakesSense) {
  expect_refused(serve({"-u", "-H", "chat", "127.0.0.1:0"}), 64, "chat over UDP: not supported");
  expect_refused(serve({"-u", "--unix", "/tmp/x.sock"}), 64,
                 "UDP on unix:/tmp/x.sock: not supported");
}

TEST(ServeUsage, BadOptionValuesAreOneLine) {
  for (auto args : std::vector<std::vector<std::string>>{{"--idle-timeout", "-1", "127.0.0.1:0"},
                                                         {"-j", "many", "127.0.0.1:0"},
                                                         {"--no-such-option", "127.0.0.1:0"}}) {
    auto r = serve(args);
    EXPECT_EQ(r.exit_code, 64) << args[0] << ": " << r.err;
    EXPECT_TRUE(r.err.starts_with("sockit: ")) << r.err;
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  }
}

TEST(ServeUsage, AddressInUse) {
  auto taken = must(TcpListener::bind(must(Endpoint::parse("127.0.0.1:0"), "parse")), "listen");
  const std::string at = must(taken.local(), "getsockname").to_string();
  auto r = serve({"-m", "reactor", "-j", "1", at});
  EXPECT_EQ(r.exit_code, 69) << r.err;
  EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  EXPECT_TRUE(r.err.starts_with("sockit: ")) << r.err;
  EXPECT_NE(r.err.find(at), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Address already in use"), std::string::npos) << r.err;
}

TEST(ServeUsage, PrivilegedPortWithoutPrivilege) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: binding port 1 is allowed";
  int unprivileged_start = 1024;
  std::ifstream("/proc/sys/net/ipv4/ip_unprivileged_port_start") >> unprivileged_start;
  if (unprivileged_start <= 1) GTEST_SKIP() << "this system lets anyone bind port 1";
  auto r = serve({"127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 77) << r.err;
  EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sockit::test
