#pragma once
// Internal to the PostgreSQL backends: one statement at a time on a checked-out connection,
// text-format parameters and results, connection-loss bookkeeping and the one-retry rule.
// Not part of any public API.

#include "core/errc.hpp"
#include "store/postgres/pg_pool.hpp"
#include "store/run_blocking.hpp"

#include <libpq-fe.h>

#include <boost/asio/thread_pool.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vidup::store::pg_detail {

using core::Result;

// A statement parameter in text format; nullopt is SQL NULL.
using Param = std::optional<std::string>;
[[nodiscard]] inline Param text(std::string_view v) { return std::string(v); }
[[nodiscard]] inline Param int64(std::int64_t v) { return std::to_string(v); }
[[nodiscard]] inline Param uint64(std::uint64_t v) { return int64(static_cast<std::int64_t>(v)); }
[[nodiscard]] inline Param uint64_or_null(const std::optional<std::uint64_t>& v) {
  return v ? uint64(*v) : std::nullopt;
}
[[nodiscard]] inline Param text_or_null(const std::optional<std::string>& v) { return v; }
// A text[] literal ({"a","b"}) for `$n::text[]`: a value passed as a parameter, not SQL.
[[nodiscard]] Param text_array(const std::vector<std::string>& values);

// The rows of a successful statement, read in text format.
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r) {}
  [[nodiscard]] int size() const { return PQntuples(r_.get()); }
  [[nodiscard]] int affected() const;  // rows an INSERT/UPDATE/DELETE touched
  [[nodiscard]] bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  [[nodiscard]] std::string text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
  }
  [[nodiscard]] std::int64_t int64(int row, int col) const;  // NULL and garbage read as 0
  [[nodiscard]] std::uint64_t uint64(int row, int col) const { return static_cast<std::uint64_t>(int64(row, col)); }
  [[nodiscard]] std::optional<std::uint64_t> uint64_or_null(int row, int col) const {
    return null(row, col) ? std::nullopt : std::optional<std::uint64_t>(uint64(row, col));
  }
  [[nodiscard]] bool boolean(int row, int col) const { return text(row, col) == "t"; }

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> r_;
};

enum class Kind {
  idempotent,  // a read, or a write whose second run changes nothing: always safe to run again
  once,        // commits something a second run would change: run again only if surely not run
};

// Statements on one checked-out connection. Failures are Errc::storage_error; the session
// remembers whether the connection was lost and whether running the whole unit of work again
// is safe (nothing it did may have committed).
class Session {
 public:
  explicit Session(pg_conn* conn) : conn_(conn) {}
  Result<Rows> exec(std::string_view sql, std::initializer_list<Param> params, Kind kind);
  Result<Rows> exec(std::string_view sql, const std::vector<Param>& params, Kind kind);

  [[nodiscard]] bool lost() const { return lost_; }
  [[nodiscard]] bool retry_safe() const { return retry_safe_; }
  // The SQLSTATE of the last failure ("23505": unique violation), empty if none.
  [[nodiscard]] const std::string& sqlstate() const { return sqlstate_; }

 private:
  pg_conn* conn_;
  bool lost_ = false;
  bool retry_safe_ = true;
  bool wrote_ = false;
  std::string sqlstate_;
};

// Errc::not_found when the statement touched no row.
[[nodiscard]] Result<void> changed_one(const Result<Rows>& r);

// Every row through `read(rows, i)` (returning Result<T>).
template <class F>
auto all_rows(const Result<Rows>& r, F read) -> Result<std::vector<typename decltype(read(*r, 0))::value_type>> {
  using T = typename decltype(read(*r, 0))::value_type;
  if (!r) {
    return r.error();
  }
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) {
    auto row = read(*r, i);
    if (!row) {
      return row.error();
    }
    out.push_back(std::move(*row));
  }
  return out;
}

// The first row through `read`; Errc::not_found when there is none.
template <class F>
auto one_row(const Result<Rows>& r, F read) -> decltype(read(*r, 0)) {
  if (!r) {
    return r.error();
  }
  if (r->size() == 0) {
    return core::make_error_code(core::Errc::not_found);
  }
  return read(*r, 0);
}

// Runs `body(Session&)` (returning Result<T>) on a pooled connection. When the connection
// broke under it, the connection is reset and, if no part of the work can have committed,
// the work runs once more on a fresh connection.
template <class F>
auto with_session(PgPool& pool, F& body) -> decltype(body(std::declval<Session&>())) {
  for (int attempt = 0;; ++attempt) {
    auto conn = pool.checkout();
    Session session(conn.get());
    auto r = body(session);
    if (r || !session.lost()) {
      return r;
    }
    conn.reset();
    if (attempt > 0 || !session.retry_safe()) {
      return r;
    }
  }
}

// with_session on `blocking`, resuming the caller on its executor. `body` captures only
// references and scalars whose referents outlive the co_await.
template <class F>
auto run_pg(net::thread_pool& blocking, PgPool& pool, F body) {
  return run_blocking(blocking, [&pool, body]() mutable { return with_session(pool, body); });
}

}  // namespace vidup::store::pg_detail
