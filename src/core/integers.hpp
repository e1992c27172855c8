#pragma once

#include "core/errc.hpp"

#include <cstdint>
#include <string_view>

namespace vidup::core {

// The largest value parse_uint accepts (2^63-1), so the largest Upload-Length or Upload-Offset.
// A length the server computes (a final upload's sum of partials) must not exceed it either.
inline constexpr std::uint64_t kMaxHeaderInteger = 9'223'372'036'854'775'807ULL;

// G-10: 1*DIGIT, no sign, no inner or surrounding whitespace, fits in int64 (leading zeros are
// accepted: "007" is 7). Anything else is `fail` (the caller's specific Errc).
[[nodiscard]] Result<std::uint64_t> parse_uint(std::string_view text, Errc fail);

}  // namespace vidup::core
