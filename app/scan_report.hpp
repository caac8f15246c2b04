// Writing scan results as they come: nmap-like text, JSON Lines, or one grepable line per
// host. JSON writes each port the moment it is decided; text and grep are per-host formats,
// so they hold a host's shown ports until the host is done (bounded by the hosts the scan
// has in progress), then write its block.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "sockit/scan/scanner.hpp"

namespace sockit::cli {

enum class ScanFormat { Text, Json, Grep };

struct ScanShow {
  bool closed = false;
  bool filtered = false;
};

class ScanWriter final : public scan::ScanSink {
 public:
  // `clear_progress`: a progress line is drawn on the terminal; erase it before writing.
  ScanWriter(ScanFormat format, ScanShow show, bool clear_progress = false)
      : format_(format), show_(show), clear_progress_(clear_progress) {}

  void port(std::uint64_t host, const scan::Target& target,
            const scan::PortResult& result) override;
  void host(const scan::HostResult& host) override;
  void flush() override;

  // The closing summary, after the last host.
  void summary(const scan::ScanSummary& summary, std::uint64_t hosts_total);
  std::uint64_t hosts_written() const noexcept { return hosts_written_; }

 private:
  ScanFormat format_;
  ScanShow show_;
  bool clear_progress_;
  std::string out_;
  std::unordered_map<std::uint64_t, std::vector<scan::PortResult>> held_;  // text, grep
  std::uint64_t hosts_written_ = 0;
};

}  // namespace sockit::cli
