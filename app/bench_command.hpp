// `sockit bench [OPTIONS] HOST PORT`: load an echo (or discard) server and measure it.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace sockit::cli {

struct BenchCommandOptions {
  std::string host;
  std::string port;
  std::string unix_path;
  std::string mode = "pingpong";
  bool udp = false;
  unsigned connections = 1;
  unsigned threads = 1;
  std::size_t size = 64;
  double duration = 5;
  unsigned long long count = 0;
  double warmup = 0;
  double rate = 0;
  double timeout = 5;
  bool json = false;
  bool pin = false;
  std::string histogram_file;
};

void add_bench_command(CLI::App& app, BenchCommandOptions& options);
int run_bench(const BenchCommandOptions& options);

}  // namespace sockit::cli
