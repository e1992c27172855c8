#pragma once

#include "core/errc.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vidup::core {

// Upload-Metadata: ordered (key, decoded value) pairs, as the client sent them.
struct Metadata {
  std::vector<std::pair<std::string, std::string>> pairs;

  [[nodiscard]] std::optional<std::string_view> get(std::string_view key) const;
  [[nodiscard]] bool empty() const { return pairs.empty(); }
};

struct MetadataLimits {
  std::size_t max_header_bytes = 4096;  // H-MD-14
  std::size_t max_pairs = 32;
  std::size_t max_key_bytes = 128;
};

// H-MD-01..08, 13, 14: comma-separated `key [base64]` pairs, OWS around commas tolerated, keys
// non-empty printable ASCII without space or comma, unique, values valid base64. An empty header
// is treated as absent (H-MD-10). Fails with Errc::invalid_metadata.
[[nodiscard]] Result<Metadata> parse_metadata(std::string_view header, const MetadataLimits& limits = {});

// H-MD-11: a decoded value is safe to reflect in a header only when it has no control characters.
[[nodiscard]] bool is_header_safe(std::string_view value) noexcept;

}  // namespace vidup::core
