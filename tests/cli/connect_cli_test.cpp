// `sockit connect` driven as a user would: stdin in, stdout/stderr/exit code out, against
// servers the test runs itself on loopback (library sockets, or nc/socat when installed).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <future>
#include <random>
#include <string>
#include <thread>

#include "run_command.hpp"
#include "sockit/tcp.hpp"
#include "sockit/udp.hpp"
#include "sockit/unix.hpp"

namespace sockit::test {
namespace {

using namespace std::chrono_literals;

CommandResult sockit(std::vector<std::string> args, const std::string& input = {}) {
  args.insert(args.begin(), SOCKIT_BIN);
  return run_command(args, input, 30s);
}

// Reads everything a stream sends until it closes its side.
std::string read_to_eof(StreamSocket& s) {
  std::string all;
  char buf[65536];
  for (;;) {
    auto n = s.recv(buf);
    if (!n || *n == 0) return all;
    all.append(buf, *n);
  }
}

// A one-connection server: records what the client sent until EOF, then answers `reply`
// (computed from what it got) and closes — the half-close case nc can't do.
class RecordingServer {
 public:
  explicit RecordingServer(std::function<std::string(const std::string&)> reply = {})
      : listener_(TcpListener::bind(*Endpoint::parse("127.0.0.1:0")).value()),
        port_(listener_.local().value().port()) {
    done_ = std::async(std::launch::async, [this, reply] {
      auto accepted = listener_.accept(20s);
      if (!accepted) return std::string("<no connection>");
      std::string got = read_to_eof(accepted->stream);
      if (reply) (void)accepted->stream.send_all(reply(got));
      return got;
    });
  }
  std::uint16_t port() const { return port_; }
  std::string received() { return done_.get(); }

 private:
  TcpListener listener_;
  std::uint16_t port_;
  std::future<std::string> done_;
};

// A port nothing listens on: the local port of a connection we hold open (nobody else can
// bind it while we hold it, and we never listen on it).
class ClosedPort {
 public:
  ClosedPort()
      : listener_(TcpListener::bind(*Endpoint::parse("127.0.0.1:0")).value()),
        client_(TcpStream::connect(listener_.local().value()).value()) {}
  std::uint16_t port() const { return client_.local().value().port(); }

 private:
  TcpListener listener_;
  TcpStream client_;
};

TEST(ConnectCli, SendsStdinHalfClosesAndPrintsTheReplyAfterEof) {
  RecordingServer server(
      [](const std::string& got) { return "got " + std::to_string(got.size()) + " bytes\n"; });
  auto r = sockit({"connect", "127.0.0.1", std::to_string(server.port())}, "hello\nworld\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "got 12 bytes\n");
  EXPECT_EQ(server.received(), "hello\nworld\n");
}

TEST(ConnectCli, ConnectsByName) {
  RecordingServer server([](const std::string& got) { return got; });
  auto r = sockit({"connect", "localhost", std::to_string(server.port())}, "by name\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "by name\n");
  EXPECT_EQ(server.received(), "by name\n");
}

TEST(ConnectCli, ALineThatIsCtrlXEndsTheSession) {
  RecordingServer server;
  auto r = sockit({"connect", "127.0.0.1", std::to_string(server.port())},
                  "first\nsecond\n\x18\nnever sent\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server.received(), "first\nsecond\n");
}

TEST(ConnectCli, CtrlXInsideALineIsJustData) {
  RecordingServer server;
  auto r = sockit({"connect", "127.0.0.1", std::to_string(server.port())}, "a\x18z\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server.received(), "a\x18z\n");
}

TEST(ConnectCli, SendOptionSendsTextAndANewline) {
  RecordingServer server([](const std::string&) { return std::string("pong\n"); });
  auto r = sockit({"connect", "--send", "ping", "127.0.0.1", std::to_string(server.port())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "pong\n");
  EXPECT_EQ(server.received(), "ping\n");
}

TEST(ConnectCli, CrlfTurnsLineEndsIntoCrLf) {
  RecordingServer server;
  auto r = sockit({"connect", "--crlf", "127.0.0.1", std::to_string(server.port())}, "a\nb\r\nc\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server.received(), "a\r\nb\r\nc\r\n");
}

TEST(ConnectCli, VerboseSaysWhereItConnected) {
  RecordingServer server;
  auto r = sockit({"connect", "-v", "127.0.0.1", std::to_string(server.port())}, "x");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string want = "connected to 127.0.0.1:" + std::to_string(server.port()) + " from 127.0.0.1:";
  EXPECT_EQ(r.err.rfind(want, 0), 0u) << r.err;
  EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
}

TEST(ConnectCli, CopiesAMegabyteBothWaysUnchanged) {
  std::string data(1 << 20, '\0');
  std::mt19937 rng(7);
  for (auto& c : data)
    c = static_cast<char>(rng());
  RecordingServer server([](const std::string& got) { return got; });
  auto r = sockit({"connect", "127.0.0.1", std::to_string(server.port())}, data);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == data) << "echo differs: " << r.out.size() << " bytes back";
  EXPECT_TRUE(server.received() == data);
}

TEST(ConnectCli, ReadsInputFromARegularFile) {
  // epoll can't watch a regular file; the relay reads it whenever the socket has room.
  char path[] = "/tmp/sockit-connect-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string data(300000, 'f');
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(fd);
  RecordingServer server([](const std::string& got) { return std::to_string(got.size()); });
  auto r = run_command({"/bin/sh", "-c",
                        std::string(SOCKIT_BIN) + " connect 127.0.0.1 " +
                            std::to_string(server.port()) + " < " + path});
  ::unlink(path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "300000");
  EXPECT_EQ(server.received().size(), data.size());
}

TEST(ConnectCli, UnixSocket) {
  char dir[] = "/tmp/sockit-connect-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/s";
  auto listener = UnixListener::bind(Endpoint::unix_path(path).value()).value();
  auto served = std::async(std::launch::async, [&] {
    auto a = listener.accept(20s);
    if (!a) return std::string();
    std::string got = read_to_eof(a->stream);
    (void)a->stream.send_all("unix says " + got);
    return got;
  });
  auto r = sockit({"connect", "--unix", path}, "hi\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "unix says hi\n");
  EXPECT_EQ(served.get(), "hi\n");
  ::unlink(path.c_str());
  ::rmdir(dir);
}

TEST(ConnectCli, UdpSendsADatagramAndPrintsTheAnswer) {
  auto server = UdpSocket::bind(*Endpoint::parse("127.0.0.1:0")).value();
  auto port = server.local().value().port();
  auto answered = std::async(std::launch::async, [&] {
    char buf[2048];
    auto got = server.recv_from(buf);
    if (!got) return std::string();
    std::string text(buf, got->size);
    (void)server.send_to("answer to " + text, got->from);
    return text;
  });
  auto r = sockit({"connect", "-u", "-i", "2", "127.0.0.1", std::to_string(port)}, "ping\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "answer to ping\n");
  EXPECT_EQ(answered.get(), "ping\n");
}

TEST(ConnectCli, IdleTimeoutEndsASilentSession) {
  auto listener = TcpListener::bind(*Endpoint::parse("127.0.0.1:0")).value();
  auto port = listener.local().value().port();
  // Accepts and then neither sends nor closes until the client is gone.
  auto held = std::async(std::launch::async, [&] {
    auto a = listener.accept(20s);
    if (a) read_to_eof(a->stream);
  });
  auto r = sockit({"connect", "-i", "0.3", "127.0.0.1", std::to_string(port)}, "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.timed_out);
  held.get();
}

TEST(ConnectCli, RefusedExits69WithOneLine) {
  ClosedPort closed;
  auto port = std::to_string(closed.port());
  auto r = sockit({"connect", "127.0.0.1", port}, "x");
  EXPECT_EQ(r.exit_code, 69);
  EXPECT_EQ(r.err, "sockit: connect 127.0.0.1:" + port + ": Connection refused\n");
  EXPECT_TRUE(r.out.empty());
}

TEST(ConnectCli, UnixSocketThatDoesNotExist) {
  auto r = sockit({"connect", "--unix", "/nonexistent/sockit.sock"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err, "sockit: connect unix:/nonexistent/sockit.sock: No such file or directory\n");
}

TEST(ConnectCli, BadUsageExits64) {
  for (auto args :
       std::vector<std::vector<std::string>>{{"connect"},
                                             {"connect", "127.0.0.1"},
                                             {"connect", "127.0.0.1", "99999"},
                                             {"connect", "127.0.0.1", "http-ish"},
                                             {"connect", "256.1.1.1", "80"},
                                             {"connect", "--unix", "/tmp/x", "127.0.0.1", "80"},
                                             {"connect", "-4", "-6", "127.0.0.1", "80"},
                                             {"connect", "-w", "-1", "127.0.0.1", "80"},
                                             {"connect", "--unix", ""},
                                             {"connect", "--unix", "@"}}) {
    auto r = sockit(args);
    EXPECT_EQ(r.exit_code, 64) << args.size() << " " << r.err;
    EXPECT_EQ(r.err.rfind("sockit: ", 0), 0u) << r.err;
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  }
}

TEST(ConnectCli, SigtermEndsTheSession) {
  auto listener = TcpListener::bind(*Endpoint::parse("127.0.0.1:0")).value();
  auto port = std::to_string(listener.local().value().port());
  auto held = std::async(std::launch::async, [&] {
    auto a = listener.accept(20s);
    if (a) read_to_eof(a->stream);
  });
  // stdin stays open (sleep), the server stays silent: only the signal can end it.
  auto r = run_command({"/bin/bash", "-c",
                        std::string(SOCKIT_BIN) + " connect 127.0.0.1 " + port +
                            " < <(sleep 30) & pid=$!; sleep 0.5; kill -TERM $pid; wait $pid; "
                            "echo \"rc=$?\""},
                       {}, 20s);
  EXPECT_EQ(r.out, "rc=143\n") << r.err;
  held.get();
}

// Interop: Debian's socat and OpenBSD netcat as servers.
std::uint16_t free_port() {
  auto l = TcpListener::bind(*Endpoint::parse("127.0.0.1:0")).value();
  return l.local().value().port();
}

bool have(const char* tool) {
  return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

TEST(ConnectInterop, SocatServerThatAnswersOnlyAfterEof) {
  if (!have("socat")) GTEST_SKIP() << "socat is not installed";
  auto port = std::to_string(free_port());
  auto r = run_command(
      {"/bin/bash", "-c",
       "socat TCP-LISTEN:" + port + ",bind=127.0.0.1,reuseaddr SYSTEM:'wc -c' " +
           "& srv=$!; for i in $(seq 100); do sleep 0.05; ss -ltn | grep -q ':" + port +
           " ' && break; done; printf 'twelve bytes' | " + SOCKIT_BIN + " connect 127.0.0.1 " +
           port + "; rc=$?; kill $srv 2>/dev/null; wait $srv 2>/dev/null; exit $rc"},
      {}, 30s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "12\n") << "socat wc -c reply";
}

TEST(ConnectInterop, NetcatServer) {
  if (!have("nc")) GTEST_SKIP() << "nc (netcat-openbsd) is not installed";
  auto port = std::to_string(free_port());
  auto r = run_command(
      {"/bin/bash", "-c",
       "echo from-nc | nc -l 127.0.0.1 " + port + " > /tmp/sockit-nc-" + port +
           " & srv=$!; for i in $(seq 100); do sleep 0.05; "
           "ss -ltn | grep -q ':" +
           port +
           " ' && break; done; "
           "printf 'to-nc\\n' | " +
           SOCKIT_BIN + " connect 127.0.0.1 " + port + "; rc=$?; wait $srv; cat /tmp/sockit-nc-" +
           port + " >&2; rm -f /tmp/sockit-nc-" + port + "; exit $rc"},
      {}, 30s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "from-nc\n");
  EXPECT_EQ(r.err, "to-nc\n");
}

}  // namespace
}  // namespace sockit::test
