#pragma once

#include <string>
#include <string_view>

namespace vidup::core {

// H-LOC-03: 128 random bits from the OS CSPRNG, as 32 lower-case hex digits.
[[nodiscard]] std::string new_upload_id();

// An id is exactly what new_upload_id makes: 32 lower-case hex digits. Everything else (dots,
// slashes, NUL, percent signs, long values) is rejected before it reaches a store.
[[nodiscard]] bool is_valid_upload_id(std::string_view id) noexcept;

}  // namespace vidup::core
