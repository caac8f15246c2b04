// The CLI's JsonWriter (app/json_writer.hpp), driven by a random but well-formed sequence of
// calls: objects, arrays, keys, strings (any bytes: resolve --json quotes what the user and
// the DNS wrote), numbers, booleans, nulls, network bytes. Invariants:
//  - the result is one valid JSON value (strict checker: UTF-8, escapes, number grammar);
//  - it is one line (JSON Lines): no raw newline;
//  - a string written with value() reads back as the same text when that text is UTF-8;
//  - an integer reads back exactly, a finite double to within the 3 decimals promised.
// The input is a list of operations: an opcode byte, then its argument bytes.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "json_check.hpp"
#include "json_writer.hpp"

namespace {

using sockit::cli::JsonWriter;
using sockit::fuzz::show;

bool is_utf8(std::string_view s) {
  for (std::size_t i = 0, n; i < s.size(); i += n)
    if ((n = sockit::fuzz::utf8_length(s.substr(i))) == 0) return false;
  return true;
}

// The text of a JSON string whose escapes are all ASCII ones (what value() writes).
std::string unquote(std::string_view json) {
  std::string out;
  for (std::size_t i = 1; i + 1 < json.size(); ++i) {
    if (json[i] != '\\') {
      out += json[i];
      continue;
    }
    char e = json[++i];
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u':
        out +=
            static_cast<char>(std::strtol(std::string(json.substr(i + 1, 4)).c_str(), nullptr, 16));
        i += 4;
        break;
      default:
        out += e;
    }
  }
  return out;
}

class Driver {
 public:
  explicit Driver(sockit::fuzz::Reader& in) : in_(in) {}

  void run() {
    json_.begin_object();
    open_.push_back('o');
    while (!in_.empty() && !open_.empty())
      step();
    while (!open_.empty())
      close();
    const std::string& out = json_.str();
    std::string error = sockit::fuzz::JsonChecker(out).check();
    SOCKIT_FUZZ_CHECK(error.empty(), show(out) + ": " + error);
    SOCKIT_FUZZ_CHECK(out.find('\n') == std::string::npos, show(out));
  }

 private:
  std::string_view text() { return in_.take(in_.byte() % 24); }

  void close() {
    if (open_.back() == 'o') {
      json_.end_object();
    } else {
      json_.end_array();
    }
    open_.pop_back();
  }

  void step() {
    std::uint8_t op = in_.byte();
    if (op % 16 == 15) return close();
    if (open_.back() == 'o') {
      // In an object: a key first, or begin_array, which takes its key itself.
      std::string key(text());
      if (op % 16 == 14 && open_.size() < kMaxDepth) {
        json_.begin_array(key);
        open_.push_back('a');
        return;
      }
      json_.key(key);
    }
    value(op % 16);
  }

  // Writes one value and checks that its text reads back.
  void value(int kind) {
    const std::size_t before = json_.str().size();
    auto written = [&] {
      std::string_view s = std::string_view(json_.str()).substr(before);
      if (s.starts_with(',')) s.remove_prefix(1);
      return std::string(s);
    };
    switch (kind) {
      case 0:
      case 1: {
        std::string_view t = text();
        json_.value(t);
        if (is_utf8(t))
          SOCKIT_FUZZ_CHECK(unquote(written()) == t, show(t) + " -> " + show(written()));
        break;
      }
      case 2: {
        std::int64_t n = 0;
        for (std::string_view b = in_.take(8); char c : b)
          n = static_cast<std::int64_t>(static_cast<std::uint64_t>(n) << 8 |
                                        static_cast<std::uint8_t>(c));
        json_.value(n);
        SOCKIT_FUZZ_CHECK(written() == std::to_string(n), written());
        break;
      }
      case 3: {
        double d = 0;
        std::string_view b = in_.take(sizeof d);
        std::memcpy(&d, b.data(), b.size());
        json_.value(d);
        if (std::isfinite(d)) {
          double back = std::strtod(written().c_str(), nullptr);
          SOCKIT_FUZZ_CHECK(std::fabs(back - d) <= 0.0005 + 1e-12 + std::fabs(d) * 1e-15,
                            written() + " for " + std::to_string(d));
        } else {
          SOCKIT_FUZZ_CHECK(written() == "null", written());
        }
        break;
      }
      case 4:
        json_.value(in_.byte() % 2 == 0);
        break;
      case 5:
        json_.null();
        break;
      case 6:
      case 7:
        json_.bytes(text());
        break;
      case 8:
        if (open_.size() >= kMaxDepth) {
          json_.null();
          break;
        }
        json_.begin_object();
        open_.push_back('o');
        break;
      default:
        json_.value("x");
        break;
    }
  }

  static constexpr std::size_t kMaxDepth = 32;  // the checker refuses deeper than 64

  sockit::fuzz::Reader& in_;
  JsonWriter json_;
  std::vector<char> open_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;
  sockit::fuzz::Reader in(data, size);
  Driver(in).run();
  return 0;
}
