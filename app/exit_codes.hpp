// Exit codes shared by every subcommand (after BSD sysexits, see README "Exit codes"), and
// the one place that turns a library Error into a message and a code.
#pragma once

#include <string_view>

#include "sockit/result.hpp"

namespace sockit::cli {

enum ExitCode : int {
  kOk = 0,
  kPartial = 1,        // the job ran; some of its items failed
  kUsage = 64,         // bad usage or bad input (EX_USAGE)
  kUnknownHost = 68,   // the one name given did not resolve (EX_NOHOST)
  kUnavailable = 69,   // connection refused, service unavailable (EX_UNAVAILABLE)
  kIoError = 74,       // any other I/O failure (EX_IOERR)
  kTimedOut = 75,      // timed out, or a temporary failure (EX_TEMPFAIL)
  kPermission = 77,    // e.g. raw sockets without CAP_NET_RAW (EX_NOPERM)
  kInterrupted = 130,  // Ctrl+C
};

// The exit code a failure of this kind gets.
int exit_code_for(const Error& error) noexcept;

// Writes "sockit: <context>: <reason>" to stderr.
void report(const Error& error);
void report(std::string_view message);

}  // namespace sockit::cli
