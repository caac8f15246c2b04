// Session: what a handler (print, echo, discard, chat) does with one connection's bytes,
// whatever model delivers them. Engines feed it data and quiet moments; it reports events
// and tells the engine whether to send the data back (echo). Not thread-safe: a session
// belongs to the thread serving its connection.
#pragma once

#include <string_view>

#include "serve/chat_room.hpp"
#include "serve/engine.hpp"
#include "sockit/serve/line_splitter.hpp"

namespace sockit::serve {

class Session {
 public:
  Session(EngineContext& ctx, Client client, int fd, ChatRoom* room)
      : ctx_(ctx), client_(std::move(client)), fd_(fd), room_(room) {}

  void start() {
    ctx_.events.on_connected(client_);
    if (room_ != nullptr) room_->join(client_.id, fd_, client_label(client_));
  }

  // Bytes that arrived. Returns true if the engine must send them back (echo).
  bool on_data(std::string_view data) {
    bytes_in_ += data.size();
    ctx_.counters.bytes_in.fetch_add(data.size(), std::memory_order_relaxed);
    switch (ctx_.options.handler) {
      case Handler::Echo:
        return true;
      case Handler::Discard:
        return false;
      case Handler::Print:
      case Handler::Chat:
        lines_.feed(data, [this](std::string_view line) { emit(line); });
        return false;
    }
    return false;
  }

  // Nothing arrived for a moment: show a partial line as it is.
  void on_quiet() {
    lines_.flush([this](std::string_view line) { emit(line); });
  }
  bool has_partial_line() const noexcept { return lines_.has_pending(); }

  void sent(std::size_t n) { ctx_.counters.bytes_out.fetch_add(n, std::memory_order_relaxed); }

  void finish() {
    on_quiet();
    if (room_ != nullptr) room_->leave(client_.id);
    ctx_.events.on_closed(client_, bytes_in_);
  }

  const Client& client() const noexcept { return client_; }

 private:
  void emit(std::string_view line) {
    ctx_.events.on_line(client_, line);
    if (room_ != nullptr) room_->say(client_.id, line);
  }

  EngineContext& ctx_;
  Client client_;
  int fd_;
  ChatRoom* room_;
  LineSplitter lines_;
  std::uint64_t bytes_in_ = 0;
};

}  // namespace sockit::serve
