// Upload-Concat (core::parse_concat), differentially against a reference parse written from the
// rules (H-CC-01..03, CAT-19): "" = none, "partial" exactly, or "final;" followed by 1..10000
// URLs of visible ASCII separated by one or more spaces. Anything else fails with
// Errc::invalid_concat. A final header rebuilt from the parsed URLs parses to the same URLs.
#include "core/concat.hpp"
#include "support/check.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using vidup::core::ConcatHeader;
using vidup::core::ConcatKind;

std::optional<ConcatHeader> reference(std::string_view h) {
  ConcatHeader out;
  if (h.empty()) {
    return out;
  }
  if (h == "partial") {
    out.kind = ConcatKind::partial;
    return out;
  }
  if (h.substr(0, 6) != "final;") {
    return std::nullopt;
  }
  std::string current;
  auto flush = [&] {
    if (!current.empty()) {
      out.urls.push_back(current);
      current.clear();
    }
  };
  for (const char c : h.substr(6)) {
    if (c == ' ') {
      flush();
    } else if (c > 0x20 && c < 0x7f) {
      current.push_back(c);
    } else {
      return std::nullopt;
    }
  }
  flush();
  if (out.urls.empty() || out.urls.size() > vidup::core::kMaxConcatParts) {
    return std::nullopt;
  }
  out.kind = ConcatKind::final_upload;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto parsed = vidup::core::parse_concat(in);
  const auto expected = reference(in);

  FUZZ_CHECK(parsed.has_value() == expected.has_value(), "parse_concat accepts what the reference accepts");
  if (!parsed) {
    FUZZ_CHECK(parsed.error() == vidup::core::make_error_code(vidup::core::Errc::invalid_concat),
               "failures are Errc::invalid_concat");
    return 0;
  }
  FUZZ_CHECK(parsed->kind == expected->kind, "same kind as the reference");
  FUZZ_CHECK(parsed->urls == expected->urls, "same URLs as the reference, in order");
  FUZZ_CHECK(parsed->kind == ConcatKind::final_upload || parsed->urls.empty(), "only a final has URLs");

  if (parsed->kind == ConcatKind::final_upload) {
    std::string rebuilt = "final;";
    for (std::size_t i = 0; i < parsed->urls.size(); ++i) {
      rebuilt += (i == 0 ? "" : " ") + parsed->urls[i];
    }
    const auto again = vidup::core::parse_concat(rebuilt);
    FUZZ_CHECK(again && again->kind == ConcatKind::final_upload && again->urls == parsed->urls,
               "a rebuilt final header parses to the same URLs");
  }
  return 0;
}
