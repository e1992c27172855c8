#include "store/postgres/pg_catalog.hpp"

#include "store/postgres/pg_session.hpp"

#include <algorithm>
#include <cassert>
#include <string>
#include <string_view>
#include <vector>

namespace vidup::store {

namespace {

using core::Errc;
using pg_detail::all_rows;
using pg_detail::changed_one;
using pg_detail::Kind;
using pg_detail::one_row;
using pg_detail::Param;
using pg_detail::Rows;
using pg_detail::Session;

boost::system::error_code fail(Errc e) { return core::make_error_code(e); }

constexpr std::size_t kMaxPage = 200;

// Column lists, and the row readers that read them in this order.
const std::string kKeyColumns = "id, secret, name, project_id, revoked, created_at, revoked_at";
const std::string kProjectColumns = "id, name, created_at";
const std::string kFolderColumns = "id, project_id, parent_id, name, created_at";
const std::string kVideoColumns =
    "id, project_id, parent_id, title, filename, filetype, size, status, bytes_received, upload_id, created_at, "
    "updated_at";

Result<ApiKey> key_row(const Rows& r, int i) {
  ApiKey k;
  k.id = r.text(i, 0);
  k.secret = r.text(i, 1);
  k.name = r.text(i, 2);
  if (!r.null(i, 3)) {
    k.project_id = r.text(i, 3);
  }
  k.revoked = r.boolean(i, 4);
  k.created_at = r.int64(i, 5);
  k.revoked_at = r.int64(i, 6);
  return k;
}

Result<Project> project_row(const Rows& r, int i) { return Project{r.text(i, 0), r.text(i, 1), r.int64(i, 2)}; }

Result<Folder> folder_row(const Rows& r, int i) {
  return Folder{r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), r.int64(i, 4)};
}

Result<Video> video_row(const Rows& r, int i) {
  const auto status = video_status_from(r.text(i, 7));
  if (!status) {
    return fail(Errc::storage_error);  // a row this build cannot read
  }
  Video v;
  v.id = r.text(i, 0);
  v.project_id = r.text(i, 1);
  v.parent_id = r.text(i, 2);
  v.title = r.text(i, 3);
  v.filename = r.text(i, 4);
  v.filetype = r.text(i, 5);
  v.size = r.uint64_or_null(i, 6);
  v.status = *status;
  v.bytes_received = r.uint64(i, 8);
  v.upload_id = r.text(i, 9);  // NULL reads as ""
  v.created_at = r.int64(i, 10);
  v.updated_at = r.int64(i, 11);
  return v;
}

// The fields insert_video and update_video both write, as $1..$9 in kVideoColumns order.
std::vector<Param> video_fields(const Video& v) {
  return {pg_detail::text(v.id),
          pg_detail::text(v.project_id),
          pg_detail::text(v.parent_id),
          pg_detail::text(v.title),
          pg_detail::text(v.filename),
          pg_detail::text(v.filetype),
          pg_detail::uint64_or_null(v.size),
          pg_detail::text(to_string(v.status)),
          pg_detail::uint64(v.bytes_received)};
}

const std::string kInsertKey = "INSERT INTO keys (" + kKeyColumns + ") VALUES ($1, $2, $3, $4, $5, $6, $7)";
const std::string kListKeys = "SELECT " + kKeyColumns + " FROM keys ORDER BY created_at, id";
// Revoking twice keeps the first revocation time (so running it again changes nothing).
constexpr std::string_view kRevokeKey =
    "UPDATE keys SET revoked_at = CASE WHEN revoked THEN revoked_at ELSE $2 END, revoked = true"
    " WHERE id = $1 OR secret = $1";
const std::string kInsertProject = "INSERT INTO projects (" + kProjectColumns + ") VALUES ($1, $2, $3)";
const std::string kGetProject = "SELECT " + kProjectColumns + " FROM projects WHERE id = $1";
const std::string kListProjects = "SELECT " + kProjectColumns + " FROM projects ORDER BY created_at, id";
const std::string kInsertFolder = "INSERT INTO folders (" + kFolderColumns + ") VALUES ($1, $2, $3, $4, $5)";
const std::string kGetFolder = "SELECT " + kFolderColumns + " FROM folders WHERE id = $1";
const std::string kListFolders =
    "SELECT " + kFolderColumns + " FROM folders WHERE project_id = $1 ORDER BY created_at, id";
const std::string kInsertVideo =
    "INSERT INTO videos (" + kVideoColumns + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
const std::string kGetVideo = "SELECT " + kVideoColumns + " FROM videos WHERE id = $1";
// upload_id is not among the fields update_video writes: it changes only through attach_upload,
// so a stale read-modify-write cannot undo an attach.
constexpr std::string_view kUpdateVideo =
    "UPDATE videos SET project_id = $2, parent_id = $3, title = $4, filename = $5, filetype = $6,"
    " size = $7, status = $8, bytes_received = $9, updated_at = $10 WHERE id = $1";
// One statement: a concurrent attach waits for the row lock, then finds upload_id set.
constexpr std::string_view kAttachUpload =
    "UPDATE videos SET upload_id = $2, updated_at = $3 WHERE id = $1 AND (upload_id IS NULL OR upload_id = '')";
constexpr std::string_view kVideoExists = "SELECT 1 FROM videos WHERE id = $1";
constexpr std::string_view kVideoCursor = "SELECT created_at FROM videos WHERE id = $1";
constexpr std::string_view kDeleteVideo = "DELETE FROM videos WHERE id = $1";

// The list statement for a query: only the filters it uses, numbered in order.
Result<std::vector<Video>> list(Session& s, const VideoQuery& q) {
  std::string sql = "SELECT " + kVideoColumns + " FROM videos WHERE true";
  std::vector<Param> params;
  const auto next = [&params](Param p) {
    params.push_back(std::move(p));
    return "$" + std::to_string(params.size());
  };
  if (!q.after.empty()) {
    auto created = one_row(s.exec(kVideoCursor, {pg_detail::text(q.after)}, Kind::idempotent),
                           [](const Rows& r, int i) -> Result<std::int64_t> { return r.int64(i, 0); });
    if (!created) {
      return created.error();  // not_found: the cursor names no video (deleted meanwhile, or made up)
    }
    // Row comparison: strictly after (created_at, id) in newest-first order.
    const auto at = next(pg_detail::int64(*created));
    sql += " AND (created_at, id) < (" + at + ", " + next(pg_detail::text(q.after)) + ")";
  }
  if (q.project_id) {
    sql += " AND project_id = " + next(pg_detail::text(*q.project_id));
  }
  if (q.parent_id) {
    sql += " AND parent_id = " + next(pg_detail::text(*q.parent_id));
  }
  if (q.status) {
    sql += " AND status = " + next(pg_detail::text(to_string(*q.status)));
  }
  const auto limit = static_cast<std::int64_t>(std::clamp<std::size_t>(q.limit, 1, kMaxPage));
  sql += " ORDER BY created_at DESC, id DESC LIMIT " + next(pg_detail::int64(limit));
  return all_rows(s.exec(sql, params, Kind::idempotent), video_row);
}

Result<void> attach(Session& s, const std::string& video_id, const std::string& upload_id, std::int64_t now_ms) {
  auto r = s.exec(kAttachUpload, {pg_detail::text(video_id), pg_detail::text(upload_id), pg_detail::int64(now_ms)},
                  Kind::once);
  if (!r) {
    return r.error();  // upload_id already attached to another video included (unique violation)
  }
  if (r->affected() == 1) {
    return {};
  }
  auto exists = s.exec(kVideoExists, {pg_detail::text(video_id)}, Kind::idempotent);
  if (!exists) {
    return exists.error();
  }
  return fail(exists->size() > 0 ? Errc::video_has_upload : Errc::not_found);
}

Result<void> done(const Result<Rows>& r) {
  if (!r) {
    return r.error();
  }
  return {};
}

}  // namespace

// Every call below hands run_pg a lambda capturing only references and scalars; the referenced
// arguments outlive the co_await.

PgCatalog::PgCatalog(PgPool& pool, net::thread_pool& blocking) : pool_(pool), blocking_(blocking) {}

net::awaitable<Result<void>> PgCatalog::insert_key(const ApiKey& key) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&key](Session& s) {
    return done(s.exec(kInsertKey,
                       {pg_detail::text(key.id), pg_detail::text(key.secret), pg_detail::text(key.name),
                        pg_detail::text_or_null(key.project_id), pg_detail::text(key.revoked ? "true" : "false"),
                        pg_detail::int64(key.created_at), pg_detail::int64(key.revoked_at)},
                       Kind::once));  // a duplicate id or secret is a storage error
  });
}

net::awaitable<Result<std::vector<ApiKey>>> PgCatalog::list_keys() {
  co_return co_await pg_detail::run_pg(
      blocking_, pool_, [](Session& s) { return all_rows(s.exec(kListKeys, {}, Kind::idempotent), key_row); });
}

net::awaitable<Result<void>> PgCatalog::revoke_key(const std::string& id_or_secret, std::int64_t now_ms) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&id_or_secret, now_ms](Session& s) {
    return changed_one(s.exec(kRevokeKey, {pg_detail::text(id_or_secret), pg_detail::int64(now_ms)}, Kind::idempotent));
  });
}

net::awaitable<Result<void>> PgCatalog::insert_project(const Project& p) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&p](Session& s) {
    return done(s.exec(kInsertProject, {pg_detail::text(p.id), pg_detail::text(p.name), pg_detail::int64(p.created_at)},
                       Kind::once));
  });
}

net::awaitable<Result<Project>> PgCatalog::get_project(const std::string& id) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&id](Session& s) {
    return one_row(s.exec(kGetProject, {pg_detail::text(id)}, Kind::idempotent), project_row);
  });
}

net::awaitable<Result<std::vector<Project>>> PgCatalog::list_projects() {
  co_return co_await pg_detail::run_pg(
      blocking_, pool_, [](Session& s) { return all_rows(s.exec(kListProjects, {}, Kind::idempotent), project_row); });
}

net::awaitable<Result<void>> PgCatalog::insert_folder(const Folder& f) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&f](Session& s) {
    return done(s.exec(kInsertFolder,
                       {pg_detail::text(f.id), pg_detail::text(f.project_id), pg_detail::text(f.parent_id),
                        pg_detail::text(f.name), pg_detail::int64(f.created_at)},
                       Kind::once));
  });
}

net::awaitable<Result<Folder>> PgCatalog::get_folder(const std::string& id) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&id](Session& s) {
    return one_row(s.exec(kGetFolder, {pg_detail::text(id)}, Kind::idempotent), folder_row);
  });
}

net::awaitable<Result<std::vector<Folder>>> PgCatalog::list_folders(const std::string& project_id) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&project_id](Session& s) {
    return all_rows(s.exec(kListFolders, {pg_detail::text(project_id)}, Kind::idempotent), folder_row);
  });
}

net::awaitable<Result<void>> PgCatalog::insert_video(const Video& v) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&v](Session& s) {
    auto params = video_fields(v);
    // NULL, not '': upload_id is UNIQUE
    params.push_back(v.upload_id.empty() ? std::nullopt : pg_detail::text(v.upload_id));
    params.push_back(pg_detail::int64(v.created_at));
    params.push_back(pg_detail::int64(v.updated_at));
    return done(s.exec(kInsertVideo, params, Kind::once));
  });
}

net::awaitable<Result<Video>> PgCatalog::get_video(const std::string& id) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&id](Session& s) {
    return one_row(s.exec(kGetVideo, {pg_detail::text(id)}, Kind::idempotent), video_row);
  });
}

net::awaitable<Result<std::vector<Video>>> PgCatalog::list_videos(const VideoQuery& q) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&q](Session& s) { return list(s, q); });
}

net::awaitable<Result<void>> PgCatalog::update_video(const Video& v) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&v](Session& s) {
    auto params = video_fields(v);
    params.push_back(pg_detail::int64(v.updated_at));
    return changed_one(s.exec(kUpdateVideo, params, Kind::idempotent));
  });
}

net::awaitable<Result<void>> PgCatalog::attach_upload(const std::string& video_id, const std::string& upload_id,
                                                      std::int64_t now_ms) {
  assert(!upload_id.empty() && "an upload id is never empty");
  co_return co_await pg_detail::run_pg(
      blocking_, pool_, [&video_id, &upload_id, now_ms](Session& s) { return attach(s, video_id, upload_id, now_ms); });
}

net::awaitable<Result<void>> PgCatalog::delete_video(const std::string& id) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&id](Session& s) {
    return changed_one(s.exec(kDeleteVideo, {pg_detail::text(id)}, Kind::once));
  });
}

}  // namespace vidup::store
