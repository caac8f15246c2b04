// Stopping `sockit serve`: SIGINT or SIGTERM ends it gracefully (exit 0, clients closed,
// the summary line); a second signal ends it at once (130); the fork model leaves no child
// process behind; the pool turns away clients it had queued but not served.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <string>

#include "serve_harness.hpp"

namespace sockit::test {
namespace {

// True while `signo`, sent to process `pid`, waits to be delivered (ShdPnd in its status).
bool signal_pending(pid_t pid, int signo) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("ShdPnd:")) {
      return (std::stoull(line.substr(7), nullptr, 16) >> (signo - 1)) & 1;
    }
  }
  return false;
}

struct StopCase {
  std::string model;
  int signo;
};

void PrintTo(const StopCase& c, std::ostream* out) {
  *out << c.model << (c.signo == SIGINT ? " SIGINT" : " SIGTERM");
}

class ServeStop : public ::testing::TestWithParam<StopCase> {};

TEST_P(ServeStop, SignalWithAClientConnectedStopsGracefully) {
  auto server = ServeProcess::start({"-m", GetParam().model, "127.0.0.1:0"});
  auto client = connect_tcp(server->at());
  ASSERT_TRUE(send_text(client, "hello\n"));
  ASSERT_TRUE(server->saw(tag_of(client) + " hello"));

  ASSERT_TRUE(server->stops_cleanly(GetParam().signo));
  EXPECT_TRUE(closed_by_peer(client)) << "the client is closed on the way out";
  EXPECT_TRUE(server->saw("closed " + tag_of(client) + " (6 bytes)"));
  EXPECT_TRUE(server->summary_matches_output());
}

std::string stop_case_name(const ::testing::TestParamInfo<StopCase>& param) {
  return param.param.model + (param.param.signo == SIGINT ? "_sigint" : "_sigterm");
}

INSTANTIATE_TEST_SUITE_P(Models, ServeStop,
                         ::testing::Values(StopCase{"iterative", SIGINT},
                                           StopCase{"iterative", SIGTERM},
                                           StopCase{"fork", SIGTERM}, StopCase{"thread", SIGINT},
                                           StopCase{"pool", SIGTERM}, StopCase{"reactor", SIGINT},
                                           StopCase{"reactor", SIGTERM}),
                         stop_case_name);

TEST(ServeStopPool, ClientsStillQueuedAreTurnedAwayNotServed) {
  // One worker, busy with `a`: `b` is accepted and waits in the pool's queue.
  auto server = ServeProcess::start({"-m", "pool", "-j", "1", "127.0.0.1:0"});
  auto a = connect_tcp(server->at());
  ASSERT_TRUE(send_text(a, "a\n"));
  ASSERT_TRUE(server->saw(tag_of(a) + " a"));
  const std::size_t fds = open_fd_count(server->pid());
  auto b = connect_tcp(server->at());
  ASSERT_TRUE(send_text(b, "b\n"));
  ASSERT_TRUE(eventually([&] { return open_fd_count(server->pid()) == fds + 1; }))
      << "b accepted and queued";

  ASSERT_TRUE(server->stops_cleanly());
  EXPECT_TRUE(server->saw("closed " + tag_of(a) + " (2 bytes)"));
  EXPECT_TRUE(server->saw("rejected " + tag_of(b) + " (server stopping)"));
  for (const std::string& line : server->out_lines()) {
    EXPECT_NE(line, "connected " + tag_of(b)) << "b was never served";
  }
  EXPECT_TRUE(closed_by_peer(b));
  EXPECT_TRUE(server->summary_matches_output());
}

TEST(ServeStopFork, LeavesNoChildProcessBehind) {
  // Orphans of the server would become this process's children: none may appear.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  auto server = ServeProcess::start({"-m", "fork", "127.0.0.1:0"});
  auto a = connect_tcp(server->at());
  auto b = connect_tcp(server->at());
  ASSERT_TRUE(send_text(a, "a\n"));
  ASSERT_TRUE(send_text(b, "b\n"));
  ASSERT_TRUE(server->saw(tag_of(a) + " a"));
  ASSERT_TRUE(server->saw(tag_of(b) + " b"));
  EXPECT_EQ(children_of(server->pid()).size(), 2u) << "a process per client";

  ASSERT_TRUE(server->stops_cleanly());
  EXPECT_TRUE(server->saw("closed " + tag_of(a) + " (2 bytes)"));
  EXPECT_TRUE(server->saw("closed " + tag_of(b) + " (2 bytes)"));
  EXPECT_TRUE(server->summary_matches_output()) << "the children's counts reach the parent";
  EXPECT_TRUE(closed_by_peer(a));
  EXPECT_TRUE(closed_by_peer(b));
  EXPECT_TRUE(children_of(::getpid()).empty()) << "the server left a child process behind";
}

// Ctrl+C in a terminal signals the whole process group: the server and every child it
// forked. The stop is as graceful as with a signal to the server alone.
TEST(ServeStopFork, CtrlCToTheProcessGroup) {
  auto server = ServeProcess::start({"-m", "fork", "127.0.0.1:0"}, {.own_process_group = true});
  auto a = connect_tcp(server->at());
  auto b = connect_tcp(server->at());
  ASSERT_TRUE(send_text(a, "a\n"));
  ASSERT_TRUE(send_text(b, "b\n"));
  ASSERT_TRUE(server->saw(tag_of(a) + " a"));
  ASSERT_TRUE(server->saw(tag_of(b) + " b"));

  ASSERT_TRUE(server->process().send_signal_to_group(SIGINT));
  EXPECT_EQ(server->process().wait(), 0) << server->process().text(Stream::Err);
  EXPECT_TRUE(server->saw("closed " + tag_of(a) + " (2 bytes)"));
  EXPECT_TRUE(server->saw("closed " + tag_of(b) + " (2 bytes)"));
  EXPECT_TRUE(server->summary_matches_output()) << server->process().text(Stream::Err);
  EXPECT_TRUE(closed_by_peer(a));
  EXPECT_TRUE(closed_by_peer(b));
}

// A client that sends without ever reading, so that the echo server has output queued
// for it when asked to stop: the graceful stop then waits (up to --grace) for it.
class ServeStopStuckClient : public ::testing::Test {
 protected:
  void start(const std::string& grace) {
    server_ =
        ServeProcess::start({"-m", "reactor", "-H", "echo", "--grace", grace, "-v", "127.0.0.1:0"});
    hog_.emplace(connect_tcp(server_->at()));
    must(hog_->set_nonblocking(true), "O_NONBLOCK");
    const std::string chunk = random_bytes(1 << 20, 5);
    std::size_t sent = 0;
    for (pollfd p{hog_->native_handle(), POLLOUT, 0};
         sent < (64u << 20) && ::poll(&p, 1, 1000) == 1;) {
      auto n = hog_->send(chunk);
      if (!n) break;
      sent += *n;
    }
    ASSERT_TRUE(server_->saw("connected " + tag_of(*hog_)));
  }

  std::unique_ptr<ServeProcess> server_;
  std::optional<TcpStream> hog_;
};

TEST_F(ServeStopStuckClient, GraceRunsOutThenItExits) {
  ASSERT_NO_FATAL_FAILURE(start("0.5"));
  ASSERT_TRUE(server_->stops_cleanly(SIGTERM));
  const std::string closed = "closed " + tag_of(*hog_) + " (";
  EXPECT_TRUE(server_->process().wait_for_line(Stream::Out, [&](std::string_view l) {
    return l.starts_with(closed);
  })) << server_->process().text(Stream::Out);
  EXPECT_TRUE(closed_by_peer(*hog_, std::chrono::seconds(30)));
}

TEST_F(ServeStopStuckClient, SecondSignalExitsAtOnceWith130) {
  ASSERT_NO_FATAL_FAILURE(start("60"));
  ASSERT_TRUE(server_->process().send_signal(SIGINT));
  // Two SIGINTs sent back to back may merge into one delivery: wait for the first to be
  // taken, as a second Ctrl+C from a person would be.
  ASSERT_TRUE(eventually([&] { return !signal_pending(server_->pid(), SIGINT); }));
  ASSERT_TRUE(server_->process().send_signal(SIGINT));
  EXPECT_EQ(server_->process().wait(), 130) << "well before the 60 s grace runs out";
  for (const std::string& line : server_->process().lines(Stream::Err))
    EXPECT_FALSE(line.starts_with("sockit: served ")) << "no summary after an abrupt exit";
}

}  // namespace
}  // namespace sockit::test
