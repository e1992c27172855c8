#pragma once
// The embedded default's bytes: one file per upload under <data>/uploads/.
//
// Layout: uploads/<id> holds the upload's bytes, in order, with no gaps; its length is the truth
// for the offset after a crash (docs/decisions/0001-offset-truth.md). A checksummed (staged)
// chunk is appended to the same file after uploads/<id>.stage records the size before the chunk;
// commit() fsyncs and removes the marker, discard() truncates back and removes it, and
// recover() truncates to the marker's size when a crash left one behind.
//
// Open files: a writer keeps its data file open while writers hold at most `open_file_budget`
// of them; beyond that it closes the file after each write and opens it again for the next, so
// uploads whose clients stall cost a socket each, not a socket and a file.

#include "store/data_store.hpp"

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <optional>

namespace vidup::store {

class FileDataStore final : public DataStore, public Concater, public ContentServer {
 public:
  // Creates <root>/uploads if needed. Throws on an unusable directory (start-up error).
  // open_file_budget: how many data files writers may keep open between writes; by default a
  // quarter of the process's file descriptor limit (RLIMIT_NOFILE).
  FileDataStore(std::filesystem::path root, net::thread_pool& blocking,
                std::optional<std::size_t> open_file_budget = std::nullopt);

  net::awaitable<Result<void>> create(const UploadInfo& info) override;
  net::awaitable<Result<std::unique_ptr<UploadWriter>>> open_writer(const UploadInfo& info, bool staged) override;
  net::awaitable<Result<std::uint64_t>> recover(const UploadInfo& info) override;
  net::awaitable<Result<void>> remove(const std::string& id) override;
  net::awaitable<Result<std::vector<std::string>>> stored_ids() override;

  net::awaitable<Result<void>> concatenate(const UploadInfo& final_upload,
                                           const std::vector<UploadInfo>& partials) override;

  net::awaitable<Result<std::unique_ptr<ContentSource>>> open_reader(const UploadInfo& info, std::uint64_t start,
                                                                     std::uint64_t length) override;

  [[nodiscard]] std::filesystem::path path_of(const std::string& id) const;

 private:
  std::filesystem::path dir_;
  net::thread_pool& blocking_;
  std::size_t open_file_budget_;
  std::atomic<std::size_t> open_files_{0};  // data files writers hold open
};

}  // namespace vidup::store
