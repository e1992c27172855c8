#pragma once
// The platform's records: API keys, projects, folders and videos. One port, backends in
// sqlite/ (and later postgres/). Thread-safe; every call may block inside and moves that work
// off the caller's thread. Failures: Errc::not_found for an unknown id, Errc::storage_error.

#include "core/errc.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vidup::store {

namespace net = boost::asio;
using core::Result;

struct ApiKey {
  std::string id;                         // "key_" + 16 hex, for listing and revoking
  std::string secret;                     // "ky_" + 20 hex: needed in clear to verify signatures
  std::string name;
  std::optional<std::string> project_id;  // nullopt: may act on every project
  bool revoked = false;
  std::int64_t created_at = 0;            // unix ms
  std::int64_t revoked_at = 0;
};

struct Project {
  std::string id;  // UUID
  std::string name;
  std::int64_t created_at = 0;
};

struct Folder {
  std::string id;          // UUID
  std::string project_id;  // the project it lives in
  std::string parent_id;   // the project or the folder it is nested in
  std::string name;
  std::int64_t created_at = 0;
};

enum class VideoStatus { created, uploading, uploaded, aborted, expired };
[[nodiscard]] std::string_view to_string(VideoStatus s) noexcept;
[[nodiscard]] std::optional<VideoStatus> video_status_from(std::string_view s) noexcept;

struct Video {
  std::string id;          // UUID
  std::string project_id;  // resolved from parent_id
  std::string parent_id;   // a project or a folder
  std::string title;
  std::string filename;
  std::string filetype;
  std::optional<std::uint64_t> size;
  VideoStatus status = VideoStatus::created;
  std::uint64_t bytes_received = 0;
  std::string upload_id;  // empty until an upload exists
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

struct VideoQuery {
  std::optional<std::string> project_id;  // a scoped key's project
  std::optional<std::string> parent_id;
  std::optional<VideoStatus> status;
  std::size_t limit = 50;
  std::string after;  // cursor: the last id of the previous page (newest first: created_at, id descending)
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  virtual net::awaitable<Result<void>> insert_key(const ApiKey& key) = 0;
  virtual net::awaitable<Result<std::vector<ApiKey>>> list_keys() = 0;  // revoked ones too
  // Marks revoked; `id_or_secret` is the key's id or the key itself. Immediate effect: every
  // later lookup sees it.
  virtual net::awaitable<Result<void>> revoke_key(const std::string& id_or_secret, std::int64_t now_ms) = 0;

  virtual net::awaitable<Result<void>> insert_project(const Project& p) = 0;
  virtual net::awaitable<Result<Project>> get_project(const std::string& id) = 0;
  virtual net::awaitable<Result<std::vector<Project>>> list_projects() = 0;
  virtual net::awaitable<Result<void>> insert_folder(const Folder& f) = 0;
  virtual net::awaitable<Result<Folder>> get_folder(const std::string& id) = 0;
  virtual net::awaitable<Result<std::vector<Folder>>> list_folders(const std::string& project_id) = 0;

  virtual net::awaitable<Result<void>> insert_video(const Video& v) = 0;
  virtual net::awaitable<Result<Video>> get_video(const std::string& id) = 0;
  virtual net::awaitable<Result<std::vector<Video>>> list_videos(const VideoQuery& q) = 0;
  // Every mutable field but upload_id, which only attach_upload sets (so a stale read-then-update
  // never undoes an attach).
  virtual net::awaitable<Result<void>> update_video(const Video& v) = 0;
  // Sets upload_id only if the video has none yet (atomic): Errc::video_has_upload otherwise.
  virtual net::awaitable<Result<void>> attach_upload(const std::string& video_id, const std::string& upload_id,
                                                     std::int64_t now_ms) = 0;
  virtual net::awaitable<Result<void>> delete_video(const std::string& id) = 0;
};

}  // namespace vidup::store
