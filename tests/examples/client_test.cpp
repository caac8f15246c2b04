// client: the test listens with sockit's own TcpListener on 127.0.0.1 port 0, runs the
// example against it, and checks what arrives, what the example prints and how it ends.
#include <gtest/gtest.h>

#include <string>

#include "loopback.hpp"
#include "process.hpp"

namespace examples_test {
namespace {

class ClientExample : public ::testing::Test {
 protected:
  sockit::TcpListener listener_ = must(sockit::TcpListener::bind(loopback()), "listen");
  std::string port_ = std::to_string(must(listener_.local(), "local").port());
};

TEST_F(ClientExample, SendsLinesUntilCtrlXThenPrintsTheReply) {
  Process client = Process::spawn(EXAMPLE_CLIENT, {"127.0.0.1", port_});
  auto accepted = must(listener_.accept(kPatience), "accept");
  EXPECT_EQ(accepted.peer.address(), sockit::IpAddress::v4_loopback());

  ASSERT_TRUE(client.write_stdin("first line\nsecond line\n\x18\nafter ctrl-x\n"));
  client.close_stdin();
  // The client shuts down its sending side after Ctrl+X: end of stream arrives here, and
  // the line after Ctrl+X never does.
  EXPECT_EQ(read_to_eof(accepted.stream), "first line\nsecond line\n");

  // Its receiving side is still open: what the server says now is printed.
  must(accepted.stream.send_all("thanks, got 2 lines\n"), "send");
  accepted.stream.close();
  auto status = client.wait();
  EXPECT_EQ(exit_code(status), 0) << client.err();
  EXPECT_EQ(client.out(), "thanks, got 2 lines\n");
  EXPECT_EQ(client.err(), "");
}

TEST_F(ClientExample, SendsEverythingUntilEndOfInput) {
  Process client = Process::spawn(EXAMPLE_CLIENT, {"localhost", port_});
  auto accepted = must(listener_.accept(kPatience), "accept");
  ASSERT_TRUE(client.write_stdin("one\n\ntwo\x18\nthree without newline"));
  client.close_stdin();
  // A line holding more than Ctrl+X is sent; every line goes with its '\n'.
  EXPECT_EQ(read_to_eof(accepted.stream), "one\n\ntwo\x18\nthree without newline\n");
  accepted.stream.close();
  EXPECT_EQ(exit_code(client.wait()), 0) << client.err();
  EXPECT_EQ(client.out(), "");
}

TEST_F(ClientExample, ReportsARefusedConnectionInOneLine) {
  ClosedPort closed;
  const std::string port = std::to_string(closed.port);
  Outcome outcome = run(EXAMPLE_CLIENT, {"127.0.0.1", port}, "never sent\n");
  EXPECT_EQ(exit_code(outcome.status), 1);
  EXPECT_EQ(outcome.err, "client: connect 127.0.0.1:" + port + ": Connection refused\n");
  EXPECT_EQ(outcome.out, "");
}

}  // namespace
}  // namespace examples_test
