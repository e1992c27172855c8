#pragma once
// Bytes in memory, for unit tests of the handler. Same contract as every DataStore, including
// staged writers; `fail_after` lets a test make writes fail with Errc::storage_full.

#include "store/data_store.hpp"

#include <map>
#include <mutex>
#include <optional>

namespace vidup::store {

class MemoryDataStore final : public DataStore, public Concater, public ContentServer {
 public:
  net::awaitable<Result<void>> create(const UploadInfo& info) override;
  net::awaitable<Result<std::unique_ptr<UploadWriter>>> open_writer(const UploadInfo& info, bool staged) override;
  net::awaitable<Result<std::uint64_t>> recover(const UploadInfo& info) override;
  net::awaitable<Result<void>> remove(const std::string& id) override;
  net::awaitable<Result<void>> concatenate(const UploadInfo& final_upload,
                                           const std::vector<UploadInfo>& partials) override;
  net::awaitable<Result<std::unique_ptr<ContentSource>>> open_reader(const UploadInfo& info, std::uint64_t start,
                                                                     std::uint64_t length) override;

  // Test helpers.
  [[nodiscard]] std::optional<std::string> bytes(const std::string& id) const;
  [[nodiscard]] std::size_t count() const;
  // After this many more bytes are accepted (across all writers), writes fail with storage_full.
  void fail_after(std::optional<std::uint64_t> bytes);

 private:
  friend class MemoryUploadWriter;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> files_;
  std::optional<std::uint64_t> budget_;
};

}  // namespace vidup::store
