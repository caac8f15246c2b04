// What every fuzz target shares: a check that aborts (so libFuzzer and the replay driver
// both see a violated invariant as a crash, with the input saved), and a small reader that
// carves a fuzz input into the pieces a target needs (a byte, a length, the rest as text).
// Header-only; not part of the library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

// SOCKIT_FUZZ_CHECK(condition, detail): abort with the condition, where, and a detail string
// (usually the input, escaped) when an invariant does not hold. A macro for #condition.
#define SOCKIT_FUZZ_CHECK(condition, detail)                                        \
  do {                                                                              \
    if (!(condition)) ::sockit::fuzz::fail(#condition, __FILE__, __LINE__, detail); \
  } while (0)

namespace sockit::fuzz {

// Printable form of arbitrary bytes for failure messages: C-style escapes.
inline std::string show(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

[[noreturn]] inline void fail(const char* condition, const char* file, int line,
                              const std::string& detail) {
  std::fprintf(stderr, "%s:%d: invariant violated: %s\n  input: %s\n", file, line, condition,
               detail.c_str());
  std::abort();
}

// Consumes a fuzz input from the front: fixed-size choices first, free text last.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  bool empty() const noexcept { return rest_.empty(); }
  std::size_t size() const noexcept { return rest_.size(); }

  // The next byte, or 0 once the input is used up.
  std::uint8_t byte() {
    if (rest_.empty()) return 0;
    auto b = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  // Up to `n` bytes.
  std::string_view take(std::size_t n) {
    std::string_view out = rest_.substr(0, n);
    rest_.remove_prefix(out.size());
    return out;
  }
  // Up to the next `separator` (dropped), or everything left.
  std::string_view until(char separator) {
    std::size_t at = rest_.find(separator);
    std::string_view out = rest_.substr(0, at);
    rest_.remove_prefix(at == std::string_view::npos ? rest_.size() : at + 1);
    return out;
  }
  std::string_view rest() {
    std::string_view out = rest_;
    rest_ = {};
    return out;
  }

 private:
  std::string_view rest_;
};

}  // namespace sockit::fuzz
