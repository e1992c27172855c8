#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vidup::core {

// H-EXP-01: IMF-fixdate ("Wed, 25 Jun 2014 16:00:00 GMT") from unix milliseconds.
[[nodiscard]] std::string format_http_date(std::int64_t unix_ms);
[[nodiscard]] std::optional<std::int64_t> parse_http_date(std::string_view text);  // unix ms

}  // namespace vidup::core
