#pragma once
// Private to the handler: the per-request context shared by the verb files.

#include "handler/handler.hpp"

#include <cstdint>
#include <string>

namespace vidup::handler {

struct Handler::Ctx {
  Request& request;
  std::string method;  // after X-HTTP-Method-Override
  std::string id;      // empty for the collection URL
  std::int64_t now = 0;
};

// True for `application/offset+octet-stream`, parameters ignored (PATCH-01, CWU-03).
[[nodiscard]] bool is_offset_stream(std::optional<std::string_view> content_type);

// Sets a header from a number.
inline void set_number(Response& r, std::string_view name, std::uint64_t v) { r.headers.set(name, std::to_string(v)); }

}  // namespace vidup::handler
