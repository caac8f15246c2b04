#include "text_escape.hpp"

#include <cstdint>
#include <cstdio>

namespace sockit::cli {
namespace {

// C1 controls (U+0080-U+009F): valid UTF-8 that terminals act on.
bool is_c1_control(std::string_view s) {
  return s.size() >= 2 && static_cast<std::uint8_t>(s[0]) == 0xc2 &&
         static_cast<std::uint8_t>(s[1]) < 0xa0;
}

void append_hex(std::string& out, const char* format, std::uint8_t c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, format, c);
  out += buf;
}

// Printable ASCII and valid UTF-8 as they are; a byte in `quoted` after a backslash; any
// other byte written with `hex_format`. The two escapers below differ only in those two.
void append_safe(std::string& out, std::string_view bytes, std::string_view quoted,
                 const char* hex_format) {
  for (std::size_t i = 0; i < bytes.size();) {
    auto c = static_cast<std::uint8_t>(bytes[i]);
    if (quoted.find(static_cast<char>(c)) != std::string_view::npos) {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
    } else if (std::size_t n =
                   c >= 0x80 && !is_c1_control(bytes.substr(i)) ? utf8_length(bytes.substr(i)) : 0;
               n > 0) {
      out.append(bytes.substr(i, n));
      i += n;
    } else {
      append_hex(out, hex_format, c);
      ++i;
    }
  }
}

}  // namespace

std::size_t utf8_length(std::string_view s) {
  if (s.empty()) return 0;
  auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
  auto cont = [&](std::size_t i) { return i < s.size() && (b(i) & 0xc0) == 0x80; };
  std::uint8_t c = b(0);
  if (c >= 0xc2 && c <= 0xdf && cont(1)) return 2;
  if (c >= 0xe0 && c <= 0xef && cont(1) && cont(2)) {
    if (c == 0xe0 && b(1) < 0xa0) return 0;   // overlong
    if (c == 0xed && b(1) >= 0xa0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4 && cont(1) && cont(2) && cont(3)) {
    if (c == 0xf0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xf4 && b(1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

void append_escaped(std::string& out, std::string_view bytes) {
  append_safe(out, bytes, "\\", "\\x%02x");
}

void append_json_bytes(std::string& out, std::string_view bytes) {
  out += '"';
  append_safe(out, bytes, "\"\\", "\\u%04x");
  out += '"';
}

}  // namespace sockit::cli
