// The scan state file: what is written is read back the same, and a damaged or foreign file
// is refused with the file and the line named, never half-used.
#include "scan_state.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace sockit::cli {
namespace {

class ScanStateFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/sockit-state-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/scan.resume";
  }
  void TearDown() override {
    std::remove(path_.c_str());
    std::remove((path_ + ".tmp").c_str());
    ::rmdir(dir_.c_str());
  }
  void write(const std::string& text) { std::ofstream(path_) << text; }
  std::string refusal(const std::string& text) {
    write(text);
    auto state = read_scan_state(path_);
    EXPECT_FALSE(state) << text;
    return state ? "" : state.error().message();
  }

  std::string dir_, path_;
};

ScanState sample() {
  ScanState s;
  s.args = {"-sS", "-p", "22,80,443", "198.18.0.0/22", "--input-list", "a file%with\nodd\rbytes",
            ""};
  s.hosts = 1024;
  s.ports = 3;
  s.checkpoint.seed = 0xfedcba9876543210ULL;
  s.checkpoint.next_host = 577;
  s.checkpoint.hosts = {{12, false, 3, {80, 443}}, {13, true, 0, {}}, {500, false, 1, {}}};
  return s;
}

TEST_F(ScanStateFile, ReadsBackWhatItWrote) {
  const ScanState s = sample();
  ASSERT_TRUE(write_scan_state(path_, s));
  auto back = read_scan_state(path_);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->args, s.args);
  EXPECT_EQ(back->hosts, 1024u);
  EXPECT_EQ(back->ports, 3u);
  EXPECT_EQ(back->checkpoint.seed, s.checkpoint.seed);
  EXPECT_EQ(back->checkpoint.next_host, 577u);
  ASSERT_EQ(back->checkpoint.hosts.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& a = back->checkpoint.hosts[i];
    const auto& b = s.checkpoint.hosts[i];
    EXPECT_EQ(a.position, b.position);
    EXPECT_EQ(a.discover, b.discover);
    EXPECT_EQ(a.issued, b.issued);
    EXPECT_EQ(a.pending, b.pending);
  }
  EXPECT_NE(::access((path_ + ".tmp").c_str(), F_OK), 0) << "the temporary file is left";
}

TEST_F(ScanStateFile, SaysHowToGoOnInItsFirstLine) {
  ASSERT_TRUE(write_scan_state(path_, sample()));
  std::ifstream in(path_);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(
      first,
      "# sockit scan: what an interrupted scan left. Go on with: sockit scan --resume " + path_);
}

TEST_F(ScanStateFile, RefusesWhatItDoesNotUnderstand) {
  const std::string head = "sockit-scan-state 1\nhosts 4\nports 2\nseed 9\nnext 3\n";
  EXPECT_NE(refusal("").find("not a sockit scan state file"), std::string::npos);
  EXPECT_NE(refusal("paused.conf\nrate 100\n").find("line 1: not a sockit scan state file"),
            std::string::npos);
  EXPECT_NE(refusal("sockit-scan-state 2\n").find("not a sockit"), std::string::npos);
  EXPECT_NE(refusal("sockit-scan-state 1\nhosts 4\nports 2\n").find("cut short"),
            std::string::npos);
  EXPECT_NE(refusal(head + "color blue\n").find("line 6: unknown item 'color'"), std::string::npos);
  for (const char* bad :
       {"host 1 scan 2 80,\n", "host 1 scan 2\n", "host x discover\n", "host 1 discover now\n",
        "host 1 scan 2 80,99999\n", "host 1 maybe\n", "host 1 scan -1 80\n", "arg %zz\n",
        "arg %2\n", "next 4\n", "seed\n", "hosts 18446744073709551616\n"}) {
    const std::string why = refusal(head + bad);
    EXPECT_NE(why.find(path_ + ": line 6: malformed"), std::string::npos) << bad << " → " << why;
  }
  EXPECT_NE(refusal(head + "host 1 scan 2 80,443 9\n").find("malformed 'host'"), std::string::npos);
}

TEST_F(ScanStateFile, AMissingFileOrDirectoryIsAnError) {
  auto state = read_scan_state(dir_ + "/none");
  ASSERT_FALSE(state);
  EXPECT_TRUE(state.error().is(std::errc::no_such_file_or_directory));
  EXPECT_NE(state.error().message().find("read " + dir_ + "/none"), std::string::npos);
  auto written = write_scan_state(dir_ + "/no/such/dir", sample());
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().message().find("write " + dir_ + "/no/such/dir"), std::string::npos);
}

}  // namespace
}  // namespace sockit::cli
