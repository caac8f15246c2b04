// serve::LineSplitter, fed a byte stream cut into chunks at arbitrary points, with flushes
// (quiet moments) at some of the cuts. Invariants:
//  - the pieces are exactly what a reference model gives: every line (its "\r\n" or "\n"
//    removed) cut into pieces of max_piece bytes, the last one shorter; an empty line is
//    one empty piece; a flush emits the partial line so far (if any) the same way;
//  - so the output does not depend on where the stream was cut;
//  - memory stays bounded: pending() never holds more than max_piece bytes.
// The input: max_piece byte, count of cut bytes N, N cut bytes (a position step each, the
// low bit asking for a flush there), then the stream.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "sockit/serve/line_splitter.hpp"

namespace {

using sockit::fuzz::show;
using Pieces = std::vector<std::string>;

struct Event {
  std::string_view data;
  bool flush_after;
};

void cut(std::string_view text, std::size_t max_piece, Pieces& out) {
  if (text.empty()) return;
  for (std::size_t at = 0; at < text.size(); at += max_piece)
    out.emplace_back(text.substr(at, max_piece));
}

Pieces reference(const std::vector<Event>& events, std::size_t max_piece) {
  Pieces out;
  std::string line;
  for (const Event& e : events) {
    for (char c : e.data) {
      if (c != '\n') {
        line += c;
        continue;
      }
      if (line.ends_with('\r')) line.pop_back();
      if (line.empty()) out.emplace_back();
      cut(line, max_piece, out);
      line.clear();
    }
    if (e.flush_after) {
      cut(line, max_piece, out);
      line.clear();
    }
  }
  cut(line, max_piece, out);  // the final flush
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sockit::fuzz::Reader in(data, size);
  const std::size_t max_piece = 1 + in.byte() % 16;
  std::string_view cuts = in.take(in.byte() % 32);
  std::string_view stream = in.rest();

  std::vector<Event> events;
  std::size_t at = 0;
  for (char c : cuts) {
    auto b = static_cast<std::uint8_t>(c);
    std::size_t n = std::min<std::size_t>(b >> 1, stream.size() - at);
    events.push_back({stream.substr(at, n), (b & 1) != 0});
    at += n;
  }
  events.push_back({stream.substr(at), false});

  sockit::serve::LineSplitter splitter(max_piece);
  Pieces got;
  auto emit = [&](std::string_view piece) { got.emplace_back(piece); };
  for (const Event& e : events) {
    splitter.feed(e.data, emit);
    SOCKIT_FUZZ_CHECK(splitter.pending().size() <= max_piece, show(stream));
    if (e.flush_after) splitter.flush(emit);
  }
  splitter.flush(emit);
  SOCKIT_FUZZ_CHECK(!splitter.has_pending(), show(stream));

  const Pieces expected = reference(events, max_piece);
  std::string detail = show(stream) + " max_piece " + std::to_string(max_piece) + "; got";
  for (const auto& p : got)
    detail += " " + show(p);
  SOCKIT_FUZZ_CHECK(got == expected, detail);
  return 0;
}
