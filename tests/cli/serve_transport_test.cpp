// `sockit serve` beyond TCP over IPv4: UDP datagrams (-u), Unix stream sockets (a path, or
// an abstract @name) and IPv6 on [::1].
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "serve_harness.hpp"
#include "sockit/udp.hpp"

namespace sockit::test {
namespace {

// The next datagram on `socket` within kPatience; nullopt if none came.
std::optional<std::string> receive(UdpSocket& socket) {
  pollfd p{socket.native_handle(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(kPatience.count())) != 1) return std::nullopt;
  std::string data(65536, '\0');
  auto got = socket.recv_from(data);
  if (!got) return std::nullopt;
  data.resize(got->size);
  return data;
}

TEST(ServeUdp, PrintsEachDatagramWithItsSender) {
  auto server = ServeProcess::start({"-u", "127.0.0.1:0"});
  EXPECT_NE(server->listening_line().find("(udp, print)"), std::string::npos)
      << server->listening_line();
  auto client = must(UdpSocket::open(IpFamily::V4), "udp socket");
  ASSERT_TRUE(client.send_to("hello over udp\n", server->at()));
  // Unbound, the client's local address is 0.0.0.0; the server sees it on 127.0.0.1.
  const std::string from =
      "127.0.0.1:" + std::to_string(must(client.local(), "getsockname").port());
  EXPECT_TRUE(server->saw(from + " hello over udp")) << server->process().text(Stream::Out);
  ASSERT_TRUE(client.send_to("no newline\tbut a tab", server->at()));
  EXPECT_TRUE(server->saw(from + " no newline\\x09but a tab"));

  ASSERT_TRUE(server->stops_cleanly());
  EXPECT_EQ(server->process().lines(Stream::Err).back(),
            "sockit: served 2 datagrams, 35 bytes in, 0 bytes out");
}

TEST(ServeUdp, EchoesEachDatagramToItsSender) {
  auto server = ServeProcess::start({"-u", "-H", "echo", "127.0.0.1:0"});
  auto client = must(UdpSocket::open(IpFamily::V4), "udp socket");
  std::uint64_t bytes = 0;
  for (std::size_t size : {1u, 100u, 1400u, 8000u}) {
    const std::string data = random_bytes(size, static_cast<std::uint32_t>(size));
    ASSERT_TRUE(client.send_to(data, server->at()));
    EXPECT_EQ(receive(client), data) << size << " bytes";
    bytes += size;
  }
  ASSERT_TRUE(server->stops_cleanly());
  EXPECT_EQ(server->process().lines(Stream::Err).back(), "sockit: served 4 datagrams, " +
                                                             std::to_string(bytes) + " bytes in, " +
                                                             std::to_string(bytes) + " bytes out");
}

// A Unix listener at a path in a fresh directory, or at an abstract name.
struct UnixCase {
  std::string name;
  bool abstract;
};

void PrintTo(const UnixCase& c, std::ostream* out) {
  *out << c.name;
}

class ServeUnix : public ::testing::TestWithParam<UnixCase> {
 protected:
  void SetUp() override {
    if (GetParam().abstract) {
      where_ = "@sockit-serve-test-" + std::to_string(::getpid());
      return;
    }
    char dir[] = "/tmp/sockit-serve-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    where_ = dir_ + "/server.sock";
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string where_;  // the --unix argument
  std::string dir_;
};

TEST_P(ServeUnix, PrintsClientsAsUnixIds) {
  auto server = ServeProcess::start({"--unix", where_});
  EXPECT_EQ(server->at().to_string(), "unix:" + where_);
  {
    auto first = connect_unix(server->at());
    ASSERT_TRUE(send_text(first, "one\n"));
    EXPECT_TRUE(server->saw("connected unix#1"));
    EXPECT_TRUE(server->saw("unix#1 one"));
    auto second = connect_unix(server->at());
    ASSERT_TRUE(send_text(second, "two"));
    EXPECT_TRUE(server->saw("unix#2 two"));
  }
  EXPECT_TRUE(server->saw("closed unix#1 (4 bytes)"));
  EXPECT_TRUE(server->saw("closed unix#2 (3 bytes)"));
  ASSERT_TRUE(server->stops_cleanly());
  if (!GetParam().abstract) {
    EXPECT_FALSE(std::filesystem::exists(where_)) << "the socket file is removed on exit";
  }
}

TEST_P(ServeUnix, EchoesManyClientsAtOnce) {
  auto server = ServeProcess::start({"--unix", where_, "-H", "echo"});
  std::vector<std::string> payloads{random_bytes(1 << 20, 7)};
  for (std::uint32_t i = 0; i < 20; ++i)
    payloads.push_back(random_bytes(1000 + i * 3000, i));
  std::vector<UniqueFd> fds;
  for (std::size_t i = 0; i < payloads.size(); ++i)
    fds.push_back(connect_unix(server->at()).release());
  EXPECT_EQ(echo_all(std::move(fds), payloads, std::chrono::seconds(30)), "");
  EXPECT_TRUE(server->serves_a_client());
  EXPECT_TRUE(server->stops_cleanly());
}

TEST_P(ServeUnix, LiveListenerIsNotTakenOver) {
  auto live =
      must(UnixListener::bind(must(GetParam().abstract ? Endpoint::unix_abstract(where_.substr(1))
                                                       : Endpoint::unix_path(where_),
                                   "endpoint")),
           "listen");
  auto r = run_sockit({"serve", "--unix", where_});
  EXPECT_EQ(r.exit_code, 69) << r.err;
  EXPECT_EQ(r.err, "sockit: listen unix:" + where_ + ": Address already in use\n");
  // The listener that was there first still has its address.
  auto client = connect_unix(must(live.local(), "getsockname"));
  EXPECT_TRUE(live.accept(kPatience)) << "the first listener no longer accepts";
}

INSTANTIATE_TEST_SUITE_P(Unix, ServeUnix,
                         ::testing::Values(UnixCase{"path", false}, UnixCase{"abstract", true}),
                         [](const auto& param) { return param.param.name; });

// A socket file left behind by a server that died is replaced; any other file is not.
TEST(ServeUnixPath, StaleSocketFileIsReplacedOtherFilesAreNot) {
  char dir[] = "/tmp/sockit-serve-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string stale = std::string(dir) + "/stale.sock";
  const std::string regular = std::string(dir) + "/regular";
  must(UnixListener::bind(must(Endpoint::unix_path(stale), "endpoint")), "listen").close();
  ASSERT_TRUE(std::filesystem::is_socket(stale));
  {
    auto server = ServeProcess::start({"--unix", stale});
    EXPECT_TRUE(server->serves_a_client());
    EXPECT_TRUE(server->stops_cleanly());
  }
  EXPECT_FALSE(std::filesystem::exists(stale));

  std::ofstream(regular) << "keep me\n";
  auto r = run_sockit({"serve", "--unix", regular});
  EXPECT_EQ(r.exit_code, 69) << r.err;
  EXPECT_EQ(r.err, "sockit: listen unix:" + regular + ": Address already in use\n");
  std::string kept;
  std::getline(std::ifstream(regular), kept);
  EXPECT_EQ(kept, "keep me");
  std::filesystem::remove_all(dir);
}

// A host name is looked up (here in /etc/hosts) and the server listens on its address.
TEST(ServeHostName, LocalhostListensOnLoopback) {
  auto server = ServeProcess::start({"localhost:0"});  // start() insists on loopback
  EXPECT_TRUE(server->serves_a_client());
  EXPECT_TRUE(server->stops_cleanly());
}

class ServeIpv6 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TcpListener::bind(must(Endpoint::parse("[::1]:0"), "parse"))) {
      GTEST_SKIP() << "no IPv6 loopback (::1) on this machine";
    }
  }
};

TEST_F(ServeIpv6, PrintsClientsWithTheirIpv6Address) {
  auto server = ServeProcess::start({"[::1]:0"});
  ASSERT_TRUE(server->at().is_v6()) << server->listening_line();
  auto client = connect_tcp(server->at());
  const std::string tag = tag_of(client);
  EXPECT_TRUE(tag.starts_with("[::1]:")) << tag;
  ASSERT_TRUE(send_text(client, "over six\n"));
  EXPECT_TRUE(server->saw("connected " + tag));
  EXPECT_TRUE(server->saw(tag + " over six"));
  client.close();
  EXPECT_TRUE(server->saw("closed " + tag + " (9 bytes)"));
  EXPECT_TRUE(server->stops_cleanly());
}

TEST_F(ServeIpv6, Echoes) {
  auto server = ServeProcess::start({"-H", "echo", "[::1]:0"});
  std::vector<std::string> payloads{random_bytes(1 << 20, 6), random_bytes(5000, 66)};
  std::vector<UniqueFd> fds;
  for (std::size_t i = 0; i < payloads.size(); ++i)
    fds.push_back(connect_tcp(server->at()).release());
  EXPECT_EQ(echo_all(std::move(fds), payloads, std::chrono::seconds(30)), "");
  EXPECT_TRUE(server->stops_cleanly());
}

TEST_F(ServeIpv6, UdpEchoes) {
  auto server = ServeProcess::start({"-u", "-H", "echo", "[::1]:0"});
  auto client = must(UdpSocket::open(IpFamily::V6), "udp socket");
  ASSERT_TRUE(client.send_to("ping six", server->at()));
  EXPECT_EQ(receive(client), "ping six");
  EXPECT_TRUE(server->stops_cleanly());
}

}  // namespace
}  // namespace sockit::test
