#include "scan_command.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>

#include "exit_codes.hpp"
#include "listen_address.hpp"
#include "output.hpp"
#include "scan_report.hpp"
#include "scan_state.hpp"
#include "sockit/scan/port_spec.hpp"
#include "sockit/scan/scanner.hpp"
#include "sockit/scan/targets.hpp"

namespace sockit::cli {
namespace {

// Target specs from a file, one or more per line (whitespace separated, # comments).
Result<std::vector<std::string>> read_list(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path);
    if (!file) return Error::from_errno("read " + path);
    in = &file;
  }
  std::vector<std::string> specs;
  for (std::string line; std::getline(*in, line);) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    for (std::string w; words >> w;)
      specs.push_back(w);
  }
  return specs;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

// "12345/65535 (19%), 54321/s, 3 open, ETA 1s" on a terminal, redrawn in place.
void draw_progress(const scan::ScanProgress& p) {
  double seconds = std::chrono::duration<double>(p.elapsed).count();
  double rate = seconds > 0 ? static_cast<double>(p.done) / seconds : 0;
  double eta = rate > 0 ? static_cast<double>(p.total - p.done) / rate : 0;
  char line[160];
  std::snprintf(
      line, sizeof line, "\r\033[Kscanning: %llu/%llu (%.0f%%), %.0f/s, %llu open, ETA %.0fs",
      static_cast<unsigned long long>(p.done), static_cast<unsigned long long>(p.total),
      p.total ? 100.0 * static_cast<double>(p.done) / static_cast<double>(p.total) : 100.0, rate,
      static_cast<unsigned long long>(p.open), eta);
  write_fully(2, line);
}

}  // namespace

void add_scan_command(CLI::App& app, ScanCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand("scan", "TCP port scan: connect() or raw SYN");
  cmd->add_option("targets", o.targets,
                  "Names, addresses, CIDR blocks (198.18.0.0/28) or ranges (198.18.0.1-20)");
  cmd->add_option("-s", o.type,
                  "Scan type: -sT connect() (default, no privilege), -sS SYN through raw sockets "
                  "(root or CAP_NET_RAW), -sn host discovery only")
      ->check(CLI::IsMember({"T", "S", "n"}))
      ->capture_default_str();
  cmd->add_option("-P", o.ping,
                  "Host discovery: -Pn skip it; probes -PE (ICMP echo), -PP (ICMP timestamp), "
                  "-PS[PORT] (TCP SYN, 443), -PA[PORT] (TCP ACK, 80) — raw sockets. By default a "
                  "scan of more than one address finds the live hosts first")
      ->allow_extra_args(false);
  cmd->add_flag("--discover", o.discover,
                "Find out whether a lone target is up before scanning it");
  cmd->add_option("-p,--ports", o.ports, "Ports: 22,80,1000-2000, - (all), -1024, 60000-, ssh,http")
      ->capture_default_str();
  cmd->add_option("--exclude-ports", o.exclude_ports, "Ports to leave out (same syntax)");
  cmd->add_option("--input-list", o.input_list, "Read targets from FILE (- for stdin); also -iL");
  cmd->add_option("--exclude", o.exclude, "Targets to leave out, comma-separated");
  cmd->add_option("--exclude-file", o.exclude_file, "Targets to leave out, from FILE");
  cmd->add_flag("--allow-large", o.allow_large, "Allow a target of more than 65536 hosts");
  cmd->add_flag("--first-address", o.first_address, "Scan only a name's first address");
  auto* v4 = cmd->add_flag("-4", o.v4_only, "IPv4 addresses of names only");
  cmd->add_flag("-6", o.v6_only, "IPv6 addresses of names only")->excludes(v4);
  cmd->add_option("--timeout", o.timeout, "Seconds to wait for an answer before RTT is known")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--retries", o.retries, "Extra tries for probes that got no answer")
      ->check(CLI::Range(0, 10))
      ->capture_default_str();
  cmd->add_option("--rate", o.rate,
                  "At most N probes per second (default: as fast as answers allow)")
      ->check(CLI::PositiveNumber);
  cmd->add_option(
         "--max-in-flight", o.max_in_flight,
         "At most N probes at once (default: -sT from the descriptor limit, up to 4096; -sS 65536)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("-j,--threads", o.threads,
                  "Connect scan threads (default: one per core for big scans)")
      ->check(CLI::Range(1, 64));
  cmd->add_flag("--sequential", o.sequential, "Probe in order instead of a scrambled order");
  cmd->add_flag("--banner", o.banner, "Show the first line each open port sends");
  cmd->add_option("-o,--output", o.output, "text, json (JSON Lines) or grep")
      ->check(CLI::IsMember({"text", "json", "grep"}))
      ->capture_default_str();
  cmd->add_option("--show", o.show, "Also list closed and/or filtered ports: closed,filtered");
  cmd->add_option("--seed", o.seed, "Seed for the probe order (reproducible runs)");
  cmd->add_option("--resume", o.resume,
                  "Go on with the scan an interruption (Ctrl+C) saved in FILE (by default " +
                      std::string(kDefaultStateFile) + "): only what it left is probed");
}

namespace {

// The options a state file's saved arguments stand for, parsed as the command line was.
Result<ScanCommandOptions> parse_saved_args(const std::string& path,
                                            const std::vector<std::string>& args) {
  ScanCommandOptions o;
  CLI::App app;
  add_scan_command(app, o);
  std::vector<std::string> argv(args.rbegin(), args.rend());
  argv.push_back("scan");  // CLI11 takes the vector back to front
  auto refused = [&](const std::string& why) {
    return Error(std::make_error_code(std::errc::invalid_argument),
                 "read " + path + ": its scan arguments: " + why);
  };
  try {
    app.parse(argv);
  } catch (const CLI::ParseError& e) {
    return refused(e.what());
  }
  if (!o.resume.empty()) return refused("--resume inside a state file");
  o.args = args;
  return o;
}

int scan_as_given(const ScanCommandOptions& o, const ScanState* state,
                  const std::string& state_path);

}  // namespace

int run_scan(const ScanCommandOptions& o) {
  if (o.resume.empty()) return scan_as_given(o, nullptr, kDefaultStateFile);
  const bool alone = (o.args.size() == 2 && o.args[0] == "--resume") ||
                     (o.args.size() == 1 && o.args[0].starts_with("--resume="));
  if (!alone) {
    return report(
               "--resume FILE goes on with the scan saved in FILE, as it was given: it takes "
               "no other arguments"),
           kUsage;
  }
  auto state = read_scan_state(o.resume);
  // A state file's own faults are whole sentences: "read F: line 3: malformed 'host' line".
  if (!state && state.error().is(std::errc::invalid_argument))
    return report(state.error().context()), kUsage;
  if (!state) return report(state.error()), exit_code_for(state.error());
  auto saved = parse_saved_args(o.resume, state->args);
  if (!saved) return report(saved.error().context()), kUsage;
  return scan_as_given(*saved, &*state, o.resume);
}

namespace {

int scan_as_given(const ScanCommandOptions& o, const ScanState* state,
                  const std::string& state_path) {
  // Ports.
  auto ports = scan::parse_ports(o.ports);
  if (!ports) return report(ports.error()), kUsage;
  if (!o.exclude_ports.empty()) {
    auto excluded = scan::parse_ports(o.exclude_ports);
    if (!excluded) return report(excluded.error()), kUsage;
    *ports = scan::exclude_ports(*ports, *excluded);
  }
  if (ports->empty()) return report("no ports left to scan"), kUsage;

  ScanShow show;
  for (const auto& s : split_commas(o.show)) {
    if (s == "closed")
      show.closed = true;
    else if (s == "filtered")
      show.filtered = true;
    else
      return report("--show '" + o.show + "': expected closed and/or filtered"), kUsage;
  }
  scan::DiscoveryProbes probes;
  bool skip_discovery = false;
  for (const std::string& p : o.ping) {
    auto port_of = [&](std::uint16_t fallback) -> std::optional<std::uint16_t> {
      if (p.size() == 1) return fallback;
      auto parsed = scan::parse_ports(p.substr(1));
      if (!parsed || parsed->size() != 1) return std::nullopt;
      return parsed->front();
    };
    if (p == "n") {
      skip_discovery = true;
    } else if (p == "E") {
      probes.echo = true;
    } else if (p == "P") {
      probes.timestamp = true;
    } else if (p[0] == 'S' && port_of(443)) {
      probes.syn = true;
      probes.syn_port = *port_of(443);
    } else if (p[0] == 'A' && port_of(80)) {
      probes.ack = true;
      probes.ack_port = *port_of(80);
    } else {
      return report("-P" + p + ": expected -Pn, -PE, -PP, -PS[PORT] or -PA[PORT]"), kUsage;
    }
  }
  if (skip_discovery && (probes.any() || o.discover || o.type == "n")) {
    return report(
               "-Pn skips host discovery: it goes with neither -sn, --discover nor "
               "-PE/-PP/-PS/-PA"),
           kUsage;
  }
  const ScanFormat format = o.output == "json"   ? ScanFormat::Json
                            : o.output == "grep" ? ScanFormat::Grep
                                                 : ScanFormat::Text;

  // Targets.
  std::vector<std::string> specs = o.targets;
  if (!o.input_list.empty()) {
    auto listed = read_list(o.input_list);
    if (!listed) return report(listed.error()), kUsage;
    specs.insert(specs.end(), listed->begin(), listed->end());
  }
  if (specs.empty()) return report("scan needs at least one target"), kUsage;

  scan::AddressFilter excluded;
  std::vector<std::string> exclude_specs = split_commas(o.exclude);
  if (!o.exclude_file.empty()) {
    auto listed = read_list(o.exclude_file);
    if (!listed) return report(listed.error()), kUsage;
    exclude_specs.insert(exclude_specs.end(), listed->begin(), listed->end());
  }
  for (const auto& spec : exclude_specs) {
    if (auto r = excluded.add(spec); !r) return report(r.error()), exit_code_for(r.error());
  }

  scan::TargetOptions target_options;
  target_options.first_address_only = o.first_address;
  target_options.allow_large = o.allow_large;
  target_options.family = o.v4_only ? Family::V4 : o.v6_only ? Family::V6 : Family::Any;
  std::vector<scan::Target> targets;
  std::size_t unresolved = 0;
  int last_failure = kOk;
  for (const auto& spec : specs) {
    auto expanded = scan::expand_target(spec, target_options);
    if (!expanded) {
      int code = exit_code_for(expanded.error());
      report(expanded.error());
      if (code == kUsage) return kUsage;  // a malformed target is a mistake, not a miss
      ++unresolved;
      last_failure = code;
      continue;
    }
    for (auto& t : *expanded)
      if (!excluded.matches(t.address)) targets.push_back(std::move(t));
    if (targets.size() > (o.allow_large ? scan::kMaxTargetHosts : scan::kLargeTarget)) {
      return report("targets add up to more than " +
                    std::to_string(o.allow_large ? scan::kMaxTargetHosts : scan::kLargeTarget) +
                    " hosts" + (o.allow_large ? "" : " (use --allow-large)")),
             kUsage;
    }
  }

  // Scan.
  scan::ScanOptions options;
  options.ports = std::move(*ports);
  options.timeout = seconds_to_ms(o.timeout);
  options.max_timeout = std::max(options.max_timeout, options.timeout);
  options.retries = o.retries;
  options.rate = o.rate;
  options.max_in_flight = o.max_in_flight;
  options.threads = o.threads;
  options.sequential = o.sequential;
  options.banner = o.banner;
  options.keep_closed = show.closed;
  options.seed = o.seed;
  options.stop_signals = {SIGINT, SIGTERM};
  options.type = o.type == "S" ? scan::ScanType::Syn : scan::ScanType::Connect;
  options.discovery = o.type == "n"                ? scan::Discovery::Only
                      : skip_discovery             ? scan::Discovery::Skip
                      : o.discover || probes.any() ? scan::Discovery::Force
                                                   : scan::Discovery::Auto;
  options.discovery_probes = probes;
  options.drop_capabilities = true;
  if (options.type == scan::ScanType::Syn && o.banner) {
    return report("--banner needs a connection: use it with the connect scan (-sT)"), kUsage;
  }

  const std::uint64_t host_total = targets.size();
  const std::uint64_t port_total = options.ports.size();
  if (state != nullptr) {
    if (state->hosts != host_total || state->ports != port_total) {
      return report("resume " + state_path + ": the scan's targets and ports now come to " +
                    std::to_string(host_total) + " hosts and " + std::to_string(port_total) +
                    " ports, not " + std::to_string(state->hosts) + " and " +
                    std::to_string(state->ports) + " (did a name resolve differently?)"),
             kUsage;
    }
    options.resume = state->checkpoint;
  }

  const bool progress = ::isatty(2) && std::getenv("NO_COLOR") == nullptr;
  scan::TargetVector source(std::move(targets));
  ScanWriter writer(format, show, progress && ::isatty(1));
  auto summary = scan::scan(source, options, writer,
                            progress ? std::function<void(const scan::ScanProgress&)>(draw_progress)
                                     : std::function<void(const scan::ScanProgress&)>());
  if (progress) write_fully(2, "\r\033[K");
  writer.flush();
  if (!summary) {
    if (summary.error().is(std::errc::operation_not_permitted) ||
        summary.error().is(std::errc::permission_denied)) {
      const bool syn =
          options.type == scan::ScanType::Syn && options.discovery != scan::Discovery::Only;
      report(std::string(syn ? "-sS needs" : "-PE, -PP, -PS and -PA need") +
             " raw sockets (CAP_NET_RAW): run it as root, give the binary the capability "
             "(sudo setcap cap_net_raw+ep $(command -v sockit)), or use " +
             (syn ? "the connect scan (-sT)" : "the default discovery (connect to 80 and 443)"));
      return kPermission;
    }
    if (summary.error().is(std::errc::invalid_argument))  // a checkpoint that does not fit
      return report(summary.error().context()), kUsage;
    return report(summary.error()), exit_code_for(summary.error());
  }
  writer.summary(*summary, host_total);
  if (summary->interrupted) {
    // Hosts done, in this run and any it resumed: all before the checkpoint's next host,
    // but those it still holds.
    const auto& left = summary->checkpoint;
    const std::uint64_t done = left ? left->next_host - left->hosts.size() : host_total;
    std::string message = "interrupted: " + std::to_string(done) + " of " +
                          std::to_string(host_total) + " hosts done";
    if (left) {
      auto saved = write_scan_state(state_path, {o.args, host_total, port_total, *left});
      if (saved)
        message += "; go on with: sockit scan --resume " + state_path;
      else
        message += "; what is left could not be saved: " + saved.error().message();
    } else if (state != nullptr) {
      std::remove(state_path.c_str());  // nothing was left of it
    }
    report(message);
    return kInterrupted;
  }
  // Finished: the state it went on from has nothing left to give.
  if (state != nullptr) std::remove(state_path.c_str());

  if (unresolved == 0) return kOk;
  return unresolved == specs.size() && specs.size() == 1 ? last_failure : kPartial;
}

}  // namespace

}  // namespace sockit::cli
