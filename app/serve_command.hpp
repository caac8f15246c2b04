// `sockit serve [OPTIONS] [ADDR:]PORT`: the course's servers, built for real use.
#pragma once

#include <string>

#include "sockit/serve/server.hpp"

namespace CLI {
class App;
}

namespace sockit::cli {

struct ServeOptions {
  std::string address;  // [ADDR:]PORT
  std::string unix_path;
  std::string model = "reactor";
  std::string handler = "print";
  bool udp = false;
  bool json = false;
  bool verbose = false;
  bool dual_stack = false;
  bool pin = false;
  unsigned threads = 0;
  std::size_t max_conns = 0;
  double idle_timeout = 0;
  double grace = 2;
};

void add_serve_command(CLI::App& app, ServeOptions& options);
int run_serve(const ServeOptions& options);

}  // namespace sockit::cli
