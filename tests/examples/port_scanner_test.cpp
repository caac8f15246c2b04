// port_scanner against 127.0.0.1: a port this test listens on is reported open, a port it
// knows to be closed is not. Ranges stay tiny, so the scan never wanders into ports that
// other tests running in parallel are using.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>

#include "loopback.hpp"
#include "process.hpp"

namespace examples_test {
namespace {

std::string port_text(unsigned port) {
  return std::to_string(port);
}

TEST(PortScannerExample, ReportsThePortThisTestListensOn) {
  auto listener = must(sockit::TcpListener::bind(loopback()), "listen");
  const unsigned port = must(listener.local(), "local").port();
  const unsigned first = port - 1;
  const unsigned last = std::min(port + 1, 65535u);

  Outcome outcome = run(EXAMPLE_PORT_SCANNER, {"127.0.0.1", port_text(first), port_text(last)});
  ASSERT_EQ(exit_code(outcome.status), 0) << outcome.err;
  EXPECT_EQ(outcome.err, "");
  // "41234/tcp open unknown" (or the port's name in /etc/services).
  const std::regex open_line("(^|\n)" + port_text(port) + "/tcp open [^ \n]+\n");
  EXPECT_TRUE(std::regex_search(outcome.out, open_line)) << outcome.out;
}

TEST(PortScannerExample, ScansAHostGivenByName) {
  auto listener = must(sockit::TcpListener::bind(loopback()), "listen");
  const unsigned port = must(listener.local(), "local").port();
  Outcome outcome = run(EXAMPLE_PORT_SCANNER, {"localhost", port_text(port), port_text(port)});
  ASSERT_EQ(exit_code(outcome.status), 0) << outcome.err;
  EXPECT_TRUE(outcome.out.starts_with(port_text(port) + "/tcp open ")) << outcome.out;
}

TEST(PortScannerExample, SaysNothingAboutAClosedPort) {
  ClosedPort closed;
  Outcome outcome =
      run(EXAMPLE_PORT_SCANNER, {"127.0.0.1", port_text(closed.port), port_text(closed.port)});
  ASSERT_EQ(exit_code(outcome.status), 0) << outcome.err;
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err, "");
}

}  // namespace
}  // namespace examples_test
