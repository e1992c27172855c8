#pragma once
// Upload records in PostgreSQL, shared by every node. Same semantics as SqliteInfoStore; each
// call is one statement (a final's partial list is written and read with its record), so no
// call leaves half a record behind.

#include "store/info_store.hpp"
#include "store/postgres/pg_pool.hpp"

#include <boost/asio/thread_pool.hpp>

namespace vidup::store {

class PgInfoStore final : public InfoStore {
 public:
  // The schema must exist (pg_migrate). `pool` and `blocking` outlive the store.
  PgInfoStore(PgPool& pool, net::thread_pool& blocking);

  net::awaitable<Result<void>> insert(const UploadInfo& info) override;
  net::awaitable<Result<UploadInfo>> get(const std::string& id) override;
  net::awaitable<Result<void>> update(const UploadInfo& info) override;
  net::awaitable<Result<void>> remove(const std::string& id) override;
  net::awaitable<Result<std::vector<UploadInfo>>> list_expired(std::int64_t now_ms, std::size_t limit) override;
  net::awaitable<Result<std::vector<UploadInfo>>> list_active() override;
  net::awaitable<Result<std::vector<UploadInfo>>> finals_waiting_on(const std::string& partial_id) override;
  net::awaitable<Result<std::size_t>> purge_tombstones(std::int64_t before_ms) override;

 private:
  PgPool& pool_;
  net::thread_pool& blocking_;
};

}  // namespace vidup::store
