#pragma once
// Private to vidup::api: the state of a Platform and the functions of its files
// (platform.cpp: routing and keys; rest.cpp: /v1; init.cpp: /v2/init; creation.cpp: the tus
// UploadPolicy; demo.cpp: --demo).

#include "api/json.hpp"
#include "api/platform.hpp"

#include <map>
#include <mutex>
#include <string_view>
#include <vector>

namespace vidup::api {

// A path split on '/', without empty segments: "/v1/videos/x/source" → {v1, videos, x, source}.
using Segments = std::vector<std::string_view>;

struct Platform::Impl {
  Impl(const Options& o, store::Catalog& c, handler::Handler& t, handler::Clock k)
      : options(o), catalog(c), tus(t), clock(std::move(k)) {}

  Options options;
  store::Catalog& catalog;
  handler::Handler& tus;
  handler::Clock clock;

  [[nodiscard]] std::int64_t now_ms() const { return clock(); }

  // Videos whose presigned creation passed authorize and is being stored (video id → when), so
  // that concurrent creations for one video in this process answer 409 instead of all getting a
  // 201 and all but one losing the race in on_created. Entries older than kReservationMs are
  // ignored (a creation that failed after authorize never reaches on_created).
  static constexpr std::int64_t kReservationMs = 5'000;
  std::mutex reservations_mutex;
  std::map<std::string, std::int64_t, std::less<>> reservations;
  [[nodiscard]] bool reserve(const std::string& video_id);
  void release(const std::string& video_id);

  // --- keys and scope (platform.cpp) ---
  // The Bearer key of the request, compared in constant time with every active key.
  // missing_credentials, invalid_api_key, storage_error.
  net::awaitable<Result<store::ApiKey>> authenticate(const Request& request);
  // A declared size the tus engine would refuse (--max-size), checked before anything is created.
  [[nodiscard]] bool over_max_size(std::optional<std::uint64_t> size) const {
    return size && tus.config().max_size > 0 && *size > tus.config().max_size;
  }
  // The project of a parent (a project or a folder id) the key may use; project_not_found when
  // unknown or outside the key's project (404, so existence does not leak).
  net::awaitable<Result<std::string>> resolve_parent(const std::string& parent_id,
                                                     const std::optional<std::string>& scope);
  // A video the key may see: video_not_found when unknown or outside its project.
  net::awaitable<Result<store::Video>> visible_video(const std::string& id, const std::optional<std::string>& scope);
  [[nodiscard]] json::object video_json(const store::Video& v, std::string_view base_url) const;

  // --- /v1 (rest.cpp) ---
  net::awaitable<Response> v1(Request& request, const Segments& path);
  net::awaitable<Response> create_project(Request& request, const store::ApiKey& key);
  net::awaitable<Response> list_projects(const store::ApiKey& key);
  net::awaitable<Response> get_project(const std::string& id, const store::ApiKey& key);
  net::awaitable<Response> create_folder(Request& request, const store::ApiKey& key);
  net::awaitable<Response> list_folders(const Request& request, const store::ApiKey& key);
  net::awaitable<Response> get_folder(const std::string& id, const store::ApiKey& key);
  net::awaitable<Response> create_video(Request& request, const store::ApiKey& key);
  net::awaitable<Response> list_videos(const Request& request, const store::ApiKey& key);
  net::awaitable<Response> get_video(const Request& request, const std::string& id, const store::ApiKey& key);
  net::awaitable<Response> rename_video(Request& request, const std::string& id, const store::ApiKey& key);
  net::awaitable<Response> delete_video(const std::string& id, const store::ApiKey& key);
  net::awaitable<Response> video_source(const Request& request, const std::string& id, const store::ApiKey& key);

  // --- /v2/init (init.cpp) ---
  net::awaitable<Response> init(Request& request);

  // --- tus creation and upload events (creation.cpp) ---
  net::awaitable<Result<void>> authorize(const Request& request, core::UploadInfo& draft);
  net::awaitable<Result<void>> authorize_presigned(const Request& request, core::UploadInfo& draft);
  net::awaitable<Result<void>> authorize_bearer(const Request& request, core::UploadInfo& draft);
  net::awaitable<void> created(const core::UploadInfo& info);
  net::awaitable<void> progressed(const core::UploadInfo& info);
  net::awaitable<void> finished(const core::UploadInfo& info);
  net::awaitable<void> ended(const core::UploadInfo& info);
  // The owner's video when `info` is still its upload; nullopt (logged if unexpected) otherwise.
  net::awaitable<std::optional<store::Video>> video_of(const core::UploadInfo& info, std::string_view event);
  net::awaitable<void> save(store::Video& video, std::string_view event);

  // --- --demo (demo.cpp) ---
  struct Demo {
    std::string project_id;
    std::string secret;
  };
  // The demo project and an active global key named "demo", created when missing.
  net::awaitable<Result<Demo>> ensure_demo();
  net::awaitable<std::optional<Response>> demo(Request& request, const Segments& path);
  net::awaitable<Response> grant(Request& request);
  net::awaitable<Response> demo_videos(const Request& request);
};

// Upload-Metadata for a video's file: "filename <b64>,filetype <b64>" (empty values left out).
[[nodiscard]] std::string file_metadata(std::string_view filename, std::string_view filetype);
// A file name from an upload's metadata: "filename", else seed 000's "fileName".
[[nodiscard]] std::string metadata_filename(const core::Metadata& metadata);

}  // namespace vidup::api
