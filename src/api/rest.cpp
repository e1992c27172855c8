// The /v1 REST API: projects, folders and videos, JSON in and out, `Authorization: Bearer <key>`.
// A key with a project sees only that project; everything else answers 404 as if it did not exist.
#include "api/platform_impl.hpp"

#include "auth/auth.hpp"
#include "core/headers.hpp"
#include "core/integers.hpp"

namespace vidup::api {

namespace {

constexpr std::size_t kMaxName = 256;
constexpr std::size_t kMaxTitle = 512;
constexpr std::size_t kMaxFileField = 1024;
constexpr std::uint64_t kDefaultLimit = 50;
constexpr std::uint64_t kMaxLimit = 100;

enum class Route { none, projects, project, folders, folder, videos, video, source };

Route route_of(const Segments& path) {
  if (path.size() < 2) {
    return Route::none;
  }
  const auto resource = path[1];
  if (resource == "projects") {
    return path.size() == 2 ? Route::projects : path.size() == 3 ? Route::project : Route::none;
  }
  if (resource == "folders") {
    return path.size() == 2 ? Route::folders : path.size() == 3 ? Route::folder : Route::none;
  }
  if (resource == "videos") {
    if (path.size() == 2) {
      return Route::videos;
    }
    if (path.size() == 3) {
      return Route::video;
    }
    if (path.size() == 4 && path[3] == "source") {
      return Route::source;
    }
  }
  return Route::none;
}

std::string_view allow_of(Route route) {
  switch (route) {
    case Route::projects:
    case Route::folders:
    case Route::videos:
      return "GET, POST, OPTIONS";
    case Route::video:
      return "GET, PATCH, DELETE, OPTIONS";
    case Route::project:
    case Route::folder:
    case Route::source:
      return "GET, OPTIONS";
    case Route::none:
      break;
  }
  return "OPTIONS";
}

bool allows(std::string_view allow, std::string_view method) {
  std::size_t pos = 0;
  while (pos < allow.size()) {
    auto comma = allow.find(',', pos);
    auto token = allow.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!token.empty() && token.front() == ' ') {
      token.remove_prefix(1);
    }
    if (token == method) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    pos = comma + 1;
  }
  return false;
}

Response data_response(unsigned status, json::value data) {
  json::object body;
  body["data"] = std::move(data);
  return json_response(status, body);
}


json::object project_json(const store::Project& p) {
  json::object o;
  o["id"] = p.id;
  o["name"] = p.name;
  o["created_at"] = iso8601(p.created_at);
  return o;
}

json::object folder_json(const store::Folder& f) {
  json::object o;
  o["id"] = f.id;
  o["project_id"] = f.project_id;
  o["parent_id"] = f.parent_id;
  o["name"] = f.name;
  o["created_at"] = iso8601(f.created_at);
  return o;
}

}  // namespace

net::awaitable<Response> Platform::Impl::v1(Request& request, const Segments& path) {
  const Route route = route_of(path);
  if (route == Route::none) {
    co_return no_such_endpoint();
  }
  const auto allow = allow_of(route);
  if (request.method == "OPTIONS") {
    Response r;
    r.status = 204;
    r.headers.set(core::kAllow, std::string(allow));
    co_return r;
  }
  auto key = co_await authenticate(request);
  if (!key) {
    co_return error_of(key.error());
  }
  if (!allows(allow, request.method)) {
    co_return method_not_allowed(allow);
  }
  const bool post = request.method == "POST";
  const std::string id = path.size() > 2 ? std::string(path[2]) : std::string();
  switch (route) {
    case Route::projects:
      co_return post ? co_await create_project(request, *key) : co_await list_projects(*key);
    case Route::project:
      co_return co_await get_project(id, *key);
    case Route::folders:
      co_return post ? co_await create_folder(request, *key) : co_await list_folders(request, *key);
    case Route::folder:
      co_return co_await get_folder(id, *key);
    case Route::videos:
      co_return post ? co_await create_video(request, *key) : co_await list_videos(request, *key);
    case Route::video:
      if (request.method == "PATCH") {
        co_return co_await rename_video(request, id, *key);
      }
      if (request.method == "DELETE") {
        co_return co_await delete_video(id, *key);
      }
      co_return co_await get_video(request, id, *key);
    case Route::source:
      co_return co_await video_source(request, id, *key);
    case Route::none:
      break;
  }
  co_return no_such_endpoint();
}

// --- projects ------------------------------------------------------------------------------------

net::awaitable<Response> Platform::Impl::create_project(Request& request, const store::ApiKey& key) {
  if (key.project_id) {
    co_return error_response(Errc::forbidden, "A key confined to one project cannot create projects");
  }
  auto body = co_await read_json_object(request, options.max_json_body);
  if (!body) {
    co_return error_of(body.error());
  }
  Fields fields(*body);
  auto name = fields.string("name", true, kMaxName);
  if (fields.failed()) {
    co_return fields.error();
  }
  store::Project project{auth::new_uuid(), std::move(*name), now_ms()};
  if (auto inserted = co_await catalog.insert_project(project); !inserted) {
    co_return error_of(inserted.error());
  }
  co_return data_response(201, project_json(project));
}

net::awaitable<Response> Platform::Impl::list_projects(const store::ApiKey& key) {
  auto projects = co_await catalog.list_projects();
  if (!projects) {
    co_return error_of(projects.error());
  }
  json::array data;
  for (const auto& p : *projects) {
    if (!key.project_id || *key.project_id == p.id) {
      data.push_back(project_json(p));
    }
  }
  co_return data_response(200, std::move(data));
}

net::awaitable<Response> Platform::Impl::get_project(const std::string& id, const store::ApiKey& key) {
  constexpr std::string_view kUnknown = "No project has this id";
  if (!auth::is_uuid(id) || (key.project_id && *key.project_id != id)) {
    co_return error_response(Errc::project_not_found, kUnknown);
  }
  auto project = co_await catalog.get_project(id);
  if (!project) {
    if (project.error() == make_error_code(Errc::not_found)) {
      co_return error_response(Errc::project_not_found, kUnknown);
    }
    co_return error_of(project.error());
  }
  co_return data_response(200, project_json(*project));
}

// --- folders -------------------------------------------------------------------------------------

net::awaitable<Response> Platform::Impl::create_folder(Request& request, const store::ApiKey& key) {
  auto body = co_await read_json_object(request, options.max_json_body);
  if (!body) {
    co_return error_of(body.error());
  }
  Fields fields(*body);
  auto parent_id = fields.string("parent_id", true, kMaxName);
  auto name = fields.string("name", true, kMaxName);
  if (fields.failed()) {
    co_return fields.error();
  }
  auto project_id = co_await resolve_parent(*parent_id, key.project_id);
  if (!project_id) {
    co_return error_of(project_id.error());
  }
  store::Folder folder{auth::new_uuid(), std::move(*project_id), std::move(*parent_id), std::move(*name), now_ms()};
  if (auto inserted = co_await catalog.insert_folder(folder); !inserted) {
    co_return error_of(inserted.error());
  }
  co_return data_response(201, folder_json(folder));
}

net::awaitable<Response> Platform::Impl::list_folders(const Request& request, const store::ApiKey& key) {
  const auto query = parse_query(query_of(request));
  std::string project_id;
  if (auto it = query.find("project_id"); it != query.end() && !it->second.empty()) {
    project_id = it->second;
  } else if (key.project_id) {
    project_id = *key.project_id;
  } else {
    co_return error_response(Errc::invalid_field, "project_id is required (?project_id=...)");
  }
  constexpr std::string_view kUnknown = "project_id names no project this key may use";
  if (!auth::is_uuid(project_id) || (key.project_id && *key.project_id != project_id)) {
    co_return error_response(Errc::project_not_found, kUnknown);
  }
  if (auto project = co_await catalog.get_project(project_id); !project) {
    if (project.error() == make_error_code(Errc::not_found)) {
      co_return error_response(Errc::project_not_found, kUnknown);
    }
    co_return error_of(project.error());
  }
  auto folders = co_await catalog.list_folders(project_id);
  if (!folders) {
    co_return error_of(folders.error());
  }
  json::array data;
  for (const auto& f : *folders) {
    data.push_back(folder_json(f));
  }
  co_return data_response(200, std::move(data));
}

net::awaitable<Response> Platform::Impl::get_folder(const std::string& id, const store::ApiKey& key) {
  constexpr std::string_view kUnknown = "No folder has this id";
  if (!auth::is_uuid(id)) {
    co_return error_response(Errc::project_not_found, kUnknown);
  }
  auto folder = co_await catalog.get_folder(id);
  if (!folder) {
    if (folder.error() == make_error_code(Errc::not_found)) {
      co_return error_response(Errc::project_not_found, kUnknown);
    }
    co_return error_of(folder.error());
  }
  if (key.project_id && *key.project_id != folder->project_id) {
    co_return error_response(Errc::project_not_found, kUnknown);
  }
  co_return data_response(200, folder_json(*folder));
}

// --- videos --------------------------------------------------------------------------------------

net::awaitable<Response> Platform::Impl::create_video(Request& request, const store::ApiKey& key) {
  auto body = co_await read_json_object(request, options.max_json_body);
  if (!body) {
    co_return error_of(body.error());
  }
  Fields fields(*body);
  auto parent_id = fields.string("parent_id", true, kMaxName);
  auto title = fields.string("title", true, kMaxTitle);
  auto filename = fields.string("filename", false, kMaxFileField, true);
  auto filetype = fields.string("filetype", false, kMaxFileField, true);
  auto size = fields.count("size", false, true);
  if (fields.failed()) {
    co_return fields.error();
  }
  if (over_max_size(size)) {
    co_return error_response(Errc::max_size_exceeded);
  }
  auto project_id = co_await resolve_parent(*parent_id, key.project_id);
  if (!project_id) {
    co_return error_of(project_id.error());
  }
  store::Video video;
  video.id = auth::new_uuid();
  video.project_id = std::move(*project_id);
  video.parent_id = std::move(*parent_id);
  video.title = std::move(*title);
  video.filename = filename.value_or("");
  video.filetype = filetype.value_or("");
  video.size = size;
  video.created_at = video.updated_at = now_ms();
  if (auto inserted = co_await catalog.insert_video(video); !inserted) {
    co_return error_of(inserted.error());
  }
  co_return data_response(201, video_json(video, request.base_url));
}

net::awaitable<Response> Platform::Impl::list_videos(const Request& request, const store::ApiKey& key) {
  const auto query = parse_query(query_of(request));
  store::VideoQuery q;
  q.project_id = key.project_id;
  std::uint64_t limit = kDefaultLimit;
  if (auto it = query.find("limit"); it != query.end()) {
    auto parsed = core::parse_uint(it->second, Errc::invalid_field);
    if (!parsed || *parsed == 0 || *parsed > kMaxLimit) {
      co_return error_response(Errc::invalid_field, "limit must be an integer from 1 to 100");
    }
    limit = *parsed;
  }
  if (auto it = query.find("status"); it != query.end() && !it->second.empty()) {
    q.status = store::video_status_from(it->second);
    if (!q.status) {
      co_return error_response(Errc::invalid_field,
                               "status must be one of created, uploading, uploaded, aborted, expired");
    }
  }
  if (auto it = query.find("after"); it != query.end() && !it->second.empty()) {
    if (!auth::is_uuid(it->second)) {
      co_return error_response(Errc::invalid_field, "after must be a video id (the previous page's next)");
    }
    q.after = it->second;
  }
  if (auto it = query.find("parent_id"); it != query.end() && !it->second.empty()) {
    auto project_id = co_await resolve_parent(it->second, key.project_id);
    if (!project_id) {
      co_return error_of(project_id.error());
    }
    q.parent_id = it->second;
  }
  q.limit = static_cast<std::size_t>(limit) + 1;  // one more says whether there is a next page
  auto videos = co_await catalog.list_videos(q);
  if (!videos) {
    co_return error_of(videos.error());
  }
  const bool more = videos->size() > limit;
  if (more) {
    videos->resize(static_cast<std::size_t>(limit));
  }
  json::array data;
  for (const auto& v : *videos) {
    data.push_back(video_json(v, request.base_url));
  }
  json::object body;
  body["data"] = std::move(data);
  body["next"] = more && !videos->empty() ? json::value(videos->back().id) : json::value(nullptr);
  co_return json_response(200, body);
}

net::awaitable<Response> Platform::Impl::get_video(const Request& request, const std::string& id,
                                                   const store::ApiKey& key) {
  auto video = co_await visible_video(id, key.project_id);
  if (!video) {
    co_return error_of(video.error());
  }
  co_return data_response(200, video_json(*video, request.base_url));
}

net::awaitable<Response> Platform::Impl::rename_video(Request& request, const std::string& id,
                                                      const store::ApiKey& key) {
  auto video = co_await visible_video(id, key.project_id);
  if (!video) {
    co_return error_of(video.error());
  }
  auto body = co_await read_json_object(request, options.max_json_body);
  if (!body) {
    co_return error_of(body.error());
  }
  Fields fields(*body);
  auto title = fields.string("title", true, kMaxTitle);
  if (fields.failed()) {
    co_return fields.error();
  }
  // Re-read right before writing, so upload progress recorded meanwhile is kept.
  auto fresh = co_await visible_video(id, key.project_id);
  if (!fresh) {
    co_return error_of(fresh.error());
  }
  fresh->title = std::move(*title);
  fresh->updated_at = now_ms();
  if (auto updated = co_await catalog.update_video(*fresh); !updated) {
    co_return error_of(updated.error());
  }
  co_return data_response(200, video_json(*fresh, request.base_url));
}

net::awaitable<Response> Platform::Impl::delete_video(const std::string& id, const store::ApiKey& key) {
  auto video = co_await visible_video(id, key.project_id);
  if (!video) {
    co_return error_of(video.error());
  }
  if (!video->upload_id.empty()) {
    // The bytes go first: a video that is gone must not leave a downloadable upload behind.
    auto terminated = co_await tus.terminate_upload(video->upload_id);
    if (!terminated && terminated.error() != make_error_code(Errc::not_found) &&
        terminated.error() != make_error_code(Errc::gone)) {
      co_return error_of(terminated.error());
    }
  }
  if (auto deleted = co_await catalog.delete_video(id); !deleted) {
    if (deleted.error() == make_error_code(Errc::not_found)) {
      co_return error_response(Errc::video_not_found);
    }
    co_return error_of(deleted.error());
  }
  Response r;
  r.status = 204;
  co_return r;
}

net::awaitable<Response> Platform::Impl::video_source(const Request& request, const std::string& id,
                                                      const store::ApiKey& key) {
  auto video = co_await visible_video(id, key.project_id);
  if (!video) {
    co_return error_of(video.error());
  }
  if (video->upload_id.empty() || video->status != store::VideoStatus::uploaded) {
    co_return error_response(Errc::upload_incomplete, "The video has not been uploaded completely yet");
  }
  // The tus engine's GET streams the bytes and answers Range; this request only names the upload.
  Request get;
  get.method = "GET";
  get.path = tus.config().base_path + video->upload_id;
  get.base_url = request.base_url;
  get.remote_addr = request.remote_addr;
  get.body = request.body;
  if (auto range = request.headers.get(core::kRange)) {
    get.headers.set(core::kRange, std::string(*range));
  }
  co_return co_await tus.handle(get);
}

}  // namespace vidup::api
