// Unix-domain sockets: stream and datagram, filesystem paths (in a fresh mkdtemp directory),
// Linux abstract names, socketpairs, and replacing a stale socket file.
#include "sockit/unix.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <string>

namespace sockit {

// Readable values in assertion failures (found by argument-dependent lookup).
void PrintTo(const Endpoint& e, std::ostream* os) {
  *os << e.to_string();
}
void PrintTo(const IpAddress& a, std::ostream* os) {
  *os << a.to_string();
}

namespace {

using namespace std::chrono_literals;

// A private directory for socket files, removed with everything in it afterwards.
class UnixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sockit-unix-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << "mkdtemp failed";
    dir = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }

  Endpoint path_endpoint(const std::string& name) {
    auto e = Endpoint::unix_path(dir + "/" + name);
    EXPECT_TRUE(e) << e.error().message();
    return e ? *e : Endpoint();
  }

  // A name no other process or test uses: unix:@sockit-test-<pid>-<n>.
  static Endpoint abstract_endpoint() {
    static std::atomic<int> counter{0};
    auto e = Endpoint::parse("unix:@sockit-test-" + std::to_string(::getpid()) + "-" +
                             std::to_string(counter++));
    EXPECT_TRUE(e) << e.error().message();
    return e ? *e : Endpoint();
  }

  static UnixListener listen_on(const Endpoint& at, UnixListenOptions options = {}) {
    auto l = UnixListener::bind(at, options);
    EXPECT_TRUE(l) << l.error().message();
    return std::move(l).value();
  }

  static std::string recv_some(StreamSocket& s) {
    std::array<char, 256> buf;
    auto n = s.recv(buf);
    EXPECT_TRUE(n) << n.error().message();
    return n ? std::string(buf.data(), *n) : std::string();
  }

  std::string dir;
};

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// --- streams --------------------------------------------------------------------------

TEST_F(UnixTest, StreamOverAPath) {
  const Endpoint at = path_endpoint("s");
  UnixListener listener = listen_on(at);
  EXPECT_TRUE(exists(dir + "/s"));
  EXPECT_EQ(listener.local().value(), at);

  auto client = UnixStream::connect(at);
  ASSERT_TRUE(client) << client.error().message();
  auto accepted = listener.accept(5s);
  ASSERT_TRUE(accepted) << accepted.error().message();

  ASSERT_TRUE(client->send_all("over a path"));
  EXPECT_EQ(recv_some(accepted->stream), "over a path");
  ASSERT_TRUE(accepted->stream.send_all("reply"));
  EXPECT_EQ(recv_some(*client), "reply");

  // Names: the client never bound, so it (and the peer accept saw) is unnamed.
  auto peer = client->peer();
  ASSERT_TRUE(peer) << peer.error().message();
  EXPECT_EQ(*peer, at);
  EXPECT_EQ(peer->to_string(), "unix:" + dir + "/s");
  EXPECT_TRUE(client->local().value().is_unnamed_unix());
  EXPECT_TRUE(accepted->peer.is_unnamed_unix());
  EXPECT_EQ(accepted->stream.local().value(), at);
}

TEST_F(UnixTest, StreamHalfClose) {
  auto [a, b] = UnixStream::pair().value();
  ASSERT_TRUE(a.send_all("question"));
  ASSERT_TRUE(a.shutdown(Shutdown::Write));
  EXPECT_EQ(recv_some(b), "question");
  EXPECT_EQ(recv_some(b), "");  // EOF
  ASSERT_TRUE(b.send_all("answer"));
  EXPECT_EQ(recv_some(a), "answer");
}

TEST_F(UnixTest, LongestPathWorksEndToEnd) {
  // Fill the name up to exactly kMaxUnixPath bytes.
  const std::size_t room = kMaxUnixPath - dir.size() - 1;
  ASSERT_GT(room, 0u) << "temporary directory path too long: " << dir;
  const Endpoint at = path_endpoint(std::string(room, 'L'));
  ASSERT_EQ(at.unix_name().size(), kMaxUnixPath);
  UnixListener listener = listen_on(at);
  EXPECT_EQ(listener.local().value(), at);
  auto client = UnixStream::connect(at);
  ASSERT_TRUE(client) << client.error().message();
  EXPECT_EQ(client->peer().value(), at);
}

TEST_F(UnixTest, ConnectToAMissingPathFails) {
  const Endpoint at = path_endpoint("nobody-home");
  auto r = UnixStream::connect(at);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(std::errc::no_such_file_or_directory)) << r.error().message();
  EXPECT_EQ(r.error().context(), "connect " + at.to_string());
}

TEST_F(UnixTest, AcceptTimesOut) {
  UnixListener listener = listen_on(abstract_endpoint());
  auto r = listener.accept(20ms);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(std::errc::timed_out)) << r.error().message();
}

TEST_F(UnixTest, NonBlockingListener) {
  UnixListenOptions options;
  options.nonblocking = true;
  const Endpoint at = abstract_endpoint();
  UnixListener listener = listen_on(at, options);
  auto none = listener.accept();
  ASSERT_FALSE(none);
  EXPECT_TRUE(none.error().is(would_block));
  auto client = UnixStream::connect(at);
  ASSERT_TRUE(client);
  auto accepted = listener.accept(5s);
  ASSERT_TRUE(accepted) << accepted.error().message();
  EXPECT_TRUE(::fcntl(accepted->stream.native_handle(), F_GETFL) & O_NONBLOCK);
}

TEST_F(UnixTest, StreamOverAnAbstractName) {
  const Endpoint at = abstract_endpoint();
  ASSERT_TRUE(at.is_abstract());
  UnixListener listener = listen_on(at);
  EXPECT_EQ(listener.local().value(), at);
  EXPECT_EQ(listener.local().value().to_string(), at.to_string());

  auto client = UnixStream::connect(at);
  ASSERT_TRUE(client) << client.error().message();
  auto accepted = listener.accept(5s);
  ASSERT_TRUE(accepted) << accepted.error().message();
  ASSERT_TRUE(client->send_all("abstract"));
  EXPECT_EQ(recv_some(accepted->stream), "abstract");
  EXPECT_EQ(client->peer().value(), at);

  // The name is taken while the listener lives, and free again once it is gone.
  auto again = UnixListener::bind(at);
  ASSERT_FALSE(again);
  EXPECT_TRUE(again.error().is(std::errc::address_in_use)) << again.error().message();
  listener.close();
  auto after = UnixListener::bind(at);
  EXPECT_TRUE(after) << after.error().message();
}

TEST_F(UnixTest, StreamRefusesIpEndpoints) {
  const Endpoint ip = *Endpoint::parse("127.0.0.1:1");
  auto c = UnixStream::connect(ip);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ParseErrc::bad_family);
  EXPECT_EQ(c.error().context(), "connect 127.0.0.1:1");
  auto l = UnixListener::bind(ip);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code(), ParseErrc::bad_family);
  auto d = UnixDatagram::bind(ip);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), ParseErrc::bad_family);
}

// --- pairs ----------------------------------------------------------------------------

TEST_F(UnixTest, StreamPair) {
  auto pair = UnixStream::pair();
  ASSERT_TRUE(pair) << pair.error().message();
  auto& [a, b] = *pair;
  ASSERT_TRUE(a.send_all("a->b"));
  EXPECT_EQ(recv_some(b), "a->b");
  ASSERT_TRUE(b.send_all("b->a"));
  EXPECT_EQ(recv_some(a), "b->a");
  EXPECT_TRUE(a.peer().value().is_unnamed_unix());
  EXPECT_TRUE(::fcntl(a.native_handle(), F_GETFD) & FD_CLOEXEC);
  EXPECT_FALSE(::fcntl(a.native_handle(), F_GETFL) & O_NONBLOCK);

  auto nb = UnixStream::pair(true);
  ASSERT_TRUE(nb);
  std::array<char, 4> buf;
  auto r = nb->first.recv(buf);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(would_block));
}

TEST_F(UnixTest, DatagramPairKeepsBoundaries) {
  auto pair = UnixDatagram::pair();
  ASSERT_TRUE(pair) << pair.error().message();
  auto& [a, b] = *pair;
  ASSERT_TRUE(a.send("first"));
  ASSERT_TRUE(a.send("second"));
  std::array<char, 64> buf;
  auto one = b.recv(buf);
  ASSERT_TRUE(one);
  EXPECT_EQ(std::string(buf.data(), *one), "first");
  auto two = b.recv_from(buf);
  ASSERT_TRUE(two);
  EXPECT_EQ(std::string(buf.data(), two->size), "second");
  EXPECT_TRUE(two->from.is_unnamed_unix());

  ASSERT_TRUE(b.send(std::string(50, 'd')));
  std::array<char, 8> small;
  auto cut = a.recv_from(small);
  ASSERT_TRUE(cut);
  EXPECT_TRUE(cut->truncated);
  EXPECT_EQ(cut->size, small.size());

  auto nb = UnixDatagram::pair(true);
  ASSERT_TRUE(nb);
  auto r = nb->second.recv(buf);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(would_block));
}

// --- datagrams ------------------------------------------------------------------------

TEST_F(UnixTest, DatagramOverPaths) {
  const Endpoint server_at = path_endpoint("server.sock");
  const Endpoint client_at = path_endpoint("client.sock");
  auto server = UnixDatagram::bind(server_at);
  ASSERT_TRUE(server) << server.error().message();
  auto client = UnixDatagram::bind(client_at);
  ASSERT_TRUE(client) << client.error().message();

  ASSERT_TRUE(client->send_to("to server", server_at));
  std::array<char, 64> buf;
  auto got = server->recv_from(buf);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(std::string(buf.data(), got->size), "to server");
  EXPECT_EQ(got->from, client_at);  // replies can go back to the sender's path

  ASSERT_TRUE(server->send_to("to client", got->from));
  auto reply = client->recv_from(buf);
  ASSERT_TRUE(reply);
  EXPECT_EQ(std::string(buf.data(), reply->size), "to client");
  EXPECT_EQ(reply->from, server_at);
}

TEST_F(UnixTest, DatagramOverAbstractNamesAndConnect) {
  const Endpoint server_at = abstract_endpoint();
  auto server = UnixDatagram::bind(server_at);
  ASSERT_TRUE(server) << server.error().message();
  auto client = UnixDatagram::open();
  ASSERT_TRUE(client) << client.error().message();
  ASSERT_TRUE(client->connect(server_at));
  EXPECT_EQ(client->peer().value(), server_at);
  ASSERT_TRUE(client->send("connected"));
  std::array<char, 64> buf;
  auto got = server->recv_from(buf);
  ASSERT_TRUE(got);
  EXPECT_EQ(std::string(buf.data(), got->size), "connected");
  EXPECT_TRUE(got->from.is_unnamed_unix());  // an unbound sender can't be answered
}

TEST_F(UnixTest, DatagramToNobodyFails) {
  auto client = UnixDatagram::open();
  ASSERT_TRUE(client);
  const Endpoint nowhere = path_endpoint("nowhere");
  auto r = client->send_to("x", nowhere);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(std::errc::no_such_file_or_directory)) << r.error().message();
  EXPECT_EQ(r.error().context(), "sendto " + nowhere.to_string());
}

// --- stale socket files ---------------------------------------------------------------

TEST_F(UnixTest, ReplaceStaleRemovesALeftoverSocketFile) {
  const Endpoint at = path_endpoint("stale.sock");
  {
    UnixListener old = listen_on(at);
  }  // closed, but its file stays: what a crashed server leaves behind
  ASSERT_TRUE(exists(dir + "/stale.sock"));

  auto plain = UnixListener::bind(at);
  ASSERT_FALSE(plain);
  EXPECT_TRUE(plain.error().is(std::errc::address_in_use)) << plain.error().message();
  EXPECT_EQ(plain.error().context(), "listen " + at.to_string());

  UnixListenOptions options;
  options.replace_stale = true;
  auto replaced = UnixListener::bind(at, options);
  ASSERT_TRUE(replaced) << replaced.error().message();
  auto client = UnixStream::connect(at);
  ASSERT_TRUE(client) << client.error().message();
  auto accepted = replaced->accept(5s);
  EXPECT_TRUE(accepted) << accepted.error().message();
}

TEST_F(UnixTest, ReplaceStaleLeavesALiveListenerAlone) {
  const Endpoint at = path_endpoint("live.sock");
  UnixListener live = listen_on(at);
  UnixListenOptions options;
  options.replace_stale = true;
  auto second = UnixListener::bind(at, options);
  ASSERT_FALSE(second);
  EXPECT_TRUE(second.error().is(std::errc::address_in_use)) << second.error().message();
  // The first listener still owns the path and still accepts.
  auto client = UnixStream::connect(at);
  ASSERT_TRUE(client) << client.error().message();
  auto accepted = live.accept(5s);
  EXPECT_TRUE(accepted) << accepted.error().message();
}

TEST_F(UnixTest, ReplaceStaleNeverRemovesAnOrdinaryFile) {
  const std::string file = dir + "/data.txt";
  {
    UniqueFd fd(::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    ASSERT_TRUE(fd.valid());
  }
  UnixListenOptions options;
  options.replace_stale = true;
  auto r = UnixListener::bind(path_endpoint("data.txt"), options);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(std::errc::address_in_use)) << r.error().message();
  struct stat st;
  ASSERT_EQ(::lstat(file.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

}  // namespace
}  // namespace sockit
