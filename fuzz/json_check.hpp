// A strict JSON (RFC 8259) checker for the fuzz targets of the CLI's JSON output: one value,
// nothing after it, strings of valid UTF-8 (no overlong forms, surrogates or code points
// past U+10FFFF) with no raw control bytes, escapes as the RFC lists them, numbers in the
// RFC's grammar. Returns "" if `text` is valid, else what is wrong and where. Header-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sockit::fuzz {

// Length of the valid UTF-8 sequence at the start of `s` (1-4), or 0. Written from the
// Unicode table (3.9, table 3-7), not from the code under test.
inline std::size_t utf8_length(std::string_view s) {
  if (s.empty()) return 0;
  auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
  auto in = [&](std::size_t i, int lo, int hi) { return i < s.size() && b(i) >= lo && b(i) <= hi; };
  std::uint8_t c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return in(1, 0x80, 0xbf) ? 2 : 0;
  if (c == 0xe0) return in(1, 0xa0, 0xbf) && in(2, 0x80, 0xbf) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
    return in(1, 0x80, 0xbf) && in(2, 0x80, 0xbf) ? 3 : 0;
  if (c == 0xed) return in(1, 0x80, 0x9f) && in(2, 0x80, 0xbf) ? 3 : 0;
  if (c == 0xf0) return in(1, 0x90, 0xbf) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3)
    return in(1, 0x80, 0xbf) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf) ? 4 : 0;
  if (c == 0xf4) return in(1, 0x80, 0x8f) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf) ? 4 : 0;
  return 0;
}

class JsonChecker {
 public:
  explicit JsonChecker(std::string_view s) : s_(s) {}

  std::string check() {
    value(0);
    if (error_.empty() && i_ != s_.size()) fail("trailing text");
    return error_;
  }

  // For string-only checks: a JSON string at the start, and nothing after it.
  std::string check_string() {
    string();
    if (error_.empty() && i_ != s_.size()) fail("trailing text");
    return error_;
  }

 private:
  bool ok() const { return error_.empty(); }
  void fail(const char* what) {
    if (ok()) error_ = std::string(what) + " at byte " + std::to_string(i_);
  }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }
  bool digit() const { return i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9'; }

  void value(int depth) {
    if (depth > 64) return fail("nesting too deep");
    if (i_ >= s_.size()) return fail("value expected");
    char c = s_[i_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return string();
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    for (std::string_view word : {"true", "false", "null"}) {
      if (s_.substr(i_).starts_with(word)) {
        i_ += word.size();
        return;
      }
    }
    fail("bad value");
  }

  void object(int depth) {
    eat('{');
    if (eat('}')) return;
    do {
      if (i_ >= s_.size() || s_[i_] != '"') return fail("key expected");
      string();
      if (!ok()) return;
      if (!eat(':')) return fail("':' expected");
      value(depth + 1);
      if (!ok()) return;
    } while (eat(','));
    if (!eat('}')) fail("'}' expected");
  }

  void array(int depth) {
    eat('[');
    if (eat(']')) return;
    do {
      value(depth + 1);
      if (!ok()) return;
    } while (eat(','));
    if (!eat(']')) fail("']' expected");
  }

  void string() {
    if (!eat('"')) return fail("'\"' expected");
    while (i_ < s_.size()) {
      auto c = static_cast<std::uint8_t>(s_[i_]);
      if (c == '"') return void(++i_);
      if (c < 0x20) return fail("raw control byte in string");
      if (c == '\\') {
        ++i_;
        if (i_ >= s_.size()) break;
        char e = s_[i_++];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k, ++i_) {
            if (i_ >= s_.size() ||
                std::string_view("0123456789abcdefABCDEF").find(s_[i_]) == std::string_view::npos)
              return fail("bad \\u escape");
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return fail("bad escape");
        }
        continue;
      }
      std::size_t n = utf8_length(s_.substr(i_));
      if (n == 0) return fail("invalid UTF-8 in string");
      i_ += n;
    }
    fail("unterminated string");
  }

  void number() {
    eat('-');
    if (eat('0')) {
    } else if (digit()) {
      while (digit())
        ++i_;
    } else {
      return fail("digit expected");
    }
    if (eat('.')) {
      if (!digit()) return fail("fraction digit expected");
      while (digit())
        ++i_;
    }
    if (eat('e') || eat('E')) {
      if (!eat('+')) eat('-');
      if (!digit()) return fail("exponent digit expected");
      while (digit())
        ++i_;
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::string error_;
};

}  // namespace sockit::fuzz
