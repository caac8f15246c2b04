#include "serve_command.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>

#include "exit_codes.hpp"
#include "json_writer.hpp"
#include "listen_address.hpp"
#include "output.hpp"
#include "text_escape.hpp"

namespace sockit::cli {
namespace {

using serve::Client;

// Prints the server's events: the course's text lines, or JSON Lines with --json.
class EventPrinter final : public serve::ServerEvents {
 public:
  EventPrinter(bool json, bool quiet) : json_(json), quiet_(quiet) {}

  void on_listening(const Endpoint& local) override { local_ = local; }

  void on_connected(const Client& client) override {
    if (quiet_) return;
    if (json_) return emit_json("connected", client);
    emit("connected " + serve::client_label(client) + "\n");
  }

  void on_line(const Client& client, std::string_view text) override {
    std::string out;
    if (json_) {
      out = begin_json("line", client) + ",\"text\":";
      append_json_bytes(out, text);
      out += "}\n";
    } else {
      out = serve::client_label(client) + " ";
      append_escaped(out, text);
      out += '\n';
    }
    emit(out);
  }

  void on_closed(const Client& client, std::uint64_t bytes) override {
    if (quiet_) return;
    if (json_) {
      return emit(begin_json("closed", client) + ",\"bytes\":" + std::to_string(bytes) + "}\n");
    }
    emit("closed " + serve::client_label(client) + " (" + std::to_string(bytes) + " bytes)\n");
  }

  void on_rejected(const Endpoint& peer, std::string_view reason) override {
    if (json_) {
      std::string out = "{\"event\":\"rejected\",\"client\":";
      append_json_string(out, peer.to_string());
      out += ",\"reason\":";
      append_json_string(out, reason);
      return emit(out + "}\n");
    }
    emit("rejected " + peer.to_string() + " (" + std::string(reason) + ")\n");
  }

  void on_datagram(const Endpoint& from, std::string_view data) override {
    // A datagram is one message; a trailing newline is the sender's, not part of the text.
    if (!data.empty() && data.back() == '\n') data.remove_suffix(1);
    std::string out;
    if (json_) {
      out = "{\"event\":\"datagram\",\"client\":";
      append_json_string(out, from.to_string());
      out += ",\"text\":";
      append_json_bytes(out, data);
      out += "}\n";
    } else {
      out = from.to_string() + " ";
      append_escaped(out, data);
      out += '\n';
    }
    emit(out);
  }

  void on_error(const Error& error) override { report(error); }

 private:
  std::string begin_json(std::string_view event, const Client& client) {
    std::string out = "{\"event\":\"";
    out += event;
    out += "\",\"client\":";
    append_json_string(out, serve::client_label(client));
    out += ",\"id\":" + std::to_string(client.id);
    return out;
  }
  void emit_json(std::string_view event, const Client& client) {
    emit(begin_json(event, client) + "}\n");
  }
  void emit(const std::string& text) { write_out(text); }

  bool json_;
  bool quiet_;
  Endpoint local_;
};

// Ctrl+C / SIGTERM: the first asks the server to stop gracefully (an eventfd write, safe in
// a signal handler); the second exits at once.
std::atomic<serve::Server*> g_server{nullptr};
std::atomic<int> g_signals{0};

void on_stop_signal(int) {
  if (g_signals.fetch_add(1) > 0) ::_exit(kInterrupted);
  if (serve::Server* s = g_server.load()) s->stop();
}

void install_stop_signals(serve::Server& server) {
  g_server.store(&server);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace

void add_serve_command(CLI::App& app, ServeOptions& o) {
  CLI::App* cmd = app.add_subcommand("serve", "Run a server: print, echo, discard or chat");
  cmd->add_option("address", o.address,
                  "[ADDR:]PORT to listen on (PORT alone: every IPv4 address; [::]:PORT for IPv6)");
  cmd->add_option("--unix", o.unix_path, "Listen on a Unix socket: a path, or @name (abstract)")
      ->check(check_unix_option);
  cmd->add_option("-m,--model", o.model, "iterative, fork, thread, pool or reactor")
      ->capture_default_str();
  cmd->add_option("-H,--handler", o.handler, "print, echo, discard or chat")->capture_default_str();
  cmd->add_flag("-u,--udp", o.udp, "Serve UDP datagrams (print or echo)");
  cmd->add_option("-j,--threads", o.threads,
                  "Reactor loops or pool workers (default: one loop per core; pool: 4 per core)");
  cmd->add_flag("--pin", o.pin,
                "Reactor: pin loop i to CPU i and keep each connection on the CPU that took its "
                "handshake (SO_INCOMING_CPU)");
  cmd->add_option("--max-conns", o.max_conns,
                  "Clients served at once; more are accepted and closed (default: reactor "
                  "10000, thread/pool 1000, fork 256)");
  cmd->add_option("--idle-timeout", o.idle_timeout, "Close clients silent for SECS (0: never)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--grace", o.grace, "On Ctrl+C, SECS to finish queued output")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_flag("--dual-stack", o.dual_stack, "On [::], accept IPv4 clients too");
  cmd->add_flag("--json", o.json, "Events as JSON Lines");
  cmd->add_flag("-v,--verbose", o.verbose, "Report connections for echo and discard too");
}

int run_serve(const ServeOptions& o) {
  auto model = serve::parse_model(o.model);
  if (!model) return report(model.error()), kUsage;
  auto handler = serve::parse_handler(o.handler);
  if (!handler) return report(handler.error()), kUsage;

  serve::ServerOptions options;
  if (!o.unix_path.empty()) {
    if (!o.address.empty()) return report("give either [ADDR:]PORT or --unix, not both"), kUsage;
    auto unix_endpoint = parse_unix_option(o.unix_path);
    if (!unix_endpoint) return report(unix_endpoint.error()), kUsage;
    options.listen = *unix_endpoint;
  } else {
    if (o.address.empty()) return report("serve needs [ADDR:]PORT or --unix PATH"), kUsage;
    auto endpoint = parse_listen_address(o.address);
    if (!endpoint) return report(endpoint.error()), exit_code_for(endpoint.error());
    options.listen = *endpoint;
  }
  options.model = *model;
  options.handler = *handler;
  options.transport = o.udp ? serve::Transport::Datagram : serve::Transport::Stream;
  options.threads = o.threads;
  options.pin_loops = o.pin;
  options.max_conns = o.max_conns;
  options.idle_timeout = seconds_to_ms(o.idle_timeout);
  options.grace = seconds_to_ms(o.grace);
  if (options.listen.is_v6()) options.v6only = !o.dual_stack;

  const bool quiet =
      !o.verbose && (*handler == serve::Handler::Echo || *handler == serve::Handler::Discard);
  EventPrinter printer(o.json, quiet);
  auto server = serve::Server::create(options, printer);
  if (!server) return report(server.error()), exit_code_for(server.error());
  install_stop_signals(**server);

  const auto& opts = (*server)->options();
  std::string how = std::string(serve::to_string(opts.model));
  if (opts.transport == serve::Transport::Datagram)
    how = "udp";
  else if (opts.model == serve::Model::Reactor || opts.model == serve::Model::Pool)
    how += ", " + std::to_string(opts.threads) + (opts.threads == 1 ? " thread" : " threads") +
           (opts.pin_loops ? " pinned" : "");
  report("listening on " + (*server)->local().to_string() + " (" + how + ", " +
         std::string(serve::to_string(opts.handler)) + ")");

  auto totals = (*server)->run();
  g_server.store(nullptr);
  if (!totals) return report(totals.error()), exit_code_for(totals.error());
  std::string summary = "served " + std::to_string(totals->connections) + " connection" +
                        (totals->connections == 1 ? "" : "s");
  if (opts.transport == serve::Transport::Datagram) {
    summary = "served " + std::to_string(totals->datagrams) + " datagram" +
              (totals->datagrams == 1 ? "" : "s");
  }
  summary += ", " + std::to_string(totals->bytes_in) + " bytes in, " +
             std::to_string(totals->bytes_out) + " bytes out";
  if (totals->rejected > 0) summary += ", " + std::to_string(totals->rejected) + " rejected";
  report(summary);
  return kOk;
}

}  // namespace sockit::cli
