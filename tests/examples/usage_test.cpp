// Every example refuses bad usage the same way: exit code 64 (EX_USAGE) and either its usage
// line or a one-line "<prog>: <reason>" on stderr, nothing on stdout. No case here reaches
// the network: each is refused before any socket is made.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "process.hpp"

namespace examples_test {
namespace {

struct BadUsage {
  std::string path;
  std::vector<std::string> args;
  std::string stderr_starts_with;
};

std::string name_of(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

std::vector<BadUsage> cases() {
  std::vector<BadUsage> all;
  for (const std::string path :
       {EXAMPLE_GETIP, EXAMPLE_PORT_SCANNER, EXAMPLE_SIMPLE_SERVER, EXAMPLE_FORK_SERVER,
        EXAMPLE_THREAD_SERVER, EXAMPLE_CLIENT, EXAMPLE_UDP_ECHO}) {
    all.push_back({path, {}, "usage: " + name_of(path) + " "});
  }
  all.push_back({EXAMPLE_GETIP, {"localhost", "extra"}, "usage: getip NAME\n"});
  all.push_back(
      {EXAMPLE_PORT_SCANNER, {"127.0.0.1", "90", "80"}, "port_scanner: port range 90-80: "});
  all.push_back({EXAMPLE_PORT_SCANNER, {"127.0.0.1", "x"}, "port_scanner: "});
  all.push_back({EXAMPLE_PORT_SCANNER, {"127.0.0.1", "0", "10"}, "port_scanner: port range 0-10"});
  all.push_back({EXAMPLE_SIMPLE_SERVER, {"70000"}, "simple_server: "});
  all.push_back({EXAMPLE_FORK_SERVER, {"127.0.0.1:port"}, "fork_server: "});
  all.push_back({EXAMPLE_THREAD_SERVER, {"localhost:80"}, "thread_server: "});  // numeric only
  all.push_back({EXAMPLE_CLIENT, {"127.0.0.1", "99999"}, "client: "});
  all.push_back({EXAMPLE_UDP_ECHO, {"client", "127.0.0.1", "7"}, "usage: udp_echo "});
  all.push_back({EXAMPLE_UDP_ECHO, {"listen", "7"}, "usage: udp_echo "});
  all.push_back({EXAMPLE_UDP_ECHO, {"server", "-1"}, "udp_echo: "});
  return all;
}

std::string case_name(const ::testing::TestParamInfo<BadUsage>& param) {
  return name_of(param.param.path) + "_" + std::to_string(param.index);
}

void PrintTo(const BadUsage& bad, std::ostream* out) {
  *out << name_of(bad.path);
  for (const std::string& arg : bad.args)
    *out << ' ' << arg;
}

class UsageTest : public ::testing::TestWithParam<BadUsage> {};

TEST_P(UsageTest, ExitsWith64AndSaysWhy) {
  const BadUsage& bad = GetParam();
  Outcome outcome = run(bad.path, bad.args);
  EXPECT_EQ(exit_code(outcome.status), 64) << outcome.err;
  EXPECT_EQ(outcome.out, "");
  EXPECT_TRUE(outcome.err.starts_with(bad.stderr_starts_with)) << outcome.err;
  if (!bad.stderr_starts_with.starts_with("usage:")) {
    EXPECT_EQ(std::count(outcome.err.begin(), outcome.err.end(), '\n'), 1) << outcome.err;
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, UsageTest, ::testing::ValuesIn(cases()), case_name);

}  // namespace
}  // namespace examples_test
