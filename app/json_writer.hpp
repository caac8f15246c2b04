// JsonWriter: builds one JSON object per line (JSON Lines) for --json output, with correct
// string escaping. Small on purpose: objects, arrays, strings, numbers, booleans.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sockit::cli {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array(std::string_view key);
  JsonWriter& end_array();
  JsonWriter& key(std::string_view key);
  // Text: UTF-8 kept; a byte that isn't part of valid UTF-8 written as \u00NN.
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(double number);
  JsonWriter& value(bool flag);
  JsonWriter& null();
  // Bytes from the network: valid UTF-8 kept, other bytes as \u00NN (see text_escape.hpp).
  JsonWriter& bytes(std::string_view data);
  template <typename T>
  JsonWriter& field(std::string_view name, T&& v) {
    key(name);
    return value(std::forward<T>(v));
  }

  const std::string& str() const noexcept { return out_; }
  void clear() {
    out_.clear();
    first_.clear();
  }

 private:
  void separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written yet
  bool after_key_ = false;
};

// JSON string escaping, quotes included.
void append_json_string(std::string& out, std::string_view text);

}  // namespace sockit::cli
