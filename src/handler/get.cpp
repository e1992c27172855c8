// GET: download of a finished upload (not part of tus 1.0.0; GET-01..04), with single Range
// requests, a Content-Type from an allow-list and a sanitised Content-Disposition.
#include "handler/handler.hpp"

#include "core/headers.hpp"
#include "core/ids.hpp"
#include "core/integers.hpp"
#include "handler/context.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace vidup::handler {

namespace {

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

// `bytes=a-b`, `bytes=a-` or `bytes=-n` against `size`. nullopt: ignore the header and serve
// everything (several ranges, other units, malformed: RFC 9110 §14.2 lets us). Errc: 416.
std::optional<Result<ByteRange>> parse_range(std::string_view h, std::uint64_t size) {
  constexpr std::string_view kPrefix = "bytes=";
  if (!h.starts_with(kPrefix) || h.find(',') != std::string_view::npos) {
    return std::nullopt;
  }
  h.remove_prefix(kPrefix.size());
  const auto dash = h.find('-');
  if (dash == std::string_view::npos) {
    return std::nullopt;
  }
  const auto first_text = h.substr(0, dash);
  const auto last_text = h.substr(dash + 1);
  const auto unsatisfiable = Result<ByteRange>(make_error_code(Errc::range_not_satisfiable));
  if (first_text.empty()) {
    auto suffix = core::parse_uint(last_text, Errc::bad_request);
    if (!suffix) {
      return std::nullopt;
    }
    if (*suffix == 0 || size == 0) {
      return unsatisfiable;
    }
    const auto n = std::min(*suffix, size);
    return Result<ByteRange>(ByteRange{size - n, n});
  }
  auto first = core::parse_uint(first_text, Errc::bad_request);
  if (!first) {
    return std::nullopt;
  }
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    auto parsed = core::parse_uint(last_text, Errc::bad_request);
    if (!parsed || *parsed < *first) {
      return std::nullopt;
    }
    last = std::min(*parsed, last);
  }
  if (*first >= size) {
    return unsatisfiable;
  }
  return Result<ByteRange>(ByteRange{*first, last - *first + 1});
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$&-^_.+").find(c) != std::string_view::npos;
}

// GET-02: only media types that browsers will not run as a document; never text/html or SVG.
std::string safe_content_type(std::optional<std::string_view> filetype) {
  constexpr std::string_view kFallback = "application/octet-stream";
  if (!filetype) {
    return std::string(kFallback);
  }
  auto v = *filetype;
  const auto slash = v.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == v.size() || v.size() > 100) {
    return std::string(kFallback);
  }
  for (char c : v) {
    if (c != '/' && !is_token_char(c)) {
      return std::string(kFallback);
    }
  }
  std::string lower(v);
  for (auto& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  constexpr std::array kAllowedImages = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"};
  const bool allowed = lower.starts_with("video/") || lower.starts_with("audio/") ||
                       std::find(kAllowedImages.begin(), kAllowedImages.end(), lower) != kAllowedImages.end();
  return allowed ? lower : std::string(kFallback);
}

// H-MD-11, GET-02: the last path component, no control characters, quotes or backslashes in
// the quoted form; the exact name travels percent-encoded in filename*.
std::string content_disposition(std::optional<std::string_view> filename) {
  if (!filename || filename->empty()) {
    return "attachment";
  }
  auto name = *filename;
  if (auto slash = name.find_last_of("/\\"); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  name = name.substr(0, 255);
  if (name.empty() || name == "." || name == "..") {
    return "attachment";
  }
  std::string ascii;
  std::string encoded;
  constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    const bool printable = c >= 0x20 && c < 0x7f;
    ascii.push_back(printable && c != '"' && c != '\\' ? ch : '_');
    if (std::isalnum(c) || std::string_view("!#$&+-.^_`|~").find(ch) != std::string_view::npos) {
      encoded.push_back(ch);
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[c >> 4]);
      encoded.push_back(kHex[c & 15]);
    }
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

}  // namespace

net::awaitable<Response> Handler::get(Ctx& ctx) {
  auto* server = stores_.content_server();
  if (!config_.get || server == nullptr) {
    co_return error(Errc::method_not_allowed);
  }
  if (!core::is_valid_upload_id(ctx.id)) {
    co_return error(Errc::not_found);
  }
  auto info = co_await load(ctx.id, ctx.now);
  if (!info) {
    co_return error(core::to_errc(info.error()));
  }
  if (!info->is_finished()) {
    co_return error(Errc::upload_incomplete);  // GET-03: 409 until every byte is there
  }
  const std::uint64_t size = info->offset;
  ByteRange range{0, size};
  Response r;
  r.status = 200;
  if (auto h = ctx.request.headers.get(core::kRange)) {
    if (auto parsed = parse_range(*h, size)) {
      if (!*parsed) {
        r = error(Errc::range_not_satisfiable);
        r.headers.set(core::kContentRange, "bytes */" + std::to_string(size));
        co_return r;
      }
      range = **parsed;
      r.status = 206;
      r.headers.set(core::kContentRange, "bytes " + std::to_string(range.first) + "-" +
                                             std::to_string(range.first + range.length - 1) + "/" +
                                             std::to_string(size));
    }
  }
  auto reader = co_await server->open_reader(*info, range.first, range.length);
  if (!reader) {
    co_return error(core::to_errc(reader.error()));
  }
  r.content = std::move(*reader);
  r.headers.set(core::kContentType, safe_content_type(info->metadata.get("filetype")));
  r.headers.set(core::kContentDisposition, content_disposition(info->metadata.get("filename")));
  r.headers.set(core::kAcceptRanges, "bytes");
  set_number(r, core::kContentLength, range.length);
  co_return r;
}

}  // namespace vidup::handler
