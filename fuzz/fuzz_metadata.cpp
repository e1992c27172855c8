// Upload-Metadata (core::parse_metadata) and the base64 codec under it.
// Properties:
//  - base64: decode(encode(x)) == x for any bytes; a decoded input re-encodes to itself (padding
//    aside), so the decoder accepts exactly one spelling per value.
//  - metadata: what parses respects the rules (keys non-empty visible ASCII without ',', unique,
//    at most max_pairs and max_key_bytes, header at most max_header_bytes); re-encoding the pairs
//    (`key base64(value)`, comma-separated) parses back to the same pairs; a header that parses
//    under small limits parses identically under the default ones.
#include "core/base64.hpp"
#include "core/metadata.hpp"
#include "support/check.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>

namespace {

using vidup::core::Metadata;
using vidup::core::MetadataLimits;

std::string strip_padding(std::string_view s) {
  while (!s.empty() && s.back() == '=') {
    s.remove_suffix(1);
  }
  return std::string(s);
}

void check_base64(std::string_view in) {
  const std::string encoded = vidup::core::base64_encode(in);
  FUZZ_CHECK(encoded.size() % 4 == 0, "base64_encode pads to a multiple of 4");
  const auto round = vidup::core::base64_decode(encoded);
  FUZZ_CHECK(round && *round == in, "base64_decode(base64_encode(x)) == x");
  FUZZ_CHECK(vidup::core::base64_decode(strip_padding(encoded)) == round, "padding is optional");

  if (const auto decoded = vidup::core::base64_decode(in)) {
    FUZZ_CHECK(strip_padding(vidup::core::base64_encode(*decoded)) == strip_padding(in),
               "an accepted base64 input is the canonical encoding of its value");
  }
}

bool valid_key(std::string_view key, const MetadataLimits& limits) {
  if (key.empty() || key.size() > limits.max_key_bytes) {
    return false;
  }
  for (const char c : key) {
    if (c <= 0x20 || c >= 0x7f || c == ',') {
      return false;
    }
  }
  return true;
}

void check_rules(std::string_view header, const Metadata& m, const MetadataLimits& limits) {
  FUZZ_CHECK(header.size() <= limits.max_header_bytes, "header within max_header_bytes");
  FUZZ_CHECK(m.pairs.size() <= limits.max_pairs, "pairs within max_pairs");
  FUZZ_CHECK(!header.empty() || m.empty(), "an empty header has no pairs");
  std::set<std::string> keys;
  for (const auto& [key, value] : m.pairs) {
    FUZZ_CHECK(valid_key(key, limits), "keys are non-empty visible ASCII without ','");
    FUZZ_CHECK(keys.insert(key).second, "keys are unique");
    FUZZ_CHECK(m.get(key) == std::string_view(value), "get() finds the pair");
    FUZZ_CHECK(header.find(key) != std::string_view::npos, "a key appears in the header as sent");
  }
}

std::string encode(const Metadata& m) {
  std::string out;
  for (const auto& [key, value] : m.pairs) {
    if (!out.empty()) {
      out += ',';
    }
    out += key;
    if (!value.empty()) {
      out += ' ';
      out += vidup::core::base64_encode(value);
    }
  }
  return out;
}

void check_metadata(std::string_view header) {
  const MetadataLimits defaults;
  const auto parsed = vidup::core::parse_metadata(header, defaults);
  if (parsed) {
    check_rules(header, *parsed, defaults);
    // Re-encoding may be longer (padding); the round trip is about the pairs, not the limit.
    constexpr auto kNoLimit = std::numeric_limits<std::size_t>::max();
    const auto again = vidup::core::parse_metadata(encode(*parsed), MetadataLimits{kNoLimit, kNoLimit, kNoLimit});
    FUZZ_CHECK(again && again->pairs == parsed->pairs, "re-encoded metadata parses to the same pairs");
    for (const auto& [key, value] : parsed->pairs) {
      (void)vidup::core::is_header_safe(value);
    }
  }

  const MetadataLimits small{64, 2, 4};
  if (const auto tight = vidup::core::parse_metadata(header, small)) {
    check_rules(header, *tight, small);
    FUZZ_CHECK(parsed && parsed->pairs == tight->pairs, "tighter limits accept a subset, identically");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_base64(in);
  check_metadata(in);
  return 0;
}
