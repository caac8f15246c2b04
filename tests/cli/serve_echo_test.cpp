// `sockit serve -H echo`: whatever a client sends comes back unchanged — 10 MiB of random
// bytes through one connection, and 200 connections at once with every model that serves
// clients concurrently. Every byte is counted both ways: in the "closed" lines (-v) and
// in the summary.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "serve_harness.hpp"

namespace sockit::test {
namespace {

struct EchoCase {
  std::string name;
  std::vector<std::string> options;
};

void PrintTo(const EchoCase& c, std::ostream* out) {
  *out << c.name;
}

class ServeEcho : public ::testing::TestWithParam<EchoCase> {
 protected:
  // -v: echo prints its connections too, so the summary can be checked against them.
  void start() {
    auto args = GetParam().options;
    args.insert(args.end(), {"-v", "-H", "echo", "127.0.0.1:0"});
    server_ = ServeProcess::start(args);
  }

  // Connects a client per payload and echoes payloads[i] through client i, all at once.
  std::string echo(const std::vector<std::string>& payloads, Patience patience,
                   EchoEnd end = EchoEnd::Close) {
    std::vector<UniqueFd> fds;
    for (const std::string& payload : payloads) {
      auto client = connect_tcp(server_->at());
      expected_closed_.push_back("closed " + tag_of(client) + " (" +
                                 std::to_string(payload.size()) + " bytes)");
      fds.push_back(client.release());
    }
    return echo_all(std::move(fds), payloads, patience, end);
  }

  // Stops the server: every client's bytes were counted, in the "closed" lines and in the
  // summary, and as many went out as came in.
  void expect_accounted() {
    ASSERT_TRUE(server_->stops_cleanly());
    const auto out = server_->out_lines();
    for (const std::string& line : expected_closed_)
      EXPECT_NE(std::find(out.begin(), out.end(), line), out.end()) << "no line '" << line << "'";
    EXPECT_TRUE(server_->summary_matches_output());
    auto summary = server_->summary();
    ASSERT_TRUE(summary);
    EXPECT_EQ(summary->bytes_out, summary->bytes_in);
  }

  std::unique_ptr<ServeProcess> server_;
  std::vector<std::string> expected_closed_;
};

TEST_P(ServeEcho, TenMebibytesComeBackIdentical) {
  start();
  const std::string data = random_bytes(10 << 20, 1);
  EXPECT_EQ(echo({data}, std::chrono::seconds(60)), "");
  EXPECT_TRUE(server_->serves_a_client());
  expect_accounted();
}

// A client that finishes sending (shutdown) gets everything back, then the server closes.
TEST_P(ServeEcho, HalfCloseGetsEverythingBackThenEof) {
  start();
  EXPECT_EQ(echo({random_bytes(4 << 20, 2), random_bytes(1000, 3)}, std::chrono::seconds(60),
                 EchoEnd::HalfClose),
            "");
  expect_accounted();
}

// -H discard: everything is read and counted, nothing comes back.
TEST(ServeDiscard, SwallowsEverything) {
  for (const char* model : {"reactor", "thread"}) {
    auto server = ServeProcess::start({"-m", model, "-H", "discard", "-v", "127.0.0.1:0"});
    auto client = connect_tcp(server->at());
    const std::string tag = tag_of(client);
    ASSERT_TRUE(send_text(client, random_bytes(1 << 20, 8)));
    must(client.shutdown(Shutdown::Write), "shutdown");
    EXPECT_EQ(read_bytes(client, 1), "") << model << ": nothing comes back, then EOF";
    EXPECT_TRUE(server->saw("closed " + tag + " (1048576 bytes)")) << model;
    ASSERT_TRUE(server->stops_cleanly());
    EXPECT_TRUE(server->summary_matches_output());
    ASSERT_TRUE(server->summary());
    EXPECT_EQ(server->summary()->bytes_out, 0u);
  }
}

// The models that serve clients concurrently (not iterative).
class ServeEchoConcurrent : public ServeEcho {};

TEST_P(ServeEchoConcurrent, TwoHundredConnectionsAtOnce) {
  start();
  std::vector<std::string> payloads;
  for (std::uint32_t i = 0; i < 200; ++i) {
    const std::size_t size = 4096 + (i * 7919u) % (60 * 1024);  // 4 KiB - 64 KiB
    payloads.push_back(random_bytes(size, 100 + i));
  }
  EXPECT_EQ(echo(payloads, std::chrono::seconds(60)), "");
  EXPECT_TRUE(server_->serves_a_client());
  expect_accounted();
}

TEST(ServeEchoQuiet, PrintsNothingWithoutVerbose) {
  auto server = ServeProcess::start({"-H", "echo", "127.0.0.1:0"});
  EXPECT_TRUE(server->serves_a_client());
  ASSERT_TRUE(server->stops_cleanly());
  EXPECT_TRUE(server->out_lines().empty()) << server->process().text(Stream::Out);
  auto summary = server->summary();
  ASSERT_TRUE(summary);
  EXPECT_GE(summary->bytes_out, server->probe_bytes());
}

const EchoCase kConcurrent[] = {
    {"fork", {"-m", "fork"}},
    {"thread", {"-m", "thread"}},
    {"pool", {"-m", "pool"}},
    {"reactor", {"-m", "reactor", "-j", "1"}},
    {"reactor_j2", {"-m", "reactor", "-j", "2"}},
};

std::string case_name(const ::testing::TestParamInfo<EchoCase>& param) {
  return param.param.name;
}

INSTANTIATE_TEST_SUITE_P(Models, ServeEcho,
                         ::testing::Values(EchoCase{"iterative", {"-m", "iterative"}},
                                           kConcurrent[0], kConcurrent[1], kConcurrent[2],
                                           kConcurrent[3], kConcurrent[4]),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Models, ServeEchoConcurrent, ::testing::ValuesIn(kConcurrent), case_name);

}  // namespace
}  // namespace sockit::test
