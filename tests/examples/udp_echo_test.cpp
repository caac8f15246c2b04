// udp_echo: the server on 127.0.0.1 port 0 echoes to the example client and to a sockit
// UdpSocket; the client gives up, in one stderr line, when nobody answers.
#include <gtest/gtest.h>

#include <csignal>
#include <optional>
#include <string>

#include "loopback.hpp"
#include "process.hpp"
#include "sockit/udp.hpp"

namespace examples_test {
namespace {

class UdpEchoExample : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.emplace(Process::spawn(EXAMPLE_UDP_ECHO, {"server", "127.0.0.1:0"}));
    auto line =
        server_->wait_for_line([](const std::string& l) { return l.starts_with("listening on "); });
    ASSERT_TRUE(line) << "no 'listening on' line; stderr: " << server_->err();
    auto at = sockit::Endpoint::parse(line->substr(std::string("listening on ").size()));
    ASSERT_TRUE(at && at->is_loopback() && at->port() != 0) << *line;
    at_ = *at;
  }

  std::optional<Process> server_;
  sockit::Endpoint at_;
};

TEST_F(UdpEchoExample, ClientGetsItsMessageBack) {
  Outcome client =
      run(EXAMPLE_UDP_ECHO, {"client", "127.0.0.1", std::to_string(at_.port()), "hello, udp"});
  EXPECT_EQ(exit_code(client.status), 0) << client.err;
  EXPECT_EQ(client.out, "hello, udp\n");
  EXPECT_EQ(client.err, "");
  auto seen = server_->wait_for_line([](const std::string& line) {
    return line.starts_with("127.0.0.1:") && line.ends_with(" hello, udp");
  });
  EXPECT_TRUE(seen) << server_->out();
}

TEST_F(UdpEchoExample, EchoesToTheSenderAndNamesIt) {
  auto udp = must(sockit::UdpSocket::bind(loopback()), "bind");
  const auto me = must(udp.local(), "local");
  must(udp.send_to("ping", at_), "send_to");
  ASSERT_TRUE(wait_readable(udp.native_handle())) << "no echo";
  char buffer[64];
  auto echo = must(udp.recv_from(buffer), "recv_from");
  EXPECT_EQ(std::string(buffer, echo.size), "ping");
  EXPECT_EQ(echo.from, at_);
  EXPECT_TRUE(server_->wait_for_line(me.to_string() + " ping")) << server_->out();

  ASSERT_TRUE(server_->send_signal(SIGTERM));
  auto status = server_->wait();
  EXPECT_TRUE(killed_by(status, SIGTERM) || exit_code(status) == 0);
}

TEST(UdpEchoClient, GivesUpWhenNobodyAnswers) {
  // Bound, so no "port unreachable" comes back, and never read: a server that is silent.
  auto silent = must(sockit::UdpSocket::bind(loopback()), "bind");
  const std::string port = std::to_string(must(silent.local(), "local").port());
  Outcome client = run(EXAMPLE_UDP_ECHO, {"client", "127.0.0.1", port, "anyone?"});
  EXPECT_EQ(exit_code(client.status), 1);
  EXPECT_EQ(client.err, "udp_echo: no reply from 127.0.0.1:" + port + ": Connection timed out\n");
  EXPECT_EQ(client.out, "");
}

}  // namespace
}  // namespace examples_test
