#include "store/sqlite/sqlite_catalog.hpp"

#include "store/sqlite/sqlite_db.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <mutex>
#include <string>
#include <string_view>

namespace vidup::store {

namespace {

using core::Errc;
using sqlite_detail::all_rows;
using sqlite_detail::change_one;
using sqlite_detail::column_null;
using sqlite_detail::column_text;
using sqlite_detail::Database;
using sqlite_detail::one_row;
using sqlite_detail::run;
using sqlite_detail::run_locked;
using sqlite_detail::Stmt;
using sqlite_detail::Use;

boost::system::error_code fail(Errc e) { return core::make_error_code(e); }

constexpr std::size_t kMaxPage = 200;

// Schema migrations, applied in order at open; catalog_schema_version holds how many have run
// (its own table: the upload records' migrations live in schema_version, same file). Never edit
// a shipped entry: append a new one.
constexpr std::array kMigrations = {
    std::string_view{R"sql(
      CREATE TABLE keys (
        id         TEXT PRIMARY KEY,
        secret     TEXT NOT NULL UNIQUE,
        name       TEXT NOT NULL,
        project_id TEXT NULL,
        revoked    INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER NOT NULL
      );
      CREATE TABLE projects (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE folders (
        id         TEXT PRIMARY KEY,
        project_id TEXT NOT NULL,
        parent_id  TEXT NOT NULL,
        name       TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX folders_project ON folders(project_id, created_at, id);
      CREATE TABLE videos (
        id             TEXT PRIMARY KEY,
        project_id     TEXT NOT NULL,
        parent_id      TEXT NOT NULL,
        title          TEXT NOT NULL,
        filename       TEXT NOT NULL,
        filetype       TEXT NOT NULL,
        size           INTEGER NULL,
        status         TEXT NOT NULL,
        bytes_received INTEGER NOT NULL,
        upload_id      TEXT NULL UNIQUE,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL
      );
      CREATE INDEX videos_project ON videos(project_id, created_at, id);
      CREATE INDEX videos_parent ON videos(parent_id, created_at, id);
      CREATE INDEX videos_status ON videos(status);
      CREATE INDEX videos_created ON videos(created_at, id);
    )sql"},
};

constexpr std::string_view kKeyColumns = "id, secret, name, project_id, revoked, created_at, revoked_at";
constexpr std::string_view kProjectColumns = "id, name, created_at";
constexpr std::string_view kFolderColumns = "id, project_id, parent_id, name, created_at";
constexpr std::string_view kVideoColumns =
    "id, project_id, parent_id, title, filename, filetype, size, status, bytes_received, upload_id, created_at, "
    "updated_at";

// Row readers: columns in the k*Columns order.
Result<ApiKey> key_row(sqlite3_stmt* s) {
  ApiKey k;
  k.id = column_text(s, 0);
  k.secret = column_text(s, 1);
  k.name = column_text(s, 2);
  if (!column_null(s, 3)) {
    k.project_id = column_text(s, 3);
  }
  k.revoked = sqlite3_column_int64(s, 4) != 0;
  k.created_at = sqlite3_column_int64(s, 5);
  k.revoked_at = sqlite3_column_int64(s, 6);
  return k;
}

Result<Project> project_row(sqlite3_stmt* s) {
  return Project{column_text(s, 0), column_text(s, 1), sqlite3_column_int64(s, 2)};
}

Result<Folder> folder_row(sqlite3_stmt* s) {
  return Folder{column_text(s, 0), column_text(s, 1), column_text(s, 2), column_text(s, 3), sqlite3_column_int64(s, 4)};
}

Result<Video> video_row(sqlite3_stmt* s) {
  const auto status = video_status_from(column_text(s, 7));
  if (!status) {
    return fail(Errc::storage_error);  // a row this build cannot read
  }
  Video v;
  v.id = column_text(s, 0);
  v.project_id = column_text(s, 1);
  v.parent_id = column_text(s, 2);
  v.title = column_text(s, 3);
  v.filename = column_text(s, 4);
  v.filetype = column_text(s, 5);
  if (!column_null(s, 6)) {
    v.size = static_cast<std::uint64_t>(sqlite3_column_int64(s, 6));
  }
  v.status = *status;
  v.bytes_received = static_cast<std::uint64_t>(sqlite3_column_int64(s, 8));
  v.upload_id = column_text(s, 9);  // NULL reads as ""
  v.created_at = sqlite3_column_int64(s, 10);
  v.updated_at = sqlite3_column_int64(s, 11);
  return v;
}

Result<std::int64_t> created_at_row(sqlite3_stmt* s) { return sqlite3_column_int64(s, 0); }

// Binds the columns insert_video and update_video both write, as ?1..?9 in kVideoColumns order.
Use& bind_video_fields(Use& use, const Video& v) {
  return use.text(1, v.id)
      .text(2, v.project_id)
      .text(3, v.parent_id)
      .text(4, v.title)
      .text(5, v.filename)
      .text(6, v.filetype)
      .uint64_or_null(7, v.size)
      .text(8, to_string(v.status))
      .uint64(9, v.bytes_received);
}

// The parts of a VideoQuery that shape the list statement (one cached statement per combination).
constexpr unsigned kByProject = 1U;
constexpr unsigned kByParent = 2U;
constexpr unsigned kByStatus = 4U;
constexpr unsigned kAfter = 8U;

}  // namespace

struct SqliteCatalog::Impl {
  std::mutex mutex;  // one connection, one user at a time
  Database db;       // declared before the statements, so it closes after they are finalized

  Stmt insert_key, list_keys, revoke_key;
  Stmt insert_project, get_project, list_projects;
  Stmt insert_folder, get_folder, list_folders;
  Stmt insert_video, get_video, update_video, attach_upload, video_exists, video_cursor, delete_video;
  std::array<Stmt, 16> list_videos;  // by filter bits (kByProject...), prepared on first use

  explicit Impl(const std::filesystem::path& file) : db(file) {
    db.migrate("catalog_schema_version", kMigrations);
    prepare();
  }

  void prepare() {
    const std::string keys(kKeyColumns);
    const std::string projects(kProjectColumns);
    const std::string folders(kFolderColumns);
    const std::string videos(kVideoColumns);
    insert_key = db.prepare("INSERT INTO keys (" + keys + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    list_keys = db.prepare("SELECT " + keys + " FROM keys ORDER BY created_at, id");
    // Revoking twice keeps the first revocation time.
    revoke_key = db.prepare(
        "UPDATE keys SET revoked_at = CASE WHEN revoked = 0 THEN ?2 ELSE revoked_at END, revoked = 1"
        " WHERE id = ?1 OR secret = ?1");
    insert_project = db.prepare("INSERT INTO projects (" + projects + ") VALUES (?1, ?2, ?3)");
    get_project = db.prepare("SELECT " + projects + " FROM projects WHERE id = ?1");
    list_projects = db.prepare("SELECT " + projects + " FROM projects ORDER BY created_at, id");
    insert_folder = db.prepare("INSERT INTO folders (" + folders + ") VALUES (?1, ?2, ?3, ?4, ?5)");
    get_folder = db.prepare("SELECT " + folders + " FROM folders WHERE id = ?1");
    list_folders = db.prepare("SELECT " + folders + " FROM folders WHERE project_id = ?1 ORDER BY created_at, id");
    insert_video =
        db.prepare("INSERT INTO videos (" + videos + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    get_video = db.prepare("SELECT " + videos + " FROM videos WHERE id = ?1");
    // upload_id is not among the fields update_video writes: it changes only through
    // attach_upload, so a stale read-modify-write cannot undo an attach.
    update_video = db.prepare(
        "UPDATE videos SET project_id = ?2, parent_id = ?3, title = ?4, filename = ?5, filetype = ?6,"
        " size = ?7, status = ?8, bytes_received = ?9, updated_at = ?10 WHERE id = ?1");
    attach_upload = db.prepare(
        "UPDATE videos SET upload_id = ?2, updated_at = ?3"
        " WHERE id = ?1 AND (upload_id IS NULL OR upload_id = '')");
    video_exists = db.prepare("SELECT 1 FROM videos WHERE id = ?1");
    video_cursor = db.prepare("SELECT created_at FROM videos WHERE id = ?1");
    delete_video = db.prepare("DELETE FROM videos WHERE id = ?1");
  }

  // --- everything below runs with `mutex` held, on the blocking pool ---

  const Stmt& list_statement(unsigned filters) {
    Stmt& s = list_videos.at(filters);
    if (s) {
      return s;
    }
    std::string sql = "SELECT " + std::string(kVideoColumns) + " FROM videos WHERE 1";
    if ((filters & kByProject) != 0U) {
      sql += " AND project_id = ?1";
    }
    if ((filters & kByParent) != 0U) {
      sql += " AND parent_id = ?2";
    }
    if ((filters & kByStatus) != 0U) {
      sql += " AND status = ?3";
    }
    if ((filters & kAfter) != 0U) {
      sql += " AND (created_at < ?4 OR (created_at = ?4 AND id < ?5))";
    }
    sql += " ORDER BY created_at DESC, id DESC LIMIT ?6";
    s = db.prepare(sql);
    return s;
  }

  Result<std::vector<Video>> list(const VideoQuery& q) {
    std::int64_t after_created = 0;
    if (!q.after.empty()) {
      Use use(video_cursor);
      use.text(1, q.after);
      auto created = one_row(use, created_at_row);
      if (!created) {
        return created.error();  // not_found: the cursor names no video (deleted meanwhile, or made up)
      }
      after_created = *created;
    }
    const unsigned filters = (q.project_id ? kByProject : 0U) | (q.parent_id ? kByParent : 0U) |
                             (q.status ? kByStatus : 0U) | (q.after.empty() ? 0U : kAfter);
    Use use(list_statement(filters));
    if (q.project_id) {
      use.text(1, *q.project_id);
    }
    if (q.parent_id) {
      use.text(2, *q.parent_id);
    }
    if (q.status) {
      use.text(3, to_string(*q.status));
    }
    if (!q.after.empty()) {
      use.int64(4, after_created).text(5, q.after);
    }
    use.int64(6, static_cast<std::int64_t>(std::clamp<std::size_t>(q.limit, 1, kMaxPage)));
    return all_rows(use, video_row);
  }

  Result<void> attach(const std::string& video_id, const std::string& upload_id, std::int64_t now_ms) {
    {
      Use use(attach_upload);
      use.text(1, video_id).text(2, upload_id).int64(3, now_ms);
      if (auto r = run(use); !r) {
        return r;  // upload_id already attached to another video included
      }
      if (db.changes() == 1) {
        return {};
      }
    }
    Use use(video_exists);
    use.text(1, video_id);
    const int rc = use.step();
    if (rc == SQLITE_ROW) {
      return fail(Errc::video_has_upload);
    }
    return fail(rc == SQLITE_DONE ? Errc::not_found : Errc::storage_error);
  }
};

// Every call below hands run_locked a lambda capturing only references; the referenced
// arguments outlive the co_await.

SqliteCatalog::SqliteCatalog(const std::filesystem::path& db_file, net::thread_pool& blocking)
    : impl_(std::make_unique<Impl>(db_file)), blocking_(blocking) {}

SqliteCatalog::~SqliteCatalog() = default;

net::awaitable<Result<void>> SqliteCatalog::insert_key(const ApiKey& key) {
  co_return co_await run_locked(blocking_, impl_.get(), [&key](Impl& impl) -> Result<void> {
    Use use(impl.insert_key);
    use.text(1, key.id)
        .text(2, key.secret)
        .text(3, key.name)
        .text_or_null(4, key.project_id)
        .int64(5, key.revoked ? 1 : 0)
        .int64(6, key.created_at)
        .int64(7, key.revoked_at);
    return run(use);  // a duplicate id or secret is a storage error
  });
}

net::awaitable<Result<std::vector<ApiKey>>> SqliteCatalog::list_keys() {
  co_return co_await run_locked(blocking_, impl_.get(), [](Impl& impl) -> Result<std::vector<ApiKey>> {
    Use use(impl.list_keys);
    return all_rows(use, key_row);
  });
}

net::awaitable<Result<void>> SqliteCatalog::revoke_key(const std::string& id_or_secret, std::int64_t now_ms) {
  co_return co_await run_locked(blocking_, impl_.get(), [&id_or_secret, now_ms](Impl& impl) -> Result<void> {
    Use use(impl.revoke_key);
    use.text(1, id_or_secret).int64(2, now_ms);
    return change_one(use);
  });
}

net::awaitable<Result<void>> SqliteCatalog::insert_project(const Project& p) {
  co_return co_await run_locked(blocking_, impl_.get(), [&p](Impl& impl) -> Result<void> {
    Use use(impl.insert_project);
    use.text(1, p.id).text(2, p.name).int64(3, p.created_at);
    return run(use);
  });
}

net::awaitable<Result<Project>> SqliteCatalog::get_project(const std::string& id) {
  co_return co_await run_locked(blocking_, impl_.get(), [&id](Impl& impl) -> Result<Project> {
    Use use(impl.get_project);
    use.text(1, id);
    return one_row(use, project_row);
  });
}

net::awaitable<Result<std::vector<Project>>> SqliteCatalog::list_projects() {
  co_return co_await run_locked(blocking_, impl_.get(), [](Impl& impl) -> Result<std::vector<Project>> {
    Use use(impl.list_projects);
    return all_rows(use, project_row);
  });
}

net::awaitable<Result<void>> SqliteCatalog::insert_folder(const Folder& f) {
  co_return co_await run_locked(blocking_, impl_.get(), [&f](Impl& impl) -> Result<void> {
    Use use(impl.insert_folder);
    use.text(1, f.id).text(2, f.project_id).text(3, f.parent_id).text(4, f.name).int64(5, f.created_at);
    return run(use);
  });
}

net::awaitable<Result<Folder>> SqliteCatalog::get_folder(const std::string& id) {
  co_return co_await run_locked(blocking_, impl_.get(), [&id](Impl& impl) -> Result<Folder> {
    Use use(impl.get_folder);
    use.text(1, id);
    return one_row(use, folder_row);
  });
}

net::awaitable<Result<std::vector<Folder>>> SqliteCatalog::list_folders(const std::string& project_id) {
  co_return co_await run_locked(blocking_, impl_.get(), [&project_id](Impl& impl) -> Result<std::vector<Folder>> {
    Use use(impl.list_folders);
    use.text(1, project_id);
    return all_rows(use, folder_row);
  });
}

net::awaitable<Result<void>> SqliteCatalog::insert_video(const Video& v) {
  co_return co_await run_locked(blocking_, impl_.get(), [&v](Impl& impl) -> Result<void> {
    Use use(impl.insert_video);
    bind_video_fields(use, v);
    if (v.upload_id.empty()) {
      use.null(10);  // NULL, not '': upload_id is UNIQUE
    } else {
      use.text(10, v.upload_id);
    }
    use.int64(11, v.created_at).int64(12, v.updated_at);
    return run(use);
  });
}

net::awaitable<Result<Video>> SqliteCatalog::get_video(const std::string& id) {
  co_return co_await run_locked(blocking_, impl_.get(), [&id](Impl& impl) -> Result<Video> {
    Use use(impl.get_video);
    use.text(1, id);
    return one_row(use, video_row);
  });
}

net::awaitable<Result<std::vector<Video>>> SqliteCatalog::list_videos(const VideoQuery& q) {
  co_return co_await run_locked(blocking_, impl_.get(),
                                [&q](Impl& impl) -> Result<std::vector<Video>> { return impl.list(q); });
}

net::awaitable<Result<void>> SqliteCatalog::update_video(const Video& v) {
  co_return co_await run_locked(blocking_, impl_.get(), [&v](Impl& impl) -> Result<void> {
    Use use(impl.update_video);
    bind_video_fields(use, v).int64(10, v.updated_at);
    return change_one(use);
  });
}

net::awaitable<Result<void>> SqliteCatalog::attach_upload(const std::string& video_id, const std::string& upload_id,
                                                          std::int64_t now_ms) {
  assert(!upload_id.empty() && "an upload id is never empty");
  co_return co_await run_locked(blocking_, impl_.get(), [&video_id, &upload_id, now_ms](Impl& impl) -> Result<void> {
    return impl.attach(video_id, upload_id, now_ms);
  });
}

net::awaitable<Result<void>> SqliteCatalog::delete_video(const std::string& id) {
  co_return co_await run_locked(blocking_, impl_.get(), [&id](Impl& impl) -> Result<void> {
    Use use(impl.delete_video);
    use.text(1, id);
    return change_one(use);
  });
}

}  // namespace vidup::store
