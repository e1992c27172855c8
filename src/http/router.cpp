#include "http/router.hpp"

#include "core/errc.hpp"
#include "core/headers.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace vidup::http {

namespace {

using handler::Request;
using handler::Response;

// G-12, G-13.
constexpr std::string_view kTusClientPath = "/static/vendor/tus.min.js";
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

Router::Router(const Options& options, handler::Handler& tus, Metrics& metrics, api::Platform* platform)
    : options_(options), tus_(tus), metrics_(metrics), platform_(platform) {}

std::optional<Response> Router::static_file(const Request& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    return std::nullopt;
  }
  std::string_view path = request.path;
  std::filesystem::path file;
  if (path == "/" || path == "/index.html") {
    file = std::filesystem::path(options_.web_dir) / "index.html";
  } else if (path == std::string_view(kTusClientPath)) {
    file = std::filesystem::path(options_.node_modules_dir) / "tus-js-client" / "dist" / "tus.min.js";
  } else if (path.starts_with("/static/")) {
    path.remove_prefix(std::string_view("/static/").size());
    // Only plain names: no directories, no dot files, so nothing outside web_dir is reachable.
    const bool plain = !path.empty() && path.size() < 100 && path.front() != '.' &&
                       std::all_of(path.begin(), path.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
                       });
    if (!plain || path.find("..") != std::string_view::npos) {
      return std::nullopt;
    }
    file = std::filesystem::path(options_.web_dir) / std::string(path);
  } else {
    return std::nullopt;
  }
  if (options_.web_dir.empty()) {
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream content;
  content << in.rdbuf();
  Response r = text(200, content.str());
  const auto ext = file.extension().string();
  const char* type = ext == ".html" ? "text/html; charset=utf-8"
                     : ext == ".js" ? "text/javascript; charset=utf-8"
                     : ext == ".css" ? "text/css; charset=utf-8"
                     : ext == ".png" ? "image/png"
                     : ext == ".svg" ? "image/svg+xml"
                                     : "application/octet-stream";
  r.headers.set(core::kContentType, type);
  r.headers.set(core::kCacheControl, "no-cache");
  r.headers.set(core::kNoSniff, "nosniff");
  return r;
}

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
  if (request.path == "/tusupload" || request.path == "/tusupload/") {
    request.path = base;  // seed 000's presigned endpoint: tus creation, authorised by its headers
  }
  if (platform_ != nullptr && (request.path.starts_with("/v1/") || request.path.starts_with("/v2/") ||
                               request.path.starts_with("/demo/"))) {
    if (auto answered = co_await platform_->handle(request)) {
      add_cors(request, *answered);
      co_return std::move(*answered);
    }
  }
  if (request.path.starts_with(base) || request.path == std::string_view(base).substr(0, base.size() - 1)) {
    response = co_await tus_.handle(request);
  } else if (auto file = static_file(request)) {
    response = std::move(*file);
  } else if (request.path == "/healthz" && (request.method == "GET" || request.method == "HEAD")) {
    response = text(200, "ok\n");
  } else if (request.path == "/metrics" && request.method == "GET") {
    response = text(200, metrics_.render(tus_.counters()));
    response.headers.set(core::kContentType, "text/plain; version=0.0.4; charset=utf-8");
  } else {
    response = text(404, "ERR_NOT_FOUND: no such endpoint\n");
    response.headers.set(core::kTusResumable, std::string(core::kTusVersion));
  }
  add_cors(request, response);
  co_return response;
}

}  // namespace vidup::http
