// LineSplitter: lines out of a byte stream cut anywhere, long lines in bounded pieces, a
// partial line held until flush(). The fuzz target (fuzz/line_splitter_fuzz.cpp) checks it
// against a reference model; these are the cases a reader can follow.
#include "sockit/serve/line_splitter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sockit::serve {
namespace {

std::vector<std::string> split(LineSplitter& s, std::vector<std::string_view> chunks,
                               bool flush = false) {
  std::vector<std::string> out;
  auto emit = [&](std::string_view line) { out.emplace_back(line); };
  for (auto chunk : chunks)
    s.feed(chunk, emit);
  if (flush) s.flush(emit);
  return out;
}

using Lines = std::vector<std::string>;

TEST(LineSplitter, LinesCutAcrossReads) {
  LineSplitter s;
  EXPECT_EQ(split(s, {"he", "llo\nwor", "ld\n"}), (Lines{"hello", "world"}));
  EXPECT_FALSE(s.has_pending());
}

TEST(LineSplitter, CrLfEndsALineEvenWhenSplitBetweenReads) {
  LineSplitter s;
  EXPECT_EQ(split(s, {"a\r", "\nb\r\n"}), (Lines{"a", "b"}));
}

TEST(LineSplitter, ALoneCrBeforeOtherTextIsKept) {
  LineSplitter s;
  EXPECT_EQ(split(s, {"a\r", "b\n"}), (Lines{"a\rb"}));
}

TEST(LineSplitter, LongLinesComeInPiecesWithoutAnEmptyTail) {
  LineSplitter s(2);
  EXPECT_EQ(split(s, {"abcde\n"}), (Lines{"ab", "cd", "e"}));
  EXPECT_EQ(split(s, {"ab\r", "\n"}), (Lines{"ab"})) << "the \\r\\n after a full piece";
}

TEST(LineSplitter, PartialLineWaitsForFlush) {
  LineSplitter s;
  EXPECT_TRUE(split(s, {"no newline"}).empty());
  EXPECT_TRUE(s.has_pending());
  EXPECT_EQ(split(s, {}, true), (Lines{"no newline"}));
  EXPECT_FALSE(s.has_pending());
}

TEST(LineSplitter, ZeroPieceSizeIsTakenAsOne) {
  LineSplitter s(0);  // would never finish a line if taken literally
  EXPECT_EQ(split(s, {"ab\n"}), (Lines{"a", "b"}));
}

}  // namespace
}  // namespace sockit::serve
