// `sockit serve --pin`: each reactor loop runs on a CPU of its own, and a connection is
// served by the loop on the CPU that took its handshake (SO_INCOMING_CPU) — for a loopback
// client, the CPU the client connected from. Seen from outside through /proc: the loop
// threads' CPU masks, and which loop's run time grows while a pinned client talks.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "serve_harness.hpp"
#include "sys/sys.hpp"

namespace sockit::test {
namespace {

// Thread id -> the one CPU it may run on (-1: not pinned to exactly one).
std::map<pid_t, int> pinned_threads(pid_t pid) {
  std::map<pid_t, int> out;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream status(entry.path() / "status");
    for (std::string line; std::getline(status, line);) {
      if (!line.starts_with("Cpus_allowed_list:")) continue;
      std::string list = line.substr(line.find_first_not_of(" \t", 18));
      const bool single = list.find_first_of(",-") == std::string::npos;
      out[std::stoi(entry.path().filename())] = single ? std::stoi(list) : -1;
    }
  }
  return out;
}

// Nanoseconds thread `tid` of `pid` has run (schedstat's first field).
std::uint64_t run_ns(pid_t pid, pid_t tid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/schedstat");
  std::uint64_t ns = 0;
  in >> ns;
  return ns;
}

// The loops pin themselves as they start, a moment after "listening on": waits until the
// server has `loops` threads, each pinned to one CPU, and returns them.
std::map<pid_t, int> pinned_loops(pid_t pid, std::size_t loops) {
  std::map<pid_t, int> threads;
  eventually([&] {
    threads = pinned_threads(pid);
    return threads.size() == loops &&
           std::none_of(threads.begin(), threads.end(), [](auto t) { return t.second < 0; });
  });
  return threads;
}

class ServePin : public ::testing::Test {
 protected:
  void SetUp() override {
    cpus_ = sys::usable_cpus();
    if (cpus_.size() < 2) GTEST_SKIP() << "needs two usable CPUs, this process has one";
  }
  std::vector<int> cpus_;
};

TEST_F(ServePin, EachLoopRunsOnACpuOfItsOwn) {
  auto server = ServeProcess::start({"-H", "echo", "-j", "2", "--pin", "127.0.0.1:0"});
  EXPECT_NE(server->listening_line().find("2 threads pinned"), std::string::npos)
      << server->listening_line();
  std::vector<int> seen;
  for (auto [tid, cpu] : pinned_loops(server->pid(), 2))
    seen.push_back(cpu);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<int>{cpus_[0], cpus_[1]}));
  EXPECT_TRUE(server->serves_a_client());
  EXPECT_TRUE(server->stops_cleanly());
}

TEST_F(ServePin, AConnectionIsServedOnTheCpuItCameFrom) {
  auto server = ServeProcess::start({"-H", "echo", "-j", "2", "--pin", "127.0.0.1:0"});
  const auto loops = pinned_loops(server->pid(), 2);
  ASSERT_EQ(loops.size(), 2u);
  for (int client_cpu : {cpus_[1], cpus_[0]}) {
    std::map<pid_t, std::uint64_t> before;
    for (auto [tid, cpu] : loops)
      before[tid] = run_ns(server->pid(), tid);
    // A client thread on client_cpu connects (its SYN is processed there) and talks.
    std::thread client([&] {
      ASSERT_EQ(sys::pin_this_thread(client_cpu), 0);
      auto stream = connect_tcp(server->at());
      const std::string message(64, 'x');
      for (int i = 0; i < 3000; ++i) {
        ASSERT_TRUE(send_text(stream, message));
        ASSERT_EQ(read_bytes(stream, message.size()), message);
      }
    });
    client.join();
    std::map<int, std::uint64_t> grew;  // by CPU
    for (auto [tid, cpu] : loops)
      grew[cpu] = run_ns(server->pid(), tid) - before[tid];
    const int other = client_cpu == cpus_[0] ? cpus_[1] : cpus_[0];
    EXPECT_GT(grew[client_cpu], grew[other])
        << "client on CPU " << client_cpu << ": the loop there ran " << grew[client_cpu]
        << " ns, the other " << grew[other] << " ns";
  }
  EXPECT_TRUE(server->stops_cleanly());
}

TEST_F(ServePin, MoreLoopsThanCpusWrapRound) {
  const auto n = std::to_string(cpus_.size() + 1);
  auto server = ServeProcess::start({"-H", "echo", "-j", n, "--pin", "127.0.0.1:0"});
  std::map<int, int> per_cpu;
  for (auto [tid, cpu] : pinned_loops(server->pid(), cpus_.size() + 1))
    ++per_cpu[cpu];
  EXPECT_EQ(per_cpu[cpus_[0]], 2) << "loop N shares the first CPU with loop 0";
  EXPECT_EQ(per_cpu.count(-1), 0u) << "every thread is pinned";
  EXPECT_TRUE(server->serves_a_client());
  EXPECT_TRUE(server->stops_cleanly());
}

TEST(ServePinUsage, OnlyTheReactorOverAStreamPins) {
  auto thread = run_sockit({"serve", "-m", "thread", "--pin", "127.0.0.1:0"});
  EXPECT_EQ(thread.exit_code, 64);
  EXPECT_EQ(thread.err,
            "sockit: pinning loops to CPUs with the thread model (needs the reactor over TCP or "
            "Unix): not supported\n");
  auto udp = run_sockit({"serve", "-u", "--pin", "127.0.0.1:0"});
  EXPECT_EQ(udp.exit_code, 64);
  EXPECT_NE(udp.err.find("over UDP"), std::string::npos) << udp.err;
}

}  // namespace
}  // namespace sockit::test
