// Making bytes from the network safe to show: text for a terminal, strings for JSON.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sockit::cli {

// Length of the valid UTF-8 sequence of two to four bytes at the start of `s`, or 0 if it
// isn't one (ASCII included). Rejects overlong forms, surrogates and code points past
// U+10FFFF.
std::size_t utf8_length(std::string_view s);

// Appends `bytes` so that a terminal shows them literally: printable ASCII and valid UTF-8
// as they are; control bytes, DEL, C1 controls and invalid UTF-8 as \xNN; a backslash as
// "\\" (so the escaping can be undone unambiguously).
void append_escaped(std::string& out, std::string_view bytes);

// Appends `bytes` as a JSON string (quotes included). Valid UTF-8 stays as it is; an
// invalid byte becomes the code point of the same value (\u00NN), so the result is always
// valid JSON and no byte is silently lost.
void append_json_bytes(std::string& out, std::string_view bytes);

}  // namespace sockit::cli
