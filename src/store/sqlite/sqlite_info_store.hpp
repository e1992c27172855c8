#pragma once
// Upload records in SQLite (WAL, synchronous=FULL, prepared statements), the embedded default.
// All statements run on the blocking pool behind one connection guarded by a mutex. Writes are
// group-committed: those that queue up while a commit is under way share the next one (one WAL
// sync). get() of a record this store wrote or read before is answered from memory (the store is
// the table's only writer).

#include "store/info_store.hpp"

#include <boost/asio/thread_pool.hpp>

#include <filesystem>
#include <functional>
#include <memory>

namespace vidup::store {

class SqliteInfoStore final : public InfoStore {
 public:
  // Opens (creating and migrating) the database. Throws on failure (start-up error).
  // offsets_recoverable: the DataStore's recover() restores an upload's offset and finished state
  // from its stored bytes (the file store, docs/decisions/0001): update()s that only move active
  // uploads forward are then committed without waiting for the disk (synchronous=NORMAL), since
  // a power loss can take from the record only what recovery gives back. Never with a store
  // whose record is the offset's only truth (S3).
  SqliteInfoStore(const std::filesystem::path& db_file, net::thread_pool& blocking, bool offsets_recoverable = false);
  ~SqliteInfoStore() override;

  net::awaitable<Result<void>> insert(const UploadInfo& info) override;
  net::awaitable<Result<UploadInfo>> get(const std::string& id) override;
  net::awaitable<Result<void>> update(const UploadInfo& info) override;
  net::awaitable<Result<void>> remove(const std::string& id) override;
  net::awaitable<Result<std::vector<UploadInfo>>> list_expired(std::int64_t now_ms, std::size_t limit) override;
  net::awaitable<Result<std::vector<UploadInfo>>> list_active() override;
  net::awaitable<Result<std::vector<UploadInfo>>> finals_waiting_on(const std::string& partial_id) override;
  net::awaitable<Result<std::size_t>> purge_tombstones(std::int64_t before_ms) override;

  [[nodiscard]] std::uint64_t group_commits() const;     // batches of writes committed so far, for tests
  [[nodiscard]] std::uint64_t unsynced_commits() const;  // of which without a WAL sync, for tests

 private:
  struct Impl;
  // Queues a write for the next group commit; completes once it is committed (or failed).
  // `progress`: update()'s record, which may qualify for a commit without sync.
  net::awaitable<Result<void>> write(const std::string& id, std::function<Result<void>(Impl&)> apply,
                                     std::function<void(Impl&)> committed, const UploadInfo* progress = nullptr);

  std::unique_ptr<Impl> impl_;
  net::thread_pool& blocking_;
};

}  // namespace vidup::store
