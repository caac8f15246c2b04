// `sockit connect [OPTIONS] HOST PORT`: stdin to the socket, the socket to stdout.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace sockit::cli {

struct ConnectOptions {
  std::string host;
  std::string port;
  std::string unix_path;
  std::string send_text;
  bool send_given = false;
  bool udp = false;
  bool crlf = false;
  bool verbose = false;
  bool v4_only = false;
  bool v6_only = false;
  double wait = 0;          // connect timeout, seconds (0: the system's)
  double idle_timeout = 0;  // seconds (0: none)
};

void add_connect_command(CLI::App& app, ConnectOptions& options);
int run_connect(const ConnectOptions& options);

}  // namespace sockit::cli
