// `sockit serve` printing what clients send, under every model: three clients (together, or
// one after another for the iterative model) each send text in pieces; every piece shows up
// on stdout exactly once, labelled with the client that sent it, between that client's
// "connected" and "closed (N bytes)" lines.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "serve_harness.hpp"

namespace sockit::test {
namespace {

// What one client sends, one piece at a time, and the lines each piece must print. A piece
// without a newline is printed on its own once the client pauses.
struct Piece {
  std::string sent;
  std::vector<std::string> printed;
};

std::vector<Piece> pieces_for(int client) {
  const std::string me = "client " + std::to_string(client) + ":";
  return {
      {me + " partial one", {me + " partial one"}},
      {me + " partial two", {me + " partial two"}},
      {me + " line three\n" + me + " line four\r\n", {me + " line three", me + " line four"}},
      {me + " back\\slash\tand tab\n", {me + " back\\\\slash\\x09and tab"}},
  };
}

struct PrintClient {
  TcpStream stream;
  std::string tag;
  std::uint64_t bytes = 0;
};

class ServePrint : public ::testing::TestWithParam<std::string> {
 protected:
  // Sends piece `round` from `client` and waits until the server has printed it.
  void send_piece(PrintClient& client, int index, std::size_t round) {
    const Piece piece = pieces_for(index)[round];
    ASSERT_TRUE(send_text(client.stream, piece.sent));
    client.bytes += piece.sent.size();
    for (const std::string& text : piece.printed) {
      ASSERT_TRUE(server_->saw(client.tag + " " + text))
          << "missing '" << client.tag << " " << text << "'; stdout so far:\n"
          << server_->process().text(Stream::Out);
    }
  }

  std::unique_ptr<ServeProcess> server_;
};

TEST_P(ServePrint, EveryPieceOnceLabelledWithItsClient) {
  const std::string model = GetParam();
  server_ = ServeProcess::start({"-m", model, "127.0.0.1:0"});
  EXPECT_NE(server_->listening_line().find("(" + model), std::string::npos)
      << server_->listening_line();

  constexpr int kClients = 3;
  const std::size_t rounds = pieces_for(0).size();
  std::vector<PrintClient> clients;
  if (model == "iterative") {
    // One at a time: each client is served to the end before the next one connects.
    for (int i = 0; i < kClients; ++i) {
      auto stream = connect_tcp(server_->at());
      PrintClient client{std::move(stream), "", 0};
      client.tag = tag_of(client.stream);
      for (std::size_t r = 0; r < rounds; ++r)
        ASSERT_NO_FATAL_FAILURE(send_piece(client, i, r));
      client.stream.close();
      ASSERT_TRUE(
          server_->saw("closed " + client.tag + " (" + std::to_string(client.bytes) + " bytes)"));
      clients.push_back(std::move(client));
    }
  } else {
    for (int i = 0; i < kClients; ++i) {
      auto stream = connect_tcp(server_->at());
      clients.push_back({std::move(stream), "", 0});
      clients.back().tag = tag_of(clients.back().stream);
    }
    for (std::size_t r = 0; r < rounds; ++r)
      for (int i = 0; i < kClients; ++i)
        ASSERT_NO_FATAL_FAILURE(send_piece(clients[i], i, r));
    for (auto& client : clients)
      client.stream.close();
    for (auto& client : clients) {
      ASSERT_TRUE(
          server_->saw("closed " + client.tag + " (" + std::to_string(client.bytes) + " bytes)"))
          << server_->process().text(Stream::Out);
    }
  }

  // The whole of stdout: for each client exactly its lines, in order; no text of theirs
  // anywhere else. (Lines about other peers — a port scan on a shared machine — may be
  // there too; they are none of these.)
  const auto out = server_->out_lines();
  std::vector<std::string> all_expected;
  for (int i = 0; i < kClients; ++i) {
    const PrintClient& client = clients[i];
    std::vector<std::string> expected{"connected " + client.tag};
    for (const Piece& piece : pieces_for(i))
      for (const std::string& text : piece.printed)
        expected.push_back(client.tag + " " + text);
    expected.push_back("closed " + client.tag + " (" + std::to_string(client.bytes) + " bytes)");
    std::vector<std::string> about;
    std::copy_if(out.begin(), out.end(), std::back_inserter(about), [&](const std::string& l) {
      return l == "connected " + client.tag || l.starts_with(client.tag + " ") ||
             l.starts_with("closed " + client.tag + " ");
    });
    EXPECT_EQ(about, expected) << "client " << i;
    all_expected.insert(all_expected.end(), expected.begin(), expected.end());
  }
  for (const std::string& line : out) {
    if (line.find(" client ") == std::string::npos) continue;
    EXPECT_NE(std::find(all_expected.begin(), all_expected.end(), line), all_expected.end())
        << "unexpected line: " << line;
  }

  ASSERT_TRUE(server_->stops_cleanly());
  EXPECT_TRUE(server_->summary_matches_output());
  ASSERT_TRUE(server_->summary());
  EXPECT_EQ(server_->summary()->bytes_out, 0u);
}

INSTANTIATE_TEST_SUITE_P(Models, ServePrint,
                         ::testing::Values("iterative", "fork", "thread", "pool", "reactor"),
                         [](const auto& param) { return param.param; });

// --json: the same events as JSON Lines, text as a JSON string (control bytes as \u00NN).
TEST(ServePrintJson, EventsAreJsonLines) {
  auto server = ServeProcess::start({"--json", "127.0.0.1:0"});
  auto client = connect_tcp(server->at());
  const std::string tag = tag_of(client);
  const std::string who = "\"client\":\"" + tag + "\",\"id\":";
  auto connected = server->process().wait_for_line(Stream::Out, [&](std::string_view l) {
    return l.starts_with("{\"event\":\"connected\"," + who);
  });
  ASSERT_TRUE(connected) << server->process().text(Stream::Out);
  const std::size_t at = connected->find(who) + who.size();
  const std::string id = connected->substr(at, connected->find('}', at) - at);  // unique per client
  EXPECT_EQ(*connected, "{\"event\":\"connected\"," + who + id + "}");

  ASSERT_TRUE(send_text(client, "say \"hi\"\x01\\ ok\n"));
  EXPECT_TRUE(server->saw("{\"event\":\"line\"," + who + id +
                          ",\"text\":\"say \\\"hi\\\"\\u0001\\\\ ok\"}"))
      << server->process().text(Stream::Out);
  client.close();
  EXPECT_TRUE(server->saw("{\"event\":\"closed\"," + who + id + ",\"bytes\":14}"))
      << server->process().text(Stream::Out);
  EXPECT_TRUE(server->stops_cleanly());
}

}  // namespace
}  // namespace sockit::test
