// `sockit bench` against `sockit serve` (and against servers that misbehave on purpose):
// short runs that assert correctness — every echo verified, no errors — never speed.
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <sstream>
#include <string>

#include "serve_harness.hpp"
#include "sockit/udp.hpp"

namespace sockit::test {
namespace {

using namespace std::chrono_literals;

CommandResult bench(std::vector<std::string> args) {
  args.insert(args.begin(), {sockit_binary(), "bench"});
  return run_command(args, {}, 60s);
}

std::string port_of(const ServeProcess& s) {
  return std::to_string(s.at().port());
}

// The number after "key": in a one-line JSON object (keys here are unique).
double json_number(const std::string& json, const std::string& key) {
  auto at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return -1;
  return std::stod(json.substr(at + key.size() + 3));
}

::testing::AssertionResult clean_run(const CommandResult& r) {
  if (r.exit_code != 0) {
    return ::testing::AssertionFailure() << "exit " << r.exit_code << ": " << r.err << r.out;
  }
  if (json_number(r.out, "errors") != 0) return ::testing::AssertionFailure() << r.out;
  if (json_number(r.out, "messages") <= 0)
    return ::testing::AssertionFailure() << "no messages: " << r.out;
  return ::testing::AssertionSuccess();
}

TEST(BenchCli, PingPongAgainstEveryConcurrentModel) {
  for (const char* model : {"reactor", "thread", "pool", "fork"}) {
    auto server = ServeProcess::start({"-H", "echo", "-m", model, "127.0.0.1:0"});
    auto r = bench({"127.0.0.1", port_of(*server), "-c", "20", "-j", "2", "-d", "0.5", "--json"});
    EXPECT_TRUE(clean_run(r)) << model;
    EXPECT_EQ(json_number(r.out, "connections"), 20) << r.out;
    EXPECT_GT(json_number(r.out, "p50_us"), 0) << r.out;
    EXPECT_LE(json_number(r.out, "p50_us"), json_number(r.out, "p99_us")) << r.out;
    EXPECT_LE(json_number(r.out, "p99_us"), json_number(r.out, "max_us")) << r.out;
    EXPECT_TRUE(server->stops_cleanly()) << model;
  }
}

TEST(BenchCli, PinnedLoadAgainstAPinnedServer) {
  // The CPU-local layout of docs/BENCHMARKS.md: load thread i and server loop i on CPU i.
  auto server = ServeProcess::start({"-H", "echo", "-j", "2", "--pin", "127.0.0.1:0"});
  auto r =
      bench({"127.0.0.1", port_of(*server), "-c", "20", "-j", "2", "--pin", "-d", "0.5", "--json"});
  EXPECT_TRUE(clean_run(r));
  EXPECT_EQ(json_number(r.out, "connections"), 20) << r.out;
  EXPECT_TRUE(server->stops_cleanly());
}

TEST(BenchCli, CountStopsAtExactlyThatManyMessages) {
  auto server = ServeProcess::start({"-H", "echo", "127.0.0.1:0"});
  auto r = bench({"127.0.0.1", port_of(*server), "-n", "1000", "--json"});
  EXPECT_TRUE(clean_run(r));
  EXPECT_EQ(json_number(r.out, "messages"), 1000) << r.out;
}

TEST(BenchCli, LargeMessagesBulkAndConnectModes) {
  auto server = ServeProcess::start({"-H", "echo", "127.0.0.1:0"});
  auto big =
      bench({"127.0.0.1", port_of(*server), "-s", "100000", "-c", "4", "-d", "0.5", "--json"});
  EXPECT_TRUE(clean_run(big));
  auto bulk =
      bench({"127.0.0.1", port_of(*server), "-m", "bulk", "-s", "65536", "-d", "0.5", "--json"});
  EXPECT_TRUE(clean_run(bulk));
  EXPECT_GT(json_number(bulk.out, "mb_per_s"), 0) << bulk.out;
  auto conn =
      bench({"127.0.0.1", port_of(*server), "-m", "connect", "-c", "4", "-d", "0.5", "--json"});
  EXPECT_TRUE(clean_run(conn));
}

TEST(BenchCli, UdpAndUnixTransports) {
  auto udp = ServeProcess::start({"-u", "-H", "echo", "127.0.0.1:0"});
  auto r = bench({"-u", "127.0.0.1", port_of(*udp), "-c", "4", "-d", "0.5", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_number(r.out, "mismatch"), 0) << r.out;
  EXPECT_GT(json_number(r.out, "messages"), 0) << r.out;

  std::string name = "@sockit-bench-test-" + std::to_string(::getpid());
  auto unix_server = ServeProcess::start({"-H", "echo", "--unix", name});
  auto u = bench({"--unix", name, "-c", "4", "-d", "0.5", "--json"});
  EXPECT_TRUE(clean_run(u));
}

TEST(BenchCli, FixedRateRunsAtThatRate) {
  auto server = ServeProcess::start({"-H", "echo", "127.0.0.1:0"});
  auto r = bench({"127.0.0.1", port_of(*server), "-c", "4", "-d", "1", "--rate", "400", "--json"});
  EXPECT_TRUE(clean_run(r));
  // A closed loop would do tens of thousands; a fixed rate of 400/s can't exceed ~400.
  EXPECT_LE(json_number(r.out, "messages"), 440) << r.out;
}

TEST(BenchCli, TextReportAndHistogramFile) {
  auto server = ServeProcess::start({"-H", "echo", "127.0.0.1:0"});
  std::string path = "/tmp/sockit-bench-hist-" + std::to_string(::getpid());
  auto r = bench({"127.0.0.1", port_of(*server), "-d", "0.3", "--histogram", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0].rfind("sockit bench pingpong 127.0.0.1:" + port_of(*server) +
                               ": 1 connection, 64-byte messages, ",
                           0),
            0u)
      << lines[0];
  EXPECT_EQ(lines[1].rfind("  messages  ", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("  latency   p50 ", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3], "  errors    0");
  std::ifstream hist(path);
  std::string header, last, line;
  std::getline(hist, header);
  EXPECT_EQ(header, "# latency_us count cumulative");
  while (std::getline(hist, line))
    last = line;
  ::unlink(path.c_str());
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(last.substr(last.rfind(' ') + 1), "1");  // the cumulative fraction ends at 1
}

// An "echo" server that changes one byte: bench must notice, count it and exit 1.
TEST(BenchCli, CorruptedEchoIsCountedAsAMismatch) {
  auto listener = TcpListener::bind(*Endpoint::parse("127.0.0.1:0")).value();
  auto port = std::to_string(listener.local().value().port());
  auto served = std::async(std::launch::async, [&] {
    auto a = listener.accept(20s);
    if (!a) return;
    char buf[4096];
    auto n = a->stream.recv(buf);
    if (!n || *n == 0) return;
    buf[0] ^= 0x20;
    (void)a->stream.send_all(ConstBuffer(buf, *n));
    read_bytes(a->stream, 1 << 20, 3s);  // hold the connection until the client is done
  });
  auto r = bench({"127.0.0.1", port, "-d", "0.5", "--timeout", "1", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_GE(json_number(r.out, "mismatch"), 1) << r.out;
  EXPECT_NE(r.err.find("differs from what was sent"), std::string::npos) << r.err;
  served.get();
}

TEST(BenchCli, DeadServerExits69AtOnce) {
  auto listener = TcpListener::bind(*Endpoint::parse("127.0.0.1:0")).value();
  auto client = TcpStream::connect(listener.local().value()).value();
  auto port = std::to_string(client.local().value().port());  // nothing listens here
  auto r = bench({"127.0.0.1", port, "-c", "3", "-d", "30"});
  EXPECT_EQ(r.exit_code, 69);
  EXPECT_EQ(r.err, "sockit: connect 127.0.0.1:" + port + ": Connection refused\n");
  EXPECT_FALSE(r.timed_out);
}

TEST(BenchCli, BadUsageExits64) {
  for (auto args : std::vector<std::vector<std::string>>{{},
                                                         {"127.0.0.1"},
                                                         {"127.0.0.1", "70000"},
                                                         {"127.0.0.1", "80", "-c", "0"},
                                                         {"127.0.0.1", "80", "-s", "0"},
                                                         {"127.0.0.1", "80", "-u", "-s", "4"},
                                                         {"127.0.0.1", "80", "-m", "nonsense"},
                                                         {"127.0.0.1", "80", "-d", "0"}}) {
    auto r = bench(args);
    EXPECT_EQ(r.exit_code, 64) << r.err;
    EXPECT_EQ(r.err.rfind("sockit: ", 0), 0u) << r.err;
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  }
}

}  // namespace
}  // namespace sockit::test
