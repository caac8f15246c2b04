// `sockit scan [OPTIONS] TARGET...`: the course's port scanner, at nmap's accuracy and
// masscan's pace.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace sockit::cli {

struct ScanCommandOptions {
  std::vector<std::string> targets;
  std::string type = "T";         // -sT connect, -sS SYN, -sn discovery only
  std::vector<std::string> ping;  // -Pn, -PE, -PP, -PS[PORT], -PA[PORT]
  bool discover = false;
  std::string ports = "1-1024";
  std::string exclude_ports;
  std::string input_list;  // -iL FILE ("-": stdin)
  std::string exclude;     // comma-separated targets
  std::string exclude_file;
  std::string output = "text";  // text, json, grep
  std::string show;             // closed,filtered
  bool allow_large = false;
  bool first_address = false;
  bool v4_only = false;
  bool v6_only = false;
  bool sequential = false;
  bool banner = false;
  double timeout = 1.0;
  unsigned retries = 2;
  double rate = 0;
  unsigned max_in_flight = 0;
  unsigned threads = 0;
  unsigned long long seed = 0;
  std::string resume;             // --resume FILE: go on with an interrupted scan
  std::vector<std::string> args;  // the scan's arguments as given, kept for its state file
};

void add_scan_command(CLI::App& app, ScanCommandOptions& options);
int run_scan(const ScanCommandOptions& options);

}  // namespace sockit::cli
