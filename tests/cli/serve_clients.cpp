#include "serve_clients.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <sstream>

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

}  // namespace sockit::test
