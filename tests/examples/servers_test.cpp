// The three TCP servers (simple_server, fork_server, thread_server), started on 127.0.0.1
// port 0 and driven by real clients: what they print for each client, whether they serve
// clients one at a time or together, and how they end.
#include <gtest/gtest.h>
#include <sys/prctl.h>

#include <algorithm>
#include <csignal>
#include <optional>
#include <ostream>
#include <regex>
#include <string>
#include <vector>

#include "loopback.hpp"
#include "process.hpp"

namespace examples_test {
namespace {

struct ServerCase {
  const char* name;
  const char* path;
};

const ServerCase kSimple{"simple_server", EXAMPLE_SIMPLE_SERVER};
const ServerCase kFork{"fork_server", EXAMPLE_FORK_SERVER};
const ServerCase kThread{"thread_server", EXAMPLE_THREAD_SERVER};

std::string case_name(const ::testing::TestParamInfo<ServerCase>& param) {
  return param.param.name;
}
void PrintTo(const ServerCase& server, std::ostream* out) {
  *out << server.name;
}

// A client connection, and the "127.0.0.1:PORT" by which the server knows it.
struct Client {
  sockit::TcpStream stream;
  std::string tag;
};

class ServerExample : public ::testing::TestWithParam<ServerCase> {
 protected:
  void SetUp() override {
    server_.emplace(Process::spawn(GetParam().path, {"127.0.0.1:0"}));
    auto line =
        server_->wait_for_line([](const std::string& l) { return l.starts_with("listening on "); });
    ASSERT_TRUE(line) << "no 'listening on' line; stderr: " << server_->err();
    auto at = sockit::Endpoint::parse(line->substr(std::string("listening on ").size()));
    ASSERT_TRUE(at) << *line;
    ASSERT_EQ(at->address(), sockit::IpAddress::v4_loopback()) << *line;
    ASSERT_NE(at->port(), 0) << "port 0 must be replaced by the port the kernel chose";
    at_ = *at;
  }

  Process& server() { return *server_; }

  Client connect() {
    auto stream = must(sockit::TcpStream::connect(at_, {.timeout = kPatience}), "connect");
    auto local = must(stream.local(), "local");
    return {std::move(stream), local.to_string()};
  }

  bool saw(const std::string& line) { return server().wait_for_line(line).has_value(); }

  // What the server printed about `client`, in order.
  std::vector<std::string> lines_about(const Client& client) {
    std::vector<std::string> about;
    for (const std::string& line : server().lines()) {
      if (line == "connected " + client.tag || line == "closed " + client.tag ||
          line.starts_with(client.tag + ' ')) {
        about.push_back(line);
      }
    }
    return about;
  }

  std::ptrdiff_t index_of(const std::string& line) {
    const auto& lines = server().lines();
    return std::find(lines.begin(), lines.end(), line) - lines.begin();
  }

  std::optional<Process> server_;
  sockit::Endpoint at_;
};

TEST_P(ServerExample, PrintsEachLineTaggedWithTheClientsAddress) {
  for (const char* who : {"first", "second"}) {
    Client client = connect();
    // Pieces that cut lines in odd places: the server must put the lines back together.
    must(client.stream.send_all("hel"), "send");
    must(client.stream.send_all(std::string("lo from ") + who + "\nsec"), "send");
    must(client.stream.send_all("ond line\nno newline at the end"), "send");
    client.stream.close();
    ASSERT_TRUE(saw("closed " + client.tag)) << server().out() << server().err();

    const std::string& tag = client.tag;
    EXPECT_EQ(lines_about(client), (std::vector<std::string>{
                                       "connected " + tag,
                                       tag + " hello from " + who,
                                       tag + " second line",
                                       tag + " no newline at the end",
                                       "closed " + tag,
                                   }));
  }
  EXPECT_EQ(server().err(), "");
}

TEST_P(ServerExample, TheCourseClientTalksToIt) {
  Outcome client =
      run(EXAMPLE_CLIENT, {"127.0.0.1", std::to_string(at_.port())}, "hi there\nbye\n\x18\nlost\n");
  EXPECT_EQ(exit_code(client.status), 0) << client.err;
  EXPECT_EQ(client.out, "");  // these servers never answer

  auto connected = server().wait_for_line(
      [](const std::string& line) { return line.starts_with("connected 127.0.0.1:"); });
  ASSERT_TRUE(connected) << server().out();
  const std::string tag = connected->substr(std::string("connected ").size());
  ASSERT_TRUE(saw("closed " + tag)) << server().out();
  EXPECT_EQ(server().out(), server().lines().front() + "\nconnected " + tag + "\n" + tag +
                                " hi there\n" + tag + " bye\nclosed " + tag + "\n");
}

TEST_P(ServerExample, SigtermEndsItAndDisconnectsItsClients) {
  Client client = connect();
  ASSERT_TRUE(saw("connected " + client.tag)) << server().out();
  ASSERT_TRUE(server().send_signal(SIGTERM));
  auto status = server().wait();
  ASSERT_TRUE(status) << "still running 10 s after SIGTERM";
  EXPECT_TRUE(killed_by(status, SIGTERM) || exit_code(status) == 0) << *status;
  // The connection is closed under the client (a child or thread serving it is gone too).
  EXPECT_TRUE(closed_by_peer(client.stream));
}

INSTANTIATE_TEST_SUITE_P(Examples, ServerExample, ::testing::Values(kSimple, kFork, kThread),
                         case_name);

// simple_server is iterative: a second client is connected (the kernel completes the
// handshake) but not served until the first has gone.
class IterativeServerExample : public ServerExample {};

TEST_P(IterativeServerExample, ServesOneClientAtATime) {
  Client first = connect();
  Client second = connect();
  must(first.stream.send_all("one\n"), "send");
  must(second.stream.send_all("two\n"), "send");
  ASSERT_TRUE(saw(first.tag + " one")) << server().out();
  first.stream.close();
  ASSERT_TRUE(saw(second.tag + " two")) << server().out();
  second.stream.close();
  ASSERT_TRUE(saw("closed " + second.tag)) << server().out();
  EXPECT_LT(index_of("closed " + first.tag), index_of("connected " + second.tag)) << server().out();
}

INSTANTIATE_TEST_SUITE_P(Examples, IterativeServerExample, ::testing::Values(kSimple), case_name);

std::string line_text(int client, int line) {
  return "client " + std::to_string(client) + " says line " + std::to_string(line) +
         " with some padding to make it longer";
}

// fork_server and thread_server serve clients together, and print whole lines even when
// clients talk at the same time.
class ConcurrentServerExample : public ServerExample {};

TEST_P(ConcurrentServerExample, ServesClientsTogetherWithoutMixingLines) {
  constexpr int kClients = 3;
  constexpr int kLines = 200;
  std::vector<Client> clients;
  for (int i = 0; i < kClients; ++i)
    clients.push_back(connect());
  // All connected at once: an iterative server would never print the second of these.
  for (const Client& client : clients)
    ASSERT_TRUE(saw("connected " + client.tag)) << server().out();

  // Round and round, a line to each client in turn, so the server's workers print together.
  for (int n = 0; n < kLines; ++n) {
    for (int i = 0; i < kClients; ++i)
      must(clients[i].stream.send_all(line_text(i, n) + '\n'), "send");
  }
  for (Client& client : clients)
    client.stream.close();
  for (const Client& client : clients)
    ASSERT_TRUE(saw("closed " + client.tag)) << server().out();

  for (int i = 0; i < kClients; ++i) {
    const std::string& tag = clients[i].tag;
    std::vector<std::string> expected{"connected " + tag};
    for (int n = 0; n < kLines; ++n) {
      expected.push_back(tag + ' ' + line_text(i, n));
    }
    expected.push_back("closed " + tag);
    EXPECT_EQ(lines_about(clients[i]), expected);
  }
  // Every line is one whole line of one of the four kinds, never two run together.
  const std::regex whole(
      "listening on 127\\.0\\.0\\.1:\\d+|(connected|closed) 127\\.0\\.0\\.1:\\d+|"
      "127\\.0\\.0\\.1:\\d+ client \\d says line \\d+ with some padding to make it longer");
  std::string mixed;
  for (const std::string& line : server().lines()) {
    if (!std::regex_match(line, whole)) mixed += line + '\n';
  }
  EXPECT_EQ(mixed, "");
}

INSTANTIATE_TEST_SUITE_P(Examples, ConcurrentServerExample, ::testing::Values(kFork, kThread),
                         case_name);

// fork_server: a process per client, none left a zombie, none outliving the server.
class ForkServerExample : public ServerExample {};

TEST_P(ForkServerExample, ForksAChildPerClientAndLeavesNoZombies) {
  std::vector<Client> clients;
  for (int i = 0; i < 3; ++i)
    clients.push_back(connect());
  for (const Client& client : clients)
    ASSERT_TRUE(saw("connected " + client.tag)) << server().out();
  EXPECT_EQ(children_of(server().pid()).size(), 3u);

  for (Client& client : clients) {
    must(client.stream.send_all("goodbye\n"), "send");
    client.stream.close();
  }
  for (const Client& client : clients)
    ASSERT_TRUE(saw("closed " + client.tag)) << server().out();

  // Children that have exited are reaped: none lingers, as a zombie or otherwise.
  EXPECT_TRUE(eventually([&] { return children_of(server().pid()).empty(); }));
  for (const ProcessState& child : children_of(server().pid()))
    EXPECT_NE(child.state, 'Z') << "zombie child " << child.pid;
}

TEST_P(ForkServerExample, SigtermLeavesNoChildBehind) {
  // Orphans are re-parented to this test process (not to init), so it can see them end.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  std::vector<Client> clients;
  for (int i = 0; i < 2; ++i)
    clients.push_back(connect());
  for (const Client& client : clients)
    ASSERT_TRUE(saw("connected " + client.tag)) << server().out();
  const auto children = children_of(server().pid());
  ASSERT_EQ(children.size(), 2u);

  ASSERT_TRUE(server().send_signal(SIGTERM));
  auto status = server().wait();
  ASSERT_TRUE(status) << "still running 10 s after SIGTERM";
  EXPECT_TRUE(killed_by(status, SIGTERM) || exit_code(status) == 0) << *status;
  // One deadline for all: a child that outlives its server fails the test once.
  EXPECT_TRUE(eventually([&] {
    return std::all_of(children.begin(), children.end(),
                       [](const ProcessState& child) { return is_gone(child.pid); });
  })) << "a child outlived the server";
  for (Client& client : clients)
    EXPECT_TRUE(closed_by_peer(client.stream)) << client.tag;
}

INSTANTIATE_TEST_SUITE_P(Examples, ForkServerExample, ::testing::Values(kFork), case_name);

// thread_server: one process, a thread per client.
class ThreadServerExample : public ServerExample {};

TEST_P(ThreadServerExample, RunsAThreadPerClientInOneProcess) {
  const std::size_t before = thread_count(server().pid());
  std::vector<Client> clients;
  for (int i = 0; i < 3; ++i)
    clients.push_back(connect());
  for (const Client& client : clients)
    ASSERT_TRUE(saw("connected " + client.tag)) << server().out();
  EXPECT_EQ(thread_count(server().pid()), before + 3);
  EXPECT_TRUE(children_of(server().pid()).empty());
  for (Client& client : clients)
    client.stream.close();
  for (const Client& client : clients)
    ASSERT_TRUE(saw("closed " + client.tag)) << server().out();
  // Detached threads end with their clients.
  EXPECT_TRUE(eventually([&] { return thread_count(server().pid()) == before; }));
}

INSTANTIATE_TEST_SUITE_P(Examples, ThreadServerExample, ::testing::Values(kThread), case_name);

}  // namespace
}  // namespace examples_test
