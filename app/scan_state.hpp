// The state file of an interrupted scan (masscan's paused.conf, for sockit): the scan's own
// arguments, the size its targets and ports came to, and the library's checkpoint of what
// was left. `sockit scan --resume FILE` reads it back and scans exactly that.
//
// A text file, one item a line, so that a user can see what it holds:
//   sockit-scan-state 1
//   arg -sS                  each argument of the scan as given ('%', CR and LF as %25, %0D, %0A)
//   hosts 1024               what the targets and ports came to
//   ports 3
//   seed 8093413
//   next 577                 the first host (in the host order) not taken in
//   host 12 scan 3 80,443    a host being scanned: ports handed out, those not decided (- none)
//   host 13 discover         a host still being discovered: done again
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sockit/result.hpp"
#include "sockit/scan/scanner.hpp"

namespace sockit::cli {

struct ScanState {
  std::vector<std::string> args;
  std::uint64_t hosts = 0;
  std::uint64_t ports = 0;
  scan::ScanCheckpoint checkpoint;
};

// Where an interrupted scan saves its state unless it was itself resumed from a file.
inline constexpr const char* kDefaultStateFile = "sockit-scan.resume";

// Writes to a temporary file beside `path`, then renames it over `path`: a reader never
// sees half a state.
Result<void> write_scan_state(const std::string& path, const ScanState& state);
// Any line it does not understand is an error naming the file and the line.
Result<ScanState> read_scan_state(const std::string& path);

}  // namespace sockit::cli
