// --demo: the server plays the customer's backend for the demo page, so the page never holds a
// key. POST /demo/grant creates a video in the demo project and signs seed 000's presigned
// headers for it; GET /demo/videos lists the demo project's most recent videos.
#include "api/platform_impl.hpp"

#include "auth/auth.hpp"
#include "core/headers.hpp"

namespace vidup::api {

namespace {

constexpr std::string_view kDemoName = "demo";
constexpr std::int64_t kGrantSeconds = 3600;
constexpr std::size_t kRecent = 20;
constexpr std::size_t kMaxFileField = 1024;

}  // namespace

net::awaitable<Result<Platform::Impl::Demo>> Platform::Impl::ensure_demo() {
  Demo demo;
  auto projects = co_await catalog.list_projects();
  if (!projects) {
    co_return projects.error();
  }
  for (const auto& p : *projects) {
    if (p.name == kDemoName) {
      demo.project_id = p.id;
      break;
    }
  }
  if (demo.project_id.empty()) {
    store::Project project{auth::new_uuid(), std::string(kDemoName), now_ms()};
    if (auto inserted = co_await catalog.insert_project(project); !inserted) {
      co_return inserted.error();
    }
    demo.project_id = project.id;
  }
  auto keys = co_await catalog.list_keys();
  if (!keys) {
    co_return keys.error();
  }
  for (const auto& k : *keys) {
    if (k.name == kDemoName && !k.revoked && !k.project_id) {
      demo.secret = k.secret;
      break;
    }
  }
  if (demo.secret.empty()) {
    store::ApiKey key;
    key.id = auth::new_key_id();
    key.secret = auth::new_api_key();
    key.name = std::string(kDemoName);
    key.created_at = now_ms();
    if (auto inserted = co_await catalog.insert_key(key); !inserted) {
      co_return inserted.error();
    }
    demo.secret = key.secret;
  }
  co_return demo;
}

net::awaitable<std::optional<Response>> Platform::Impl::demo(Request& request, const Segments& path) {
  if (path.size() != 2) {
    co_return std::nullopt;
  }
  const bool grant_path = path[1] == "grant";
  if (!grant_path && path[1] != "videos") {
    co_return std::nullopt;
  }
  const std::string_view allow = grant_path ? "POST, OPTIONS" : "GET, OPTIONS";
  if (request.method == "OPTIONS") {
    Response r;
    r.status = 204;
    r.headers.set(core::kAllow, std::string(allow));
    co_return r;
  }
  if (grant_path && request.method == "POST") {
    co_return co_await grant(request);
  }
  if (!grant_path && request.method == "GET") {
    co_return co_await demo_videos(request);
  }
  co_return method_not_allowed(allow);
}

net::awaitable<Response> Platform::Impl::grant(Request& request) {
  auto body = co_await read_json_object(request, options.max_json_body);
  if (!body) {
    co_return error_of(body.error());
  }
  Fields fields(*body);
  auto filename = fields.string("filename", true, kMaxFileField);
  auto filetype = fields.string("filetype", false, kMaxFileField, true);
  auto size = fields.count("size", false, true);
  if (fields.failed()) {
    co_return fields.error();
  }
  if (over_max_size(size)) {
    co_return error_response(Errc::max_size_exceeded);
  }
  auto demo = co_await ensure_demo();  // again: the demo key may have been revoked meanwhile
  if (!demo) {
    co_return error_of(demo.error());
  }
  store::Video video;
  video.id = auth::new_uuid();
  video.project_id = demo->project_id;
  video.parent_id = demo->project_id;
  video.title = *filename;
  video.filename = *filename;
  video.filetype = filetype.value_or("");
  video.size = size;
  video.created_at = video.updated_at = now_ms();
  if (auto inserted = co_await catalog.insert_video(video); !inserted) {
    co_return error_of(inserted.error());
  }
  const std::int64_t expiration = now_ms() / 1000 + kGrantSeconds;
  json::object headers;
  headers["Signature"] = auth::presign_signature(demo->secret, expiration, video.id);
  headers["Expiration"] = std::to_string(expiration);
  headers["Video-Id"] = video.id;
  json::object out;
  out["video_id"] = video.id;
  out["endpoint"] = request.base_url + "/tusupload";
  out["headers"] = std::move(headers);
  co_return json_response(201, out);
}

net::awaitable<Response> Platform::Impl::demo_videos(const Request& request) {
  auto demo = co_await ensure_demo();
  if (!demo) {
    co_return error_of(demo.error());
  }
  store::VideoQuery q;  // the port lists newest first
  q.project_id = demo->project_id;
  q.limit = kRecent;
  auto recent = co_await catalog.list_videos(q);
  if (!recent) {
    co_return error_of(recent.error());
  }
  json::array data;
  for (const auto& v : *recent) {
    data.push_back(video_json(v, request.base_url));
  }
  json::object out;
  out["data"] = std::move(data);
  co_return json_response(200, out);
}

}  // namespace vidup::api
