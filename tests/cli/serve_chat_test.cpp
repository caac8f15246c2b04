// `sockit serve -H chat`: three clients in one room. Each hears the others join and leave,
// and every line one of them sends, prefixed with the sender's address — never its own.
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>

#include "serve_harness.hpp"

namespace sockit::test {
namespace {

// A member of the room. The room may also hear from strangers (another program's port scan
// on a shared machine); announcements about them are skipped.
class ChatClient {
 public:
  ChatClient(const Endpoint& at, std::set<std::string>& members)
      : stream(connect_tcp(at)), tag(tag_of(stream)), members_(members) {
    members_.insert(tag);
  }

  // The next line, skipping "* PEER joined" / "* PEER left" about strangers.
  std::optional<std::string> next() {
    for (;;) {
      auto line = lines_.next();
      if (!line || !line->starts_with("* ")) return line;
      std::string peer = line->substr(2, line->rfind(' ') - 2);
      if (members_.contains(peer)) return line;
    }
  }

  TcpStream stream;
  std::string tag;

 private:
  std::set<std::string>& members_;
  LineReader lines_{stream};
};

class ServeChat : public ::testing::TestWithParam<std::string> {};

TEST_P(ServeChat, LinesReachTheOthersWithTheSendersAddress) {
  auto server = ServeProcess::start({"-m", GetParam(), "-H", "chat", "127.0.0.1:0"});

  // a says something first: once the server has printed it, a is certainly in the room
  // (a client joins before its first byte is read), so b's arrival is announced to it.
  std::set<std::string> members;
  ChatClient a(server->at(), members);
  ASSERT_TRUE(send_text(a.stream, "a is here\n"));
  ASSERT_TRUE(server->saw(a.tag + " a is here"));

  ChatClient b(server->at(), members);
  EXPECT_EQ(a.next(), "* " + b.tag + " joined");
  // A line is printed just before the room delivers it, so b, which joined right after
  // a's greeting was printed, may still receive it. Once b has a's next line, nothing of
  // a's is in flight any more.
  ASSERT_TRUE(send_text(a.stream, "welcome b\n"));
  auto first = b.next();
  if (first == a.tag + " a is here") first = b.next();
  EXPECT_EQ(first, a.tag + " welcome b");
  ASSERT_TRUE(send_text(b.stream, "b is here\n"));
  EXPECT_EQ(a.next(), b.tag + " b is here");

  ChatClient c(server->at(), members);
  EXPECT_EQ(a.next(), "* " + c.tag + " joined");
  EXPECT_EQ(b.next(), "* " + c.tag + " joined");

  ASSERT_TRUE(send_text(a.stream, "hello from a\n"));
  EXPECT_EQ(b.next(), a.tag + " hello from a");
  EXPECT_EQ(c.next(), a.tag + " hello from a") << "c hears nothing from before it joined";

  // The room delivers in one order, so had a heard its own line it would come before b's.
  ASSERT_TRUE(send_text(b.stream, "hi a\n"));
  EXPECT_EQ(a.next(), b.tag + " hi a");
  EXPECT_EQ(c.next(), b.tag + " hi a");

  c.stream.close();
  EXPECT_EQ(a.next(), "* " + c.tag + " left");
  EXPECT_EQ(b.next(), "* " + c.tag + " left");
  EXPECT_TRUE(server->saw("closed " + c.tag + " (0 bytes)"));

  // Nothing else arrived in between: the next thing each hears is the other's last word.
  ASSERT_TRUE(send_text(a.stream, "bye\n"));
  ASSERT_TRUE(send_text(b.stream, "bye\n"));
  EXPECT_EQ(a.next(), b.tag + " bye");
  EXPECT_EQ(b.next(), a.tag + " bye");

  // The server prints the room's lines too.
  EXPECT_TRUE(server->saw(a.tag + " hello from a"));
  EXPECT_TRUE(server->saw(b.tag + " hi a"));
  ASSERT_TRUE(server->stops_cleanly());
  EXPECT_TRUE(server->summary_matches_output());
}

INSTANTIATE_TEST_SUITE_P(Models, ServeChat, ::testing::Values("reactor", "thread", "pool"),
                         [](const auto& param) { return param.param; });

TEST(ServeChatUsage, NeedsAModelThatSharesOneRoom) {
  for (const char* model : {"fork", "iterative"}) {
    auto r = run_sockit({"serve", "-m", model, "-H", "chat", "127.0.0.1:0"});
    EXPECT_EQ(r.exit_code, 64) << model;
    EXPECT_EQ(r.err, std::string("sockit: chat with the ") + model +
                         " model (chat needs reactor, thread or pool): not supported\n");
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

}  // namespace
}  // namespace sockit::test
