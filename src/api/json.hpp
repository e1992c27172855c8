#pragma once
// Private to vidup::api: JSON responses and error bodies, bounded body reading, field and query
// parsing, timestamps and the one-line failure log. No Beast.

#include "core/errc.hpp"
#include "handler/request.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace vidup::api {

namespace json = boost::json;
namespace net = boost::asio;
using core::Errc;
using core::Result;
using handler::Request;
using handler::Response;

// A JSON body with Content-Type application/json and Cache-Control no-store.
[[nodiscard]] Response json_response(unsigned status, const json::value& body);
// {"error":{"code","message"}} with the status of core::describe(e); `message` replaces the
// table's message when not empty (e.g. to name the field).
[[nodiscard]] Response error_response(Errc e, std::string_view message = {});
// The same for an error_code from a store or the engine.
[[nodiscard]] Response error_of(const boost::system::error_code& ec);
// 405 with Allow.
[[nodiscard]] Response method_not_allowed(std::string_view allow);
// 404 ERR_NOT_FOUND for a path under /v1 that names no endpoint.
[[nodiscard]] Response no_such_endpoint();

// Reads the request body (at most `max` bytes) and parses it as a JSON object. Errors:
// body_too_large (413), invalid_json (not JSON, not an object, empty), and the body source's own
// read errors.
net::awaitable<Result<json::object>> read_json_object(Request& request, std::size_t max);

// "2024-05-01T12:00:00.000Z" from unix ms.
[[nodiscard]] std::string iso8601(std::int64_t unix_ms);

// Reads typed fields of a JSON object and remembers the first failure with a message naming the
// field. Absent fields read as nullopt; a required one that is absent is a failure.
class Fields {
 public:
  explicit Fields(const json::object& object) : object_(object) {}

  // A string of 1..max_len bytes (an empty string is a failure unless allow_empty).
  std::optional<std::string> string(std::string_view name, bool required, std::size_t max_len = 1024,
                                    bool allow_empty = false);
  // A non-negative integer up to 2^63-1 (JSON number without fraction or exponent), the range of
  // a tus Upload-Length. `null` reads as nullopt
  // when allow_null, else is a failure.
  std::optional<std::uint64_t> count(std::string_view name, bool required, bool allow_null = false);

  [[nodiscard]] bool failed() const { return failure_.has_value(); }
  [[nodiscard]] Response error() const;  // the first failure as an invalid_field response

 private:
  void fail(std::string message);
  const json::object& object_;
  std::optional<std::string> failure_;
};

// `a=1&b=x%20y` → {a: "1", b: "x y"}; '+' is a space; the first of repeated names wins.
[[nodiscard]] std::map<std::string, std::string, std::less<>> parse_query(std::string_view query);

// The raw query of a request ("" when the HTTP layer does not pass one on).
[[nodiscard]] std::string_view query_of(const Request& request);

// One JSON line on stderr: {"level":"error","component":"api","event":...,"id":...,"error":...}.
void log_failure(std::string_view event, std::string_view id, std::string_view error) noexcept;

}  // namespace vidup::api
