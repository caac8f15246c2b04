// `sockit serve` with the clients people already have: OpenBSD netcat (nc) and socat. Each
// test skips, saying so, if the tool is not installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "serve_harness.hpp"

namespace sockit::test {
namespace {

constexpr auto kToolTimeout = std::chrono::seconds(20);

#define SKIP_WITHOUT(program) \
  if (find_program(program).empty()) GTEST_SKIP() << program " is not installed"

std::string port_of(const ServeProcess& server) {
  return std::to_string(server.at().port());
}

TEST(ServeInterop, NetcatLinesArePrinted) {
  SKIP_WITHOUT("nc");
  auto server = ServeProcess::start({"127.0.0.1:0"});
  auto r = run_command({find_program("nc"), "-N", "127.0.0.1", port_of(*server)},
                       "hello from nc\nsecond line\n", kToolTimeout);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto first = server->process().wait_for_line(
      Stream::Out, [](std::string_view l) { return l.ends_with(" hello from nc"); });
  ASSERT_TRUE(first) << server->process().text(Stream::Out);
  const std::string tag = first->substr(0, first->find(' '));
  EXPECT_TRUE(tag.starts_with("127.0.0.1:")) << tag;
  EXPECT_TRUE(server->saw("connected " + tag));
  EXPECT_TRUE(server->saw(tag + " second line"));
  EXPECT_TRUE(server->saw("closed " + tag + " (26 bytes)"));
  EXPECT_TRUE(server->stops_cleanly());
}

TEST(ServeInterop, NetcatGetsItsBytesEchoed) {
  SKIP_WITHOUT("nc");
  auto server = ServeProcess::start({"-H", "echo", "127.0.0.1:0"});
  const std::string data = random_bytes(256 * 1024, 11);
  auto r =
      run_command({find_program("nc"), "-N", "127.0.0.1", port_of(*server)}, data, kToolTimeout);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == data) << "nc got back " << r.out.size() << " of " << data.size()
                             << " bytes, or different ones";
  EXPECT_TRUE(server->stops_cleanly());
}

TEST(ServeInterop, NetcatOverAUnixSocket) {
  SKIP_WITHOUT("nc");
  char dir[] = "/tmp/sockit-serve-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/s";
  {
    auto server = ServeProcess::start({"--unix", path});
    auto r = run_command({find_program("nc"), "-N", "-U", path}, "over unix\n", kToolTimeout);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(server->saw("unix#1 over unix"));
    EXPECT_TRUE(server->saw("closed unix#1 (10 bytes)"));
    EXPECT_TRUE(server->stops_cleanly());
  }
  std::filesystem::remove_all(dir);
}

TEST(ServeInterop, SocatGetsItsBytesEchoed) {
  SKIP_WITHOUT("socat");
  auto server = ServeProcess::start({"-m", "thread", "-H", "echo", "127.0.0.1:0"});
  const std::string data = random_bytes(100 * 1000, 12);
  auto r =
      run_command({find_program("socat"), "-t", "10", "-", "TCP:127.0.0.1:" + port_of(*server)},
                  data, kToolTimeout);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == data) << "socat got back " << r.out.size() << " of " << data.size()
                             << " bytes, or different ones";
  EXPECT_TRUE(server->stops_cleanly());
}

TEST(ServeInterop, SocatDatagramIsEchoed) {
  SKIP_WITHOUT("socat");
  auto server = ServeProcess::start({"-u", "-H", "echo", "127.0.0.1:0"});
  // socat sends stdin as one datagram and prints the reply; -t bounds its wait for it.
  auto r = run_command({find_program("socat"), "-t", "2", "-", "UDP:127.0.0.1:" + port_of(*server)},
                       "ping over udp\n", kToolTimeout);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ping over udp\n");
  ASSERT_TRUE(server->stops_cleanly());
  EXPECT_EQ(server->process().lines(Stream::Err).back(),
            "sockit: served 1 datagram, 14 bytes in, 14 bytes out");
}

}  // namespace
}  // namespace sockit::test
