#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vidup::core {

// Standard alphabet (RFC 4648 §4). Padding is optional on input, but when present it must be
// correct; characters outside the alphabet, misplaced '=' and non-zero trailing bits fail.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view in);
[[nodiscard]] std::string base64_encode(std::string_view in);

}  // namespace vidup::core
