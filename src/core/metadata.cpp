#include "core/metadata.hpp"

#include "core/base64.hpp"

#include <algorithm>

namespace vidup::core {
namespace {

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_front(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) {
    s.remove_prefix(1);
  }
  return s;
}

std::string_view trim_back(std::string_view s) {
  while (!s.empty() && is_ows(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

// Visible ASCII (0x21..0x7e) except ','. Space, controls and non-ASCII bytes are refused (H-MD-07/08).
bool is_valid_key(std::string_view key, std::size_t max_bytes) {
  if (key.empty() || key.size() > max_bytes) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f && c != ','; });
}

}  // namespace

std::optional<std::string_view> Metadata::get(std::string_view key) const {
  for (const auto& [k, v] : pairs) {
    if (k == key) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

Result<Metadata> parse_metadata(std::string_view header, const MetadataLimits& limits) {
  Metadata result;
  if (header.empty()) {
    return result;  // H-MD-10: an empty value is treated as an absent header
  }
  if (header.size() > limits.max_header_bytes) {
    return make_error_code(Errc::invalid_metadata);  // H-MD-14
  }

  std::size_t start = 0;
  while (true) {
    const std::size_t comma = header.find(',', start);
    const bool first = start == 0;
    const bool last = comma == std::string_view::npos;
    std::string_view pair = header.substr(start, last ? std::string_view::npos : comma - start);
    // H-MD-13: OWS is tolerated next to a comma only. A header that begins with a space has an
    // empty first key (H-MD-04); the HTTP layer has already stripped the field value's own OWS.
    if (!first) {
      pair = trim_front(pair);
    }
    if (!last) {
      pair = trim_back(pair);
    }

    // `key`, `key ` (H-MD-02/03: value "") or `key value`; a second space makes it invalid (H-MD-07).
    const std::size_t space = pair.find(' ');
    const std::string_view key = pair.substr(0, space);
    const std::string_view encoded = space == std::string_view::npos ? std::string_view{} : pair.substr(space + 1);
    if (!is_valid_key(key, limits.max_key_bytes)) {
      return make_error_code(Errc::invalid_metadata);  // H-MD-04, 07, 08
    }
    if (result.get(key).has_value()) {
      return make_error_code(Errc::invalid_metadata);  // H-MD-05
    }
    if (result.pairs.size() >= limits.max_pairs) {
      return make_error_code(Errc::invalid_metadata);  // H-MD-14
    }
    std::optional<std::string> value = base64_decode(encoded);
    if (!value) {
      return make_error_code(Errc::invalid_metadata);  // H-MD-06, and H-MD-07 (a space is not base64)
    }
    result.pairs.emplace_back(std::string(key), std::move(*value));

    if (last) {
      return result;
    }
    start = comma + 1;
  }
}

bool is_header_safe(std::string_view value) noexcept {
  return std::none_of(value.begin(), value.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

}  // namespace vidup::core
