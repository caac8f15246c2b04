#include "connect_command.hpp"

#include <CLI/CLI.hpp>
#include <csignal>

#include "exit_codes.hpp"
#include "listen_address.hpp"
#include "sockit/event_loop.hpp"
#include "sockit/relay.hpp"
#include "sockit/resolve.hpp"
#include "sockit/tcp.hpp"
#include "sockit/udp.hpp"
#include "sockit/unix.hpp"

namespace sockit::cli {
namespace {

// A connected socket of whichever kind was asked for, kept alive while the relay runs.
struct Connection {
  UniqueFd fd;
  std::string peer;
  std::string local;
};

Result<Connection> open_connection(const ConnectOptions& o) {
  const Timeout timeout = o.wait > 0 ? seconds_to_ms(o.wait) : Timeout(-1);
  if (!o.unix_path.empty()) {
    auto at = parse_unix_option(o.unix_path);
    if (!at) return std::move(at).error();
    auto stream = UnixStream::connect(*at, {.timeout = timeout, .nonblocking = true});
    if (!stream) return std::move(stream).error();
    return Connection{stream->release(), at->to_string(), "unix:(unnamed)"};
  }
  auto port = parse_port(o.port);
  if (!port) return std::move(port).error();
  const Family family = o.v4_only ? Family::V4 : o.v6_only ? Family::V6 : Family::Any;
  auto resolved = resolve(o.host, family);
  if (!resolved) return std::move(resolved).error();

  std::optional<Error> first_error;
  for (const IpAddress& address : resolved->addresses) {
    const Endpoint to(address, *port);
    Result<UniqueFd> fd = Error();
    Result<Endpoint> local = Error();
    if (o.udp) {
      auto udp = UdpSocket::open(address.family(), {.nonblocking = true});
      if (udp) {
        if (auto c = udp->connect(to); !c) {
          fd = std::move(c).error();
        } else {
          local = udp->local();
          fd = udp->release();
        }
      } else {
        fd = std::move(udp).error();
      }
    } else {
      auto tcp = TcpStream::connect(to, {.timeout = timeout, .nonblocking = true});
      if (tcp) {
        local = tcp->local();
        fd = tcp->release();
      } else {
        fd = std::move(tcp).error();
      }
    }
    if (fd) {
      return Connection{std::move(*fd), to.to_string(),
                        local ? local->to_string() : std::string("?")};
    }
    if (!first_error) first_error = std::move(fd).error();
  }
  return *first_error;
}

}  // namespace

void add_connect_command(CLI::App& app, ConnectOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "connect", "Connect and copy stdin to the socket and the socket to stdout");
  cmd->add_option("host", o.host, "Host name or address");
  cmd->add_option("port", o.port, "Port number");
  cmd->add_option("--unix", o.unix_path, "Connect to a Unix socket: a path, or @name")
      ->check(check_unix_option);
  cmd->add_flag("-u,--udp", o.udp, "UDP: each chunk of input is one datagram");
  cmd->add_flag("--crlf", o.crlf, "Send line ends as CRLF");
  cmd->add_option("-w,--wait", o.wait, "Connect timeout in seconds, per address tried")
      ->check(CLI::PositiveNumber);
  cmd->add_option("-i,--idle-timeout", o.idle_timeout,
                  "End the session after SECS with nothing sent or received")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--send", o.send_text,
                  "Send TEXT and a newline instead of reading stdin, then print the reply");
  auto* v4 = cmd->add_flag("-4", o.v4_only, "IPv4 only");
  cmd->add_flag("-6", o.v6_only, "IPv6 only")->excludes(v4);
  cmd->add_flag("-v,--verbose", o.verbose, "Say where we connected (on stderr)");
  cmd->callback([&o, cmd] { o.send_given = cmd->count("--send") > 0; });
}

int run_connect(const ConnectOptions& o) {
  if (o.unix_path.empty() && (o.host.empty() || o.port.empty())) {
    return report("connect needs HOST PORT, or --unix PATH"), kUsage;
  }
  if (!o.unix_path.empty() && (!o.host.empty() || o.udp)) {
    return report("give either HOST PORT or --unix PATH (stream), not both"), kUsage;
  }
  if (auto port = parse_port(o.port); o.unix_path.empty() && !port) {
    return report(port.error()), kUsage;
  }
  // Ctrl+C and SIGTERM end the session through the loop; blocked before anything else so
  // that no thread the resolver might start receives them instead.
  auto created = EventLoop::create();
  if (!created) return report(created.error()), exit_code_for(created.error());
  EventLoop& loop = **created;
  int stopped_by = 0;
  auto on_stop = [&loop, &stopped_by](int signo) {
    stopped_by = signo;
    loop.stop();
  };
  auto sigint = loop.on_signal(SIGINT, on_stop);
  auto sigterm = loop.on_signal(SIGTERM, on_stop);

  auto connection = open_connection(o);
  if (!connection) return report(connection.error()), exit_code_for(connection.error());
  if (o.verbose) {
    std::string line = "connected to " + connection->peer + " from " + connection->local + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  }

  RelayOptions options;
  options.crlf = o.crlf;
  options.datagram = o.udp;
  options.idle_timeout = seconds_to_ms(o.idle_timeout);
  if (o.udp && o.idle_timeout > 0) options.datagram_linger = seconds_to_ms(o.idle_timeout);
  if (o.send_given) options.input_text = o.send_text + "\n";
  auto result = relay(loop, 0, 1, connection->fd.get(), options, connection->peer);
  if (stopped_by != 0) return 128 + stopped_by;
  if (!result) return report(result.error()), exit_code_for(result.error());
  return kOk;
}

}  // namespace sockit::cli
