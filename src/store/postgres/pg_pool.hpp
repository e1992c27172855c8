#pragma once
// The PostgreSQL backends (vidup_store_postgres) share records and locks between many stateless
// nodes: PgPool (the connections), pg_migrate (the schema), PgInfoStore, PgCatalog and PgLocker.
// Every statement is parameterized and runs on the blocking pool, never on an I/O thread.
// Nothing here logs or throws a connection string (it may hold a password).

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct pg_conn;  // libpq's PGconn, kept out of this header

namespace vidup::store {

// A fixed set of connections to one database. Thread-safe.
class PgPool {
 public:
  // `conninfo`: a libpq URL (postgres://user:pw@host:port/db?options=...) or key=value string.
  // Connects all `size` connections now; throws std::runtime_error (naming host, port and
  // database, never the password) if the server cannot be reached.
  PgPool(std::string conninfo, std::size_t size);
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;
  ~PgPool();

  // One connection taken from the pool for one unit of work; it goes back when destroyed.
  class Checkout {
   public:
    Checkout(const Checkout&) = delete;
    Checkout& operator=(const Checkout&) = delete;
    Checkout(Checkout&& o) noexcept;
    Checkout& operator=(Checkout&&) = delete;
    ~Checkout();
    [[nodiscard]] pg_conn* get() const { return conn_; }
    // Reconnects a connection found broken (blocks); a connection that still fails is retried
    // at its next checkout.
    void reset();

   private:
    friend class PgPool;
    Checkout(PgPool* pool, pg_conn* conn) : pool_(pool), conn_(conn) {}
    PgPool* pool_;
    pg_conn* conn_;
  };

  // Blocks until a connection is free. A connection the server closed while it sat in the pool
  // (a restart, pg_terminate_backend) is reconnected first. Blocking-pool threads only.
  [[nodiscard]] Checkout checkout();

  [[nodiscard]] std::size_t size() const { return all_.size(); }
  // "host:port/database" of the first connection, for messages (no user, no password).
  [[nodiscard]] const std::string& where() const { return where_; }

 private:
  void give_back(pg_conn* conn);

  std::string conninfo_;
  std::string where_;
  std::vector<pg_conn*> all_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<pg_conn*> idle_;
};

// Creates or upgrades the schema (uploads, concat_parts, keys, projects, folders, videos,
// upload_locks) in the connection's first search_path schema. Safe when several nodes start at
// once: the migrations run in one transaction under pg_advisory_xact_lock. Throws
// std::runtime_error on failure.
void pg_migrate(PgPool& pool);

}  // namespace vidup::store
