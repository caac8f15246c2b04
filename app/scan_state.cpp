#include "scan_state.hpp"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <system_error>

namespace sockit::cli {
namespace {

constexpr std::string_view kMagic = "sockit-scan-state 1";

std::string escape_arg(std::string_view arg) {
  std::string out;
  for (char c : arg) {
    if (c == '%')
      out += "%25";
    else if (c == '\n')
      out += "%0A";
    else if (c == '\r')
      out += "%0D";
    else
      out += c;
  }
  return out;
}

bool unescape_arg(std::string_view text, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const std::string_view code = text.substr(i + 1, 2);
    if (code == "25")
      out += '%';
    else if (code == "0A")
      out += '\n';
    else if (code == "0D")
      out += '\r';
    else
      return false;
    i += 2;
  }
  return true;
}

template <class T>
bool parse_number(std::string_view text, T& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::string join_ports(const std::vector<std::uint16_t>& ports) {
  if (ports.empty()) return "-";
  std::string out;
  for (std::uint16_t p : ports) {
    if (!out.empty()) out += ',';
    out += std::to_string(p);
  }
  return out;
}

bool split_ports(std::string_view text, std::vector<std::uint16_t>& ports) {
  ports.clear();
  if (text == "-") return true;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::uint16_t port = 0;
    if (!parse_number(text.substr(0, comma), port)) return false;
    ports.push_back(port);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (text.empty()) return false;
  }
  return true;
}

// "host 12 scan 3 80,443" or "host 13 discover", without the leading "host ".
bool parse_host(std::string_view rest, scan::ScanCheckpoint::Host& host) {
  std::istringstream words{std::string(rest)};
  std::string position, kind, issued, pending, extra;
  words >> position >> kind;
  if (!parse_number(position, host.position)) return false;
  if (kind == "discover") {
    host.discover = true;
    return !(words >> extra);
  }
  if (kind != "scan" || !(words >> issued >> pending) || (words >> extra)) return false;
  return parse_number(issued, host.issued) && split_ports(pending, host.pending);
}

}  // namespace

Result<void> write_scan_state(const std::string& path, const ScanState& state) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    if (!out) return Error::from_errno("write " + path);
    out << "# sockit scan: what an interrupted scan left. Go on with: sockit scan --resume " << path
        << "\n"
        << kMagic << "\n";
    for (const auto& arg : state.args)
      out << "arg " << escape_arg(arg) << "\n";
    const auto& c = state.checkpoint;
    out << "hosts " << state.hosts << "\nports " << state.ports << "\nseed " << c.seed << "\nnext "
        << c.next_host << "\n";
    for (const auto& h : c.hosts) {
      out << "host " << h.position;
      if (h.discover)
        out << " discover\n";
      else
        out << " scan " << h.issued << " " << join_ports(h.pending) << "\n";
    }
    out.flush();
    if (!out) {
      const int err = errno;
      std::remove(temporary.c_str());
      return Error::from_errno(err != 0 ? err : EIO, "write " + path);
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(temporary.c_str());
    return Error::from_errno(err, "write " + path);
  }
  return {};
}

Result<ScanState> read_scan_state(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::from_errno("read " + path);
  auto bad = [&](std::size_t line, std::string_view why) {
    return Error(std::make_error_code(std::errc::invalid_argument),
                 "read " + path + ": line " + std::to_string(line) + ": " + std::string(why));
  };
  ScanState state;
  bool magic = false, hosts = false, ports = false, seed = false, next = false;
  std::size_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    if (!magic) {
      if (line != kMagic) return bad(number, "not a sockit scan state file");
      magic = true;
      continue;
    }
    const std::size_t space = line.find(' ');
    const std::string_view key = std::string_view(line).substr(0, space);
    const std::string_view value =
        space == std::string::npos ? std::string_view() : std::string_view(line).substr(space + 1);
    bool ok = space != std::string::npos;
    if (key == "arg") {
      std::string arg;
      ok = unescape_arg(value, arg);
      state.args.push_back(std::move(arg));
    } else if (key == "hosts") {
      ok = ok && parse_number(value, state.hosts) && !hosts;
      hosts = true;
    } else if (key == "ports") {
      ok = ok && parse_number(value, state.ports) && !ports;
      ports = true;
    } else if (key == "seed") {
      ok = ok && parse_number(value, state.checkpoint.seed) && !seed;
      seed = true;
    } else if (key == "next") {
      ok = ok && parse_number(value, state.checkpoint.next_host) && !next;
      next = true;
    } else if (key == "host") {
      scan::ScanCheckpoint::Host host;
      ok = ok && parse_host(value, host);
      state.checkpoint.hosts.push_back(std::move(host));
    } else {
      return bad(number, "unknown item '" + std::string(key) + "'");
    }
    if (!ok) return bad(number, "malformed '" + std::string(key) + "' line");
  }
  if (in.bad()) return Error::from_errno("read " + path);
  if (!magic) return bad(number, "not a sockit scan state file");
  if (!hosts || !ports || !seed || !next) return bad(number, "incomplete: the file was cut short");
  return state;
}

}  // namespace sockit::cli
