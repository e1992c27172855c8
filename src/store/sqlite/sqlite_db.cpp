#include "store/sqlite/sqlite_db.hpp"

#include <stdexcept>

namespace vidup::store::sqlite_detail {

void throw_sqlite(sqlite3* db, std::string_view what) {
  throw std::runtime_error("sqlite: " + std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

Stmt::Stmt(sqlite3* db, std::string_view sql) {
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) !=
      SQLITE_OK) {
    throw_sqlite(db, "prepare");
  }
}

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
           : std::string{};
}

bool column_null(sqlite3_stmt* s, int i) { return sqlite3_column_type(s, i) == SQLITE_NULL; }

boost::system::error_code step_error(int rc) {
  return core::make_error_code((rc & 0xff) == SQLITE_FULL ? core::Errc::storage_full : core::Errc::storage_error);
}

Result<void> run(Use& use) {
  if (const int rc = use.step(); rc != SQLITE_DONE) {
    return step_error(rc);
  }
  return {};
}

Result<void> change_one(Use& use) {
  if (auto r = run(use); !r) {
    return r;
  }
  if (sqlite3_changes(sqlite3_db_handle(use.get())) == 0) {
    return core::make_error_code(core::Errc::not_found);
  }
  return {};
}

Database::Database(const std::filesystem::path& file) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_.reset(raw);  // closed on every path out, a failed open included
  if (rc != SQLITE_OK) {
    throw std::runtime_error("sqlite: cannot open " + file.string() + ": " +
                             (raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  sqlite3_busy_timeout(raw, 5000);
  {
    Stmt wal = prepare("PRAGMA journal_mode=WAL");
    Use use(wal);
    if (use.step() != SQLITE_ROW || column_text(use.get(), 0) != "wal") {
      throw_sqlite(raw, "cannot switch to WAL");
    }
  }
  exec("PRAGMA synchronous=FULL");
}

void Database::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_.get());
    sqlite3_free(err);
    throw std::runtime_error("sqlite: " + msg + " in: " + sql.substr(0, 80));
  }
}

void Database::migrate(std::string_view version_table, std::span<const std::string_view> migrations) {
  const std::string table(version_table);
  const auto known = static_cast<std::int64_t>(migrations.size());
  exec("CREATE TABLE IF NOT EXISTS " + table + " (version INTEGER NOT NULL)");
  for (;;) {
    exec("BEGIN IMMEDIATE");
    try {
      std::int64_t version = 0;
      {
        Stmt q = prepare("SELECT coalesce(max(version), 0) FROM " + table);
        Use use(q);
        if (use.step() != SQLITE_ROW) {
          throw_sqlite(db_.get(), "read " + table);
        }
        version = sqlite3_column_int64(use.get(), 0);
      }
      if (version > known) {
        throw std::runtime_error("sqlite: " + table + " says schema v" + std::to_string(version) +
                                 ", newer than this build understands (v" + std::to_string(known) + ")");
      }
      if (version == known) {
        exec("COMMIT");
        return;
      }
      exec(std::string(migrations[static_cast<std::size_t>(version)]));
      exec("DELETE FROM " + table);
      exec("INSERT INTO " + table + "(version) VALUES (" + std::to_string(version + 1) + ")");
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
}

}  // namespace vidup::store::sqlite_detail
