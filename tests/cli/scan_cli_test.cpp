// `sockit scan` driven as a user would, against listeners this test opens on loopback.
// Only 127.0.0.0/8 and ::1 are ever scanned. The machine is shared: other programs open and
// close listeners while we scan, so "nothing else is open" means nothing that a
// ListenerWatch (sampling /proc/net/tcp*) didn't see listening during the test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "flat_json.hpp"
#include "listening_ports.hpp"
#include "run_command.hpp"
#include "sockit/scan/port_spec.hpp"
#include "sockit/tcp.hpp"

namespace sockit::test {
namespace {

using namespace std::chrono_literals;
using PortSet = std::set<std::uint16_t>;

CommandResult sockit(std::vector<std::string> args, const std::string& input = {}) {
  args.insert(args.begin(), SOCKIT_BIN);
  return run_command(args, input, 60s);
}

std::string show(const PortSet& ports) {
  std::string out;
  for (auto p : ports)
    out += (out.empty() ? "" : ",") + std::to_string(p);
  return "{" + out + "}";
}

PortSet minus(const PortSet& a, const PortSet& b) {
  PortSet out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

std::string port_list(const PortSet& ports) {
  std::string out;
  for (auto p : ports)
    out += (out.empty() ? "" : ",") + std::to_string(p);
  return out;
}

// Listeners on chosen loopback ports; binding is best effort (a port may be taken).
class Listeners {
 public:
  bool add(const std::string& address, std::uint16_t port, std::string* why = nullptr) {
    auto at = Endpoint::parse(address.find(':') != std::string::npos
                                  ? "[" + address + "]:" + std::to_string(port)
                                  : address + ":" + std::to_string(port));
    auto l = TcpListener::bind(*at);
    if (!l) {
      if (why != nullptr) *why = l.error().message();
      return false;
    }
    listeners_.push_back(std::move(*l));
    ports_.insert(port);
    return true;
  }
  // A free port of the kernel's choosing.
  std::uint16_t add_any(const std::string& address = "127.0.0.1") {
    auto l = TcpListener::bind(*Endpoint::parse(address + ":0")).value();
    std::uint16_t port = l.local().value().port();
    listeners_.push_back(std::move(l));
    ports_.insert(port);
    return port;
  }
  const PortSet& ports() const { return ports_; }

 private:
  std::vector<TcpListener> listeners_;
  PortSet ports_;
};

// A port nothing listens on right now (bound, then released).
std::uint16_t closed_port() {
  auto l = TcpListener::bind(*Endpoint::parse("127.0.0.1:0")).value();
  return l.local().value().port();
}

std::pair<std::uint16_t, std::uint16_t> ephemeral_range() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned low = 32768, high = 60999;
  in >> low >> high;
  return {static_cast<std::uint16_t>(low), static_cast<std::uint16_t>(high)};
}

// --- reading the three output formats -------------------------------------------------

struct JsonScan {
  std::map<std::string, std::map<std::uint16_t, FlatJson>> ports;  // by address, by port
  std::map<std::string, FlatJson> hosts;                           // the summary lines
};

// Parses and checks every line; failures are reported against the line.
JsonScan read_json(const std::string& out) {
  JsonScan scan;
  for (const auto& line : lines_of(out)) {
    std::string error;
    auto object = parse_flat_json(line, &error);
    EXPECT_TRUE(object) << error << ": " << line;
    if (!object) continue;
    auto& o = *object;
    const std::string type = o["type"].text;
    const std::string address = o["address"].text;
    EXPECT_EQ(o["address"].kind, JsonScalar::Kind::String) << line;
    EXPECT_EQ(o["host"].kind, JsonScalar::Kind::String) << line;
    if (type == "port") {
      EXPECT_EQ(o.size(), o.contains("banner") ? 8u : 7u) << line;
      EXPECT_EQ(o["port"].kind, JsonScalar::Kind::Number) << line;
      auto port = static_cast<std::uint16_t>(std::stoul(o["port"].text));
      EXPECT_EQ(o["service"].text, scan::service_name(port)) << line;
      const std::string state = o["state"].text;
      EXPECT_TRUE(state == "open" || state == "closed" || state == "filtered") << line;
      EXPECT_EQ(o["rtt_ms"].kind,
                state == "filtered" ? JsonScalar::Kind::Null : JsonScalar::Kind::Number)
          << line;
      EXPECT_TRUE(scan.ports[address].emplace(port, o).second) << "port listed twice: " << line;
    } else if (type == "host") {
      // Discovery (more than one address) adds status, reason and latency_ms.
      EXPECT_EQ(o.size(), o.contains("status") ? 10u : 7u) << line;
      if (o.contains("status")) {
        EXPECT_EQ(o["status"].text, "up") << line;
      }
      for (const char* n : {"open", "closed", "filtered", "ports"})
        EXPECT_EQ(o[n].kind, JsonScalar::Kind::Number) << n << " in " << line;
      EXPECT_TRUE(scan.hosts.emplace(address, o).second) << "host listed twice: " << line;
    } else {
      ADD_FAILURE() << "unknown type: " << line;
    }
  }
  return scan;
}

long count(const FlatJson& host, const char* field) {
  auto it = host.find(field);
  return it == host.end() ? -1 : std::stol(it->second.text);
}

PortSet in_state(const std::map<std::uint16_t, FlatJson>& ports, const std::string& state) {
  PortSet out;
  for (const auto& [port, o] : ports)
    if (o.at("state").text == state) out.insert(port);
  return out;
}

// Open ports from the text report's rows ("8080/tcp  open      http-alt").
PortSet text_open(const std::string& out) {
  PortSet open;
  for (const auto& line : lines_of(out)) {
    unsigned port = 0;
    char state[16] = {};
    if (std::sscanf(line.c_str(), "%u/tcp %15s", &port, state) == 2 &&
        std::string(state) == "open") {
      open.insert(static_cast<std::uint16_t>(port));
    }
  }
  return open;
}

// The text row for a port, as the report lays it out.
std::string text_row(std::uint16_t port, const char* state) {
  char row[64];
  std::snprintf(row, sizeof row, "%-9s %-9s ", (std::to_string(port) + "/tcp").c_str(), state);
  auto service = scan::service_name(port);
  return row + std::string(service.empty() ? "unknown" : service);
}

bool has_line(const std::string& text, const std::string& line) {
  auto lines = lines_of(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// --- every port of loopback -----------------------------------------------------------

// Ours: port 1 (root can bind it), a few well-known ports, both edges of the ephemeral
// range, 65535, and some random ones. Each only if free.
Listeners varied_listeners() {
  Listeners l;
  std::string why;
  if (!l.add("127.0.0.1", 1, &why))
    std::cout << "note: not listening on port 1 (" << why << "): it is left out\n";
  for (std::uint16_t p : {std::uint16_t{22}, std::uint16_t{80}, std::uint16_t{443}})
    l.add("127.0.0.1", p);
  auto [low, high] = ephemeral_range();
  l.add("127.0.0.1", low);
  l.add("127.0.0.1", high);
  l.add("127.0.0.1", 65535);
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<unsigned> any(2, 65534);
  for (int i = 0; i < 12; ++i)
    l.add("127.0.0.1", static_cast<std::uint16_t>(any(rng)));
  for (int i = 0; i < 3; ++i)
    l.add_any();
  return l;
}

TEST(ScanCli, EveryPortOfLoopbackJsonTextAndGrepAgree) {
  ListenerWatch watch;
  Listeners ours = varied_listeners();
  ASSERT_GE(ours.ports().size(), 5u) << show(ours.ports());

  auto json = sockit({"scan", "127.0.0.1", "-p-", "-o", "json"});
  auto text = sockit({"scan", "127.0.0.1", "-p-"});
  auto grep = sockit({"scan", "127.0.0.1", "-p-", "-o", "grep"});
  const PortSet seen = watch.ever();
  const PortSet steady = watch.always();  // listening throughout: must be found by all three

  // JSON: every line parses; ours are open; anything else open was seen listening.
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(json.err, "");
  JsonScan j = read_json(json.out);
  ASSERT_EQ(j.hosts.size(), 1u) << json.out;
  const FlatJson& host = j.hosts["127.0.0.1"];
  EXPECT_EQ(host.at("host").text, "127.0.0.1");
  EXPECT_EQ(lines_of(json.out).back().find(R"({"type":"host",)"), 0u) << "summary comes last";
  const PortSet json_open = in_state(j.ports["127.0.0.1"], "open");
  EXPECT_EQ(json_open.size(), j.ports["127.0.0.1"].size()) << "only open ports are listed";
  EXPECT_EQ(minus(ours.ports(), json_open), PortSet{}) << "ours not found open";
  EXPECT_EQ(minus(json_open, seen), PortSet{}) << "open, yet nothing listened there";
  EXPECT_EQ(minus(steady, json_open), PortSet{}) << "steady listeners not found";
  EXPECT_EQ(count(host, "open"), static_cast<long>(json_open.size()));
  EXPECT_EQ(count(host, "filtered"), 0);
  EXPECT_EQ(count(host, "open") + count(host, "closed"), 65535);
  EXPECT_EQ(count(host, "ports"), 65535);

  // Text: the same ports (up to the listeners that came and went between the scans).
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.err, "");
  const PortSet text_ports = text_open(text.out);
  EXPECT_EQ(minus(ours.ports(), text_ports), PortSet{});
  EXPECT_EQ(minus(text_ports, seen), PortSet{});
  EXPECT_EQ(minus(steady, text_ports), PortSet{});
  EXPECT_EQ(minus(minus(text_ports, json_open), minus(seen, steady)), PortSet{})
      << "text and JSON disagree on a steady port";
  auto lines = lines_of(text.out);
  ASSERT_GE(lines.size(), 6u) << text.out;
  EXPECT_EQ(lines[0], "sockit scan report for 127.0.0.1");
  EXPECT_EQ(lines[1], "PORT      STATE     SERVICE");
  for (auto p : ours.ports())
    EXPECT_TRUE(has_line(text.out, text_row(p, "open"))) << text_row(p, "open") << "\n" << text.out;
  EXPECT_EQ(lines[2 + text_ports.size()],
            "Not shown: " + std::to_string(65535 - text_ports.size()) + " closed");
  EXPECT_EQ(lines[3 + text_ports.size()], "");
  EXPECT_EQ(lines[4 + text_ports.size()].rfind("Scanned 1 host, 65535 ports each, in ", 0), 0u);
  EXPECT_EQ(lines.size(), 5 + text_ports.size()) << text.out;

  // Grep: one line for the host, a comment with the totals.
  ASSERT_EQ(grep.exit_code, 0) << grep.err;
  auto g = lines_of(grep.out);
  ASSERT_EQ(g.size(), 2u) << grep.out;
  const std::string prefix = "Host: 127.0.0.1 ()\tPorts: ";
  ASSERT_EQ(g[0].rfind(prefix, 0), 0u) << g[0];
  PortSet grep_open;
  std::string rest = g[0].substr(prefix.size(), g[0].find('\t', prefix.size()) - prefix.size());
  std::istringstream entries(rest);
  for (std::string e; std::getline(entries, e, ',');) {
    if (e.starts_with(" ")) e.erase(0, 1);
    auto port = static_cast<std::uint16_t>(std::stoul(e));
    EXPECT_EQ(e,
              std::to_string(port) + "/open/tcp//" + std::string(scan::service_name(port)) + "///");
    grep_open.insert(port);
  }
  EXPECT_EQ(minus(ours.ports(), grep_open), PortSet{});
  EXPECT_EQ(minus(grep_open, seen), PortSet{});
  EXPECT_TRUE(
      g[0].ends_with("\tIgnored State: closed (" + std::to_string(65535 - grep_open.size()) + ")"))
      << g[0];
  EXPECT_EQ(g[1].rfind("# Scanned 1 host, 65535 ports each, in ", 0), 0u) << g[1];
}

// Linux connects a loopback socket to itself when the port probed is the ephemeral port
// the probe was given: the scanner must not call that open. Each scan of the whole
// ephemeral range meets about one such port (scan_netns_test.sh narrows the range to make
// it certain).
TEST(ScanCli, EphemeralPortsWithNothingListeningAreNotOpen) {
  ListenerWatch watch;
  auto [low, last] = ephemeral_range();
  const std::string spec = std::to_string(low) + "-" + std::to_string(last);
  for (int run = 0; run < 3; ++run) {
    auto r = sockit({"scan", "127.0.0.1", "-p", spec, "-o", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    JsonScan j = read_json(r.out);
    EXPECT_EQ(minus(in_state(j.ports["127.0.0.1"], "open"), watch.ever()), PortSet{})
        << "run " << run;
    EXPECT_EQ(count(j.hosts["127.0.0.1"], "ports"), last - low + 1);
    EXPECT_EQ(count(j.hosts["127.0.0.1"], "filtered"), 0);
  }
}

TEST(ScanCli, ShowClosedListsClosedPorts) {
  Listeners ours;
  const std::uint16_t open = ours.add_any();
  const std::uint16_t shut1 = closed_port(), shut2 = closed_port();
  const std::string ports = port_list({open, shut1, shut2});
  auto r = sockit({"scan", "127.0.0.1", "-p", ports, "--show", "closed"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has_line(r.out, text_row(open, "open"))) << r.out;
  EXPECT_TRUE(has_line(r.out, text_row(shut1, "closed"))) << r.out;
  EXPECT_TRUE(has_line(r.out, text_row(shut2, "closed"))) << r.out;
  EXPECT_EQ(r.out.find("Not shown"), std::string::npos) << r.out;

  auto json = sockit({"scan", "127.0.0.1", "-p", ports, "--show", "closed", "-o", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  JsonScan j = read_json(json.out);
  EXPECT_EQ(in_state(j.ports["127.0.0.1"], "open"), PortSet{open});
  EXPECT_EQ(in_state(j.ports["127.0.0.1"], "closed"), (PortSet{shut1, shut2}));
  EXPECT_EQ(count(j.hosts["127.0.0.1"], "closed"), 2);

  auto grep = sockit({"scan", "127.0.0.1", "-p", ports, "--show", "closed", "-o", "grep"});
  ASSERT_EQ(grep.exit_code, 0) << grep.err;
  EXPECT_NE(grep.out.find(std::to_string(shut1) + "/closed/tcp//"), std::string::npos);
  EXPECT_EQ(grep.out.find("Ignored State"), std::string::npos) << grep.out;

  auto hidden = sockit({"scan", "127.0.0.1", "-p", port_list({shut1, shut2})});
  ASSERT_EQ(hidden.exit_code, 0) << hidden.err;
  EXPECT_EQ(hidden.out.find("PORT"), std::string::npos) << hidden.out;
  EXPECT_TRUE(has_line(hidden.out, "Not shown: 2 closed")) << hidden.out;
  EXPECT_TRUE(has_line(hidden.out, "No open ports")) << hidden.out;
  EXPECT_TRUE(has_line(hidden.out, "Scanned 1 host, 2 ports each, in ") ||
              hidden.out.find("\nScanned 1 host, 2 ports each, in ") != std::string::npos)
      << hidden.out;
}

TEST(ScanCli, Ipv6Loopback) {
  Listeners ours;
  std::uint16_t open = 0;
  auto l = TcpListener::bind(*Endpoint::parse("[::1]:0"));
  if (!l) GTEST_SKIP() << "no IPv6 loopback: " << l.error().message();
  open = l->local().value().port();
  const std::uint16_t shut = closed_port();
  auto r = sockit({"scan", "::1", "-p", port_list({open, shut}), "-o", "json", "--show", "closed"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  JsonScan j = read_json(r.out);
  EXPECT_EQ(in_state(j.ports["::1"], "open"), PortSet{open}) << r.out;
  EXPECT_EQ(count(j.hosts["::1"], "open"), 1);
  EXPECT_EQ(count(j.hosts["::1"], "filtered"), 0);
}

// --- banners ----------------------------------------------------------------------------

// Accepts connections and greets each with `greeting`, until destroyed.
class Greeter {
 public:
  explicit Greeter(std::string greeting)
      : listener_(TcpListener::bind(*Endpoint::parse("127.0.0.1:0")).value()),
        port_(listener_.local().value().port()),
        greeting_(std::move(greeting)),
        thread_([this] { run(); }) {}
  ~Greeter() {
    stop_ = true;
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  void run() {
    while (!stop_) {
      auto accepted = listener_.accept(50ms);
      if (!accepted) continue;
      (void)accepted->stream.send_all(greeting_);
    }
  }
  TcpListener listener_;
  std::uint16_t port_;
  std::string greeting_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(ScanCli, BannerShownInTextAndJson) {
  Greeter ssh("SSH-2.0-test\r\n");
  Listeners quiet;
  const std::uint16_t silent = quiet.add_any();
  const std::string ports = port_list({ssh.port(), silent});

  auto text = sockit({"scan", "127.0.0.1", "-p", ports, "--banner"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(has_line(text.out, text_row(ssh.port(), "open") + "  SSH-2.0-test")) << text.out;
  EXPECT_TRUE(has_line(text.out, text_row(silent, "open"))) << "no banner, no suffix\n" << text.out;

  auto json = sockit({"scan", "127.0.0.1", "-p", ports, "--banner", "-o", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  JsonScan j = read_json(json.out);
  auto& found = j.ports["127.0.0.1"];
  ASSERT_TRUE(found.contains(ssh.port())) << json.out;
  EXPECT_EQ(found[ssh.port()]["banner"].text, "SSH-2.0-test");
  ASSERT_TRUE(found.contains(silent)) << json.out;
  EXPECT_FALSE(found[silent].contains("banner")) << json.out;

  auto without = sockit({"scan", "127.0.0.1", "-p", ports});
  EXPECT_EQ(without.out.find("SSH-2.0"), std::string::npos) << "banners only with --banner";
}

// --- targets ------------------------------------------------------------------------------

// Two loopback hosts: one listener on each address.
struct TwoHosts {
  Listeners on1, on2;
  std::uint16_t p1 = on1.add_any("127.0.0.1");
  std::uint16_t p2 = on2.add_any("127.0.0.2");
  std::string ports = port_list({p1, p2});
};

void expect_two_hosts(const CommandResult& r, const TwoHosts& h) {
  ASSERT_EQ(r.exit_code, 0) << r.err;
  JsonScan j = read_json(r.out);
  EXPECT_EQ(j.hosts.size(), 2u) << r.out;
  EXPECT_EQ(in_state(j.ports["127.0.0.1"], "open"), PortSet{h.p1}) << r.out;
  EXPECT_EQ(in_state(j.ports["127.0.0.2"], "open"), PortSet{h.p2}) << r.out;
  EXPECT_EQ(count(j.hosts["127.0.0.2"], "closed"), 1);
}

TEST(ScanCli, TargetsFromAFile) {
  TwoHosts h;
  char path[] = "/tmp/sockit-scan-targets-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string list = "# loopback only\n127.0.0.1\n\n  127.0.0.2   # the second\n";
  ASSERT_EQ(::write(fd, list.data(), list.size()), static_cast<ssize_t>(list.size()));
  ::close(fd);
  auto r = sockit({"scan", "-iL", path, "-p", h.ports, "-o", "json"});
  ::unlink(path);
  expect_two_hosts(r, h);

  auto missing = sockit({"scan", "-iL", "/nonexistent/sockit-targets", "-p", "80"});
  EXPECT_EQ(missing.exit_code, 64);
  EXPECT_EQ(missing.err.rfind("sockit: read /nonexistent/sockit-targets: ", 0), 0u) << missing.err;
}

TEST(ScanCli, TargetsFromStdin) {
  TwoHosts h;
  auto r = sockit({"scan", "-iL", "-", "-p", h.ports, "-o", "json"}, "127.0.0.1 127.0.0.2\n");
  expect_two_hosts(r, h);
  auto both = sockit({"scan", "127.0.0.1", "-iL", "-", "-p", h.ports, "-o", "json"}, "127.0.0.2\n");
  expect_two_hosts(both, h);
}

TEST(ScanCli, ExcludeLeavesHostsOut) {
  TwoHosts h;
  for (const char* exclude : {"127.0.0.2", "127.0.0.2/32,127.0.0.9", "127.0.0.2-3"}) {
    auto r = sockit({"scan", "127.0.0.1-2", "-p", h.ports, "-o", "json", "--exclude", exclude});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    JsonScan j = read_json(r.out);
    EXPECT_EQ(j.hosts.size(), 1u) << exclude << "\n" << r.out;
    EXPECT_TRUE(j.hosts.contains("127.0.0.1")) << r.out;
    EXPECT_EQ(in_state(j.ports["127.0.0.1"], "open"), PortSet{h.p1});
  }
  auto all = sockit({"scan", "127.0.0.1-2", "-p", h.ports, "-o", "json"});
  expect_two_hosts(all, h);
}

TEST(ScanCli, ExcludePortsLeavesPortsOut) {
  Listeners ours;
  const std::uint16_t a = ours.add_any(), b = ours.add_any();
  auto r = sockit({"scan", "127.0.0.1", "-p", port_list({a, b}), "--exclude-ports",
                   std::to_string(b), "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  JsonScan j = read_json(r.out);
  EXPECT_EQ(in_state(j.ports["127.0.0.1"], "open"), PortSet{a});
  EXPECT_EQ(count(j.hosts["127.0.0.1"], "ports"), 1);

  auto none = sockit({"scan", "127.0.0.1", "-p", "80", "--exclude-ports", "1-1024"});
  EXPECT_EQ(none.exit_code, 64);
  EXPECT_EQ(none.err, "sockit: no ports left to scan\n");
  EXPECT_EQ(none.out, "");
}

TEST(ScanCli, ServiceNamesAsPorts) {
  auto r = sockit({"scan", "127.0.0.1", "-p", "ssh,http", "-o", "json", "--show", "closed"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  JsonScan j = read_json(r.out);
  EXPECT_EQ(count(j.hosts["127.0.0.1"], "ports"), 2);
  for (std::uint16_t p : {std::uint16_t{22}, std::uint16_t{80}}) {
    ASSERT_TRUE(j.ports["127.0.0.1"].contains(p)) << r.out;  // open or closed, both listed
    EXPECT_EQ(j.ports["127.0.0.1"][p]["service"].text, p == 22 ? "ssh" : "http");
  }
}

TEST(ScanCli, NamesAndFamilies) {
  Listeners ours;
  const std::uint16_t open = ours.add_any();
  const std::string port = std::to_string(open);
  auto text = sockit({"scan", "-4", "localhost", "-p", port});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(lines_of(text.out).at(0), "sockit scan report for localhost (127.0.0.1)");
  EXPECT_TRUE(has_line(text.out, text_row(open, "open"))) << text.out;
  auto grep = sockit({"scan", "-4", "localhost", "-p", port, "-o", "grep"});
  EXPECT_EQ(lines_of(grep.out).at(0).rfind(
                "Host: 127.0.0.1 (localhost)\tPorts: " + port + "/open/tcp//", 0),
            0u)
      << grep.out;
  auto json = sockit({"scan", "-4", "localhost", "-p", port, "-o", "json"});
  auto first = parse_flat_json(lines_of(json.out).at(0));
  ASSERT_TRUE(first) << json.out;
  EXPECT_EQ((*first)["host"].text, "localhost");
  EXPECT_EQ((*first)["address"].text, "127.0.0.1");

  // An address of the wrong family is a name that doesn't resolve: 68 alone, 1 among others.
  auto alone = sockit({"scan", "-6", "127.0.0.1", "-p", port});
  EXPECT_EQ(alone.exit_code, 68) << alone.err;
  EXPECT_EQ(alone.out, "");
  EXPECT_EQ(alone.err, "sockit: resolve 127.0.0.1: Address family for hostname not supported\n");
  auto some = sockit({"scan", "-6", "127.0.0.1", "::1", "-p", port, "-o", "grep"});
  EXPECT_EQ(some.exit_code, 1) << some.err;
  EXPECT_EQ(some.err, alone.err);
  EXPECT_EQ(lines_of(some.out).at(0).rfind("Host: ::1 ()\tPorts: ", 0), 0u) << some.out;
}

// --- mistakes: 64 and one line on stderr, nothing scanned --------------------------------

void expect_usage_error(const CommandResult& r, const std::string& message) {
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "sockit: " + message + "\n");
}

TEST(ScanCli, BadPortSpecs) {
  expect_usage_error(sockit({"scan", "127.0.0.1", "-p", "90-80"}),
                     "invalid port list '90-80': invalid range");
  expect_usage_error(sockit({"scan", "127.0.0.1", "-p", "70000"}),
                     "invalid port list '70000': port out of range (0-65535)");
  expect_usage_error(sockit({"scan", "127.0.0.1", "-p", "1,,2"}),
                     "invalid port list '1,,2': empty input");
  expect_usage_error(sockit({"scan", "127.0.0.1", "-p", "no-such-service-xyz"}),
                     "invalid port list 'no-such-service-xyz': unknown name");
  expect_usage_error(sockit({"scan", "127.0.0.1", "-p", "80", "--exclude-ports", "9-1"}),
                     "invalid port list '9-1': invalid range");
}

TEST(ScanCli, BadTargets) {
  expect_usage_error(sockit({"scan", "127.0.0.1-300", "-p", "80"}),
                     "invalid target '127.0.0.1-300': not a valid IPv4 address");
  expect_usage_error(sockit({"scan", "127.0.0.20-1", "-p", "80"}),
                     "invalid target '127.0.0.20-1': invalid range");
  expect_usage_error(sockit({"scan", "127.0.0.1/33", "-p", "80"}),
                     "invalid target '127.0.0.1/33': invalid range");
  // A malformed target anywhere stops everything before a probe is sent.
  expect_usage_error(sockit({"scan", "127.0.0.1", "127.0.0.1-300", "-p", "80"}),
                     "invalid target '127.0.0.1-300': not a valid IPv4 address");
  expect_usage_error(sockit({"scan", "127.0.0.1", "-p", "80", "--exclude", "127.0.0.9-1"}),
                     "invalid target '127.0.0.9-1': invalid range");
  auto empty = sockit({"scan", "", "-p", "80"});
  EXPECT_EQ(empty.exit_code, 64) << empty.err;
  EXPECT_EQ(empty.err.rfind("sockit: ", 0), 0u);
}

TEST(ScanCli, NoTarget) {
  expect_usage_error(sockit({"scan", "-p", "80"}), "scan needs at least one target");
  expect_usage_error(sockit({"scan", "-iL", "-"}, "# nothing here\n"),
                     "scan needs at least one target");
}

TEST(ScanCli, LargeTargetsNeedAllowLarge) {
  // 127.0.0.0/15 is 131072 loopback hosts: refused before any probe.
  auto r = sockit({"scan", "127.0.0.0/15", "-p", "80"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--allow-large"), std::string::npos) << r.err;
  EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  // Two blocks of 65536, each allowed alone, add up to too many.
  auto sum = sockit({"scan", "127.0.0.0/16", "127.1.0.0/16", "-p", "80"});
  expect_usage_error(sum, "targets add up to more than 65536 hosts (use --allow-large)");
  // Even --allow-large stops at 2^20 hosts.
  auto huge = sockit({"scan", "127.0.0.0/8", "-p", "80", "--allow-large"});
  EXPECT_EQ(huge.exit_code, 64);
  EXPECT_NE(huge.err.find("at most 1048576"), std::string::npos) << huge.err;
}

TEST(ScanCli, BadOptions) {
  expect_usage_error(sockit({"scan", "127.0.0.1", "-p", "80", "--show", "open"}),
                     "--show 'open': expected closed and/or filtered");
  for (auto args :
       std::vector<std::vector<std::string>>{{"scan", "127.0.0.1", "-p", "80", "-o", "xml"},
                                             {"scan", "127.0.0.1", "-p", "80", "--retries", "11"},
                                             {"scan", "127.0.0.1", "-p", "80", "--timeout", "0"},
                                             {"scan", "127.0.0.1", "-p", "80", "-4", "-6"},
                                             {"scan", "127.0.0.1", "--no-such-option"}}) {
    auto r = sockit(args);
    EXPECT_EQ(r.exit_code, 64) << args.back() << ": " << r.err;
    EXPECT_EQ(r.err.rfind("sockit: ", 0), 0u) << r.err;
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

}  // namespace
}  // namespace sockit::test
