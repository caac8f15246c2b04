#include "scan_report.hpp"

#include <cstdio>

#include "json_writer.hpp"
#include "sockit/scan/port_spec.hpp"
#include "text_escape.hpp"

namespace sockit::cli {
namespace {

using scan::PortState;

bool shown(const scan::PortResult& p, const ScanShow& show) {
  switch (p.state) {
    case PortState::Open:
      return true;
    case PortState::Closed:
      return show.closed;
    case PortState::Filtered:
      return show.filtered;
  }
  return false;
}

std::string host_title(const scan::HostReport& h) {
  std::string address = h.target.address.to_string();
  if (h.target.name == address) return address;
  return h.target.name + " (" + address + ")";
}

std::string text(const scan::HostReport& h, const ScanShow& show) {
  std::string out = "sockit scan report for " + host_title(h) + "\n";
  std::string rows;
  for (const auto& p : h.ports) {
    if (!shown(p, show)) continue;
    char row[64];
    std::snprintf(row, sizeof row, "%-9s %-9s ", (std::to_string(p.port) + "/tcp").c_str(),
                  std::string(to_string(p.state)).c_str());
    rows += row;
    std::string_view service = scan::service_name(p.port);
    rows += service.empty() ? "unknown" : service;
    if (!p.banner.empty()) {
      rows += "  ";
      append_escaped(rows, p.banner);
    }
    rows += '\n';
  }
  if (!rows.empty()) out += "PORT      STATE     SERVICE\n" + rows;
  std::string hidden;
  auto add = [&hidden](std::uint32_t n, const char* what) {
    if (n == 0) return;
    if (!hidden.empty()) hidden += ", ";
    hidden += std::to_string(n) + " " + what;
  };
  if (!show.closed) add(h.closed, "closed");
  if (!show.filtered) add(h.filtered, "filtered");
  if (!hidden.empty()) out += "Not shown: " + hidden + "\n";
  if (h.open == 0 && rows.empty()) out += "No open ports\n";
  return out;
}

std::string json(const scan::HostReport& h, const ScanShow& show) {
  std::string out;
  const std::string address = h.target.address.to_string();
  for (const auto& p : h.ports) {
    if (!shown(p, show)) continue;
    JsonWriter j;
    j.begin_object().field("type", "port").field("host", h.target.name).field("address", address);
    j.field("port", std::int64_t{p.port}).field("state", to_string(p.state));
    j.field("service", scan::service_name(p.port));
    if (p.state == PortState::Filtered) {
      j.key("rtt_ms").null();
    } else {
      j.field("rtt_ms", p.rtt_us / 1000.0);
    }
    if (!p.banner.empty()) j.key("banner").bytes(p.banner);
    j.end_object();
    out += j.str() + "\n";
  }
  JsonWriter s;
  s.begin_object().field("type", "host").field("host", h.target.name).field("address", address);
  s.field("open", std::int64_t{h.open}).field("closed", std::int64_t{h.closed});
  s.field("filtered", std::int64_t{h.filtered});
  s.field("ports", std::int64_t{h.open + h.closed + h.filtered}).end_object();
  return out + s.str() + "\n";
}

std::string grep(const scan::HostReport& h, const ScanShow& show) {
  // nmap -oG: Host: ADDR (NAME)<TAB>Ports: PORT/STATE/tcp//SERVICE///, ...<TAB>Ignored State:
  // closed (N)
  const std::string address = h.target.address.to_string();
  std::string name = h.target.name == address ? "" : h.target.name;
  std::string out = "Host: " + address + " (" + name + ")\tPorts: ";
  bool first = true;
  for (const auto& p : h.ports) {
    if (!shown(p, show)) continue;
    if (!first) out += ", ";
    first = false;
    out += std::to_string(p.port) + "/" + std::string(to_string(p.state)) + "/tcp//" +
           std::string(scan::service_name(p.port)) + "///";
  }
  if (!show.closed && h.closed > 0)
    out += "\tIgnored State: closed (" + std::to_string(h.closed) + ")";
  return out + "\n";
}

}  // namespace

std::string format_host(const scan::HostReport& host, ScanFormat format, const ScanShow& show) {
  switch (format) {
    case ScanFormat::Text:
      return text(host, show);
    case ScanFormat::Json:
      return json(host, show);
    case ScanFormat::Grep:
      return grep(host, show);
  }
  return {};
}

std::string format_summary(std::size_t hosts, std::size_t ports, double seconds,
                           ScanFormat format) {
  char buf[160];
  if (format == ScanFormat::Json) return {};
  std::snprintf(buf, sizeof buf, "%sScanned %zu host%s, %zu port%s each, in %.2f s\n",
                format == ScanFormat::Grep ? "# " : "", hosts, hosts == 1 ? "" : "s", ports,
                ports == 1 ? "" : "s", seconds);
  return buf;
}

}  // namespace sockit::cli
