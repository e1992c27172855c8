#include "api/json.hpp"

#include "core/headers.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <cstdio>
#include <ctime>
#include <span>

namespace vidup::api {

namespace {

constexpr std::string_view kJsonType = "application/json; charset=utf-8";

Response error_with_code(unsigned status, std::string_view code, std::string_view message) {
  json::object error;
  error["code"] = code;
  error["message"] = message;
  json::object body;
  body["error"] = std::move(error);
  return json_response(status, body);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out.push_back(' ');
      continue;
    }
    if (c == '%' && i + 2 < in.size()) {
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

Response json_response(unsigned status, const json::value& body) {
  Response r;
  r.status = status;
  r.headers.set(core::kContentType, std::string(kJsonType));
  r.headers.set(core::kCacheControl, "no-store");
  r.body = json::serialize(body);
  return r;
}

Response error_of(const boost::system::error_code& ec) { return error_response(core::to_errc(ec)); }

Response error_response(Errc e, std::string_view message) {
  const auto d = core::describe(e);
  Response r = error_with_code(d.status, d.code, message.empty() ? d.message : message);
  if (d.status == 413) {
    r.close = true;  // the body may be unread
  }
  return r;
}

Response method_not_allowed(std::string_view allow) {
  Response r = error_response(Errc::method_not_allowed, "This method is not allowed here; see Allow");
  r.headers.set(core::kAllow, std::string(allow));
  return r;
}

Response no_such_endpoint() { return error_with_code(404, "ERR_NOT_FOUND", "No such endpoint"); }

net::awaitable<Result<json::object>> read_json_object(Request& request, std::size_t max) {
  if (auto declared = request.body->content_length(); declared && *declared > max) {
    co_return make_error_code(Errc::body_too_large);
  }
  std::string text;
  std::array<std::byte, 8192> buf{};
  while (true) {
    auto n = co_await request.body->read(std::span<std::byte>(buf));
    if (!n) {
      co_return n.error();
    }
    if (*n == 0) {
      break;
    }
    if (text.size() + *n > max) {
      co_return make_error_code(Errc::body_too_large);
    }
    text.append(reinterpret_cast<const char*>(buf.data()), *n);
  }
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) {
    co_return make_error_code(Errc::invalid_json);
  }
  co_return std::move(parsed.as_object());
}

std::string iso8601(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  const auto millis = static_cast<int>(unix_ms % 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  std::array<char, 40> out{};
  const int n = std::snprintf(out.data(), out.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis < 0 ? 0 : millis);
  return std::string(out.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
}

void Fields::fail(std::string message) {
  if (!failure_) {
    failure_ = std::move(message);
  }
}

Response Fields::error() const {
  return error_response(Errc::invalid_field, failure_.value_or("A field is missing or has a wrong type or value"));
}

std::optional<std::string> Fields::string(std::string_view name, bool required, std::size_t max_len, bool allow_empty) {
  const auto* v = object_.if_contains(name);
  if (v == nullptr || (v->is_null() && !required)) {
    if (required) {
      fail(std::string(name) + " is required");
    }
    return std::nullopt;
  }
  const auto* s = v->if_string();
  if (s == nullptr) {
    fail(std::string(name) + " must be a string");
    return std::nullopt;
  }
  if (s->empty() && !allow_empty) {
    fail(std::string(name) + " must not be empty");
    return std::nullopt;
  }
  if (s->size() > max_len) {
    fail(std::string(name) + " is longer than " + std::to_string(max_len) + " bytes");
    return std::nullopt;
  }
  return std::string(s->data(), s->size());
}

std::optional<std::uint64_t> Fields::count(std::string_view name, bool required, bool allow_null) {
  const auto* v = object_.if_contains(name);
  if (v == nullptr || (v->is_null() && allow_null)) {
    if (required && v == nullptr) {
      fail(std::string(name) + " is required");
    }
    return std::nullopt;
  }
  // A count is a size (filesize, size): at most 2^63-1, like every tus Upload-Length (G-10), so
  // what /v2/init declares is a length the tus engine could itself accept (found by fuzz_api_json).
  if (const auto* i = v->if_int64(); i != nullptr && *i >= 0) {
    return static_cast<std::uint64_t>(*i);
  }
  fail(std::string(name) + " must be a non-negative integer below 2^63");
  return std::nullopt;
}

std::map<std::string, std::string, std::less<>> parse_query(std::string_view query) {
  std::map<std::string, std::string, std::less<>> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    const auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq));
    auto value = eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1));
    out.emplace(std::move(name), std::move(value));
  }
  return out;
}

std::string_view query_of(const Request& request) {
  std::string_view q = request.query;
  if (!q.empty() && q.front() == '?') {
    q.remove_prefix(1);
  }
  return q;
}

void log_failure(std::string_view event, std::string_view id, std::string_view error) noexcept {
  try {
    json::object line;
    line["level"] = "error";
    line["component"] = "api";
    line["event"] = event;
    line["id"] = id;
    line["error"] = error;
    const std::string text = json::serialize(line) + "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
  } catch (...) {  // NOLINT(bugprone-empty-catch): logging must never throw out of an event handler
  }
}

}  // namespace vidup::api
