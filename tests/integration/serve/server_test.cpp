// serve::Server as a C++ user runs it: created, run on a thread of the caller's, stopped.
// With pin_loops the loops are pinned while they serve, and the caller's thread (which
// runs loop 0) gets its CPU mask back when run() returns.
#include "sockit/serve/server.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include <future>
#include <string>

#include "sockit/tcp.hpp"
#include "sys/sys.hpp"

namespace sockit::serve {
namespace {

ServerOptions echo_on_loopback() {
  ServerOptions o;
  o.listen = Endpoint::parse("127.0.0.1:0").value();
  o.handler = Handler::Echo;
  return o;
}

// One echo round trip through `server`.
std::string echo_once(const Server& server, const std::string& text) {
  auto client = TcpStream::connect(server.local()).value();
  if (!client.send_all(text)) return "send failed";
  std::string back;
  char buf[256];
  while (back.size() < text.size()) {
    auto n = client.recv({buf, sizeof buf});
    if (!n || *n == 0) return "receive failed after '" + back + "'";
    back.append(buf, *n);
  }
  return back;
}

TEST(ServeServer, PinnedLoopsGiveTheCallersThreadItsCpusBack) {
  if (sys::usable_cpus().size() < 2) GTEST_SKIP() << "needs two usable CPUs";
  auto options = echo_on_loopback();
  options.threads = 2;
  options.pin_loops = true;
  ServerEvents quiet;
  auto server = Server::create(options, quiet).value();

  auto ran = std::async(std::launch::async, [&] {
    cpu_set_t before, after;
    sys::this_thread_cpus(before);
    auto totals = server->run();
    sys::this_thread_cpus(after);
    return std::make_pair(totals.has_value(), CPU_EQUAL(&before, &after) != 0);
  });
  EXPECT_EQ(echo_once(*server, "pinned"), "pinned");
  server->stop();
  auto [served, mask_restored] = ran.get();
  EXPECT_TRUE(served);
  EXPECT_TRUE(mask_restored) << "run() left the caller's thread pinned to one CPU";
}

TEST(ServeServer, PinningNeedsTheReactorOverAStream) {
  ServerEvents quiet;
  auto options = echo_on_loopback();
  options.pin_loops = true;
  options.model = Model::Pool;
  auto pool = Server::create(options, quiet);
  ASSERT_FALSE(pool);
  EXPECT_NE(pool.error().message().find("pool model"), std::string::npos) << pool.error().message();
  options.model = Model::Reactor;
  options.transport = Transport::Datagram;
  EXPECT_FALSE(Server::create(options, quiet));
}

}  // namespace
}  // namespace sockit::serve
