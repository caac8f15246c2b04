#include "json_writer.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

#include "text_escape.hpp"

namespace sockit::cli {

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        // JSON is UTF-8 (RFC 8259 section 8.1): text that isn't (a name as the user or
        // the DNS wrote it, say) would make the whole line unreadable to a JSON parser.
        // Such a byte becomes the code point of the same value, as bytes() does (found
        // by fuzz/json_writer_fuzz.cpp).
        std::size_t n = c >= 0x80 ? utf8_length(text.substr(i)) : 1;
        if (c < 0x20 || c == 0x7f || n == 0) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else if (n > 1) {
          out.append(text.substr(i, n));
          i += n - 1;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
}

JsonWriter& JsonWriter::begin_object() {
  separate();
  out_ += '{';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  out_ += '}';
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::begin_array(std::string_view name) {
  key(name);
  separate();
  out_ += '[';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  out_ += ']';
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  separate();
  append_json_string(out_, name);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  separate();
  append_json_string(out_, text);
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t number) {
  separate();
  out_ += std::to_string(number);
  return *this;
}

JsonWriter& JsonWriter::value(double number) {
  separate();
  if (!std::isfinite(number)) {
    out_ += "null";
    return *this;
  }
  // Room for any finite double in %.3f: "-", 309 digits, ".000" and the NUL. snprintf cuts
  // a longer one short, and 1e300 came out as a 31-digit number, valid JSON but wrong
  // (found by fuzz/json_writer_fuzz.cpp).
  char buf[std::numeric_limits<double>::max_exponent10 + 8];
  std::snprintf(buf, sizeof buf, "%.3f", number);
  out_ += buf;
  return *this;
}

JsonWriter& JsonWriter::value(bool flag) {
  separate();
  out_ += flag ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::bytes(std::string_view data) {
  separate();
  append_json_bytes(out_, data);
  return *this;
}

JsonWriter& JsonWriter::null() {
  separate();
  out_ += "null";
  return *this;
}

}  // namespace sockit::cli
