// A strict reader for flat JSON objects, one per line (JSON Lines), for tests that check a
// program's --json output without a JSON library: {"key":"text","n":1.5,"b":true,"x":null}.
// Nested objects and arrays are refused: the callers' output has none. Header-only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::test {

struct JsonScalar {
  enum class Kind { String, Number, Bool, Null } kind = Kind::Null;
  std::string text;  // the string (unescaped, UTF-8), the number as written, "true"/"false"
};
using FlatJson = std::map<std::string, JsonScalar>;

namespace detail {

class FlatJsonReader {
 public:
  explicit FlatJsonReader(std::string_view s) : s_(s) {}

  std::optional<FlatJson> object(std::string* error) {
    FlatJson out;
    if (!eat('{')) return fail(error, "expected '{'");
    if (!eat('}')) {
      for (;;) {
        auto key = string();
        if (!key) return fail(error, "expected a string key");
        if (!eat(':')) return fail(error, "expected ':'");
        auto value = scalar();
        if (!value) return fail(error, "bad value for key '" + *key + "'");
        if (!out.emplace(*key, *value).second) return fail(error, "duplicate key '" + *key + "'");
        if (eat(',')) continue;
        if (eat('}')) break;
        return fail(error, "expected ',' or '}'");
      }
    }
    if (i_ != s_.size()) return fail(error, "trailing characters");
    return out;
  }

 private:
  std::optional<FlatJson> fail(std::string* error, const std::string& why) {
    if (error != nullptr) *error = why + " at offset " + std::to_string(i_);
    return std::nullopt;
  }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }
  bool word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  static void utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  std::optional<std::string> string() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;  // must be escaped
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return std::nullopt;
      switch (char e = s_[i_++]) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          if (i_ + 4 > s_.size()) return std::nullopt;
          std::uint32_t cp = 0;
          for (int k = 0; k < 4; ++k) {
            char h = s_[i_++];
            cp <<= 4;
            if (h >= '0' && h <= '9')
              cp |= static_cast<std::uint32_t>(h - '0');
            else if (h >= 'a' && h <= 'f')
              cp |= static_cast<std::uint32_t>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
              cp |= static_cast<std::uint32_t>(h - 'A' + 10);
            else
              return std::nullopt;
          }
          utf8(out, cp);  // surrogate pairs are not joined: the callers' output has none
          break;
        }
        default:
          return std::nullopt;
      }
    }
    return std::nullopt;
  }
  // JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  std::optional<std::string> number() {
    std::size_t start = i_;
    auto digits = [this] {
      std::size_t from = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
        ++i_;
      return i_ - from;
    };
    eat('-');
    if (eat('0')) {
    } else if (digits() == 0) {
      return std::nullopt;
    }
    if (eat('.') && digits() == 0) return std::nullopt;
    if (eat('e') || eat('E')) {
      if (!eat('+')) eat('-');
      if (digits() == 0) return std::nullopt;
    }
    return std::string(s_.substr(start, i_ - start));
  }
  std::optional<JsonScalar> scalar() {
    using Kind = JsonScalar::Kind;
    if (i_ >= s_.size()) return std::nullopt;
    if (s_[i_] == '"') {
      auto s = string();
      if (!s) return std::nullopt;
      return JsonScalar{Kind::String, *s};
    }
    if (word("true")) return JsonScalar{Kind::Bool, "true"};
    if (word("false")) return JsonScalar{Kind::Bool, "false"};
    if (word("null")) return JsonScalar{Kind::Null, ""};
    auto n = number();
    if (!n) return std::nullopt;
    return JsonScalar{Kind::Number, *n};
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace detail

// One line of JSON Lines, as written by JsonWriter (no whitespace between tokens).
inline std::optional<FlatJson> parse_flat_json(std::string_view line,
                                               std::string* error = nullptr) {
  return detail::FlatJsonReader(line).object(error);
}

}  // namespace sockit::test
