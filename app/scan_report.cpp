#include "scan_report.hpp"

#include <algorithm>
#include <cstdio>

#include "json_writer.hpp"
#include "output.hpp"
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

std::string_view service_or_unknown(std::uint16_t port) {
  std::string_view service = scan::service_name(port);
  return service.empty() ? "unknown" : service;
}

std::string host_title(const scan::Target& t) {
  std::string address = t.address.to_string();
  if (t.name == address || t.name.empty()) return address;
  return t.name + " (" + address + ")";
}

// "Host is up (0.12 ms latency, echo-reply)."
std::string up_line(const scan::HostResult& h) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "Host is up (%.2f ms latency, %s).\n", h.latency_us / 1000.0,
                std::string(h.reason).c_str());
  return buf;
}

std::string text(const scan::HostResult& h, const std::vector<scan::PortResult>& ports,
                 const ScanShow& show) {
  std::string out = "sockit scan report for " + host_title(h.target) + "\n";
  if (h.status == scan::HostStatus::Up) out += up_line(h);
  if (h.ports == 0) return out;  // discovery only
  std::string rows;
  for (const auto& p : ports) {
    if (!shown(p, show)) continue;
    char row[64];
    std::snprintf(row, sizeof row, "%-9s %-9s ", (std::to_string(p.port) + "/tcp").c_str(),
                  std::string(to_string(p.state)).c_str());
    rows += row;
    rows += service_or_unknown(p.port);
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
  if (!h.complete) {
    out += "Interrupted: " + std::to_string(h.open + h.closed + h.filtered) + " of " +
           std::to_string(h.ports) + " ports scanned\n";
  }
  return out;
}

std::string json_port(const scan::Target& t, const scan::PortResult& p) {
  JsonWriter j;
  j.begin_object()
      .field("type", "port")
      .field("host", t.name)
      .field("address", t.address.to_string());
  j.field("port", std::int64_t{p.port}).field("state", to_string(p.state));
  j.field("service", scan::service_name(p.port));
  if (p.state == PortState::Filtered) {
    j.key("rtt_ms").null();
  } else {
    j.field("rtt_ms", p.rtt_us / 1000.0);
  }
  if (!p.banner.empty()) j.key("banner").bytes(p.banner);
  j.end_object();
  return j.str() + "\n";
}

std::string json_host(const scan::HostResult& h) {
  JsonWriter s;
  s.begin_object().field("type", "host").field("host", h.target.name);
  s.field("address", h.target.address.to_string());
  if (h.status != scan::HostStatus::Unknown) {
    s.field("status", scan::to_string(h.status)).field("reason", h.reason);
    s.field("latency_ms", h.latency_us / 1000.0);
  }
  if (h.ports > 0) {
    s.field("open", std::int64_t{h.open}).field("closed", std::int64_t{h.closed});
    s.field("filtered", std::int64_t{h.filtered});
    s.field("ports", std::int64_t{h.open + h.closed + h.filtered});
  }
  if (!h.complete) s.field("complete", false);
  s.end_object();
  return s.str() + "\n";
}

std::string grep(const scan::HostResult& h, const std::vector<scan::PortResult>& ports,
                 const ScanShow& show) {
  // nmap -oG: Host: ADDR (NAME)<TAB>Ports: PORT/STATE/tcp//SERVICE///, ...<TAB>Ignored State:
  // closed (N)
  const std::string address = h.target.address.to_string();
  std::string name = h.target.name == address ? "" : h.target.name;
  std::string out = "Host: " + address + " (" + name + ")\t";
  if (h.ports == 0) return out + "Status: Up\n";
  out += "Ports: ";
  bool first = true;
  for (const auto& p : ports) {
    if (!shown(p, show)) continue;
    if (!first) out += ", ";
    first = false;
    out += std::to_string(p.port) + "/" + std::string(to_string(p.state)) + "/tcp//" +
           std::string(scan::service_name(p.port)) + "///";
  }
  if (!show.closed && h.closed > 0)
    out += "\tIgnored State: closed (" + std::to_string(h.closed) + ")";
  if (!h.complete) out += "\tStatus: Interrupted";
  return out + "\n";
}

}  // namespace

void ScanWriter::port(std::uint64_t host, const scan::Target& target,
                      const scan::PortResult& result) {
  if (format_ == ScanFormat::Json) {
    if (shown(result, show_)) out_ += json_port(target, result);
    return;
  }
  if (shown(result, show_)) held_[host].push_back(result);
}

void ScanWriter::host(const scan::HostResult& host) {
  if (host.status == scan::HostStatus::Down) return;  // counted in the summary, not listed
  std::vector<scan::PortResult> ports;
  if (auto it = held_.find(host.index); it != held_.end()) {
    ports = std::move(it->second);
    held_.erase(it);
  }
  std::sort(ports.begin(), ports.end(),
            [](const scan::PortResult& a, const scan::PortResult& b) { return a.port < b.port; });
  switch (format_) {
    case ScanFormat::Text:
      if (hosts_written_ > 0) out_ += '\n';
      out_ += text(host, ports, show_);
      break;
    case ScanFormat::Json:
      out_ += json_host(host);
      break;
    case ScanFormat::Grep:
      out_ += grep(host, ports, show_);
      break;
  }
  ++hosts_written_;
}

void ScanWriter::flush() {
  if (out_.empty()) return;
  if (clear_progress_) write_fully(2, "\r\033[K");
  write_out(out_);
  out_.clear();
}

void ScanWriter::summary(const scan::ScanSummary& s, std::uint64_t hosts_total) {
  if (format_ == ScanFormat::Json || hosts_total == 0) return;
  const double seconds = std::chrono::duration<double>(s.elapsed).count();
  const auto hosts = static_cast<unsigned long long>(s.interrupted ? s.hosts : hosts_total);
  std::string line = format_ == ScanFormat::Grep ? "# " : "";
  line += "Scanned " + std::to_string(hosts) + (hosts == 1 ? " host" : " hosts");
  if (s.discovered) line += " (" + std::to_string(s.hosts_up) + " up)";
  if (s.ports > 0) {
    line += ", " + std::to_string(s.ports) + (s.ports == 1 ? " port" : " ports") + " each,";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, " in %.2f s%s\n", seconds, s.interrupted ? " (interrupted)" : "");
  line += buf;
  if (format_ == ScanFormat::Text) out_ += '\n';
  out_ += line;
  flush();
}

}  // namespace sockit::cli
