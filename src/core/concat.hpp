#pragma once

#include "core/errc.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace vidup::core {

enum class ConcatKind { none, partial, final_upload };

struct ConcatHeader {
  ConcatKind kind = ConcatKind::none;
  std::vector<std::string> urls;  // final only: the partial URLs in order, as written
};

inline constexpr std::size_t kMaxConcatParts = 10000;  // CAT-19

// H-CC-01..03, CAT-19: `partial` or `final;<url> <url>…`. Fails with Errc::invalid_concat.
[[nodiscard]] Result<ConcatHeader> parse_concat(std::string_view header);

}  // namespace vidup::core
