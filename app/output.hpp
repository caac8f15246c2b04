// Whole-line output for programs with several threads or processes writing at once: each
// call is one write(2) of the complete text (looping only if the kernel takes part of it),
// so lines from different clients never interleave mid-line.
#pragma once

#include <string_view>

namespace sockit::cli {

// Returns false if the descriptor is gone (EPIPE, EBADF…).
bool write_fully(int fd, std::string_view text);
inline bool write_out(std::string_view text) {
  return write_fully(1, text);
}

}  // namespace sockit::cli
