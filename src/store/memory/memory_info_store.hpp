#pragma once
// Upload records in memory, for unit tests of the handler.

#include "store/info_store.hpp"

#include <map>
#include <mutex>

namespace vidup::store {

class MemoryInfoStore final : public InfoStore {
 public:
  net::awaitable<Result<void>> insert(const UploadInfo& info) override;
  net::awaitable<Result<UploadInfo>> get(const std::string& id) override;
  net::awaitable<Result<void>> update(const UploadInfo& info) override;
  net::awaitable<Result<void>> remove(const std::string& id) override;
  net::awaitable<Result<std::vector<UploadInfo>>> list_expired(std::int64_t now_ms, std::size_t limit) override;
  net::awaitable<Result<std::vector<UploadInfo>>> list_active() override;
  net::awaitable<Result<std::vector<UploadInfo>>> finals_waiting_on(const std::string& partial_id) override;
  net::awaitable<Result<std::size_t>> purge_tombstones(std::int64_t before_ms) override;

  [[nodiscard]] std::size_t count() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, UploadInfo> records_;
};

}  // namespace vidup::store
