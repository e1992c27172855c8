// pg_migrate: the PostgreSQL schema, one versioned list of migrations for the upload records,
// the catalog and the lock leases (they share one database and one search_path schema).

#include "store/postgres/pg_connect.hpp"
#include "store/postgres/pg_pool.hpp"

#include <libpq-fe.h>

#include <array>
#include <charconv>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vidup::store {

namespace {

// Applied in order; vidup_schema_version holds how many have run. Never edit a shipped entry:
// append a new one. Ids compare byte-wise (COLLATE "C"), as in SQLite, whatever the database's
// locale: list order and cursors depend on it. Times are unix milliseconds (bigint), except
// lease expiry, which is the server's clock (one clock for every node).
constexpr std::array kMigrations = {
    std::string_view{R"sql(
      CREATE TABLE uploads (
        id           text COLLATE "C" PRIMARY KEY,
        size         bigint NULL,
        "offset"     bigint NOT NULL,
        metadata_raw text NOT NULL,
        concat       smallint NOT NULL,
        concat_raw   text NOT NULL,
        state        text NOT NULL,
        created_at   bigint NOT NULL,
        updated_at   bigint NOT NULL,
        expires_at   bigint NOT NULL,
        owner        text NOT NULL DEFAULT ''
      );
      CREATE INDEX uploads_state_expires ON uploads (state, expires_at);
      CREATE INDEX uploads_state_updated ON uploads (state, updated_at);
      CREATE TABLE concat_parts (
        final_id   text COLLATE "C" NOT NULL,
        idx        integer NOT NULL,
        partial_id text COLLATE "C" NOT NULL,
        PRIMARY KEY (final_id, idx)
      );
      CREATE INDEX concat_parts_partial ON concat_parts (partial_id);

      CREATE TABLE keys (
        id         text COLLATE "C" PRIMARY KEY,
        secret     text COLLATE "C" NOT NULL UNIQUE,
        name       text NOT NULL,
        project_id text COLLATE "C" NULL,
        revoked    boolean NOT NULL,
        created_at bigint NOT NULL,
        revoked_at bigint NOT NULL
      );
      CREATE TABLE projects (
        id         text COLLATE "C" PRIMARY KEY,
        name       text NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE TABLE folders (
        id         text COLLATE "C" PRIMARY KEY,
        project_id text COLLATE "C" NOT NULL,
        parent_id  text COLLATE "C" NOT NULL,
        name       text NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE INDEX folders_project ON folders (project_id, created_at, id);
      CREATE TABLE videos (
        id             text COLLATE "C" PRIMARY KEY,
        project_id     text COLLATE "C" NOT NULL,
        parent_id      text COLLATE "C" NOT NULL,
        title          text NOT NULL,
        filename       text NOT NULL,
        filetype       text NOT NULL,
        size           bigint NULL,
        status         text NOT NULL,
        bytes_received bigint NOT NULL,
        upload_id      text COLLATE "C" NULL UNIQUE,
        created_at     bigint NOT NULL,
        updated_at     bigint NOT NULL
      );
      CREATE INDEX videos_project ON videos (project_id, created_at, id);
      CREATE INDEX videos_parent ON videos (parent_id, created_at, id);
      CREATE INDEX videos_status ON videos (status, created_at, id);
      CREATE INDEX videos_created ON videos (created_at, id);

      CREATE TABLE upload_locks (
        id         text COLLATE "C" PRIMARY KEY,
        owner      text NOT NULL,
        token      bigint NOT NULL,
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX upload_locks_owner ON upload_locks (owner, token);
    )sql"},
};

// Serializes migrations across nodes (any database, any schema): an arbitrary constant key.
constexpr std::string_view kTakeMigrationLock = "SELECT pg_advisory_xact_lock(7449260411)";

struct Clear {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, Clear>;

class Migration {
 public:
  Migration(pg_conn* conn, const std::string& where) : conn_(conn), where_(where) {}

  // Runs `sql` (no parameters: fixed text only) or throws.
  ResultPtr run(const std::string& sql, std::string_view step) {
    ResultPtr r(PQexec(conn_, sql.c_str()));
    const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      fail(step);
    }
    return r;
  }

  [[noreturn]] void fail(std::string_view step) {
    std::string reason = PQerrorMessage(conn_);
    while (!reason.empty() && reason.back() == '\n') {
      reason.pop_back();
    }
    PQclear(PQexec(conn_, "ROLLBACK"));
    throw std::runtime_error("PostgreSQL at " + where_ + ": schema migration failed (" + std::string(step) +
                             "): " + reason);
  }

 private:
  pg_conn* conn_;
  const std::string& where_;
};

}  // namespace

void pg_migrate(PgPool& pool) {
  auto conn = pool.checkout();
  Migration m(conn.get(), pool.where());
  m.run("BEGIN", "begin");
  // Taken before the version is read: a second node waits here, then sees the first one's work.
  m.run(std::string(kTakeMigrationLock), "lock");
  m.run("CREATE TABLE IF NOT EXISTS vidup_schema_version (version integer NOT NULL)", "version table");
  auto version = m.run("SELECT version FROM vidup_schema_version", "read version");
  std::size_t applied = 0;
  if (PQntuples(version.get()) == 0) {
    m.run("INSERT INTO vidup_schema_version (version) VALUES (0)", "version row");
  } else {
    const char* v = PQgetvalue(version.get(), 0, 0);
    std::from_chars(v, v + PQgetlength(version.get(), 0, 0), applied);
  }
  for (std::size_t i = applied; i < kMigrations.size(); ++i) {
    const std::string step = "migration " + std::to_string(i + 1);
    m.run(std::string(kMigrations.at(i)), step);
    m.run("UPDATE vidup_schema_version SET version = version + 1", step);
  }
  m.run("COMMIT", "commit");
}

}  // namespace vidup::store
