// The CLI's escapers for bytes from the network (app/text_escape.hpp). Invariants:
//  - append_escaped: the output is valid UTF-8 with no control byte, DEL or C1 control
//    (nothing a terminal acts on), and undoing the escapes ("\\" and "\xNN") gives back the
//    input exactly;
//  - append_json_bytes: the output is one valid JSON string (strict checker, UTF-8
//    included), and reading each \u00NN escape as the byte NN gives back the input exactly
//    (no byte lost);
//  - both append: what was in `out` before stays as it was.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "json_check.hpp"
#include "text_escape.hpp"

namespace {

using sockit::fuzz::show;
using sockit::fuzz::utf8_length;

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// No control byte, DEL, C1 control (U+0080-U+009F) or invalid UTF-8.
bool terminal_safe(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<std::uint8_t>(s[i]);
    std::size_t n = utf8_length(s.substr(i));
    if (n == 0 || c < 0x20 || c == 0x7f) return false;
    if (c == 0xc2 && static_cast<std::uint8_t>(s[i + 1]) < 0xa0) return false;
    i += n;
  }
  return true;
}

void check_escaped(std::string_view input) {
  std::string out = "prefix\x01";
  sockit::cli::append_escaped(out, input);
  SOCKIT_FUZZ_CHECK(out.starts_with("prefix\x01"), show(input));
  std::string_view escaped = std::string_view(out).substr(7);
  SOCKIT_FUZZ_CHECK(terminal_safe(escaped), show(input) + " -> " + show(escaped));
  std::string undone;
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '\\') {
      undone += escaped[i];
      continue;
    }
    SOCKIT_FUZZ_CHECK(i + 1 < escaped.size(), show(input));
    if (escaped[i + 1] == '\\') {
      undone += '\\';
      i += 1;
      continue;
    }
    SOCKIT_FUZZ_CHECK(escaped[i + 1] == 'x' && i + 3 < escaped.size() && hex(escaped[i + 2]) >= 0 &&
                          hex(escaped[i + 3]) >= 0,
                      show(input) + " -> " + show(escaped));
    undone += static_cast<char>(hex(escaped[i + 2]) * 16 + hex(escaped[i + 3]));
    i += 3;
  }
  SOCKIT_FUZZ_CHECK(undone == input, show(input) + " -> " + show(escaped));
}

void check_json(std::string_view input) {
  std::string out = "[";
  sockit::cli::append_json_bytes(out, input);
  SOCKIT_FUZZ_CHECK(out.starts_with("["), show(input));
  std::string_view json = std::string_view(out).substr(1);
  std::string error = sockit::fuzz::JsonChecker(json).check_string();
  SOCKIT_FUZZ_CHECK(error.empty(), show(input) + " -> " + show(json) + ": " + error);
  // The checker passed, so escapes are well formed: undo them, \u00NN as the byte NN.
  std::string undone;
  for (std::size_t i = 1; i + 1 < json.size(); ++i) {
    if (json[i] != '\\') {
      undone += json[i];
      continue;
    }
    char e = json[++i];
    if (e != 'u') {
      SOCKIT_FUZZ_CHECK(e == '"' || e == '\\', show(input) + " -> " + show(json));
      undone += e;
      continue;
    }
    int value = 0;
    for (int k = 1; k <= 4; ++k)
      value = value * 16 + hex(json[i + static_cast<std::size_t>(k)]);
    SOCKIT_FUZZ_CHECK(value <= 0xff, show(input) + " -> " + show(json));
    undone += static_cast<char>(value);
    i += 4;
  }
  SOCKIT_FUZZ_CHECK(undone == input, show(input) + " -> " + show(json));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  check_escaped(input);
  check_json(input);
  return 0;
}
