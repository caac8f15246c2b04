#include "bench_command.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "exit_codes.hpp"
#include "json_writer.hpp"
#include "listen_address.hpp"
#include "output.hpp"
#include "sockit/bench/load.hpp"
#include "sockit/resolve.hpp"

namespace sockit::cli {
namespace {

std::string micros(std::uint64_t ns) {
  char buf[32];
  if (ns < 1'000'000)
    std::snprintf(buf, sizeof buf, "%.1f us", static_cast<double>(ns) / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.2f ms", static_cast<double>(ns) / 1e6);
  return buf;
}

const char* mode_name(bench::Mode m) {
  switch (m) {
    case bench::Mode::PingPong:
      return "pingpong";
    case bench::Mode::Bulk:
      return "bulk";
    case bench::Mode::Connect:
      return "connect";
  }
  return "?";
}

std::string text_report(const bench::LoadOptions& o, const bench::LoadResult& r) {
  const double msgs = r.seconds > 0 ? static_cast<double>(r.messages) / r.seconds : 0;
  const double mb = r.seconds > 0 ? static_cast<double>(r.bytes) / r.seconds / 1e6 : 0;
  char head[256];
  std::snprintf(head, sizeof head,
                "sockit bench %s%s %s: %u connection%s, %zu-byte messages, %.2f s\n",
                mode_name(o.mode), o.datagram ? " (udp)" : "", o.target.to_string().c_str(),
                o.connections, o.connections == 1 ? "" : "s", o.message_size, r.seconds);
  std::string out = head;
  char line[256];
  std::snprintf(line, sizeof line, "  %-9s %llu (%.0f/s, %.2f MB/s)\n",
                o.mode == bench::Mode::Bulk      ? "chunks"
                : o.mode == bench::Mode::Connect ? "connects"
                                                 : "messages",
                static_cast<unsigned long long>(r.messages), msgs, mb);
  out += line;
  if (r.latency.count() > 0) {
    out += "  latency   p50 " + micros(r.latency.percentile(0.50)) + "  p90 " +
           micros(r.latency.percentile(0.90)) + "  p99 " + micros(r.latency.percentile(0.99)) +
           "  p99.9 " + micros(r.latency.percentile(0.999)) + "  max " + micros(r.latency.max()) +
           "\n";
  }
  const auto& e = r.errors;
  std::snprintf(line, sizeof line, "  errors    %llu", static_cast<unsigned long long>(e.total()));
  out += line;
  if (e.total() > 0) {
    std::snprintf(
        line, sizeof line, " (refused %llu, reset %llu, timeout %llu, mismatch %llu, other %llu)",
        static_cast<unsigned long long>(e.refused), static_cast<unsigned long long>(e.reset),
        static_cast<unsigned long long>(e.timeout), static_cast<unsigned long long>(e.mismatch),
        static_cast<unsigned long long>(e.other));
    out += line;
  }
  return out + "\n";
}

std::string json_report(const bench::LoadOptions& o, const bench::LoadResult& r) {
  auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e3; };
  JsonWriter j;
  j.begin_object().field("mode", mode_name(o.mode)).field("udp", o.datagram);
  j.field("target", o.target.to_string()).field("connections", std::int64_t{o.connections});
  j.field("message_size", static_cast<std::int64_t>(o.message_size)).field("duration_s", r.seconds);
  j.field("messages", static_cast<std::int64_t>(r.messages));
  j.field("msgs_per_s", r.seconds > 0 ? static_cast<double>(r.messages) / r.seconds : 0.0);
  j.field("mb_per_s", r.seconds > 0 ? static_cast<double>(r.bytes) / r.seconds / 1e6 : 0.0);
  j.field("p50_us", us(r.latency.percentile(0.5))).field("p90_us", us(r.latency.percentile(0.9)));
  j.field("p99_us", us(r.latency.percentile(0.99)))
      .field("p999_us", us(r.latency.percentile(0.999)));
  j.field("max_us", us(r.latency.max()))
      .field("errors", static_cast<std::int64_t>(r.errors.total()));
  j.key("errors_by_kind").begin_object();
  j.field("refused", static_cast<std::int64_t>(r.errors.refused));
  j.field("reset", static_cast<std::int64_t>(r.errors.reset));
  j.field("timeout", static_cast<std::int64_t>(r.errors.timeout));
  j.field("mismatch", static_cast<std::int64_t>(r.errors.mismatch));
  j.field("other", static_cast<std::int64_t>(r.errors.other));
  j.end_object().end_object();
  return j.str() + "\n";
}

// One line per non-empty bucket: upper bound in µs, count, cumulative fraction.
Result<void> write_histogram(const std::string& path, const bench::Histogram& h) {
  std::ofstream out(path);
  if (!out) return Error::from_errno("write " + path);
  out << "# latency_us count cumulative\n";
  std::uint64_t seen = 0;
  for (int i = 0; i < bench::Histogram::kBuckets; ++i) {
    std::uint64_t n = h.bucket_count(i);
    if (n == 0) continue;
    seen += n;
    double upper =
        static_cast<double>(i + 1 < bench::Histogram::kBuckets ? bench::Histogram::lower(i + 1)
                                                               : h.max()) /
        1e3;
    out << upper << ' ' << n << ' ' << static_cast<double>(seen) / static_cast<double>(h.count())
        << '\n';
  }
  if (!out) return Error::from_errno("write " + path);
  return {};
}

void draw_progress(const bench::LoadProgress& p) {
  char line[128];
  std::snprintf(line, sizeof line, "\r\033[K%.0f s: %llu messages (%.0f/s), %llu errors", p.seconds,
                static_cast<unsigned long long>(p.messages),
                p.seconds > 0 ? static_cast<double>(p.messages) / p.seconds : 0.0,
                static_cast<unsigned long long>(p.errors));
  write_fully(2, line);
}

}  // namespace

void add_bench_command(CLI::App& app, BenchCommandOptions& o) {
  CLI::App* cmd =
      app.add_subcommand("bench", "Load an echo server and measure throughput and latency");
  cmd->add_option("host", o.host, "Server host");
  cmd->add_option("port", o.port, "Server port");
  cmd->add_option("--unix", o.unix_path, "Server Unix socket: a path, or @name")
      ->check(check_unix_option);
  cmd->add_option("-m,--mode", o.mode, "pingpong, bulk or connect")
      ->check(CLI::IsMember({"pingpong", "bulk", "connect"}))
      ->capture_default_str();
  cmd->add_flag("-u,--udp", o.udp, "UDP ping-pong");
  cmd->add_option("-c,--connections", o.connections, "Connections")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("-j,--threads", o.threads, "Threads, one event loop each")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_flag("--pin", o.pin,
                "Pin thread i to CPU i (pairs with sockit serve --pin: each connection stays on "
                "one CPU)");
  cmd->add_option("-s,--size", o.size, "Message size in bytes")
      ->check(CLI::Range(1, 16 << 20))
      ->capture_default_str();
  cmd->add_option("-d,--duration", o.duration, "Seconds to measure (also the limit with -n)")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  cmd->add_option("-n,--count", o.count, "Stop after this many messages");
  cmd->add_option("--warmup", o.warmup, "Seconds of load before measuring")
      ->check(CLI::Range(0.0, 600.0));
  cmd->add_option(
         "--rate", o.rate,
         "Messages per second in all (fixed rate; latency corrected for coordinated omission)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--timeout", o.timeout, "Seconds to wait for a connect or an answer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--json", o.json, "One JSON object with the results");
  cmd->add_option("--histogram", o.histogram_file, "Write the latency distribution to FILE");
}

int run_bench(const BenchCommandOptions& o) {
  bench::LoadOptions options;
  if (!o.unix_path.empty()) {
    if (!o.host.empty()) return report("give either HOST PORT or --unix PATH, not both"), kUsage;
    auto at = parse_unix_option(o.unix_path);
    if (!at) return report(at.error()), kUsage;
    options.target = *at;
  } else {
    if (o.host.empty() || o.port.empty())
      return report("bench needs HOST PORT, or --unix PATH"), kUsage;
    auto port = parse_port(o.port);
    if (!port) return report(port.error()), kUsage;
    auto resolved = resolve(o.host);
    if (!resolved) return report(resolved.error()), exit_code_for(resolved.error());
    options.target = Endpoint(resolved->addresses.front(), *port);
  }
  options.mode = o.mode == "bulk"      ? bench::Mode::Bulk
                 : o.mode == "connect" ? bench::Mode::Connect
                                       : bench::Mode::PingPong;
  options.datagram = o.udp;
  options.connections = o.connections;
  options.threads = o.threads;
  options.pin_threads = o.pin;
  options.message_size = o.size;
  options.duration = seconds_to_ms(o.duration);
  options.count = o.count;
  options.warmup = seconds_to_ms(o.warmup);
  options.rate = o.rate;
  options.timeout = seconds_to_ms(o.timeout);

  const bool progress = ::isatty(2) && std::getenv("NO_COLOR") == nullptr;
  auto result = bench::run_load(
      options, progress ? std::function<void(const bench::LoadProgress&)>(draw_progress)
                        : std::function<void(const bench::LoadProgress&)>());
  if (progress) write_fully(2, "\r\033[K");
  if (!result) return report(result.error()), exit_code_for(result.error());
  if (result->connections_made == 0) {
    // Nothing to measure: the server never answered.
    const Error& e = result->first_error
                         ? *result->first_error
                         : Error::from_errno(ECONNREFUSED, "connect " + options.target.to_string());
    return report(e), exit_code_for(e);
  }
  write_out(o.json ? json_report(options, *result) : text_report(options, *result));
  if (!o.histogram_file.empty()) {
    if (auto w = write_histogram(o.histogram_file, result->latency); !w)
      return report(w.error()), kIoError;
  }
  if (result->errors.total() > 0) {
    if (result->first_error) report("first error: " + result->first_error->message());
    return kPartial;
  }
  return kOk;
}

}  // namespace sockit::cli
