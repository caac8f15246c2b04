// `sockit resolve [NAME|ADDRESS]...`: names to addresses, addresses to names.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace sockit::cli {

struct ResolveOptions {
  std::vector<std::string> queries;  // empty: this host
  bool v4_only = false;
  bool v6_only = false;
  bool json = false;
  unsigned parallel = 16;
};

void add_resolve_command(CLI::App& app, ResolveOptions& options);
int run_resolve(const ResolveOptions& options);

}  // namespace sockit::cli
