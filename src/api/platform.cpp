// The Platform's front door: which file answers a path, API keys and their scope, and the JSON
// shape of a video. The calls themselves live in rest.cpp, init.cpp, creation.cpp and demo.cpp.
#include "api/platform.hpp"

#include "api/platform_impl.hpp"
#include "auth/auth.hpp"
#include "core/base64.hpp"

namespace vidup::api {

namespace {

Segments split_path(std::string_view path) {
  Segments out;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto segment = path.substr(0, slash);
    if (!segment.empty()) {
      out.push_back(segment);
    }
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  return out;
}

Response options_response(std::string_view allow) {
  Response r;
  r.status = 204;
  r.headers.set("Allow", std::string(allow));
  return r;
}

}  // namespace

Platform::Platform(Options options, store::Catalog& catalog, handler::Handler& tus, handler::Clock clock)
    : impl_(std::make_shared<Impl>(options, catalog, tus, std::move(clock))) {}

net::awaitable<std::optional<handler::Response>> Platform::handle(handler::Request& request) {
  const Segments path = split_path(request.path);
  if (path.empty()) {
    co_return std::nullopt;
  }
  if (path[0] == "v1") {
    co_return co_await impl_->v1(request, path);
  }
  if (path[0] == "v2") {
    if (path.size() != 2 || path[1] != "init") {
      co_return no_such_endpoint();
    }
    if (request.method == "OPTIONS") {
      co_return options_response("OPTIONS, POST");
    }
    if (request.method != "POST") {
      co_return method_not_allowed("OPTIONS, POST");
    }
    co_return co_await impl_->init(request);
  }
  if (path[0] == "demo" && impl_->options.demo) {
    co_return co_await impl_->demo(request, path);
  }
  co_return std::nullopt;
}

net::awaitable<core::Result<void>> Platform::prepare_demo() {
  auto demo = co_await impl_->ensure_demo();
  if (!demo) {
    co_return demo.error();
  }
  co_return core::Result<void>{};
}

net::awaitable<core::Result<void>> Platform::authorize_creation(const handler::Request& request,
                                                                core::UploadInfo& draft) {
  co_return co_await impl_->authorize(request, draft);
}

net::awaitable<void> Platform::on_created(core::UploadInfo info) { co_await impl_->created(info); }
net::awaitable<void> Platform::on_progress(core::UploadInfo info) { co_await impl_->progressed(info); }
net::awaitable<void> Platform::on_finished(core::UploadInfo info) { co_await impl_->finished(info); }
net::awaitable<void> Platform::on_ended(core::UploadInfo info) { co_await impl_->ended(info); }

// ---------------------------------------------------------------------------------------------

net::awaitable<Result<store::ApiKey>> Platform::Impl::authenticate(const Request& request) {
  const auto token = auth::bearer_token(request.headers.get("Authorization"));
  if (!token || token->empty()) {
    co_return make_error_code(Errc::missing_credentials);
  }
  auto keys = co_await catalog.list_keys();
  if (!keys) {
    co_return make_error_code(core::to_errc(keys.error()));
  }
  // Every active key is compared, whichever matched, so the time taken does not say which one.
  std::optional<store::ApiKey> found;
  for (auto& key : *keys) {
    if (key.revoked) {
      continue;
    }
    const bool match = auth::constant_time_equals(key.secret, *token);
    if (match && !found) {
      found = std::move(key);
    }
  }
  if (!found) {
    co_return make_error_code(Errc::invalid_api_key);
  }
  co_return std::move(*found);
}

net::awaitable<Result<std::string>> Platform::Impl::resolve_parent(const std::string& parent_id,
                                                                   const std::optional<std::string>& scope) {
  if (!auth::is_uuid(parent_id)) {
    co_return make_error_code(Errc::project_not_found);
  }
  std::string project_id;
  auto project = co_await catalog.get_project(parent_id);
  if (project) {
    project_id = project->id;
  } else if (project.error() != make_error_code(Errc::not_found)) {
    co_return make_error_code(core::to_errc(project.error()));
  } else {
    auto folder = co_await catalog.get_folder(parent_id);
    if (!folder) {
      co_return make_error_code(folder.error() == make_error_code(Errc::not_found) ? Errc::project_not_found
                                                                                   : core::to_errc(folder.error()));
    }
    project_id = folder->project_id;
  }
  if (scope && *scope != project_id) {
    co_return make_error_code(Errc::project_not_found);
  }
  co_return project_id;
}

net::awaitable<Result<store::Video>> Platform::Impl::visible_video(const std::string& id,
                                                                   const std::optional<std::string>& scope) {
  if (!auth::is_uuid(id)) {
    co_return make_error_code(Errc::video_not_found);
  }
  auto video = co_await catalog.get_video(id);
  if (!video) {
    co_return make_error_code(video.error() == make_error_code(Errc::not_found) ? Errc::video_not_found
                                                                                : core::to_errc(video.error()));
  }
  if (scope && *scope != video->project_id) {
    co_return make_error_code(Errc::video_not_found);
  }
  co_return std::move(*video);
}

json::object Platform::Impl::video_json(const store::Video& v, std::string_view base_url) const {
  auto text_or_null = [](const std::string& s) -> json::value {
    return s.empty() ? json::value(nullptr) : json::value(s);
  };
  json::object o;
  o["id"] = v.id;
  o["title"] = v.title;
  o["parent_id"] = v.parent_id;
  o["project_id"] = v.project_id;
  o["filename"] = text_or_null(v.filename);
  o["filetype"] = text_or_null(v.filetype);
  o["size"] = v.size ? json::value(*v.size) : json::value(nullptr);
  o["status"] = store::to_string(v.status);
  o["bytes_received"] = v.bytes_received;
  o["upload_url"] = v.upload_id.empty() ? json::value(nullptr) : json::value(tus.upload_url(base_url, v.upload_id));
  o["created_at"] = iso8601(v.created_at);
  o["updated_at"] = iso8601(v.updated_at);
  return o;
}

std::string file_metadata(std::string_view filename, std::string_view filetype) {
  std::string out;
  auto add = [&out](std::string_view key, std::string_view value) {
    if (value.empty()) {
      return;
    }
    if (!out.empty()) {
      out += ',';
    }
    out.append(key).append(" ").append(core::base64_encode(value));
  };
  add("filename", filename);
  add("filetype", filetype);
  return out;
}

std::string metadata_filename(const core::Metadata& metadata) {
  if (auto name = metadata.get("filename"); name && !name->empty()) {
    return std::string(*name);
  }
  if (auto name = metadata.get("fileName"); name && !name->empty()) {
    return std::string(*name);  // seed 000 spells it this way
  }
  return {};
}

}  // namespace vidup::api
