// `sockit scan --resume FILE`: a scan stopped by Ctrl+C saves what it left, and the resumed
// scan probes exactly that — every open port found once, none twice, the counts adding up to
// the whole scan. Loopback only; no privilege needed. Then every way a state file or its use
// can go wrong, each refused with one line and its exit code.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "run_command.hpp"
#include "scan_helpers.hpp"
#include "temp_dir.hpp"

namespace sockit::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kState = "sockit-scan.resume";

// One run of `sockit scan ARGS` in `cwd`; with `stop_after`, Ctrl+C (SIGINT) once it has
// run that long.
struct ScanRun {
  int code = -1;
  std::string out, err;
};
ScanRun scan_in(const TempDir& cwd, std::vector<std::string> args,
                std::chrono::milliseconds stop_after = {}) {
  args.insert(args.begin(), {SOCKIT_BIN, "scan"});
  auto child = ChildProcess::spawn(args, {.cwd = cwd.path()});
  if (!child) return {};
  if (stop_after.count() > 0) {
    std::this_thread::sleep_for(stop_after);
    child->send_signal(SIGINT);
  }
  ScanRun run;
  run.code = child->wait(60s).value_or(-1);
  run.out = child->text(Stream::Out);
  run.err = child->text(Stream::Err);
  return run;
}

// "Ignored State: closed (N)" of grepable output, 0 if absent.
long closed_count(const std::string& grep_output) {
  std::smatch m;
  static const std::regex closed(R"(Ignored State: closed \((\d+)\))");
  return std::regex_search(grep_output, m, closed) ? std::stol(m[1]) : 0;
}

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

TEST(ScanResume, StoppedTwiceAndResumedFindsEveryPortOnce) {
  TempDir cwd;
  ASSERT_TRUE(cwd.ok());
  Listeners l;
  for (int i = 0; i < 6; ++i)
    l.add();
  // Our listeners among 3,000 closed ports, at 1,000 probes a second: ~3 s in all.
  const std::vector<std::string> args = {
      "127.0.0.1", "-p", port_list(l.ports) + ",20000-22999", "--rate", "1000", "-o", "grep"};
  const long ports = 3000 + static_cast<long>(l.ports.size());

  const ScanRun first = scan_in(cwd, args, 700ms);
  ASSERT_EQ(first.code, 130) << first.err;
  EXPECT_NE(first.err.find("sockit: interrupted: 0 of 1 hosts done; go on with: sockit scan "
                           "--resume sockit-scan.resume"),
            std::string::npos)
      << first.err;
  ASSERT_TRUE(exists(cwd / kState));

  const ScanRun second = scan_in(cwd, {"--resume", kState}, 700ms);
  ASSERT_EQ(second.code, 130) << second.err;
  EXPECT_NE(second.err.find("go on with: sockit scan --resume sockit-scan.resume"),
            std::string::npos)
      << second.err;
  ASSERT_TRUE(exists(cwd / kState));

  const ScanRun third = scan_in(cwd, {"--resume=sockit-scan.resume"});
  ASSERT_EQ(third.code, 0) << third.err;
  EXPECT_EQ(third.err, "");
  EXPECT_FALSE(exists(cwd / kState)) << "a finished scan leaves no state to resume";

  // Each run did part of the work; together, all of it, nothing twice.
  std::set<std::uint16_t> open;
  long found = 0;
  for (const ScanRun* run : {&first, &second, &third}) {
    const auto part = open_ports(run->out);
    EXPECT_FALSE(part.empty() && closed_count(run->out) == 0) << run->out;
    for (auto port : part)
      EXPECT_TRUE(open.insert(port).second) << "port " << port << " reported twice";
    found += static_cast<long>(part.size()) + closed_count(run->out);
  }
  for (auto port : l.ports)
    EXPECT_TRUE(open.count(port)) << "listener " << port << " missed";
  EXPECT_EQ(found, ports) << "open and closed ports of the three runs";
}

TEST(ScanResume, TakesNoOtherArguments) {
  TempDir cwd;
  for (auto extra : {std::vector<std::string>{"--resume", kState, "-p", "80"},
                     std::vector<std::string>{"-o", "json", "--resume", kState}}) {
    const ScanRun run = scan_in(cwd, extra);
    EXPECT_EQ(run.code, 64);
    EXPECT_EQ(run.err,
              "sockit: --resume FILE goes on with the scan saved in FILE, as it was given: it "
              "takes no other arguments\n");
  }
}

TEST(ScanResume, AMissingStateFileIsAnIoError) {
  TempDir cwd;
  const ScanRun run = scan_in(cwd, {"--resume", "nothing.resume"});
  EXPECT_EQ(run.code, 74);
  EXPECT_EQ(run.err, "sockit: read nothing.resume: No such file or directory\n");
}

// A state file written by hand: `body` after the first line.
void write_state(const TempDir& cwd, const std::string& body) {
  std::ofstream(cwd / kState) << "sockit-scan-state 1\n" << body;
}

TEST(ScanResume, ADamagedOrForeignFileIsRefusedByLine) {
  TempDir cwd;
  std::ofstream(cwd / kState) << "# masscan\nrate = 100\n";
  ScanRun run = scan_in(cwd, {"--resume", kState});
  EXPECT_EQ(run.code, 64);
  EXPECT_EQ(run.err, "sockit: read sockit-scan.resume: line 2: not a sockit scan state file\n");

  write_state(cwd, "arg 127.0.0.1\nhosts 1\nports 2\nseed 5\nnext 1\nhost 0 scan two 80\n");
  run = scan_in(cwd, {"--resume", kState});
  EXPECT_EQ(run.code, 64);
  EXPECT_EQ(run.err, "sockit: read sockit-scan.resume: line 7: malformed 'host' line\n");

  write_state(cwd, "arg 127.0.0.1\nhosts 1\n");
  run = scan_in(cwd, {"--resume", kState});
  EXPECT_EQ(run.code, 64);
  EXPECT_NE(run.err.find("cut short"), std::string::npos) << run.err;
}

TEST(ScanResume, SavedArgumentsMustStillMakeTheSameScan) {
  TempDir cwd;
  // The targets now come to another size (as when a name resolves differently).
  write_state(cwd, "arg 127.0.0.1-2\narg -p\narg 80,81\nhosts 3\nports 2\nseed 5\nnext 1\n");
  ScanRun run = scan_in(cwd, {"--resume", kState});
  EXPECT_EQ(run.code, 64);
  EXPECT_EQ(run.err,
            "sockit: resume sockit-scan.resume: the scan's targets and ports now come to 2 hosts "
            "and 2 ports, not 3 and 2 (did a name resolve differently?)\n");

  // Arguments that no longer parse.
  write_state(cwd, "arg 127.0.0.1\narg --no-such-option\nhosts 1\nports 1024\nseed 5\nnext 0\n");
  run = scan_in(cwd, {"--resume", kState});
  EXPECT_EQ(run.code, 64);
  EXPECT_NE(run.err.find("sockit: read sockit-scan.resume: its scan arguments: "),
            std::string::npos)
      << run.err;

  // A checkpoint naming a port the scan does not have.
  write_state(cwd,
              "arg 127.0.0.1-2\narg -p\narg 80,81\nhosts 2\nports 2\nseed 5\nnext 2\n"
              "host 1 scan 1 22\n");
  run = scan_in(cwd, {"--resume", kState});
  EXPECT_EQ(run.code, 64);
  EXPECT_EQ(run.err, "sockit: resume: the checkpoint does not fit these targets and ports\n");
  EXPECT_TRUE(exists(cwd / kState)) << "a refused state file is left as it was";
}

TEST(ScanResume, AStateThatCannotBeSavedIsSaidAndTheExitIsStill130) {
  TempDir cwd;
  std::filesystem::create_directory(cwd / kState);  // in the way of the file
  Listeners l;
  const ScanRun run = scan_in(
      cwd,
      {"127.0.0.1", "-p", port_list({l.add()}) + ",20000-22999", "--rate", "1000", "-o", "grep"},
      500ms);
  EXPECT_EQ(run.code, 130) << run.err;
  EXPECT_NE(run.err.find("sockit: interrupted: 0 of 1 hosts done; what is left could not be "
                         "saved: write sockit-scan.resume: "),
            std::string::npos)
      << run.err;
}

}  // namespace
}  // namespace sockit::test
