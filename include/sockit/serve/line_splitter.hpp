// LineSplitter: turns a byte stream into lines for printing, with bounded memory.
//
// feed() calls `emit` for each complete line (without its "\n" and a "\r" before it).
// A line longer than `max_piece` bytes is emitted in pieces of that size, so one client
// can't make the server hold a megabyte line. Text after the last newline waits in
// pending() until more arrives or flush() is called (on a quiet moment or at close).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sockit::serve {

class LineSplitter {
 public:
  static constexpr std::size_t kDefaultMaxPiece = 1024;

  explicit LineSplitter(std::size_t max_piece = kDefaultMaxPiece) : max_piece_(max_piece) {}

  template <typename Emit>
  void feed(std::string_view data, Emit&& emit) {
    while (!data.empty()) {
      std::size_t newline = data.find('\n');
      std::string_view chunk = data.substr(0, newline);
      // The "\r" of a "\r\n" ending is not text: counted, it would spill into a piece of
      // its own and print as an empty line after a line of exactly max_piece bytes.
      std::size_t text = chunk.size();
      if (newline != std::string_view::npos && chunk.ends_with('\r')) --text;
      // Complete pieces of an over-long line go out as soon as they fill up.
      while (pending_.size() + text > max_piece_) {
        std::size_t take = max_piece_ - pending_.size();
        text -= take;
        if (pending_.empty()) {
          emit(chunk.substr(0, take));
        } else {
          pending_.append(chunk.substr(0, take));
          emit(std::string_view(pending_));
          pending_.clear();
        }
        chunk.remove_prefix(take);
      }
      if (newline == std::string_view::npos) {
        pending_.append(chunk);
        return;
      }
      if (pending_.empty()) {
        emit(trim_cr(chunk));
      } else {
        pending_.append(chunk);
        emit(trim_cr(pending_));
        pending_.clear();
      }
      data.remove_prefix(newline + 1);
    }
  }

  // Emits the partial line, if any.
  template <typename Emit>
  void flush(Emit&& emit) {
    if (pending_.empty()) return;
    emit(std::string_view(pending_));
    pending_.clear();
  }

  bool has_pending() const noexcept { return !pending_.empty(); }
  std::string_view pending() const noexcept { return pending_; }

 private:
  static std::string_view trim_cr(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  }

  std::size_t max_piece_;
  std::string pending_;
};

}  // namespace sockit::serve
