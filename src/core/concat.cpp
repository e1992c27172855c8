#include "core/concat.hpp"

#include <algorithm>

namespace vidup::core {
namespace {

constexpr std::string_view kPartial = "partial";
constexpr std::string_view kFinalPrefix = "final;";

// A URL is a run of visible ASCII; spaces separate URLs, anything else (controls, tabs,
// non-ASCII bytes) makes the header invalid.
bool is_url_byte(char c) { return c > 0x20 && c < 0x7f; }

}  // namespace

Result<ConcatHeader> parse_concat(std::string_view header) {
  ConcatHeader result;
  if (header.empty()) {
    return result;  // an empty value is treated as an absent header, like Upload-Metadata (H-MD-10)
  }
  if (header == kPartial) {
    result.kind = ConcatKind::partial;
    return result;
  }
  if (!header.starts_with(kFinalPrefix)) {
    return make_error_code(Errc::invalid_concat);  // H-CC-03: `partial;x`, `final`, unknown tokens
  }

  std::string_view rest = header.substr(kFinalPrefix.size());
  // H-CC-01/02: URLs separated by one or more spaces; spaces after `;` and at the end tolerated.
  while (!rest.empty()) {
    if (rest.front() == ' ') {
      rest.remove_prefix(1);
      continue;
    }
    const std::size_t end = std::min(rest.find(' '), rest.size());
    const std::string_view url = rest.substr(0, end);
    if (!std::all_of(url.begin(), url.end(), is_url_byte)) {
      return make_error_code(Errc::invalid_concat);
    }
    if (result.urls.size() >= kMaxConcatParts) {
      return make_error_code(Errc::invalid_concat);  // CAT-19: capped
    }
    result.urls.emplace_back(url);
    rest.remove_prefix(end);
  }
  if (result.urls.empty()) {
    return make_error_code(Errc::invalid_concat);  // CAT-19: `final;` with no URL
  }
  result.kind = ConcatKind::final_upload;
  return result;
}

}  // namespace vidup::core
