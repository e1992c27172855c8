#include "store/sqlite/sqlite_info_store.hpp"

#include "store/run_blocking.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace vidup::store {

namespace {

using core::ConcatKind;
using core::Errc;
using core::UploadState;

boost::system::error_code fail(Errc e) { return core::make_error_code(e); }

// Schema migrations, applied in order at open; schema_version holds how many have run. Never
// edit a shipped entry: append a new one.
constexpr std::array kMigrations = {
    std::string_view{R"sql(
      CREATE TABLE uploads (
        id           TEXT PRIMARY KEY,
        size         INTEGER NULL,
        "offset"     INTEGER NOT NULL,
        metadata_raw TEXT NOT NULL,
        concat       INTEGER NOT NULL,
        concat_raw   TEXT NOT NULL,
        state        TEXT NOT NULL,
        created_at   INTEGER,
        updated_at   INTEGER,
        expires_at   INTEGER
      );
      CREATE INDEX uploads_state_expires ON uploads(state, expires_at);
      CREATE TABLE concat_parts (
        final_id   TEXT NOT NULL,
        idx        INTEGER NOT NULL,
        partial_id TEXT NOT NULL,
        PRIMARY KEY (final_id, idx)
      );
      CREATE INDEX concat_parts_partial ON concat_parts(partial_id);
    )sql"},
    std::string_view{R"sql(
      ALTER TABLE uploads ADD COLUMN owner TEXT NOT NULL DEFAULT '';
    )sql"},
};

constexpr std::string_view kColumns =
    R"(u.id, u.size, u."offset", u.metadata_raw, u.concat, u.concat_raw, u.state, )"
    R"(u.created_at, u.updated_at, u.expires_at, u.owner)";

// Stored as integers; the mapping is part of the schema.
std::int64_t concat_code(ConcatKind k) {
  switch (k) {
    case ConcatKind::none:
      return 0;
    case ConcatKind::partial:
      return 1;
    case ConcatKind::final_upload:
      return 2;
  }
  return 0;
}

std::optional<ConcatKind> concat_from(std::int64_t code) {
  switch (code) {
    case 0:
      return ConcatKind::none;
    case 1:
      return ConcatKind::partial;
    case 2:
      return ConcatKind::final_upload;
    default:
      return std::nullopt;
  }
}

core::Metadata reparse(const std::string& raw) {
  constexpr auto kNoLimit = std::numeric_limits<std::size_t>::max();
  auto parsed = core::parse_metadata(raw, core::MetadataLimits{kNoLimit, kNoLimit, kNoLimit});
  return parsed ? std::move(*parsed) : core::Metadata{};
}

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

}  // namespace

struct SqliteInfoStore::Impl {
  std::mutex mutex;  // one connection, one user at a time
  sqlite3* db = nullptr;

  Stmt begin, commit, rollback;
  Stmt insert_upload, insert_part;
  Stmt get_upload, get_parts;
  Stmt update_upload;
  Stmt delete_upload, delete_parts;
  Stmt list_expired, list_active, finals_waiting_on;
  Stmt purge_parts, purge_uploads;

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
    for (Stmt* s : {&begin, &commit, &rollback, &insert_upload, &insert_part, &get_upload, &get_parts, &update_upload,
                    &delete_upload, &delete_parts, &list_expired, &list_active, &finals_waiting_on, &purge_parts,
                    &purge_uploads}) {
      *s = Stmt{};  // statements go before the connection
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

  void migrate() {
    exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    std::int64_t version = 0;
    {
      Stmt q(db, "SELECT coalesce(max(version), 0) FROM schema_version");
      Use use(q);
      if (use.step() != SQLITE_ROW) {
        throw_sqlite(db, "read schema_version");
      }
      version = sqlite3_column_int64(use.get(), 0);
    }
    if (version > static_cast<std::int64_t>(kMigrations.size())) {
      throw std::runtime_error("sqlite: database schema v" + std::to_string(version) +
                               " is newer than this build understands (v" + std::to_string(kMigrations.size()) + ")");
    }
    for (auto v = static_cast<std::size_t>(version); v < kMigrations.size(); ++v) {
      exec("BEGIN IMMEDIATE");
      try {
        exec(std::string(kMigrations[v]));
        exec("DELETE FROM schema_version");
        exec("INSERT INTO schema_version(version) VALUES (" + std::to_string(v + 1) + ")");
        exec("COMMIT");
      } catch (...) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    }
  }

  void prepare() {
    const std::string cols(kColumns);
    begin = Stmt(db, "BEGIN IMMEDIATE");
    commit = Stmt(db, "COMMIT");
    rollback = Stmt(db, "ROLLBACK");
    insert_upload = Stmt(db,
                         R"(INSERT INTO uploads (id, size, "offset", metadata_raw, concat, concat_raw, state,
                              created_at, updated_at, expires_at, owner)
                              VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11))");
    insert_part = Stmt(db, "INSERT INTO concat_parts (final_id, idx, partial_id) VALUES (?1, ?2, ?3)");
    get_upload = Stmt(db, "SELECT " + cols + " FROM uploads u WHERE u.id = ?1");
    get_parts = Stmt(db, "SELECT partial_id FROM concat_parts WHERE final_id = ?1 ORDER BY idx");
    update_upload = Stmt(
        db,
        R"(UPDATE uploads SET size = ?2, "offset" = ?3, state = ?4, updated_at = ?5, expires_at = ?6 WHERE id = ?1)");
    delete_upload = Stmt(db, "DELETE FROM uploads WHERE id = ?1");
    delete_parts = Stmt(db, "DELETE FROM concat_parts WHERE final_id = ?1");
    list_expired = Stmt(db, "SELECT " + cols +
                                " FROM uploads u WHERE u.state = 'active' AND u.expires_at > 0 AND u.expires_at <= ?1"
                                " ORDER BY u.expires_at, u.id LIMIT ?2");
    list_active = Stmt(db, "SELECT " + cols + " FROM uploads u WHERE u.state = 'active' ORDER BY u.created_at, u.id");
    finals_waiting_on = Stmt(db, "SELECT " + cols +
                                     " FROM uploads u WHERE u.state = 'active' AND u.id IN"
                                     " (SELECT final_id FROM concat_parts WHERE partial_id = ?1)"
                                     " ORDER BY u.created_at, u.id");
    constexpr std::string_view kTombstones = "state IN ('terminated', 'expired') AND updated_at < ?1";
    purge_parts = Stmt(db, "DELETE FROM concat_parts WHERE final_id IN (SELECT id FROM uploads WHERE " +
                               std::string(kTombstones) + ")");
    purge_uploads = Stmt(db, "DELETE FROM uploads WHERE " + std::string(kTombstones));
  }

  // --- everything below runs with `mutex` held, on the blocking pool ---

  bool run(const Stmt& s) { return Use(s).step() == SQLITE_DONE; }

  // Runs `body` (returning Result<T>) inside BEGIN IMMEDIATE .. COMMIT; rolls back on failure.
  template <class F>
  auto transaction(F body) -> decltype(body()) {
    if (!run(begin)) {
      return fail(Errc::storage_error);
    }
    auto r = body();
    if (!r || !run(commit)) {
      run(rollback);
      if (!r) {
        return r;
      }
      return fail(Errc::storage_error);
    }
    return r;
  }

  Result<std::vector<std::string>> parts_of(const std::string& final_id) {
    Use use(get_parts);
    use.text(1, final_id);
    std::vector<std::string> out;
    int rc = SQLITE_ROW;
    while ((rc = use.step()) == SQLITE_ROW) {
      out.push_back(column_text(use.get(), 0));
    }
    if (rc != SQLITE_DONE) {
      return fail(Errc::storage_error);
    }
    return out;
  }

  // Reads the row at the cursor (columns in kColumns order) and its partial list.
  Result<UploadInfo> row(sqlite3_stmt* s) {
    UploadInfo info;
    info.id = column_text(s, 0);
    if (sqlite3_column_type(s, 1) != SQLITE_NULL) {
      info.size = static_cast<std::uint64_t>(sqlite3_column_int64(s, 1));
    }
    info.offset = static_cast<std::uint64_t>(sqlite3_column_int64(s, 2));
    info.metadata_raw = column_text(s, 3);
    info.metadata = reparse(info.metadata_raw);
    const auto concat = concat_from(sqlite3_column_int64(s, 4));
    const auto state = core::upload_state_from(column_text(s, 6));
    if (!concat || !state) {
      return fail(Errc::storage_error);  // a row this build cannot read
    }
    info.concat = *concat;
    info.concat_raw = column_text(s, 5);
    info.state = *state;
    info.created_at = sqlite3_column_int64(s, 7);
    info.updated_at = sqlite3_column_int64(s, 8);
    info.expires_at = sqlite3_column_int64(s, 9);
    info.owner = column_text(s, 10);
    return info;
  }

  // Collects every row of a query, then each final's partial list (a second statement, so it
  // runs after the first one is done).
  Result<std::vector<UploadInfo>> rows(Use& use) {
    std::vector<UploadInfo> out;
    int rc = SQLITE_ROW;
    while ((rc = use.step()) == SQLITE_ROW) {
      auto info = row(use.get());
      if (!info) {
        return info.error();
      }
      out.push_back(std::move(*info));
    }
    if (rc != SQLITE_DONE) {
      return fail(Errc::storage_error);
    }
    for (auto& info : out) {
      if (!info.is_final()) {
        continue;
      }
      auto parts = parts_of(info.id);
      if (!parts) {
        return parts.error();
      }
      info.partial_ids = std::move(*parts);
    }
    return out;
  }

  Result<void> insert(const UploadInfo& info) {
    return transaction([&]() -> Result<void> {
      {
        Use use(insert_upload);
        use.text(1, info.id);
        if (info.size) {
          use.uint64(2, *info.size);
        } else {
          use.null(2);
        }
        use.uint64(3, info.offset)
            .text(4, info.metadata_raw)
            .int64(5, concat_code(info.concat))
            .text(6, info.concat_raw)
            .text(7, core::to_string(info.state))
            .int64(8, info.created_at)
            .int64(9, info.updated_at)
            .int64(10, info.expires_at)
            .text(11, info.owner);
        if (use.step() != SQLITE_DONE) {
          return fail(Errc::storage_error);
        }
      }
      for (std::size_t i = 0; i < info.partial_ids.size(); ++i) {
        Use use(insert_part);
        use.text(1, info.id).int64(2, static_cast<std::int64_t>(i)).text(3, info.partial_ids[i]);
        if (use.step() != SQLITE_DONE) {
          return fail(Errc::storage_error);
        }
      }
      return {};
    });
  }

  Result<UploadInfo> get(const std::string& id) {
    std::vector<UploadInfo> found;
    {
      Use use(get_upload);
      use.text(1, id);
      auto r = rows(use);
      if (!r) {
        return r.error();
      }
      found = std::move(*r);
    }
    if (found.empty()) {
      return fail(Errc::not_found);
    }
    return std::move(found.front());
  }

  Result<void> update(const UploadInfo& info) {
    Use use(update_upload);
    use.text(1, info.id);
    if (info.size) {
      use.uint64(2, *info.size);
    } else {
      use.null(2);
    }
    use.uint64(3, info.offset).text(4, core::to_string(info.state)).int64(5, info.updated_at).int64(6, info.expires_at);
    if (use.step() != SQLITE_DONE) {
      return fail(Errc::storage_error);
    }
    if (sqlite3_changes(db) == 0) {
      return fail(Errc::not_found);
    }
    return {};
  }

  Result<void> remove(const std::string& id) {
    return transaction([&]() -> Result<void> {
      {
        Use use(delete_parts);
        use.text(1, id);
        if (use.step() != SQLITE_DONE) {
          return fail(Errc::storage_error);
        }
      }
      Use use(delete_upload);
      use.text(1, id);
      if (use.step() != SQLITE_DONE) {
        return fail(Errc::storage_error);
      }
      if (sqlite3_changes(db) == 0) {
        return fail(Errc::not_found);
      }
      return {};
    });
  }

  Result<std::size_t> purge(std::int64_t before_ms) {
    return transaction([&]() -> Result<std::size_t> {
      {
        Use use(purge_parts);
        use.int64(1, before_ms);
        if (use.step() != SQLITE_DONE) {
          return fail(Errc::storage_error);
        }
      }
      Use use(purge_uploads);
      use.int64(1, before_ms);
      if (use.step() != SQLITE_DONE) {
        return fail(Errc::storage_error);
      }
      return static_cast<std::size_t>(sqlite3_changes(db));
    });
  }
};

// Every call below hands run_blocking a lambda capturing only a pointer, references and scalars:
// g++ 12 destroys the members of a closure temporary in a co_await expression twice, harmless
// only for trivially destructible captures. The referenced arguments outlive the co_await.

SqliteInfoStore::SqliteInfoStore(const std::filesystem::path& db_file, net::thread_pool& blocking)
    : impl_(std::make_unique<Impl>(db_file)), blocking_(blocking) {}

SqliteInfoStore::~SqliteInfoStore() = default;

net::awaitable<Result<void>> SqliteInfoStore::insert(const UploadInfo& info) {
  co_return co_await run_blocking(blocking_, [impl = impl_.get(), &info]() -> Result<void> {
    std::lock_guard lock(impl->mutex);
    return impl->insert(info);
  });
}

net::awaitable<Result<UploadInfo>> SqliteInfoStore::get(const std::string& id) {
  co_return co_await run_blocking(blocking_, [impl = impl_.get(), &id]() -> Result<UploadInfo> {
    std::lock_guard lock(impl->mutex);
    return impl->get(id);
  });
}

net::awaitable<Result<void>> SqliteInfoStore::update(const UploadInfo& info) {
  co_return co_await run_blocking(blocking_, [impl = impl_.get(), &info]() -> Result<void> {
    std::lock_guard lock(impl->mutex);
    return impl->update(info);
  });
}

net::awaitable<Result<void>> SqliteInfoStore::remove(const std::string& id) {
  co_return co_await run_blocking(blocking_, [impl = impl_.get(), &id]() -> Result<void> {
    std::lock_guard lock(impl->mutex);
    return impl->remove(id);
  });
}

net::awaitable<Result<std::vector<UploadInfo>>> SqliteInfoStore::list_expired(std::int64_t now_ms, std::size_t limit) {
  co_return co_await run_blocking(blocking_, [impl = impl_.get(), now_ms, limit]() -> Result<std::vector<UploadInfo>> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->list_expired);
    constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    use.int64(1, now_ms).int64(2, static_cast<std::int64_t>(std::min(limit, kMax)));
    return impl->rows(use);
  });
}

net::awaitable<Result<std::vector<UploadInfo>>> SqliteInfoStore::list_active() {
  co_return co_await run_blocking(blocking_, [impl = impl_.get()]() -> Result<std::vector<UploadInfo>> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->list_active);
    return impl->rows(use);
  });
}

net::awaitable<Result<std::vector<UploadInfo>>> SqliteInfoStore::finals_waiting_on(const std::string& partial_id) {
  co_return co_await run_blocking(blocking_, [impl = impl_.get(), &partial_id]() -> Result<std::vector<UploadInfo>> {
    std::lock_guard lock(impl->mutex);
    Use use(impl->finals_waiting_on);
    use.text(1, partial_id);
    return impl->rows(use);
  });
}

net::awaitable<Result<std::size_t>> SqliteInfoStore::purge_tombstones(std::int64_t before_ms) {
  co_return co_await run_blocking(blocking_, [impl = impl_.get(), before_ms]() -> Result<std::size_t> {
    std::lock_guard lock(impl->mutex);
    return impl->purge(before_ms);
  });
}

}  // namespace vidup::store
