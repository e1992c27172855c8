#pragma once
// Internal to the SQLite backends (SqliteInfoStore, SqliteCatalog): one connection opened the way
// both need it (WAL, synchronous=FULL, a busy timeout), versioned migrations, RAII prepared
// statements and the step/read helpers their calls share. Not part of any public API.

#include "core/errc.hpp"
#include "store/run_blocking.hpp"

#include <sqlite3.h>

#include <boost/asio/thread_pool.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vidup::store::sqlite_detail {

using core::Result;

[[noreturn]] void throw_sqlite(sqlite3* db, std::string_view what);

// A prepared statement, finalized on destruction.
class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, std::string_view sql);  // throws on a statement that does not prepare
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

std::string column_text(sqlite3_stmt* s, int i);  // NULL reads as ""
bool column_null(sqlite3_stmt* s, int i);

// The error for a step that failed with `rc`: Errc::storage_full when the disk is full
// (SQLITE_FULL, a 507 the client can act on), Errc::storage_error otherwise.
boost::system::error_code step_error(int rc);

// Runs a statement that returns no rows: step_error() on any failure, a constraint violation
// (duplicate key) included.
Result<void> run(Use& use);

// Runs an UPDATE or DELETE of one row by key: Errc::not_found when it matched none.
Result<void> change_one(Use& use);

// Every row of a query, each read by `read`.
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
    return step_error(rc);
  }
  return out;
}

// The single row of a lookup by key; Errc::not_found when there is none.
template <class T>
Result<T> one_row(Use& use, Result<T> (*read)(sqlite3_stmt*)) {
  const int rc = use.step();
  if (rc == SQLITE_DONE) {
    return core::make_error_code(core::Errc::not_found);
  }
  if (rc != SQLITE_ROW) {
    return step_error(rc);
  }
  return read(use.get());
}

// One connection to a database file. Not thread-safe: its owner serializes the calls.
class Database {
 public:
  // Opens (creating) the file in WAL mode with synchronous=FULL and a 5 s busy timeout. Throws
  // on failure (a start-up error).
  explicit Database(const std::filesystem::path& file);

  // Throws on failure, with the statement's start in the message.
  void exec(const std::string& sql);

  // Applies `migrations[v..]` in order, where `version_table` (created if missing) says v have
  // run. Each runs in its own BEGIN IMMEDIATE transaction that re-reads the version first, so
  // two processes opening the same file at once apply each migration exactly once. Throws on
  // failure, and on a database newer than `migrations`.
  void migrate(std::string_view version_table, std::span<const std::string_view> migrations);

  [[nodiscard]] Stmt prepare(std::string_view sql) const { return Stmt(db_.get(), sql); }
  [[nodiscard]] int changes() const { return sqlite3_changes(db_.get()); }

 private:
  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  std::unique_ptr<sqlite3, Close> db_;
};

// Runs `body(*impl)` on `pool` with `impl->mutex` held: one connection, one user at a time.
// `body` captures only references and scalars (see run_blocking), and what it references must
// outlive the co_await of the result.
template <class Impl, class F>
auto run_locked(net::thread_pool& pool, Impl* impl, F body) {
  return run_blocking(pool, [impl, body] {
    std::lock_guard lock(impl->mutex);
    return body(*impl);
  });
}

}  // namespace vidup::store::sqlite_detail
