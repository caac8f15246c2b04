// Writing scan results: nmap-like text, JSON Lines, or one grepable line per host.
#pragma once

#include <string>
#include <vector>

#include "sockit/scan/scanner.hpp"

namespace sockit::cli {

enum class ScanFormat { Text, Json, Grep };

struct ScanShow {
  bool closed = false;
  bool filtered = false;
};

std::string format_host(const scan::HostReport& host, ScanFormat format, const ScanShow& show);
std::string format_summary(std::size_t hosts, std::size_t ports, double seconds, ScanFormat format);

}  // namespace sockit::cli
