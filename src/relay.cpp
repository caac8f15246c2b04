#include "sockit/relay.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

#include "sys/sys.hpp"

namespace sockit {
namespace {

constexpr std::size_t kBuffer = 64 * 1024;
constexpr char kCtrlX = '\x18';

// Writes everything to a descriptor we don't own the mode of (stdout may be non-blocking):
// waits for room instead of failing on EAGAIN.
bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = sys::write(fd, data, size);
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN) return false;
    pollfd p{fd, POLLOUT, 0};
    sys::poll(&p, 1, -1);
  }
  return true;
}

class Relay {
 public:
  Relay(EventLoop& loop, int in, int out, int sock, const RelayOptions& options,
        const std::string& peer)
      : loop_(loop),
        in_(in),
        out_(out),
        sock_(sock),
        o_(options),
        peer_(peer),
        buffer_(new char[kBuffer]) {}

  Result<RelayResult> run() {
    if (sys::set_nonblocking(sock_, true) < 0) return Error::from_errno("fcntl(O_NONBLOCK)");
    auto sw = loop_.watch(sock_, kReadable, [this](std::uint32_t r) { on_socket(r); });
    if (!sw) return std::move(sw).error();
    sock_watch_ = std::move(*sw);
    last_active_ = EventLoop::Clock::now();
    if (o_.idle_timeout.count() > 0) arm_idle(o_.idle_timeout);

    if (o_.input_text) {
      consume(*o_.input_text);
      if (!done_) input_ended();
    } else {
      auto iw = loop_.watch(in_, kReadable, [this](std::uint32_t) { read_input(); });
      if (iw) {
        in_watch_ = std::move(*iw);
      } else if (iw.error().is(std::errc::operation_not_permitted)) {
        input_pollable_ = false;  // a regular file: read it whenever the socket has room
      } else {
        return std::move(iw).error();
      }
    }
    update();
    if (!done_) {
      if (auto r = loop_.run(); !r) return std::move(r).error();
    }
    in_watch_.reset();
    sock_watch_.reset();
    idle_.cancel();
    linger_.cancel();
    if (error_) return *error_;
    return result_;
  }

 private:
  void on_socket(std::uint32_t ready) {
    if (done_) return;
    if (ready & kWritable) {
      if (pending_size() > 0) {
        flush();
      } else if (input_open_ && !input_pollable_) {
        read_input();
      }
      if (done_) return;
    }
    if (!(ready & (kReadable | kHangup | kError))) return;
    ssize_t n = sys::recv(sock_, buffer_.get(), kBuffer, 0);
    if (n > 0) {
      touch();
      result_.bytes_received += static_cast<std::uint64_t>(n);
      if (!write_all(out_, buffer_.get(), static_cast<std::size_t>(n))) {
        return fail(Error::from_errno("write output"));
      }
    } else if (n == 0) {
      if (!o_.datagram) finish(RelayEnd::PeerClosed);  // an empty datagram is not an EOF
    } else if (errno != EAGAIN) {
      fail(Error::from_errno("recv " + peer_));
    }
  }

  void read_input() {
    if (done_ || !input_open_) return;
    ssize_t n = sys::read(in_, buffer_.get(), kBuffer);
    if (n > 0) {
      touch();
      consume(std::string_view(buffer_.get(), static_cast<std::size_t>(n)));
    } else if (n == 0) {
      input_ended();
    } else if (errno != EAGAIN) {
      fail(Error::from_errno("read input"));
    }
    update();
  }

  // Applies Ctrl+X and --crlf to input and sends it.
  void consume(std::string_view chunk) {
    bool ctrl_x = false;
    if (o_.ctrl_x_ends && std::memchr(chunk.data(), kCtrlX, chunk.size()) != nullptr) {
      bool at_start = line_start_;
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        const bool ends_line =
            i + 1 == chunk.size() || chunk[i + 1] == '\n' || chunk[i + 1] == '\r';
        if (at_start && chunk[i] == kCtrlX && ends_line) {
          chunk = chunk.substr(0, i);
          ctrl_x = true;
          break;
        }
        at_start = chunk[i] == '\n';
      }
    }
    if (!chunk.empty()) line_start_ = chunk.back() == '\n';
    if (o_.crlf && chunk.find('\n') != std::string_view::npos) {
      scratch_.clear();
      char prev = last_sent_;
      for (char c : chunk) {
        if (c == '\n' && prev != '\r') scratch_ += '\r';
        scratch_ += c;
        prev = c;
      }
      chunk = scratch_;
    }
    if (!chunk.empty()) {
      last_sent_ = chunk.back();
      send(chunk);
    }
    if (ctrl_x && !done_) {
      ending_ = true;
      input_open_ = false;
      in_watch_.reset();
      if (pending_size() == 0) finish(RelayEnd::CtrlX);
    }
  }

  void send(std::string_view data) {
    result_.bytes_sent += data.size();
    if (pending_size() > 0) {
      pending_.append(data);
      return;
    }
    for (;;) {
      ssize_t n = sys::send(sock_, data.data(), data.size(), 0);
      if (n >= 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        break;
      }
      if (errno != EAGAIN) return fail(Error::from_errno("send " + peer_));
      if (!o_.datagram) break;
      // A datagram goes whole or not at all: wait for room rather than split it.
      pollfd p{sock_, POLLOUT, 0};
      sys::poll(&p, 1, 1000);
    }
    if (!data.empty()) {
      pending_.assign(data);
      pending_sent_ = 0;
    }
  }

  void flush() {
    while (pending_size() > 0) {
      ssize_t n = sys::send(sock_, pending_.data() + pending_sent_, pending_size(), 0);
      if (n < 0) {
        if (errno == EAGAIN) return update();
        return fail(Error::from_errno("send " + peer_));
      }
      pending_sent_ += static_cast<std::size_t>(n);
    }
    pending_.clear();
    pending_sent_ = 0;
    if (ending_) return finish(RelayEnd::CtrlX);
    if (!input_open_) half_close();
    update();
  }

  void input_ended() {
    input_open_ = false;
    in_watch_.reset();
    if (o_.datagram) {
      linger_ = loop_.after(o_.datagram_linger, [this] { finish(RelayEnd::InputDone); });
    } else if (pending_size() == 0) {
      half_close();
    }
  }

  // Input is over: tell the peer (it sees EOF) and keep printing what it still sends.
  void half_close() {
    if (half_closed_ || o_.datagram) return;
    half_closed_ = true;
    if (sys::shutdown(sock_, SHUT_WR) < 0 && errno != ENOTCONN) {
      fail(Error::from_errno("shutdown " + peer_));
    }
  }

  void update() {
    if (done_) return;
    bool want_write = pending_size() > 0 || (input_open_ && !input_pollable_);
    if (auto r = sock_watch_.modify(kReadable | (want_write ? kWritable : 0u)); !r) {
      return fail(r.error());
    }
    if (in_watch_) {
      if (auto r = in_watch_.modify(pending_size() == 0 ? kReadable : 0u); !r) fail(r.error());
    }
  }

  void touch() { last_active_ = loop_.now(); }

  void arm_idle(EventLoop::Clock::duration delay) {
    idle_ = loop_.after(delay, [this] {
      auto quiet_until = last_active_ + o_.idle_timeout;
      if (loop_.now() < quiet_until) return arm_idle(quiet_until - loop_.now());
      finish(RelayEnd::IdleTimeout);
    });
  }

  void finish(RelayEnd end) {
    if (done_) return;
    done_ = true;
    result_.end = end;
    loop_.stop();
  }

  void fail(Error error) {
    if (done_) return;
    done_ = true;
    error_ = std::move(error);
    loop_.stop();
  }

  std::size_t pending_size() const { return pending_.size() - pending_sent_; }

  EventLoop& loop_;
  int in_, out_, sock_;
  const RelayOptions& o_;
  std::string peer_;
  std::unique_ptr<char[]> buffer_;
  Watch sock_watch_;
  Watch in_watch_;
  Timer idle_;
  Timer linger_;
  EventLoop::Clock::time_point last_active_;
  std::string pending_;  // input the socket hasn't taken yet
  std::size_t pending_sent_ = 0;
  std::string scratch_;  // --crlf output
  char last_sent_ = 0;
  bool input_open_ = true;
  bool input_pollable_ = true;
  bool half_closed_ = false;
  bool line_start_ = true;
  bool ending_ = false;  // Ctrl+X seen: finish once pending input is sent
  bool done_ = false;
  RelayResult result_;
  std::optional<Error> error_;
};

}  // namespace

Result<RelayResult> relay(EventLoop& loop, int input_fd, int output_fd, int socket_fd,
                          const RelayOptions& options, const std::string& peer_name) {
  Relay relay(loop, input_fd, output_fd, socket_fd, options, peer_name);
  return relay.run();
}

}  // namespace sockit
