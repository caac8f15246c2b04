// What the scan CLI tests share: loopback listeners on kernel-chosen ports, and reading the
// open ports out of grepable output.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "run_command.hpp"
#include "sockit/endpoint.hpp"
#include "sockit/tcp.hpp"

namespace sockit::test {

// Listeners on kernel-chosen loopback ports, kept open for the test.
struct Listeners {
  std::vector<TcpListener> held;
  std::set<std::uint16_t> ports;
  std::uint16_t add(const char* address = "127.0.0.1:0") {
    auto l = TcpListener::bind(*Endpoint::parse(address)).value();
    const std::uint16_t port = l.local().value().port();
    held.push_back(std::move(l));
    ports.insert(port);
    return port;
  }
};

// Open ports in grepable output: "Host: A ()\tPorts: 22/open/tcp//ssh///, ..."
inline std::set<std::uint16_t> open_ports(const std::string& grep_output) {
  std::set<std::uint16_t> out;
  for (const auto& line : lines_of(grep_output)) {
    auto at = line.find("Ports: ");
    if (at == std::string::npos) continue;
    std::string rest = line.substr(at + 7);
    for (std::size_t pos = 0; (pos = rest.find("/open/", pos)) != std::string::npos; ++pos) {
      std::size_t start = rest.rfind(' ', pos);
      start = start == std::string::npos ? 0 : start + 1;
      out.insert(static_cast<std::uint16_t>(std::stoi(rest.substr(start, pos - start))));
    }
  }
  return out;
}

inline std::string port_list(const std::set<std::uint16_t>& ports) {
  std::string out;
  for (auto p : ports)
    out += (out.empty() ? "" : ",") + std::to_string(p);
  return out;
}

}  // namespace sockit::test
