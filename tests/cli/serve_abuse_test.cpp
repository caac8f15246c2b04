// `sockit serve` against clients that misbehave: resets mid-send, never reading, staying
// silent, connecting in bursts, sending binary garbage or a megabyte without a newline,
// exhausting descriptors or the connection limit. After each, the server still serves a
// well-behaved client and stops cleanly on SIGTERM with its summary line.
#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "serve_harness.hpp"

namespace sockit::test {
namespace {

// The lines of `out` that start with `prefix`.
std::vector<std::string> with_prefix(const std::vector<std::string>& out, std::string_view prefix) {
  std::vector<std::string> found;
  std::copy_if(out.begin(), out.end(), std::back_inserter(found),
               [&](const std::string& l) { return l.starts_with(prefix); });
  return found;
}

// Resident memory of the server and its children (the fork model serves in children), each
// page they share counted once.
long total_resident_kib(pid_t pid) {
  long total = proportional_kib(pid);
  for (pid_t child : children_of(pid))
    total += std::max(0L, proportional_kib(child));
  return total;
}

// The printed form of `bytes`: printable ASCII as is, a backslash doubled, anything else
// as \xNN (none of the bytes used here form valid UTF-8).
std::string escaped(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

class ServeAbuse : public ::testing::TestWithParam<std::string> {
 protected:
  void start(std::vector<std::string> options, SpawnOptions spawn = {}) {
    printing_ = std::find(options.begin(), options.end(), "echo") == options.end();
    options.insert(options.begin(), {"-m", GetParam()});
    options.push_back("127.0.0.1:0");
    server_ = ServeProcess::start(options, spawn);
  }

  // What the test ends with: the server is still there for a good client, and stops
  // cleanly.
  void still_serves_and_stops() {
    EXPECT_TRUE(server_->serves_a_client());
    ASSERT_TRUE(server_->stops_cleanly());
    if (printing_) {
      EXPECT_TRUE(server_->summary_matches_output());
    }
  }

  std::unique_ptr<ServeProcess> server_;
  bool printing_ = true;
};

TEST_P(ServeAbuse, ClientResetInTheMiddleOfALine) {
  start({});
  ASSERT_TRUE(server_->serves_a_client());  // whatever serving sets up lazily exists now
  Holdings idle = settled_holdings(server_->pid());
  auto client = connect_tcp(server_->at());
  const std::string tag = tag_of(client);
  ASSERT_TRUE(send_text(client, "half a line"));
  ASSERT_TRUE(server_->saw(tag + " half a line"));
  ASSERT_TRUE(send_text(client, " and more"));
  reset_connection(client);

  // Whether " and more" was read before the reset is the kernel's business; either way the
  // connection is reported closed with the bytes that did arrive.
  auto closed = server_->process().wait_for_line(
      Stream::Out, [&](std::string_view l) { return l.starts_with("closed " + tag + " ("); });
  ASSERT_TRUE(closed) << server_->process().text(Stream::Out);
  EXPECT_TRUE(*closed == "closed " + tag + " (11 bytes)" ||
              *closed == "closed " + tag + " (20 bytes)")
      << *closed;
  EXPECT_TRUE(eventually([&] { return holdings_of(server_->pid()) == idle; }))
      << "idle: " << idle << "; now: " << holdings_of(server_->pid());
  still_serves_and_stops();
}

TEST_P(ServeAbuse, ClientResetWhileBeingEchoed) {
  start({"-H", "echo"});
  ASSERT_TRUE(server_->serves_a_client());  // whatever serving sets up lazily exists now
  Holdings idle = settled_holdings(server_->pid());
  auto client = connect_tcp(server_->at());
  must(client.set_nonblocking(true), "O_NONBLOCK");
  const std::string data = random_bytes(8 << 20, 3);
  std::size_t sent = 0;
  for (pollfd p{client.native_handle(), POLLOUT, 0};
       sent < data.size() && ::poll(&p, 1, 1000) == 1;) {
    auto n = client.send(ConstBuffer(data.data() + sent, data.size() - sent));
    if (!n) break;
    sent += *n;
  }
  EXPECT_GT(sent, 0u);
  reset_connection(client);
  EXPECT_TRUE(eventually([&] { return holdings_of(server_->pid()) == idle; }))
      << "idle: " << idle << "; now: " << holdings_of(server_->pid());
  still_serves_and_stops();
}

TEST_P(ServeAbuse, ClientThatNeverReadsCostsBoundedMemory) {
  start({"-H", "echo"});
  ASSERT_TRUE(server_->serves_a_client());
  const long before = total_resident_kib(server_->pid());

  // Send up to 50 MiB without reading any of the echo back, until the server stops taking
  // more (nothing fits for a second).
  auto hog = connect_tcp(server_->at());
  must(hog.set_nonblocking(true), "O_NONBLOCK");
  const std::string chunk = random_bytes(1 << 20, 4);
  std::size_t sent = 0;
  for (pollfd p{hog.native_handle(), POLLOUT, 0}; sent < (50u << 20) && ::poll(&p, 1, 1000) == 1;) {
    auto n = hog.send(
        ConstBuffer(chunk.data() + sent % chunk.size(), chunk.size() - sent % chunk.size()));
    if (!n) break;
    sent += *n;
  }
  const long after = total_resident_kib(server_->pid());
  EXPECT_LT(after, 200 * 1024) << "sent " << sent << " bytes";
  EXPECT_LT(after - before, 32 * 1024)
      << "resident memory grew from " << before << " KiB to " << after << " KiB after " << sent
      << " bytes were sent and none read";

  // Meanwhile another client is served as usual.
  EXPECT_TRUE(server_->serves_a_client());
  reset_connection(hog);
  still_serves_and_stops();
}

TEST_P(ServeAbuse, SilentClientIsClosedAfterTheIdleTimeout) {
  start({"--idle-timeout", "0.5"});
  auto client = connect_tcp(server_->at());
  const std::string tag = tag_of(client);
  EXPECT_TRUE(closed_by_peer(client)) << "the server did not close an idle client";
  EXPECT_TRUE(server_->saw("closed " + tag + " (0 bytes)"));
  still_serves_and_stops();
}

TEST_P(ServeAbuse, BurstOfConnectionsOpenedAndClosed) {
  start({});
  constexpr std::size_t kConnections = 2000;
  std::set<std::string> tags;
  for (std::size_t i = 0; i < kConnections; ++i) {
    auto client = connect_tcp(server_->at());
    tags.insert(tag_of(client));
    if (i % 2 == 1) reset_connection(client);  // half end with a reset, half with a FIN
  }
  // Each one is reported connected and closed (having sent nothing) — or, when more were
  // alive at once than --max-conns allows (the thread model's 1000, on a slow machine),
  // turned away with a "rejected" line. None is lost.
  auto ours_closed = [&](std::string_view l) {
    return l.starts_with("closed ") && l.ends_with(" (0 bytes)") &&
           tags.contains(std::string(l.substr(7, l.size() - 7 - 10)));
  };
  auto ours_rejected = [&](std::string_view l) {
    constexpr std::string_view head = "rejected ", tail = " (too many connections)";
    return l.starts_with(head) && l.ends_with(tail) &&
           tags.contains(std::string(l.substr(head.size(), l.size() - head.size() - tail.size())));
  };
  auto ours_done = [&](std::string_view l) { return ours_closed(l) || ours_rejected(l); };
  EXPECT_EQ(server_->process().wait_for_count(Stream::Out, ours_done, kConnections,
                                              std::chrono::seconds(60)),
            kConnections);
  std::size_t connected = 0, closed = 0, rejected = 0;
  for (const std::string& line : server_->out_lines()) {
    if (line.starts_with("connected ")) connected += tags.contains(line.substr(10));
    closed += ours_closed(line);
    rejected += ours_rejected(line);
  }
  EXPECT_EQ(connected, closed) << "every client served was also closed";
  EXPECT_EQ(connected + rejected, kConnections);
  still_serves_and_stops();
}

TEST_P(ServeAbuse, BinaryGarbageIsPrintedEscaped) {
  start({});
  std::string bytes;
  for (int c = 0; c < 256; ++c)
    bytes += static_cast<char>(c);
  auto client = connect_tcp(server_->at());
  const std::string tag = tag_of(client);
  ASSERT_TRUE(send_text(client, bytes));

  // 0x0a ends the first line; the rest is a partial line, printed once the client pauses.
  const std::string first = tag + " \\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\x09";
  EXPECT_TRUE(server_->saw(first)) << server_->process().text(Stream::Out);
  const std::string second = tag + " " + escaped(bytes.substr(11));
  EXPECT_TRUE(server_->saw(second)) << server_->process().text(Stream::Out);
  EXPECT_NE(second.find(" !\"#$%&'()*+,-./0123456789"), std::string::npos);
  EXPECT_NE(second.find("XYZ[\\\\]^_`abc"), std::string::npos);
  EXPECT_NE(second.find("xyz{|}~\\x7f\\x80\\x81"), std::string::npos);
  EXPECT_TRUE(second.ends_with("\\xfe\\xff"));
  client.close();
  EXPECT_TRUE(server_->saw("closed " + tag + " (256 bytes)"));
  still_serves_and_stops();
}

TEST_P(ServeAbuse, MegabyteLineIsPrintedInBoundedPieces) {
  start({});
  std::string line(1 << 20, '\0');
  for (std::size_t i = 0; i < line.size(); ++i)
    line[i] = static_cast<char>('a' + i % 26);
  auto client = connect_tcp(server_->at());
  const std::string tag = tag_of(client);
  ASSERT_TRUE(send_text(client, line + "\n"));
  client.close();
  ASSERT_TRUE(server_->saw("closed " + tag + " (" + std::to_string(line.size() + 1) + " bytes)",
                           std::chrono::seconds(30)));

  std::string joined;
  std::size_t pieces = 0;
  for (const std::string& printed : with_prefix(server_->out_lines(), tag + " ")) {
    const std::string text = printed.substr(tag.size() + 1);
    EXPECT_LE(text.size(), 1024u);
    EXPECT_FALSE(text.empty());
    joined += text;
    ++pieces;
  }
  EXPECT_GE(pieces, 1024u);
  EXPECT_TRUE(joined == line) << "the pieces do not add up to the line (" << joined.size()
                              << " bytes printed)";
  still_serves_and_stops();
}

// Lines of exactly the piece size (and multiples of it) print as those pieces, whether
// they end in "\n" or "\r\n": no empty piece for the "\r".
TEST_P(ServeAbuse, LinesThatFillWholePiecesPrintNoEmptyPiece) {
  start({});
  const std::string x(1024, 'x'), y(1024, 'y'), z(1024, 'z');
  auto client = connect_tcp(server_->at());
  const std::string tag = tag_of(client);
  const std::string sent = x + "\r\n" + y + y + "\r\n" + z + "\n";
  ASSERT_TRUE(send_text(client, sent));
  client.close();
  ASSERT_TRUE(server_->saw("closed " + tag + " (" + std::to_string(sent.size()) + " bytes)"));
  const std::vector<std::string> expected{tag + " " + x, tag + " " + y, tag + " " + y,
                                          tag + " " + z};
  EXPECT_EQ(with_prefix(server_->out_lines(), tag + " "), expected);
  still_serves_and_stops();
}

TEST_P(ServeAbuse, ConnectionLimitTurnsTheRestAway) {
  start({"--max-conns", "2"});
  ASSERT_TRUE(server_->serves_a_client());
  Holdings idle = settled_holdings(server_->pid());
  std::vector<TcpStream> served;
  for (int i = 0; i < 2; ++i) {
    served.push_back(connect_tcp(server_->at()));
    ASSERT_TRUE(send_text(served.back(), "in\n"));
    ASSERT_TRUE(server_->saw(tag_of(served.back()) + " in"));
  }
  for (int i = 0; i < 3; ++i) {
    auto extra = connect_tcp(server_->at());
    EXPECT_TRUE(server_->saw("rejected " + tag_of(extra) + " (too many connections)"));
    EXPECT_TRUE(closed_by_peer(extra));
  }
  for (auto& client : served) {
    EXPECT_TRUE(send_text(client, "still\n"));
    EXPECT_TRUE(server_->saw(tag_of(client) + " still")) << "the first two are still served";
  }

  // Once the two leave (and the server has let go of them), there is room again.
  for (auto& client : served) {
    const std::string tag = tag_of(client);
    client.close();
    EXPECT_TRUE(server_->saw("closed " + tag + " (9 bytes)"));
  }
  EXPECT_TRUE(eventually([&] { return holdings_of(server_->pid()) == idle; }))
      << "idle: " << idle << "; now: " << holdings_of(server_->pid());
  EXPECT_TRUE(server_->serves_a_client());
  ASSERT_TRUE(server_->stops_cleanly());
  EXPECT_TRUE(server_->summary_matches_output());
  ASSERT_TRUE(server_->summary());
  EXPECT_GE(server_->summary()->rejected, 3u);
}

INSTANTIATE_TEST_SUITE_P(Models, ServeAbuse, ::testing::Values("reactor", "thread", "fork"),
                         [](const auto& param) { return param.param; });

// Descriptors run out (RLIMIT_NOFILE 64) with 100 clients connecting: the server sheds what
// it cannot take, keeps serving the rest, and gives back every descriptor afterwards.
class ServeOutOfDescriptors : public ServeAbuse {};

TEST_P(ServeOutOfDescriptors, ShedsClientsAndRecovers) {
  start({}, {.max_open_files = 64});
  ASSERT_TRUE(server_->serves_a_client());
  Holdings idle = settled_holdings(server_->pid());
  ASSERT_LT(idle.fds, 40u) << "too many descriptors at rest to make the test meaningful";

  constexpr std::size_t kClients = 100;
  std::vector<TcpStream> clients;
  std::set<std::string> tags;
  for (std::size_t i = 0; i < kClients; ++i) {
    clients.push_back(connect_tcp(server_->at()));
    tags.insert(tag_of(clients.back()));
  }
  // Every client is either served ("connected") or turned away ("rejected").
  std::set<std::string> kept, shed;
  auto settled = [&] {
    kept.clear();
    shed.clear();
    const std::string why = " (out of file descriptors)";
    for (const std::string& line : server_->out_lines()) {
      if (line.starts_with("connected ") && tags.contains(line.substr(10))) {
        kept.insert(line.substr(10));
      } else if (line.starts_with("rejected ") && line.ends_with(why)) {
        std::string tag = line.substr(9, line.size() - 9 - why.size());
        if (tags.contains(tag)) shed.insert(tag);
      }
    }
    return kept.size() + shed.size() == kClients;
  };
  ASSERT_TRUE(eventually(settled, std::chrono::seconds(30)))
      << server_->process().text(Stream::Out);
  EXPECT_GE(shed.size(), 1u) << "64 descriptors cannot hold 100 clients";

  // The ones it kept are served: a line from each is printed. The others were closed.
  for (auto& client : clients) {
    const std::string tag = tag_of(client);
    if (shed.contains(tag)) {
      EXPECT_TRUE(closed_by_peer(client)) << tag;
      continue;
    }
    ASSERT_TRUE(send_text(client, "kept\n"));
    EXPECT_TRUE(server_->saw(tag + " kept")) << tag;
  }
  clients.clear();
  auto ours_closed = [&](std::string_view l) {
    return l.starts_with("closed ") && l.ends_with(" (5 bytes)") &&
           kept.contains(std::string(l.substr(7, l.size() - 7 - 10)));
  };
  EXPECT_EQ(server_->process().wait_for_count(Stream::Out, ours_closed, kept.size()), kept.size());
  EXPECT_TRUE(eventually([&] { return holdings_of(server_->pid()) == idle; }))
      << "idle: " << idle << "; now: " << holdings_of(server_->pid());
  still_serves_and_stops();
}

INSTANTIATE_TEST_SUITE_P(Models, ServeOutOfDescriptors, ::testing::Values("reactor", "thread"),
                         [](const auto& param) { return param.param; });

}  // namespace
}  // namespace sockit::test
