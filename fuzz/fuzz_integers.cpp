// The scalar header codecs: core::parse_uint (Upload-Offset, Upload-Length, Range bounds, the
// API's ?limit=), core::parse_http_date / format_http_date (Upload-Expires) and
// core::is_valid_upload_id (the id in every upload URL).
// Properties:
//  - parse_uint == a reference on decimal strings: 1*DIGIT (leading zeros allowed), value
//    <= 2^63-1, nothing else (no sign, space, '+', hex, empty); 2^63 and beyond are rejected;
//    failures carry the caller's Errc.
//  - a parsed HTTP date is strict IMF-fixdate: formatting its value gives back the same text;
//    any time in 0000..9999 formats to a date that parses back to it (to the second).
//  - an upload id is valid iff it is exactly 32 lower-case hex digits.
#include "core/http_date.hpp"
#include "core/ids.hpp"
#include "core/integers.hpp"
#include "support/check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace {

using vidup::core::Errc;

// Decimal digits only, compared as numbers by length then text, with no arithmetic to overflow.
std::optional<std::uint64_t> reference_uint(std::string_view s) {
  if (s.empty()) {
    return std::nullopt;
  }
  for (const char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
  }
  while (s.size() > 1 && s.front() == '0') {
    s.remove_prefix(1);
  }
  constexpr std::string_view kMax = "9223372036854775807";  // 2^63 - 1
  if (s.size() > kMax.size() || (s.size() == kMax.size() && s > kMax)) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  for (const char c : s) {
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

void check_uint(std::string_view in) {
  const auto parsed = vidup::core::parse_uint(in, Errc::invalid_offset);
  const auto expected = reference_uint(in);
  FUZZ_CHECK(parsed.has_value() == expected.has_value(), "parse_uint accepts exactly the reference's strings");
  if (parsed) {
    FUZZ_CHECK(*parsed == *expected, "parse_uint gives the reference's value");
    FUZZ_CHECK(*parsed <= static_cast<std::uint64_t>(INT64_MAX), "values fit in int64");
  } else {
    FUZZ_CHECK(parsed.error() == vidup::core::make_error_code(Errc::invalid_offset), "failure is the caller's Errc");
  }
}

void check_date(std::string_view in) {
  if (const auto ms = vidup::core::parse_http_date(in)) {
    FUZZ_CHECK(*ms % 1000 == 0, "dates have whole seconds");
    FUZZ_CHECK(vidup::core::format_http_date(*ms) == in, "a parsed date formats back to the same text");
  }
  // The first 8 bytes as a time in the years 0000..9999 (what format_http_date accepts).
  if (in.size() >= 8) {
    std::uint64_t raw = 0;
    std::memcpy(&raw, in.data(), sizeof raw);
    constexpr std::int64_t kMin = -62'167'219'200'000;  // 0000-01-01T00:00:00Z
    constexpr std::int64_t kMax = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z
    const auto ms = kMin + static_cast<std::int64_t>(raw % static_cast<std::uint64_t>(kMax - kMin + 1));
    const std::string text = vidup::core::format_http_date(ms);
    const auto back = vidup::core::parse_http_date(text);
    const std::int64_t floor_s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    FUZZ_CHECK(back && *back == floor_s * 1000, "a formatted date parses back to its second");
  }
}

void check_id(std::string_view in) {
  bool expected = in.size() == 32;
  for (const char c : in) {
    expected = expected && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }
  FUZZ_CHECK(vidup::core::is_valid_upload_id(in) == expected, "ids are exactly 32 lower-case hex digits");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_uint(in);
  check_date(in);
  check_id(in);
  return 0;
}
