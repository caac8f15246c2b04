#include "serve_harness.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace sockit::test {
namespace {

using Clock = std::chrono::steady_clock;

int poll_ms(Clock::time_point deadline) {
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(ms, 0, 1000 * 1000));
}

// Waits until `fd` is readable (data, EOF or an error to read); false on timeout.
bool wait_readable(int fd, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, poll_ms(deadline));
    if (rc > 0) return true;
    if (rc == 0 || errno != EINTR) return false;
  }
}

}  // namespace

const char* sockit_binary() {
  return SOCKIT_BIN;
}

std::unique_ptr<ServeProcess> ServeProcess::start(const std::vector<std::string>& args,
                                                  SpawnOptions options) {
  std::vector<std::string> argv{sockit_binary(), "serve"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::unique_ptr<ServeProcess> server(new ServeProcess);
  for (std::size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "-H" || args[i] == "--handler") server->handler_ = args[i + 1];

  const std::string prefix = "sockit: listening on ";
  std::optional<std::string> line;
  for (int attempt = 0; attempt < 10; ++attempt) {
    server->process_ = ChildProcess::spawn(argv, options);
    if (!server->process_) throw std::runtime_error("cannot start sockit serve");
    line = server->process_->wait_for_line(
        Stream::Err, [&](std::string_view l) { return l.starts_with(prefix); });
    // A concurrent build relinking the binary makes exec fail for a moment: try again.
    if (line || !server->process_->text(Stream::Err).starts_with("child_process: exec")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  if (!line) {
    throw std::runtime_error("no 'listening on' line; stderr: " +
                             server->process_->text(Stream::Err));
  }
  server->listening_ = *line;
  auto end = line->find(" (", prefix.size());
  server->at_ = must(Endpoint::parse(line->substr(prefix.size(), end - prefix.size())),
                     "listening line '" + *line + "'");
  if (server->at_.is_ip() && (!server->at_.is_loopback() || server->at_.port() == 0)) {
    throw std::runtime_error("unexpected listening address: " + *line);
  }
  return server;
}

bool ServeProcess::saw(std::string_view line, Patience patience) {
  return process_->wait_for_line(Stream::Out, line, patience).has_value();
}

::testing::AssertionResult ServeProcess::serves_a_client() {
  const std::string probe = "probe-" + std::to_string(++probes_);
  std::optional<StreamSocket> client;
  std::string label;
  if (at_.is_unix()) {
    client.emplace(connect_unix(at_));
  } else {
    auto tcp = connect_tcp(at_);
    label = tag_of(tcp);
    client.emplace(std::move(tcp));
  }
  if (!send_text(*client, probe + "\n")) return ::testing::AssertionFailure() << "send failed";
  probe_bytes_ += probe.size() + 1;
  if (handler_ == "echo") {
    std::string back = read_bytes(*client, probe.size() + 1);
    if (back != probe + "\n") {
      return ::testing::AssertionFailure()
             << "echo of '" << probe << "' came back as '" << back << "'";
    }
    return ::testing::AssertionSuccess();
  }
  auto printed = process_->wait_for_line(Stream::Out, [&](std::string_view l) {
    return l.ends_with(" " + probe) && (label.empty() || l == label + " " + probe);
  });
  if (!printed) {
    return ::testing::AssertionFailure()
           << "'" << probe << "' was not printed; stderr: " << process_->text(Stream::Err);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ServeProcess::stops_cleanly(int signo, Patience patience) {
  if (!process_->send_signal(signo)) {
    return ::testing::AssertionFailure()
           << "the server is no longer running; stderr: " << process_->text(Stream::Err);
  }
  auto code = process_->wait(patience);
  if (!code) return ::testing::AssertionFailure() << "still running after the signal";
  auto err = process_->lines(Stream::Err);
  if (*code != 0) {
    return ::testing::AssertionFailure()
           << "exit code " << *code << "; stderr: " << process_->text(Stream::Err);
  }
  if (err.empty() || !err.back().starts_with("sockit: served ")) {
    return ::testing::AssertionFailure()
           << "no summary line last; stderr: " << process_->text(Stream::Err);
  }
  return ::testing::AssertionSuccess();
}

std::optional<ServeProcess::Summary> ServeProcess::summary() const {
  auto err = process_->lines(Stream::Err);
  if (err.empty()) return std::nullopt;
  const std::string& line = err.back();
  Summary s;
  char noun[32] = {};
  int n = std::sscanf(line.c_str(), "sockit: served %llu %31[a-z], %llu bytes in, %llu bytes out",
                      &s.connections, noun, &s.bytes_in, &s.bytes_out);
  if (n != 4) return std::nullopt;
  if (auto at = line.find(" bytes out, "); at != std::string::npos) {
    if (std::sscanf(line.c_str() + at, " bytes out, %llu rejected", &s.rejected) != 1) {
      return std::nullopt;
    }
  }
  return s;
}

::testing::AssertionResult ServeProcess::summary_matches_output() const {
  auto totals = summary();
  if (!totals) {
    return ::testing::AssertionFailure()
           << "no summary line; stderr: " << process_->text(Stream::Err);
  }
  Summary printed;
  for (const std::string& line : process_->lines(Stream::Out)) {
    if (line.starts_with("connected ")) ++printed.connections;
    if (line.starts_with("rejected ")) ++printed.rejected;
    if (line.starts_with("closed ") && line.ends_with(" bytes)")) {
      auto open = line.rfind(" (");
      printed.bytes_in += std::stoull(line.substr(open + 2));
    }
  }
  if (totals->connections != printed.connections || totals->bytes_in != printed.bytes_in ||
      totals->rejected != printed.rejected) {
    return ::testing::AssertionFailure()
           << "summary '" << process_->lines(Stream::Err).back() << "' but stdout shows "
           << printed.connections << " connected, " << printed.bytes_in
           << " bytes in closed lines, " << printed.rejected << " rejected";
  }
  return ::testing::AssertionSuccess();
}

TcpStream connect_tcp(const Endpoint& to) {
  return must(TcpStream::connect(to, {.timeout = kPatience}), "connect " + to.to_string());
}

UnixStream connect_unix(const Endpoint& to) {
  return must(UnixStream::connect(to, {.timeout = kPatience}), "connect " + to.to_string());
}

std::string tag_of(const TcpStream& client) {
  return must(client.local(), "getsockname").to_string();
}

bool send_text(StreamSocket& socket, std::string_view data) {
  return socket.send_all(data).has_value();
}

std::optional<std::string> LineReader::next(Patience patience) {
  const auto deadline = Clock::now() + patience;
  for (;;) {
    if (auto end = buffer_.find('\n'); end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 1);
      return line;
    }
    if (!wait_readable(socket_.native_handle(), deadline)) return std::nullopt;
    char chunk[4096];
    auto got = socket_.recv(chunk);
    if (!got || *got == 0) return std::nullopt;
    buffer_.append(chunk, *got);
  }
}

bool LineReader::quiet_for(Patience patience) {
  return buffer_.empty() && !wait_readable(socket_.native_handle(), Clock::now() + patience);
}

std::string read_bytes(StreamSocket& socket, std::size_t n, Patience patience) {
  const auto deadline = Clock::now() + patience;
  std::string data;
  std::vector<char> chunk(64 * 1024);
  while (data.size() < n && wait_readable(socket.native_handle(), deadline)) {
    auto got = socket.recv(MutableBuffer(chunk.data(), std::min(chunk.size(), n - data.size())));
    if (!got || *got == 0) break;
    data.append(chunk.data(), *got);
  }
  return data;
}

bool closed_by_peer(StreamSocket& socket, Patience patience) {
  const auto deadline = Clock::now() + patience;
  char chunk[4096];
  while (wait_readable(socket.native_handle(), deadline)) {
    auto got = socket.recv(chunk);
    if (!got || *got == 0) return true;
  }
  return false;
}

void reset_connection(Socket& socket) {
  must(socket.set_linger(std::chrono::seconds(0)), "SO_LINGER");
  socket.close();
}

std::string random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::string data(n, '\0');
  for (char& c : data)
    c = static_cast<char>(gen() & 0xff);
  return data;
}

std::string echo_all(std::vector<UniqueFd> fds, const std::vector<std::string>& payloads,
                     Patience patience, EchoEnd end) {
  struct Conn {
    UniqueFd fd;
    const std::string* payload;
    std::size_t sent = 0;
    std::string back;
    bool shut = false;
  };
  std::vector<Conn> conns;
  for (std::size_t i = 0; i < fds.size(); ++i) {
    int flags = ::fcntl(fds[i].get(), F_GETFL);
    ::fcntl(fds[i].get(), F_SETFL, flags | O_NONBLOCK);
    conns.push_back({std::move(fds[i]), &payloads[i], 0, {}, false});
  }
  const auto deadline = Clock::now() + patience;
  std::size_t done = 0;
  std::vector<char> chunk(256 * 1024);
  std::vector<pollfd> polled;
  std::vector<std::size_t> which;
  while (done < conns.size()) {
    polled.clear();
    which.clear();
    for (std::size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      if (!c.fd) continue;
      short events = POLLIN;
      if (c.sent < c.payload->size()) events |= POLLOUT;
      polled.push_back({c.fd.get(), events, 0});
      which.push_back(i);
    }
    int rc = ::poll(polled.data(), polled.size(), poll_ms(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) {
      std::ostringstream why;
      why << "timed out with " << conns.size() - done << " of " << conns.size()
          << " echoes incomplete";
      for (const Conn& c : conns) {
        if (c.fd) {
          why << "; e.g. sent " << c.sent << " of " << c.payload->size() << ", got back "
              << c.back.size();
          break;
        }
      }
      return why.str();
    }
    for (std::size_t k = 0; k < polled.size(); ++k) {
      Conn& c = conns[which[k]];
      if (polled[k].revents & POLLOUT) {
        std::size_t left = std::min<std::size_t>(c.payload->size() - c.sent, 256 * 1024);
        ssize_t n = ::send(c.fd.get(), c.payload->data() + c.sent, left, MSG_NOSIGNAL);
        if (n > 0) c.sent += static_cast<std::size_t>(n);
        if (n < 0 && errno != EAGAIN) return "send failed: " + std::string(std::strerror(errno));
        if (end == EchoEnd::HalfClose && c.sent == c.payload->size() && !c.shut) {
          ::shutdown(c.fd.get(), SHUT_WR);
          c.shut = true;
        }
      }
      if (polled[k].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = ::recv(c.fd.get(), chunk.data(), chunk.size(), 0);
        if (n < 0 && errno == EAGAIN) continue;
        if (n == 0 && c.shut && c.back == *c.payload) {  // HalfClose: all back, then closed
          c.fd.reset();
          ++done;
          continue;
        }
        if (n <= 0) {
          std::ostringstream why;
          why << (n == 0 ? "server closed" : "recv failed") << " after echoing " << c.back.size()
              << " of " << c.payload->size() << " bytes";
          return why.str();
        }
        c.back.append(chunk.data(), static_cast<std::size_t>(n));
        if (c.back.size() > c.payload->size()) return "more came back than was sent";
        if (c.back.size() == c.payload->size()) {
          if (c.back != *c.payload) return "an echo differs from what was sent";
          if (end == EchoEnd::Close) {
            c.fd.reset();
            ++done;
          }
        }
      }
    }
  }
  return "";
}

namespace {
std::size_t entries_in(const std::string& dir_path) {
  std::size_t count = 0;
  DIR* dir = ::opendir(dir_path.c_str());
  if (dir == nullptr) return 0;
  while (const dirent* entry = ::readdir(dir))
    if (entry->d_name[0] != '.') ++count;
  ::closedir(dir);
  return count;
}
}  // namespace

std::size_t open_fd_count(pid_t pid) {
  return entries_in("/proc/" + std::to_string(pid) + "/fd");
}

long resident_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

std::size_t thread_count(pid_t pid) {
  return entries_in("/proc/" + std::to_string(pid) + "/task");
}

Holdings holdings_of(pid_t pid) {
  return {open_fd_count(pid), thread_count(pid), children_of(pid).size()};
}

std::ostream& operator<<(std::ostream& out, const Holdings& h) {
  return out << h.fds << " fds, " << h.threads << " threads, " << h.children << " children";
}

Holdings settled_holdings(pid_t pid) {
  Holdings last = holdings_of(pid);
  int same = 0;
  for (int i = 0; i < 200 && same < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    Holdings now = holdings_of(pid);
    same = now == last ? same + 1 : 0;
    last = now;
  }
  return last;
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return children;
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(file, text)) continue;
    auto close = text.rfind(')');  // the command name may hold ") "
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 1));
    char state = '?';
    long ppid = 0;
    if (rest >> state >> ppid && ppid == parent) children.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(proc);
  return children;
}

bool eventually(const std::function<bool()>& condition, Patience patience) {
  const auto deadline = Clock::now() + patience;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string find_program(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = dir + "/" + program;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

CommandResult run_sockit(const std::vector<std::string>& args, const std::string& input,
                         Patience patience) {
  std::vector<std::string> argv{sockit_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r;
  for (int attempt = 0; attempt < 10; ++attempt) {
    r = run_command(argv, input, patience);
    if (r.exit_code != 127 || !r.err.empty()) break;  // 127 and silence: exec failed
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  return r;
}

}  // namespace sockit::test
