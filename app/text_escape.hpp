// Making bytes from the network safe to show: text for a terminal, strings for JSON.
#pragma once

#include <string>
#include <string_view>

namespace sockit::cli {

// Appends `bytes` so that a terminal shows them literally: printable ASCII and valid UTF-8
// as they are; control bytes, DEL, C1 controls and invalid UTF-8 as \xNN; a backslash as
// "\\" (so the escaping can be undone unambiguously).
void append_escaped(std::string& out, std::string_view bytes);

// Appends `bytes` as a JSON string (quotes included). Valid UTF-8 stays as it is; an
// invalid byte becomes the code point of the same value (\u00NN), so the result is always
// valid JSON and no byte is silently lost.
void append_json_bytes(std::string& out, std::string_view bytes);

}  // namespace sockit::cli
