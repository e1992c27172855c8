#pragma once
// A store::Catalog in memory for the fuzz targets: the Catalog contract (catalog.hpp) on plain
// maps, no threads and no files, so one input runs in microseconds and leaves nothing behind.
// Same answers as SqliteCatalog: not_found for unknown ids, storage_error for a duplicate id,
// video_has_upload when attach finds an upload, newest-first pages with an `after` cursor.

#include "core/errc.hpp"
#include "store/catalog.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace vidup::fuzz {

namespace net = boost::asio;
using core::Errc;
using core::Result;

class MemoryCatalog final : public store::Catalog {
 public:
  net::awaitable<Result<void>> insert_key(const store::ApiKey& key) override {
    co_return insert(keys_, key.id, key);
  }
  net::awaitable<Result<std::vector<store::ApiKey>>> list_keys() override { co_return values(keys_); }
  net::awaitable<Result<void>> revoke_key(const std::string& id_or_secret, std::int64_t now_ms) override {
    for (auto& [id, key] : keys_) {
      if (key.id == id_or_secret || key.secret == id_or_secret) {
        key.revoked = true;
        key.revoked_at = now_ms;
        co_return Result<void>{};
      }
    }
    co_return core::make_error_code(Errc::not_found);
  }

  net::awaitable<Result<void>> insert_project(const store::Project& p) override { co_return insert(projects_, p.id, p); }
  net::awaitable<Result<store::Project>> get_project(const std::string& id) override { co_return find(projects_, id); }
  net::awaitable<Result<std::vector<store::Project>>> list_projects() override { co_return values(projects_); }
  net::awaitable<Result<void>> insert_folder(const store::Folder& f) override { co_return insert(folders_, f.id, f); }
  net::awaitable<Result<store::Folder>> get_folder(const std::string& id) override { co_return find(folders_, id); }
  net::awaitable<Result<std::vector<store::Folder>>> list_folders(const std::string& project_id) override {
    std::vector<store::Folder> out;
    for (const auto& [id, f] : folders_) {
      if (f.project_id == project_id) {
        out.push_back(f);
      }
    }
    co_return out;
  }

  net::awaitable<Result<void>> insert_video(const store::Video& v) override { co_return insert(videos_, v.id, v); }
  net::awaitable<Result<store::Video>> get_video(const std::string& id) override { co_return find(videos_, id); }
  net::awaitable<Result<std::vector<store::Video>>> list_videos(const store::VideoQuery& q) override {
    std::vector<store::Video> all;
    for (const auto& [id, v] : videos_) {
      if ((!q.project_id || v.project_id == *q.project_id) && (!q.parent_id || v.parent_id == *q.parent_id) &&
          (!q.status || v.status == *q.status)) {
        all.push_back(v);
      }
    }
    std::sort(all.begin(), all.end(), [](const store::Video& a, const store::Video& b) {
      return a.created_at != b.created_at ? a.created_at > b.created_at : a.id > b.id;
    });
    if (!q.after.empty()) {
      auto cursor = videos_.find(q.after);
      if (cursor == videos_.end()) {
        co_return core::make_error_code(Errc::not_found);
      }
      const auto& c = cursor->second;
      std::erase_if(all, [&c](const store::Video& v) {
        return !(v.created_at < c.created_at || (v.created_at == c.created_at && v.id < c.id));
      });
    }
    all.resize(std::min(all.size(), std::clamp<std::size_t>(q.limit, 1, 100)));
    co_return all;
  }
  net::awaitable<Result<void>> update_video(const store::Video& v) override {
    auto it = videos_.find(v.id);
    if (it == videos_.end()) {
      co_return core::make_error_code(Errc::not_found);
    }
    const std::string upload_id = it->second.upload_id;
    it->second = v;
    it->second.upload_id = upload_id;
    co_return Result<void>{};
  }
  net::awaitable<Result<void>> attach_upload(const std::string& video_id, const std::string& upload_id,
                                             std::int64_t now_ms) override {
    auto it = videos_.find(video_id);
    if (it == videos_.end()) {
      co_return core::make_error_code(Errc::not_found);
    }
    if (!it->second.upload_id.empty()) {
      co_return core::make_error_code(Errc::video_has_upload);
    }
    it->second.upload_id = upload_id;
    it->second.updated_at = now_ms;
    co_return Result<void>{};
  }
  net::awaitable<Result<void>> delete_video(const std::string& id) override {
    if (videos_.erase(id) == 0) {
      co_return core::make_error_code(Errc::not_found);
    }
    co_return Result<void>{};
  }

  [[nodiscard]] const std::map<std::string, store::Video>& videos() const { return videos_; }

 private:
  template <class T>
  static Result<void> insert(std::map<std::string, T>& m, const std::string& id, const T& value) {
    if (!m.emplace(id, value).second) {
      return core::make_error_code(Errc::storage_error);
    }
    return {};
  }
  template <class T>
  static Result<T> find(const std::map<std::string, T>& m, const std::string& id) {
    auto it = m.find(id);
    if (it == m.end()) {
      return core::make_error_code(Errc::not_found);
    }
    return it->second;
  }
  template <class T>
  static std::vector<T> values(const std::map<std::string, T>& m) {
    std::vector<T> out;
    for (const auto& [id, v] : m) {
      out.push_back(v);
    }
    return out;
  }

  std::map<std::string, store::ApiKey> keys_;
  std::map<std::string, store::Project> projects_;
  std::map<std::string, store::Folder> folders_;
  std::map<std::string, store::Video> videos_;
};

}  // namespace vidup::fuzz
