// `sockit scan -sS` (raw SYN probes) and what every scan does when stopped: driven as a user
// would, on loopback only (127.0.0.1 and ::1). The SYN cases need root (CAP_NET_RAW) and skip
// with the reason otherwise; the privilege case needs root to become someone without it.
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "run_command.hpp"
#include "scan_helpers.hpp"
#include "sockit/endpoint.hpp"
#include "sockit/tcp.hpp"
#include "temp_dir.hpp"

namespace sockit::test {
namespace {

using namespace std::chrono_literals;

CommandResult sockit(std::vector<std::string> args) {
  args.insert(args.begin(), SOCKIT_BIN);
  return run_command(args, {}, 60s);
}

bool root() {
  return ::geteuid() == 0;
}

// 3,000 ports in order, `port` (a listener's: 32768 or above) the 21st of them: at --rate 100
// it is found after ~0.2 s and the scan would go on for 30 s.
std::string slow_range(std::uint16_t port) {
  return std::to_string(port - 20) + "-" + std::to_string(std::min(65535, port + 2980));
}

TEST(ScanSyn, FindsTheSameOpenPortsAsTheConnectScan) {
  if (!root()) GTEST_SKIP() << "-sS needs root (CAP_NET_RAW)";
  Listeners l;
  for (int i = 0; i < 5; ++i)
    l.add();
  // The listeners and the 2,000 ports after the lowest of them.
  const std::uint16_t low = *l.ports.begin();
  const std::string ports = port_list(l.ports) + "," + std::to_string(low) + "-" +
                            std::to_string(std::min(65535, low + 2000));
  auto syn = sockit({"scan", "-sS", "127.0.0.1", "-p", ports, "-o", "grep"});
  ASSERT_EQ(syn.exit_code, 0) << syn.err;
  auto connect = sockit({"scan", "-sT", "127.0.0.1", "-p", ports, "-o", "grep"});
  ASSERT_EQ(connect.exit_code, 0) << connect.err;
  const auto found = open_ports(syn.out);
  for (auto p : l.ports)
    EXPECT_TRUE(found.count(p)) << "port " << p << " missing from " << syn.out;
  // Other programs may open ports meanwhile; what both saw must agree on ours.
  EXPECT_EQ(found.size() >= l.ports.size(), true);
  for (auto p : l.ports)
    EXPECT_TRUE(open_ports(connect.out).count(p)) << connect.out;
}

TEST(ScanSyn, ClosedPortsAreClosedAndIpv6Works) {
  if (!root()) GTEST_SKIP() << "-sS needs root (CAP_NET_RAW)";
  Listeners l;
  std::uint16_t port = 0;
  try {
    port = l.add("[::1]:0");
  } catch (...) {
  }
  auto freed = TcpListener::bind(*Endpoint::parse("127.0.0.1:0")).value();
  const std::uint16_t closed = freed.local().value().port();
  freed = TcpListener();  // closed again: nothing listens there now
  auto v4 = sockit({"scan", "-sS", "127.0.0.1", "-p", std::to_string(closed), "--show", "closed"});
  ASSERT_EQ(v4.exit_code, 0) << v4.err;
  EXPECT_NE(v4.out.find(std::to_string(closed) + "/tcp"), std::string::npos) << v4.out;
  EXPECT_NE(v4.out.find("closed"), std::string::npos) << v4.out;
  if (port == 0) GTEST_SKIP() << "::1 is not available here";
  auto v6 = sockit({"scan", "-sS", "::1", "-p", std::to_string(port) + "," + std::to_string(closed),
                    "-o", "grep"});
  ASSERT_EQ(v6.exit_code, 0) << v6.err;
  EXPECT_EQ(open_ports(v6.out), std::set<std::uint16_t>{port}) << v6.out;
}

TEST(ScanSyn, WithoutRawSocketsItExits77AndSaysWhatToDo) {
  if (!root()) GTEST_SKIP() << "needs root to run sockit as an unprivileged user (setpriv)";
  if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "setpriv is not installed";
  auto r = run_command({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", SOCKIT_BIN, "scan", "-sS", "127.0.0.1", "-p", "80"},
                       {}, 30s);
  if (r.exit_code == 127 || r.exit_code == 126)
    GTEST_SKIP() << "an unprivileged user cannot run the binary here: " << r.err;
  EXPECT_EQ(r.exit_code, 77) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("-sS needs raw sockets (CAP_NET_RAW)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("setcap cap_net_raw+ep"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("-sT"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// "CapEff:\t0000000000000000" for every thread of `pid`.
std::vector<std::string> effective_caps(pid_t pid) {
  std::vector<std::string> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream status(dir + "/" + e->d_name + "/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("CapEff:", 0) == 0 || line.rfind("CapPrm:", 0) == 0) out.push_back(line);
    }
  }
  ::closedir(d);
  return out;
}

TEST(ScanSyn, GivesUpEveryCapabilityOnceItsSocketsAreOpen) {
  if (!root()) GTEST_SKIP() << "-sS needs root (CAP_NET_RAW)";
  Listeners l;
  const std::uint16_t port = l.add();
  // Slow on purpose (--rate 100): it is still scanning when we look, then we stop it.
  TempDir cwd;  // where the interrupted scan saves what it left
  auto scan = ChildProcess::spawn({SOCKIT_BIN, "scan", "-sS", "127.0.0.1", "--sequential", "-p",
                                   slow_range(port), "--rate", "100", "-o", "json"},
                                  {.cwd = cwd.path()});
  ASSERT_TRUE(scan);
  // The open port is written as soon as it is found, long before the scan ends.
  auto open = scan->wait_for_line(
      Stream::Out, [](std::string_view s) { return s.find("\"state\":\"open\"") != s.npos; });
  ASSERT_TRUE(open) << scan->text(Stream::Err);
  ASSERT_TRUE(scan->running());
  const auto caps = effective_caps(scan->pid());
  ASSERT_FALSE(caps.empty());
  for (const auto& line : caps)
    EXPECT_NE(line.find("0000000000000000"), std::string::npos) << line;
  // Ctrl+C: what was found is written, the host marked interrupted, exit 130.
  ASSERT_TRUE(scan->send_signal(SIGINT));
  auto code = scan->wait();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 130) << scan->text(Stream::Err);
  EXPECT_NE(scan->text(Stream::Err).find("interrupted"), std::string::npos);
  const auto out = scan->lines(Stream::Out);
  ASSERT_GE(out.size(), 2u);
  EXPECT_NE(out.back().find("\"type\":\"host\""), std::string::npos) << out.back();
  EXPECT_NE(out.back().find("\"complete\":false"), std::string::npos) << out.back();
}

TEST(ScanStop, ConnectScanWritesWhatItFoundOnSigterm) {
  Listeners l;
  const std::uint16_t port = l.add();
  TempDir cwd;
  auto scan = ChildProcess::spawn({SOCKIT_BIN, "scan", "-sT", "127.0.0.1", "--sequential", "-p",
                                   slow_range(port), "--rate", "100"},
                                  {.cwd = cwd.path()});
  ASSERT_TRUE(scan);
  std::this_thread::sleep_for(1000ms);
  ASSERT_TRUE(scan->running());
  ASSERT_TRUE(scan->send_signal(SIGTERM));
  auto code = scan->wait();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 130) << scan->text(Stream::Err);
  const std::string out = scan->text(Stream::Out);
  EXPECT_NE(out.find(std::to_string(port) + "/tcp"), std::string::npos) << out;
  EXPECT_NE(out.find("Interrupted: "), std::string::npos) << out;
  EXPECT_NE(out.find("(interrupted)"), std::string::npos) << out;
  EXPECT_NE(scan->text(Stream::Err)
                .find("sockit: interrupted: 0 of 1 hosts done; go on with: "
                      "sockit scan --resume sockit-scan.resume"),
            std::string::npos)
      << scan->text(Stream::Err);
  EXPECT_EQ(::access((cwd / "sockit-scan.resume").c_str(), R_OK), 0);
}

TEST(ScanSyn, BannerNeedsTheConnectScan) {
  auto r = sockit({"scan", "-sS", "--banner", "127.0.0.1", "-p", "80"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("--banner"), std::string::npos) << r.err;
}

TEST(ScanSyn, UnknownScanTypeIsAUsageError) {
  auto r = sockit({"scan", "-sX", "127.0.0.1"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace sockit::test
