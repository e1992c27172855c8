#include "store/sqlite/sqlite_catalog.hpp"

#include "store/run_blocking.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <initializer_list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace vidup::store {

namespace {

using core::Errc;

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

[[noreturn]] void throw_sqlite(sqlite3* db, std::string_view what) {
  throw std::runtime_error("sqlite: " + std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

// A prepared statement, finalized on destruction.
class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, std::string_view sql) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) !=
        SQLITE_OK) {
      throw_sqlite(db, "prepare");
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : stmt_(std::exchange(o.stmt_, nullptr)) {}
  Stmt& operator=(Stmt&& o) noexcept {
    if (this != &o) {
      sqlite3_finalize(stmt_);
      stmt_ = std::exchange(o.stmt_, nullptr);
    }
    return *this;
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  [[nodiscard]] sqlite3_stmt* get() const { return stmt_; }
  [[nodiscard]] explicit operator bool() const { return stmt_ != nullptr; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// One use of a prepared statement: binds, steps, and resets it when done.
class Use {
 public:
  explicit Use(const Stmt& s) : s_(s.get()) {}
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  ~Use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

  Use& text(int i, std::string_view v) {
    ok_ = ok_ && sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) == SQLITE_OK;
    return *this;
  }
  Use& int64(int i, std::int64_t v) {
    ok_ = ok_ && sqlite3_bind_int64(s_, i, v) == SQLITE_OK;
    return *this;
  }
  Use& uint64(int i, std::uint64_t v) { return int64(i, static_cast<std::int64_t>(v)); }
  Use& null(int i) {
    ok_ = ok_ && sqlite3_bind_null(s_, i) == SQLITE_OK;
    return *this;
  }
  Use& text_or_null(int i, const std::optional<std::string>& v) { return v ? text(i, *v) : null(i); }
  Use& uint64_or_null(int i, const std::optional<std::uint64_t>& v) { return v ? uint64(i, *v) : null(i); }

  // SQLITE_ROW, SQLITE_DONE, or an error code (a failed bind counts as SQLITE_MISUSE).
  int step() { return ok_ ? sqlite3_step(s_) : SQLITE_MISUSE; }
  [[nodiscard]] sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_;
  bool ok_ = true;
};

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
           : std::string{};
}

bool column_null(sqlite3_stmt* s, int i) { return sqlite3_column_type(s, i) == SQLITE_NULL; }

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

// Every row of a query.
template <class T>
Result<std::vector<T>> all_rows(Use& use, Result<T> (*read)(sqlite3_stmt*)) {
  std::vector<T> out;
  int rc = SQLITE_ROW;
  while ((rc = use.step()) == SQLITE_ROW) {
    auto r = read(use.get());
    if (!r) {
      return r.error();
    }
    out.push_back(std::move(*r));
  }
  if (rc != SQLITE_DONE) {
    return fail(Errc::storage_error);
  }
  return out;
}

// The single row of a lookup by primary key; Errc::not_found when there is none.
template <class T>
Result<T> one_row(Use& use, Result<T> (*read)(sqlite3_stmt*)) {
  const int rc = use.step();
  if (rc == SQLITE_DONE) {
    return fail(Errc::not_found);
  }
  if (rc != SQLITE_ROW) {
    return fail(Errc::storage_error);
  }
  return read(use.get());
}

// The parts of a VideoQuery that shape the list statement (one cached statement per combination).
constexpr unsigned kByProject = 1U;
constexpr unsigned kByParent = 2U;
constexpr unsigned kByStatus = 4U;
constexpr unsigned kAfter = 8U;

}  // namespace

struct SqliteCatalog::Impl {
  std::mutex mutex;  // one connection, one user at a time
  sqlite3* db = nullptr;

  Stmt insert_key, list_keys, revoke_key;
  Stmt insert_project, get_project, list_projects;
  Stmt insert_folder, get_folder, list_folders;
  Stmt insert_video, get_video, update_video, attach_upload, video_exists, video_cursor, delete_video;
  std::array<Stmt, 16> list_videos;  // by filter bits (kByProject...), prepared on first use

  explicit Impl(const std::filesystem::path& file) {
    if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      const std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close_v2(db);
      db = nullptr;
      throw std::runtime_error("sqlite: cannot open " + file.string() + ": " + msg);
    }
    try {
      setup();
    } catch (...) {
      close();
      throw;
    }
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { close(); }

  void close() {
    for (Stmt* s : {&insert_key, &list_keys, &revoke_key, &insert_project, &get_project, &list_projects, &insert_folder,
                    &get_folder, &list_folders, &insert_video, &get_video, &update_video, &attach_upload, &video_exists,
                    &video_cursor, &delete_video}) {
      *s = Stmt{};  // statements go before the connection
    }
    for (auto& s : list_videos) {
      s = Stmt{};
    }
    sqlite3_close_v2(db);
    db = nullptr;
  }

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errmsg(db);
      sqlite3_free(err);
      throw std::runtime_error("sqlite: " + msg + " in: " + sql.substr(0, 80));
    }
  }

  void setup() {
    sqlite3_busy_timeout(db, 5000);
    {
      Stmt wal(db, "PRAGMA journal_mode=WAL");
      Use use(wal);
      if (use.step() != SQLITE_ROW || column_text(use.get(), 0) != "wal") {
        throw_sqlite(db, "cannot switch to WAL");
      }
    }
    exec("PRAGMA synchronous=FULL");
    migrate();
    prepare();
  }

  // The version is read inside the migration's write transaction, so two processes opening the
  // same file at once apply each migration exactly once.
  void migrate() {
    exec("CREATE TABLE IF NOT EXISTS catalog_schema_version (version INTEGER NOT NULL)");
    for (;;) {
      exec("BEGIN IMMEDIATE");
      try {
        std::int64_t version = 0;
        {
          Stmt q(db, "SELECT coalesce(max(version), 0) FROM catalog_schema_version");
          Use use(q);
          if (use.step() != SQLITE_ROW) {
            throw_sqlite(db, "read catalog_schema_version");
          }
          version = sqlite3_column_int64(use.get(), 0);
        }
        if (version > static_cast<std::int64_t>(kMigrations.size())) {
          throw std::runtime_error("sqlite: catalog schema v" + std::to_string(version) +
                                   " is newer than this build understands (v" + std::to_string(kMigrations.size()) +
                                   ")");
        }
        if (version == static_cast<std::int64_t>(kMigrations.size())) {
          exec("COMMIT");
          return;
        }
        exec(std::string(kMigrations[static_cast<std::size_t>(version)]));
        exec("DELETE FROM catalog_schema_version");
        exec("INSERT INTO catalog_schema_version(version) VALUES (" + std::to_string(version + 1) + ")");
        exec("COMMIT");
      } catch (...) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    }
  }

  void prepare() {
    const std::string keys(kKeyColumns);
    const std::string projects(kProjectColumns);
    const std::string folders(kFolderColumns);
    const std::string videos(kVideoColumns);
    insert_key = Stmt(db, "INSERT INTO keys (" + keys + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    list_keys = Stmt(db, "SELECT " + keys + " FROM keys ORDER BY created_at, id");
    // Revoking twice keeps the first revocation time.
    revoke_key = Stmt(db,
                      "UPDATE keys SET revoked_at = CASE WHEN revoked = 0 THEN ?2 ELSE revoked_at END, revoked = 1"
                      " WHERE id = ?1 OR secret = ?1");
    insert_project = Stmt(db, "INSERT INTO projects (" + projects + ") VALUES (?1, ?2, ?3)");
    get_project = Stmt(db, "SELECT " + projects + " FROM projects WHERE id = ?1");
    list_projects = Stmt(db, "SELECT " + projects + " FROM projects ORDER BY created_at, id");
    insert_folder = Stmt(db, "INSERT INTO folders (" + folders + ") VALUES (?1, ?2, ?3, ?4, ?5)");
    get_folder = Stmt(db, "SELECT " + folders + " FROM folders WHERE id = ?1");
    list_folders = Stmt(db, "SELECT " + folders + " FROM folders WHERE project_id = ?1 ORDER BY created_at, id");
    insert_video =
        Stmt(db, "INSERT INTO videos (" + videos + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    get_video = Stmt(db, "SELECT " + videos + " FROM videos WHERE id = ?1");
    // upload_id is not among the fields update_video writes: it changes only through
    // attach_upload, so a stale read-modify-write cannot undo an attach.
    update_video = Stmt(db,
                        "UPDATE videos SET project_id = ?2, parent_id = ?3, title = ?4, filename = ?5, filetype = ?6,"
                        " size = ?7, status = ?8, bytes_received = ?9, updated_at = ?10 WHERE id = ?1");
    attach_upload = Stmt(db,
                         "UPDATE videos SET upload_id = ?2, updated_at = ?3"
                         " WHERE id = ?1 AND (upload_id IS NULL OR upload_id = '')");
    video_exists = Stmt(db, "SELECT 1 FROM videos WHERE id = ?1");
    video_cursor = Stmt(db, "SELECT created_at FROM videos WHERE id = ?1");
    delete_video = Stmt(db, "DELETE FROM videos WHERE id = ?1");
  }

  // --- everything below runs with `mutex` held, on the blocking pool ---

  // Runs a statement that returns no rows; false on failure.
  static bool done(Use& use) { return use.step() == SQLITE_DONE; }

  // Runs an UPDATE/DELETE of one row by id: Errc::not_found when nothing matched.
  Result<void> change_one(Use& use) {
    if (!done(use)) {
      return fail(Errc::storage_error);
    }
    if (sqlite3_changes(db) == 0) {
      return fail(Errc::not_found);
    }
    return {};
  }

  static Result<void> insert(Use& use) {
    if (!done(use)) {
      return fail(Errc::storage_error);  // a duplicate id or secret included
    }
    return {};
  }

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
    s = Stmt(db, sql);
    return s;
  }

  Result<std::vector<Video>> list(const VideoQuery& q) {
    std::int64_t after_created = 0;
    if (!q.after.empty()) {
      Use use(video_cursor);
      use.text(1, q.after);
      const int rc = use.step();
      if (rc == SQLITE_DONE) {
        return fail(Errc::not_found);  // the cursor names no video (deleted meanwhile, or made up)
      }
      if (rc != SQLITE_ROW) {
        return fail(Errc::storage_error);
      }
      after_created = sqlite3_column_int64(use.get(), 0);
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
      if (!done(use)) {
        return fail(Errc::storage_error);  // upload_id already attached to another video included
      }
      if (sqlite3_changes(db) == 1) {
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

// Every call below hands run_blocking a lambda capturing only a pointer, references and
// scalars; the referenced arguments outlive the co_await.

SqliteCatalog::SqliteCatalog(const std::filesystem::path& db_file, net::thread_pool& blocking)
    : impl_(std::make_unique<Impl>(db_file)), blocking_(blocking) {}

SqliteCatalog::~SqliteCatalog() = default;

net::awaitable<Result<void>> SqliteCatalog::insert_key(const ApiKey& key) {
  auto work = [impl = impl_.get(), &key]() -> Result<void> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->insert_key);
    use.text(1, key.id)
        .text(2, key.secret)
        .text(3, key.name)
        .text_or_null(4, key.project_id)
        .int64(5, key.revoked ? 1 : 0)
        .int64(6, key.created_at)
        .int64(7, key.revoked_at);
    return Impl::insert(use);
  };
  co_return co_await run_blocking(blocking_, work);
}

net::awaitable<Result<std::vector<ApiKey>>> SqliteCatalog::list_keys() {
  auto work = [impl = impl_.get()]() -> Result<std::vector<ApiKey>> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->list_keys);
    return all_rows(use, key_row);
  };
  co_return co_await run_blocking(blocking_, work);
}

net::awaitable<Result<void>> SqliteCatalog::revoke_key(const std::string& id_or_secret, std::int64_t now_ms) {
  auto work = [impl = impl_.get(), &id_or_secret, now_ms]() -> Result<void> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->revoke_key);
    use.text(1, id_or_secret).int64(2, now_ms);
    return impl->change_one(use);
  };
  co_return co_await run_blocking(blocking_, work);
}

net::awaitable<Result<void>> SqliteCatalog::insert_project(const Project& p) {
  auto work = [impl = impl_.get(), &p]() -> Result<void> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->insert_project);
    use.text(1, p.id).text(2, p.name).int64(3, p.created_at);
    return Impl::insert(use);
  };
  co_return co_await run_blocking(blocking_, work);
}

net::awaitable<Result<Project>> SqliteCatalog::get_project(const std::string& id) {
  auto work = [impl = impl_.get(), &id]() -> Result<Project> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->get_project);
    use.text(1, id);
    return one_row(use, project_row);
  };
  co_return co_await run_blocking(blocking_, work);
}

net::awaitable<Result<std::vector<Project>>> SqliteCatalog::list_projects() {
  auto work = [impl = impl_.get()]() -> Result<std::vector<Project>> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->list_projects);
    return all_rows(use, project_row);
  };
  co_return co_await run_blocking(blocking_, work);
}

net::awaitable<Result<void>> SqliteCatalog::insert_folder(const Folder& f) {
  auto work = [impl = impl_.get(), &f]() -> Result<void> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->insert_folder);
    use.text(1, f.id).text(2, f.project_id).text(3, f.parent_id).text(4, f.name).int64(5, f.created_at);
    return Impl::insert(use);
  };
  co_return co_await run_blocking(blocking_, work);
}

net::awaitable<Result<Folder>> SqliteCatalog::get_folder(const std::string& id) {
  auto work = [impl = impl_.get(), &id]() -> Result<Folder> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->get_folder);
    use.text(1, id);
    return one_row(use, folder_row);
  };
  co_return co_await run_blocking(blocking_, work);
}

net::awaitable<Result<std::vector<Folder>>> SqliteCatalog::list_folders(const std::string& project_id) {
  auto work = [impl = impl_.get(), &project_id]() -> Result<std::vector<Folder>> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->list_folders);
    use.text(1, project_id);
    return all_rows(use, folder_row);
  };
  co_return co_await run_blocking(blocking_, work);
}

net::awaitable<Result<void>> SqliteCatalog::insert_video(const Video& v) {
  auto work = [impl = impl_.get(), &v]() -> Result<void> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->insert_video);
    use.text(1, v.id)
        .text(2, v.project_id)
        .text(3, v.parent_id)
        .text(4, v.title)
        .text(5, v.filename)
        .text(6, v.filetype)
        .uint64_or_null(7, v.size)
        .text(8, to_string(v.status))
        .uint64(9, v.bytes_received);
    if (v.upload_id.empty()) {
      use.null(10);  // NULL, not '': upload_id is UNIQUE
    } else {
      use.text(10, v.upload_id);
    }
    use.int64(11, v.created_at).int64(12, v.updated_at);
    return Impl::insert(use);
  };
  co_return co_await run_blocking(blocking_, work);
}

net::awaitable<Result<Video>> SqliteCatalog::get_video(const std::string& id) {
  auto work = [impl = impl_.get(), &id]() -> Result<Video> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->get_video);
    use.text(1, id);
    return one_row(use, video_row);
  };
  co_return co_await run_blocking(blocking_, work);
}

net::awaitable<Result<std::vector<Video>>> SqliteCatalog::list_videos(const VideoQuery& q) {
  auto work = [impl = impl_.get(), &q]() -> Result<std::vector<Video>> {
    std::lock_guard lock(impl->mutex);
    return impl->list(q);
  };
  co_return co_await run_blocking(blocking_, work);
}

net::awaitable<Result<void>> SqliteCatalog::update_video(const Video& v) {
  auto work = [impl = impl_.get(), &v]() -> Result<void> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->update_video);
    use.text(1, v.id)
        .text(2, v.project_id)
        .text(3, v.parent_id)
        .text(4, v.title)
        .text(5, v.filename)
        .text(6, v.filetype)
        .uint64_or_null(7, v.size)
        .text(8, to_string(v.status))
        .uint64(9, v.bytes_received)
        .int64(10, v.updated_at);
    return impl->change_one(use);
  };
  co_return co_await run_blocking(blocking_, work);
}

net::awaitable<Result<void>> SqliteCatalog::attach_upload(const std::string& video_id, const std::string& upload_id,
                                                          std::int64_t now_ms) {
  assert(!upload_id.empty() && "an upload id is never empty");
  auto work = [impl = impl_.get(), &video_id, &upload_id, now_ms]() -> Result<void> {
    std::lock_guard lock(impl->mutex);
    return impl->attach(video_id, upload_id, now_ms);
  };
  co_return co_await run_blocking(blocking_, work);
}

net::awaitable<Result<void>> SqliteCatalog::delete_video(const std::string& id) {
  auto work = [impl = impl_.get(), &id]() -> Result<void> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->delete_video);
    use.text(1, id);
    return impl->change_one(use);
  };
  co_return co_await run_blocking(blocking_, work);
}

}  // namespace vidup::store
