#include "store/sqlite/sqlite_info_store.hpp"

#include "store/sqlite/sqlite_db.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace vidup::store {

namespace {

using core::ConcatKind;
using core::Errc;
using core::UploadState;
using sqlite_detail::all_rows;
using sqlite_detail::change_one;
using sqlite_detail::column_null;
using sqlite_detail::column_text;
using sqlite_detail::Database;
using sqlite_detail::run;
using sqlite_detail::run_locked;
using sqlite_detail::Stmt;
using sqlite_detail::Use;

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

// Reads the row at the cursor, columns in kColumns order; partial_ids are left to the caller.
Result<UploadInfo> upload_row(sqlite3_stmt* s) {
  UploadInfo info;
  info.id = column_text(s, 0);
  if (!column_null(s, 1)) {
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

Result<std::string> partial_id_row(sqlite3_stmt* s) { return column_text(s, 0); }

// Records as this store last wrote or read them, so get() (every HEAD and PATCH) is answered
// without a trip to the blocking pool. Only this store writes the uploads table, and it changes
// the cache while it holds the connection's mutex, in the order of the database's writes;
// readers take only the cache's own mutex. Bounded: past kLimit an arbitrary entry goes.
class RecordCache {
 public:
  std::optional<UploadInfo> find(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = records_.find(id);
    if (it == records_.end()) {
      return std::nullopt;
    }
    return it->second;
  }
  void remember(const UploadInfo& info) {
    std::lock_guard lock(mutex_);
    if (records_.size() >= kLimit && !records_.contains(info.id)) {
      records_.erase(records_.begin());
    }
    records_.insert_or_assign(info.id, info);
  }
  // True when `info`, about to be written by update(), only moves an active upload forward from
  // the record known here: same length, an offset not below it, active or now finished.
  bool moves_forward(const UploadInfo& info) const {
    std::lock_guard lock(mutex_);
    auto it = records_.find(info.id);
    if (it == records_.end()) {
      return false;
    }
    const UploadInfo& known = it->second;
    return known.state == UploadState::active && !known.is_final() && known.size == info.size &&
           info.offset >= known.offset &&
           (info.state == UploadState::active || info.state == UploadState::finished);
  }
  // After update(): the fields it writes, in an entry that exists.
  void refresh(const UploadInfo& info) {
    std::lock_guard lock(mutex_);
    auto it = records_.find(info.id);
    if (it == records_.end()) {
      return;
    }
    it->second.size = info.size;
    it->second.offset = info.offset;
    it->second.state = info.state;
    it->second.updated_at = info.updated_at;
    it->second.expires_at = info.expires_at;
  }
  void forget(const std::string& id) {
    std::lock_guard lock(mutex_);
    records_.erase(id);
  }
  void forget_all() {
    std::lock_guard lock(mutex_);
    records_.clear();
  }

 private:
  static constexpr std::size_t kLimit = 16384;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, UploadInfo> records_;
};

}  // namespace

struct SqliteInfoStore::Impl {
  std::mutex mutex;  // one connection, one user at a time
  Database db;       // declared before the statements, so it closes after they are finalized
  RecordCache cache;  // changed only with `mutex` held

  // Group commit: insert(), update() and remove() queue a Write; drain() runs the queue in
  // batches on the pool, so writers that arrive while a batch commits share the next commit's
  // disk sync instead of queueing for one each.
  struct Write {
    const std::string* id;                         // the caller's, alive until `done` runs
    std::function<Result<void>(Impl&)> apply;      // its statements
    std::function<void(Impl&)> committed;          // the cache, once committed
    const UploadInfo* progress;                    // update(): the record it writes; else null
    net::any_completion_handler<void(Result<void>)> done;
    net::executor_work_guard<net::any_io_executor> guard;  // the writer's executor waits for it
  };
  std::mutex queue_mutex;
  std::vector<Write> queue;
  bool draining = false;  // a drain() is queued or running
  std::atomic<std::uint64_t> group_commits{0};
  std::atomic<std::uint64_t> unsynced_commits{0};
  bool offsets_recoverable = false;  // see SqliteInfoStore's constructor

  void enqueue(net::thread_pool& pool, Write w) {
    {
      std::lock_guard lock(queue_mutex);
      queue.push_back(std::move(w));
      if (draining) {
        return;
      }
      draining = true;
    }
    net::post(pool, [this] { drain(); });
  }

  Stmt begin, commit, rollback;
  Stmt savepoint, release, rollback_to;
  Stmt sync_full, sync_normal;
  Stmt insert_upload, insert_part;
  Stmt get_upload, get_parts;
  Stmt update_upload;
  Stmt delete_upload, delete_parts;
  Stmt list_expired, list_active, finals_waiting_on;
  Stmt purge_parts, purge_uploads;

  Impl(const std::filesystem::path& file, bool recoverable) : db(file), offsets_recoverable(recoverable) {
    db.migrate("schema_version", kMigrations);
    prepare();
  }

  void prepare() {
    const std::string cols(kColumns);
    begin = db.prepare("BEGIN IMMEDIATE");
    commit = db.prepare("COMMIT");
    rollback = db.prepare("ROLLBACK");
    savepoint = db.prepare("SAVEPOINT w");
    release = db.prepare("RELEASE w");
    rollback_to = db.prepare("ROLLBACK TO w");
    sync_full = db.prepare("PRAGMA synchronous=FULL");
    sync_normal = db.prepare("PRAGMA synchronous=NORMAL");
    insert_upload = db.prepare(
        R"(INSERT INTO uploads (id, size, "offset", metadata_raw, concat, concat_raw, state,
             created_at, updated_at, expires_at, owner)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11))");
    insert_part = db.prepare("INSERT INTO concat_parts (final_id, idx, partial_id) VALUES (?1, ?2, ?3)");
    get_upload = db.prepare("SELECT " + cols + " FROM uploads u WHERE u.id = ?1");
    get_parts = db.prepare("SELECT partial_id FROM concat_parts WHERE final_id = ?1 ORDER BY idx");
    update_upload = db.prepare(
        R"(UPDATE uploads SET size = ?2, "offset" = ?3, state = ?4, updated_at = ?5, expires_at = ?6 WHERE id = ?1)");
    delete_upload = db.prepare("DELETE FROM uploads WHERE id = ?1");
    delete_parts = db.prepare("DELETE FROM concat_parts WHERE final_id = ?1");
    list_expired = db.prepare("SELECT " + cols +
                              " FROM uploads u WHERE u.state = 'active' AND u.expires_at > 0 AND u.expires_at <= ?1"
                              " ORDER BY u.expires_at, u.id LIMIT ?2");
    list_active = db.prepare("SELECT " + cols + " FROM uploads u WHERE u.state = 'active' ORDER BY u.created_at, u.id");
    finals_waiting_on = db.prepare("SELECT " + cols +
                                   " FROM uploads u WHERE u.state = 'active' AND u.id IN"
                                   " (SELECT final_id FROM concat_parts WHERE partial_id = ?1)"
                                   " ORDER BY u.created_at, u.id");
    constexpr std::string_view kTombstones = "state IN ('terminated', 'expired') AND updated_at < ?1";
    purge_parts = db.prepare("DELETE FROM concat_parts WHERE final_id IN (SELECT id FROM uploads WHERE " +
                             std::string(kTombstones) + ")");
    purge_uploads = db.prepare("DELETE FROM uploads WHERE " + std::string(kTombstones));
  }

  // --- everything below runs with `mutex` held, on the blocking pool ---

  static bool step_done(const Stmt& s) { return Use(s).step() == SQLITE_DONE; }

  // Runs `body` (returning Result<T>) inside BEGIN IMMEDIATE .. COMMIT; rolls back on failure.
  template <class F>
  auto transaction(F body) -> decltype(body()) {
    if (const int rc = Use(begin).step(); rc != SQLITE_DONE) {
      return sqlite_detail::step_error(rc);
    }
    auto r = body();
    if (!r) {
      step_done(rollback);
      return r;
    }
    // In WAL mode the pages are written here: a full disk shows up at COMMIT.
    if (const int rc = Use(commit).step(); rc != SQLITE_DONE) {
      step_done(rollback);
      return sqlite_detail::step_error(rc);
    }
    return r;
  }

  // Collects every row of a query, then each final's partial list (a second statement, so it
  // runs after the first one is done).
  Result<std::vector<UploadInfo>> rows(Use& use) {
    auto out = all_rows(use, upload_row);
    if (!out) {
      return out;
    }
    for (auto& info : *out) {
      if (!info.is_final()) {
        continue;
      }
      Use parts(get_parts);
      parts.text(1, info.id);
      auto ids = all_rows(parts, partial_id_row);
      if (!ids) {
        return ids.error();
      }
      info.partial_ids = std::move(*ids);
    }
    return out;
  }

  // The writes below run inside a batch's transaction (run_batch), each in its own savepoint.
  Result<void> insert_rows(const UploadInfo& info) {
    {
      Use use(insert_upload);
      use.text(1, info.id)
          .uint64_or_null(2, info.size)
          .uint64(3, info.offset)
          .text(4, info.metadata_raw)
          .int64(5, concat_code(info.concat))
          .text(6, info.concat_raw)
          .text(7, core::to_string(info.state))
          .int64(8, info.created_at)
          .int64(9, info.updated_at)
          .int64(10, info.expires_at)
          .text(11, info.owner);
      if (auto r = run(use); !r) {
        return r;
      }
    }
    for (std::size_t i = 0; i < info.partial_ids.size(); ++i) {
      Use use(insert_part);
      use.text(1, info.id).int64(2, static_cast<std::int64_t>(i)).text(3, info.partial_ids[i]);
      if (auto r = run(use); !r) {
        return r;
      }
    }
    return {};
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
    use.text(1, info.id)
        .uint64_or_null(2, info.size)
        .uint64(3, info.offset)
        .text(4, core::to_string(info.state))
        .int64(5, info.updated_at)
        .int64(6, info.expires_at);
    return change_one(use);
  }

  Result<void> remove_rows(const std::string& id) {
    {
      Use use(delete_parts);
      use.text(1, id);
      if (auto r = run(use); !r) {
        return r;
      }
    }
    Use use(delete_upload);
    use.text(1, id);
    return change_one(use);
  }

  // The writes of a batch go in at most two transactions. Progress updates that only move an
  // active upload forward, where the data store restores offsets from the bytes
  // (docs/decisions/0001), commit without the WAL sync; everything else commits with it
  // (synchronous=FULL, as every other transaction). The cache learns each write once committed.
  void run_batch(std::vector<Write>& batch, std::vector<Result<void>>& results) {
    std::vector<std::size_t> relaxed;
    std::vector<std::size_t> synced;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const bool forward = offsets_recoverable && batch[i].progress != nullptr && cache.moves_forward(*batch[i].progress);
      (forward ? relaxed : synced).push_back(i);
    }
    if (!relaxed.empty()) {
      step_done(sync_normal);
      if (commit_together(batch, relaxed, results)) {
        ++unsynced_commits;
      }
      step_done(sync_full);
    }
    if (!synced.empty()) {
      commit_together(batch, synced, results);
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (results[i]) {
        batch[i].committed(*this);
      } else {
        cache.forget(*batch[i].id);  // whatever the row holds now is read again
      }
    }
  }

  // One transaction for the writes at `which`, each in a savepoint so that its failure (a
  // duplicate id, an unknown one) undoes only itself; one COMMIT, so at most one WAL sync, for
  // all. A failed BEGIN or COMMIT fails every one of them. True when committed.
  bool commit_together(std::vector<Write>& batch, const std::vector<std::size_t>& which,
                       std::vector<Result<void>>& results) {
    auto fail_all = [&](int rc) {
      for (auto i : which) {
        results[i] = sqlite_detail::step_error(rc);
      }
    };
    if (const int rc = Use(begin).step(); rc != SQLITE_DONE) {
      fail_all(rc);
      return false;
    }
    for (auto i : which) {
      if (const int opened = Use(savepoint).step(); opened != SQLITE_DONE) {
        results[i] = sqlite_detail::step_error(opened);
        continue;
      }
      results[i] = batch[i].apply(*this);
      if (!results[i]) {
        step_done(rollback_to);
      }
      step_done(release);
    }
    // In WAL mode the pages are written here: a full disk shows up at COMMIT.
    if (const int committed = Use(commit).step(); committed != SQLITE_DONE) {
      step_done(rollback);
      fail_all(committed);
      return false;
    }
    ++group_commits;
    return true;
  }

  // Runs the queued writes, batch after batch, until the queue is empty; on the blocking pool,
  // one drain at a time. Each writer resumes on its own executor. The last batch's writers are
  // resumed after `draining` is cleared, and nothing of the store is touched after that: a
  // writer that resumes may destroy the store.
  void drain() {
    std::vector<Write> batch;
    {
      std::lock_guard lock(queue_mutex);
      batch.swap(queue);
    }
    for (;;) {
      std::vector<Result<void>> results(batch.size());
      {
        std::lock_guard lock(mutex);
        run_batch(batch, results);
      }
      std::vector<Write> next;
      {
        std::lock_guard lock(queue_mutex);
        next.swap(queue);
        draining = !next.empty();
      }
      for (std::size_t i = 0; i < batch.size(); ++i) {
        auto executor = net::get_associated_executor(batch[i].done);
        net::dispatch(executor, [done = std::move(batch[i].done), r = results[i],
                                 guard = std::move(batch[i].guard)]() mutable { std::move(done)(r); });
      }
      if (next.empty()) {
        return;
      }
      batch = std::move(next);
    }
  }

  Result<std::size_t> purge(std::int64_t before_ms) {
    return transaction([&]() -> Result<std::size_t> {
      {
        Use use(purge_parts);
        use.int64(1, before_ms);
        if (auto r = run(use); !r) {
          return r.error();
        }
      }
      Use use(purge_uploads);
      use.int64(1, before_ms);
      if (auto r = run(use); !r) {
        return r.error();
      }
      return static_cast<std::size_t>(db.changes());
    });
  }
};

// Every call below hands run_locked a lambda capturing only references and scalars: g++ 12
// destroys the members of a closure temporary in a co_await expression twice, harmless only for
// trivially destructible captures. The referenced arguments outlive the co_await.

SqliteInfoStore::SqliteInfoStore(const std::filesystem::path& db_file, net::thread_pool& blocking,
                                 bool offsets_recoverable)
    : impl_(std::make_unique<Impl>(db_file, offsets_recoverable)), blocking_(blocking) {}

SqliteInfoStore::~SqliteInfoStore() = default;

net::awaitable<Result<void>> SqliteInfoStore::write(const std::string& id, std::function<Result<void>(Impl&)> apply,
                                                    std::function<void(Impl&)> committed, const UploadInfo* progress) {
  return net::async_initiate<const net::use_awaitable_t<>, void(Result<void>)>(
      [impl = impl_.get(), &pool = blocking_](auto handler, const std::string* id, auto apply, auto committed,
                                               const UploadInfo* progress) {
        auto guard = net::make_work_guard(net::any_io_executor(net::get_associated_executor(handler)));
        impl->enqueue(pool, Impl::Write{id, std::move(apply), std::move(committed), progress, std::move(handler),
                                        std::move(guard)});
      },
      net::use_awaitable, &id, std::move(apply), std::move(committed), progress);
}

std::uint64_t SqliteInfoStore::group_commits() const { return impl_->group_commits.load(); }

std::uint64_t SqliteInfoStore::unsynced_commits() const { return impl_->unsynced_commits.load(); }

net::awaitable<Result<void>> SqliteInfoStore::insert(const UploadInfo& info) {
  co_return co_await write(
      info.id, [&info](Impl& impl) { return impl.insert_rows(info); },
      [&info](Impl& impl) {
        UploadInfo stored = info;
        stored.metadata = reparse(stored.metadata_raw);  // as a read of the row would give it
        impl.cache.remember(stored);
      });
}

net::awaitable<Result<UploadInfo>> SqliteInfoStore::get(const std::string& id) {
  if (auto hit = impl_->cache.find(id)) {
    co_return std::move(*hit);
  }
  co_return co_await run_locked(blocking_, impl_.get(), [&id](Impl& impl) -> Result<UploadInfo> {
    auto r = impl.get(id);
    if (r) {
      impl.cache.remember(*r);
    }
    return r;
  });
}

net::awaitable<Result<void>> SqliteInfoStore::update(const UploadInfo& info) {
  co_return co_await write(
      info.id, [&info](Impl& impl) { return impl.update(info); }, [&info](Impl& impl) { impl.cache.refresh(info); },
      &info);
}

net::awaitable<Result<void>> SqliteInfoStore::remove(const std::string& id) {
  co_return co_await write(
      id, [&id](Impl& impl) { return impl.remove_rows(id); }, [&id](Impl& impl) { impl.cache.forget(id); });
}

net::awaitable<Result<std::vector<UploadInfo>>> SqliteInfoStore::list_expired(std::int64_t now_ms, std::size_t limit) {
  co_return co_await run_locked(blocking_, impl_.get(), [now_ms, limit](Impl& impl) -> Result<std::vector<UploadInfo>> {
    Use use(impl.list_expired);
    constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    use.int64(1, now_ms).int64(2, static_cast<std::int64_t>(std::min(limit, kMax)));
    return impl.rows(use);
  });
}

net::awaitable<Result<std::vector<UploadInfo>>> SqliteInfoStore::list_active() {
  co_return co_await run_locked(blocking_, impl_.get(), [](Impl& impl) -> Result<std::vector<UploadInfo>> {
    Use use(impl.list_active);
    return impl.rows(use);
  });
}

net::awaitable<Result<std::vector<UploadInfo>>> SqliteInfoStore::finals_waiting_on(const std::string& partial_id) {
  co_return co_await run_locked(blocking_, impl_.get(), [&partial_id](Impl& impl) -> Result<std::vector<UploadInfo>> {
    Use use(impl.finals_waiting_on);
    use.text(1, partial_id);
    return impl.rows(use);
  });
}

net::awaitable<Result<std::size_t>> SqliteInfoStore::purge_tombstones(std::int64_t before_ms) {
  co_return co_await run_locked(blocking_, impl_.get(), [before_ms](Impl& impl) -> Result<std::size_t> {
    auto r = impl.purge(before_ms);
    if (!r || *r > 0) {
      impl.cache.forget_all();  // the purged ids are not known here; tombstones are rarely read
    }
    return r;
  });
}

}  // namespace vidup::store
