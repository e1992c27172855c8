#include "core/integers.hpp"

#include <limits>

namespace vidup::core {

Result<std::uint64_t> parse_uint(std::string_view text, Errc fail) {
  constexpr std::uint64_t kMax = kMaxHeaderInteger;
  static_assert(kMax == static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  if (text.empty()) {
    return make_error_code(fail);
  }
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return make_error_code(fail);
    }
    const auto digit = static_cast<std::uint64_t>(c - '0');
    // value * 10 + digit must stay <= kMax; checked before multiplying, so nothing wraps.
    if (value > (kMax - digit) / 10) {
      return make_error_code(fail);
    }
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace vidup::core
