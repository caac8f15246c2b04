#include "resolve_command.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "exit_codes.hpp"
#include "json_writer.hpp"
#include "sockit/host_info.hpp"

namespace sockit::cli {
namespace {

// One block per query, labels aligned, one value per line so `grep ipv4` works:
//   localhost
//     name     localhost
//     ipv4     127.0.0.1
std::string format_text(const HostInfo& info) {
  std::string out = info.query + "\n";
  auto line = [&out](std::string_view label, std::string_view value) {
    out += "  ";
    out += label;
    out.append(9 - label.size(), ' ');
    out += value;
    out += '\n';
  };
  line("name", info.name);
  for (const auto& alias : info.aliases)
    line("alias", alias);
  for (const auto& a : info.addresses)
    line(a.is_v4() ? "ipv4" : "ipv6", a.to_string());
  return out;
}

std::string format_json(const HostInfo& info) {
  JsonWriter json;
  json.begin_object().field("query", info.query).field("reverse", info.reverse);
  json.field("name", info.name);
  json.begin_array("aliases");
  for (const auto& alias : info.aliases)
    json.value(alias);
  json.end_array().begin_array("ipv4");
  for (const auto& a : info.addresses)
    if (a.is_v4()) json.value(a.to_string());
  json.end_array().begin_array("ipv6");
  for (const auto& a : info.addresses)
    if (a.is_v6()) json.value(a.to_string());
  json.end_array().end_object();
  return json.str() + "\n";
}

std::string format_json_error(const std::string& query, const Error& error) {
  JsonWriter json;
  json.begin_object().field("query", query).field("error", error.code().message()).end_object();
  return json.str() + "\n";
}

}  // namespace

void add_resolve_command(CLI::App& app, ResolveOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "resolve", "Look up names and addresses (no argument: this host's name and addresses)");
  cmd->add_option("names", options.queries,
                  "Host names or IP addresses (an address is looked up in reverse)");
  auto* v4 = cmd->add_flag("-4", options.v4_only, "IPv4 addresses only");
  cmd->add_flag("-6", options.v6_only, "IPv6 addresses only")->excludes(v4);
  cmd->add_flag("--json", options.json, "One JSON object per name (JSON Lines)");
  cmd->add_option("--parallel", options.parallel, "Lookups in flight at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
}

int run_resolve(const ResolveOptions& options) {
  std::vector<std::string> queries = options.queries;
  if (queries.empty()) {
    auto self = hostname();
    if (!self) {
      report(self.error());
      return exit_code_for(self.error());
    }
    queries.push_back(*self);
  }
  const Family family = options.v4_only ? Family::V4 : options.v6_only ? Family::V6 : Family::Any;

  std::size_t failed = 0;
  int last_code = kOk;
  bool first_block = true;
  lookup_hosts(queries, family, options.parallel, [&](std::size_t i, Result<HostInfo>& result) {
    std::string out;
    if (result) {
      if (!options.json && !first_block) out += '\n';
      out += options.json ? format_json(*result) : format_text(*result);
      first_block = false;
      std::fwrite(out.data(), 1, out.size(), stdout);
      std::fflush(stdout);
      return;
    }
    ++failed;
    last_code = exit_code_for(result.error());
    if (options.json) {
      out = format_json_error(queries[i], result.error());
      std::fwrite(out.data(), 1, out.size(), stdout);
    }
    report(result.error());
  });
  if (failed == 0) return kOk;
  return queries.size() == 1 ? last_code : kPartial;
}

}  // namespace sockit::cli
