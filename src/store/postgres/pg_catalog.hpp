#pragma once
// The platform's records (keys, projects, folders, videos) in PostgreSQL, shared by every node.
// Same semantics as SqliteCatalog: list order, cursors, attach_upload's atomicity, revocation by
// id or secret.

#include "store/catalog.hpp"
#include "store/postgres/pg_pool.hpp"

#include <boost/asio/thread_pool.hpp>

namespace vidup::store {

class PgCatalog final : public Catalog {
 public:
  // The schema must exist (pg_migrate). `pool` and `blocking` outlive the catalog.
  PgCatalog(PgPool& pool, net::thread_pool& blocking);

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
  PgPool& pool_;
  net::thread_pool& blocking_;
};

}  // namespace vidup::store
