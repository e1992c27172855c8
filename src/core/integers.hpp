#pragma once

#include "core/errc.hpp"

#include <cstdint>
#include <string_view>

namespace vidup::core {

// G-10: 1*DIGIT, no sign, no inner or surrounding whitespace, fits in int64 (leading zeros are
// accepted: "007" is 7). Anything else is `fail` (the caller's specific Errc).
[[nodiscard]] Result<std::uint64_t> parse_uint(std::string_view text, Errc fail);

}  // namespace vidup::core
