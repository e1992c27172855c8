#pragma once
// The platform's records in SQLite (same database file as the upload records, its own
// connection and tables, WAL, migrations applied at open).

#include "store/catalog.hpp"

#include <boost/asio/thread_pool.hpp>

#include <filesystem>
#include <memory>

namespace vidup::store {

class SqliteCatalog final : public Catalog {
 public:
  // Opens (creating and migrating) the database. Throws on failure (start-up error).
  SqliteCatalog(const std::filesystem::path& db_file, net::thread_pool& blocking);
  ~SqliteCatalog() override;

  net::awaitable<Result<void>> insert_key(const ApiKey& key) override;
  net::awaitable<Result<std::vector<ApiKey>>> list_keys() override;
  net::awaitable<Result<void>> revoke_key(const std::string& id_or_secret, std::int64_t now_ms) override;
  net::awaitable<Result<void>> insert_project(const Project& p) override;
  net::awaitable<Result<Project>> get_project(const std::string& id) override;
  net::awaitable<Result<std::vector<Project>>> list_projects() override;
  net::awaitable<Result<void>> insert_folder(const Folder& f) override;
  net::awaitable<Result<Folder>> get_folder(const std::string& id) override;
  net::awaitable<Result<std::vector<Folder>>> list_folders(const std::string& project_id) override;
  net::awaitable<Result<void>> insert_video(const Video& v) override;
  net::awaitable<Result<Video>> get_video(const std::string& id) override;
  net::awaitable<Result<std::vector<Video>>> list_videos(const VideoQuery& q) override;
  net::awaitable<Result<void>> update_video(const Video& v) override;
  net::awaitable<Result<void>> attach_upload(const std::string& video_id, const std::string& upload_id,
                                             std::int64_t now_ms) override;
  net::awaitable<Result<void>> delete_video(const std::string& id) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  net::thread_pool& blocking_;
};

}  // namespace vidup::store
