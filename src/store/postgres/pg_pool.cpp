#include "store/postgres/pg_pool.hpp"

#include "store/postgres/pg_connect.hpp"
#include "store/postgres/pg_session.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <stdexcept>
#include <utility>

namespace vidup::store {

PgPool::PgPool(std::string conninfo, std::size_t size)
    : conninfo_(std::move(conninfo)), where_(pg_detail::where(conninfo_)) {
  if (size == 0) {
    throw std::invalid_argument("PgPool needs at least one connection");
  }
  all_.reserve(size);
  try {
    for (std::size_t i = 0; i < size; ++i) {
      all_.push_back(pg_detail::connect_or_throw(conninfo_, where_));
    }
  } catch (...) {
    for (pg_conn* c : all_) {
      PQfinish(c);
    }
    throw;
  }
  idle_ = all_;
}

PgPool::~PgPool() {
  // Every Checkout has been returned by now: a pool outlives the stores that use it.
  for (pg_conn* c : all_) {
    PQfinish(c);
  }
}

PgPool::Checkout PgPool::checkout() {
  pg_conn* conn = nullptr;
  {
    std::unique_lock lock(mutex_);
    freed_.wait(lock, [this] { return !idle_.empty(); });
    conn = idle_.back();
    idle_.pop_back();
  }
  Checkout out(this, conn);
  // Reading what is pending finds a connection the server closed while it was idle here (its
  // goodbye message, then EOF, wait in the socket: the second read meets the EOF), before a
  // statement that could not safely be sent twice goes out on it.
  const auto alive = [conn] { return PQconsumeInput(conn) != 0 && PQstatus(conn) == CONNECTION_OK; };
  if (PQstatus(conn) != CONNECTION_OK || !alive() || !alive()) {
    out.reset();
  } else if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
    PGresult* r = PQexec(conn, "ROLLBACK");  // a unit of work that failed half-way
    PQclear(r);
  }
  while (PGnotify* n = PQnotifies(conn)) {
    PQfreemem(n);  // pool connections do not LISTEN; drop anything stray
  }
  return out;
}

void PgPool::give_back(pg_conn* conn) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(conn);
  }
  freed_.notify_one();
}

PgPool::Checkout::Checkout(Checkout&& o) noexcept : pool_(o.pool_), conn_(std::exchange(o.conn_, nullptr)) {}

PgPool::Checkout::~Checkout() {
  if (conn_ != nullptr) {
    pool_->give_back(conn_);
  }
}

void PgPool::Checkout::reset() { PQreset(conn_); }

namespace pg_detail {

Param text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const auto& v : values) {
    if (out.size() > 1) {
      out += ',';
    }
    out += '"';
    for (const char c : v) {
      if (c == '"' || c == '\\') {
        out += '\\';
      }
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

namespace {

std::int64_t parse_int64(const char* s, std::size_t n) {
  std::int64_t v = 0;
  std::from_chars(s, s + n, v);
  return v;
}

boost::system::error_code storage_error() { return core::make_error_code(core::Errc::storage_error); }

}  // namespace

Result<void> changed_one(const Result<Rows>& r) {
  if (!r) {
    return r.error();
  }
  if (r->affected() == 0) {
    return core::make_error_code(core::Errc::not_found);
  }
  return {};
}

int Rows::affected() const {
  const char* n = PQcmdTuples(r_.get());
  return static_cast<int>(parse_int64(n, std::char_traits<char>::length(n)));
}

std::int64_t Rows::int64(int row, int col) const {
  return parse_int64(PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
}

Result<Rows> Session::exec(std::string_view sql, std::initializer_list<Param> params, Kind kind) {
  return exec(sql, std::vector<Param>(params), kind);
}

Result<Rows> Session::exec(std::string_view sql, const std::vector<Param>& params, Kind kind) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) {
    if (p && p->find('\0') != std::string::npos) {
      return storage_error();  // text cannot hold NUL, and libpq would cut the value there
    }
    values.push_back(p ? p->c_str() : nullptr);
  }
  sqlstate_.clear();
  const std::string statement(sql);
  if (PQsendQueryParams(conn_, statement.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                        nullptr, 0) == 0) {
    // Never reached the server: running the work again is as safe as it was before.
    lost_ = PQstatus(conn_) != CONNECTION_OK;
    retry_safe_ = retry_safe_ && !wrote_;
    return storage_error();
  }
  PGresult* first = PQgetResult(conn_);
  while (PGresult* more = PQgetResult(conn_)) {
    PQclear(more);  // one statement, one result; drain whatever else to make the connection idle
  }
  Rows rows(first);
  const auto status = first != nullptr ? PQresultStatus(first) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    wrote_ = wrote_ || kind == Kind::once;
    return rows;
  }
  if (first != nullptr) {
    const char* state = PQresultErrorField(first, PG_DIAG_SQLSTATE);
    sqlstate_ = state != nullptr ? state : "";
  }
  if (PQstatus(conn_) != CONNECTION_OK) {
    lost_ = true;
    // An error the server sent means the statement did not commit; a connection that died with
    // no answer may have committed a `once` statement.
    const bool not_run = kind == Kind::idempotent || !sqlstate_.empty();
    retry_safe_ = retry_safe_ && !wrote_ && not_run;
  }
  return storage_error();
}

}  // namespace pg_detail

}  // namespace vidup::store
