// sockit: one program, one subcommand per job. main owns the error policy: every
// subcommand returns an exit code; usage errors are reported here as one line and 64.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>

#include "bench_command.hpp"
#include "connect_command.hpp"
#include "exit_codes.hpp"
#include "resolve_command.hpp"
#include "scan_command.hpp"
#include "serve_command.hpp"
#include "sockit/version.hpp"

namespace {

constexpr const char* kExitCodes =
    "Exit codes: 0 success, 1 some items failed, 64 bad usage or input, 68 unknown host,\n"
    "69 refused or unavailable, 74 I/O error, 75 timed out, 77 permission denied,\n"
    "130 interrupted.";

}  // namespace

int main(int argc, char** argv) {
  using namespace sockit::cli;
  CLI::App app("sockit: a socket toolkit — resolve, scan, serve, connect, bench", "sockit");
  app.set_version_flag("--version", std::string("sockit ") + sockit::kVersion);
  app.require_subcommand(1);
  app.footer(kExitCodes);

  ResolveOptions resolve;
  add_resolve_command(app, resolve);
  ScanCommandOptions scan;
  add_scan_command(app, scan);
  ServeOptions serve;
  add_serve_command(app, serve);
  ConnectOptions connect;
  add_connect_command(app, connect);
  BenchCommandOptions bench;
  add_bench_command(app, bench);

  // nmap's two-letter "-iL FILE" is --input-list here (CLI11 short options are one letter).
  std::vector<std::string> args(argv + 1, argv + argc);
  for (auto& a : args)
    if (a == "-iL") a = "--input-list";
  // An interrupted scan saves its arguments so that --resume can run it again.
  if (auto at = std::find(args.begin(), args.end(), "scan"); at != args.end())
    scan.args.assign(at + 1, args.end());
  std::reverse(args.begin(), args.end());  // CLI11 takes the vector back to front

  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (what.empty()) what = "invalid usage";
    report(what + " (see sockit --help)");
    return kUsage;
  }

  if (app.got_subcommand("resolve")) return run_resolve(resolve);
  if (app.got_subcommand("scan")) return run_scan(scan);
  if (app.got_subcommand("serve")) return run_serve(serve);
  if (app.got_subcommand("connect")) return run_connect(connect);
  if (app.got_subcommand("bench")) return run_bench(bench);
  return kUsage;
}
