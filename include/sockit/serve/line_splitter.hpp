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

  // A max_piece of 0 is taken as 1: pieces must hold at least a byte, or feed() never ends.
  explicit LineSplitter(std::size_t max_piece = kDefaultMaxPiece)
      : max_piece_(max_piece == 0 ? 1 : max_piece) {}

  template <typename Emit>
  void feed(std::string_view data, Emit&& emit) {
    while (!data.empty()) {
      // A "\r" that ended the last feed was held back (below): now we know what it was.
      if (cr_held_) {
        cr_held_ = false;
        if (data.front() != '\n') append_text("\r", emit);
      }
      std::size_t newline = data.find('\n');
      std::string_view chunk = data.substr(0, newline);
      // The "\r" of a "\r\n" ending is not text: counted, it would spill into a piece of
      // its own and print as an empty line after a line of exactly max_piece bytes. A "\r"
      // at the very end of the data may be the first half of a "\r\n" split between two
      // reads, so it waits for the next byte rather than count as text now (the same empty
      // line otherwise: "abcd\r" + "\n" gave "abcd" and ""; found by line_splitter_fuzz).
      if (chunk.ends_with('\r')) {
        chunk.remove_suffix(1);
        if (newline == std::string_view::npos) cr_held_ = true;
      }
      chunk = emit_full_pieces(chunk, emit);
      if (newline == std::string_view::npos) {
        pending_.append(chunk);
        return;
      }
      if (pending_.empty()) {
        emit(chunk);
      } else {
        pending_.append(chunk);
        emit(std::string_view(pending_));
        pending_.clear();
      }
      data.remove_prefix(newline + 1);
    }
  }

  // Emits the partial line, if any.
  template <typename Emit>
  void flush(Emit&& emit) {
    if (cr_held_) {
      cr_held_ = false;
      append_text("\r", emit);
    }
    if (pending_.empty()) return;
    emit(std::string_view(pending_));
    pending_.clear();
  }

  bool has_pending() const noexcept { return !pending_.empty() || cr_held_; }
  // The partial line, without a "\r" at its end (held until the next byte shows whether it
  // ends the line). At most max_piece bytes.
  std::string_view pending() const noexcept { return pending_; }

 private:
  // Emits the complete pieces of a line that `text` continues, as soon as they fill up;
  // returns the rest of `text`, which fits into pending_ (no more than max_piece in all).
  template <typename Emit>
  std::string_view emit_full_pieces(std::string_view text, Emit& emit) {
    while (pending_.size() + text.size() > max_piece_) {
      std::size_t take = max_piece_ - pending_.size();
      if (pending_.empty()) {
        emit(text.substr(0, take));
      } else {
        pending_.append(text.substr(0, take));
        emit(std::string_view(pending_));
        pending_.clear();
      }
      text.remove_prefix(take);
    }
    return text;
  }

  template <typename Emit>
  void append_text(std::string_view text, Emit& emit) {
    pending_.append(emit_full_pieces(text, emit));
  }

  std::size_t max_piece_;
  std::string pending_;
  bool cr_held_ = false;  // the data so far ended in "\r"
};

}  // namespace sockit::serve
