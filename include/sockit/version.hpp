// The library's version, for --version and for consumers that need to check it.
#pragma once

namespace sockit {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace sockit
