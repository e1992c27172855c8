#include "http/router.hpp"

#include "core/errc.hpp"
#include "core/headers.hpp"

#include <algorithm>

namespace vidup::http {

namespace {

using handler::Request;
using handler::Response;

// G-12, G-13.
constexpr std::string_view kAllowMethods = "POST, HEAD, PATCH, OPTIONS, GET, DELETE";
constexpr std::string_view kAllowHeaders =
    "Authorization, Content-Type, Upload-Length, Upload-Offset, Tus-Resumable, Upload-Metadata, "
    "Upload-Defer-Length, Upload-Concat, Upload-Checksum, X-HTTP-Method-Override, X-Requested-With, "
    "Upload-Complete, Upload-Draft-Interop-Version, Signature, Expiration, Video-Id";
constexpr std::string_view kExposeHeaders =
    "Location, Upload-Offset, Upload-Length, Upload-Metadata, Upload-Defer-Length, Upload-Concat, Upload-Expires, "
    "Tus-Version, Tus-Resumable, Tus-Max-Size, Tus-Extension, Tus-Checksum-Algorithm, Upload-Complete, Upload-Limit, "
    "Upload-Draft-Interop-Version";

Response text(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.headers.set(core::kContentType, "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

}  // namespace

Router::Router(const Options& options, handler::Handler& tus, Metrics& metrics)
    : options_(options), tus_(tus), metrics_(metrics) {}

void Router::add_cors(const Request& request, Response& response) const {
  auto origin = request.headers.get("Origin");
  if (!origin) {
    return;
  }
  const auto& allowed = options_.cors_origins;
  const bool any = std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
  if (!any && std::find(allowed.begin(), allowed.end(), *origin) == allowed.end()) {
    return;
  }
  response.headers.set("Access-Control-Allow-Origin", std::string(*origin));
  response.headers.set("Vary", "Origin");
  response.headers.set("Access-Control-Expose-Headers", std::string(kExposeHeaders));
  if (request.method == "OPTIONS" && request.headers.has("Access-Control-Request-Method")) {
    response.headers.set("Access-Control-Allow-Methods", std::string(kAllowMethods));
    response.headers.set("Access-Control-Allow-Headers", std::string(kAllowHeaders));
    response.headers.set("Access-Control-Max-Age", "86400");
  }
}

net::awaitable<Response> Router::route(Request& request) {
  Response response;
  const auto& base = tus_.config().base_path;
  if (request.path.starts_with(base) || request.path == std::string_view(base).substr(0, base.size() - 1)) {
    response = co_await tus_.handle(request);
  } else if (request.path == "/healthz" && (request.method == "GET" || request.method == "HEAD")) {
    response = text(200, "ok\n");
  } else if (request.path == "/metrics" && request.method == "GET") {
    response = text(200, metrics_.render(tus_.counters()));
    response.headers.set(core::kContentType, "text/plain; version=0.0.4; charset=utf-8");
  } else {
    response = text(404, "ERR_NOT_FOUND: no such endpoint\n");
  }
  add_cors(request, response);
  co_return response;
}

}  // namespace vidup::http
