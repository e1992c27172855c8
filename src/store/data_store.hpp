#pragma once
// vidup::store — the ports. The handler talks only to these; backends (file/, memory/, later
// s3/) implement them. Every backend passes tests/store/conformance.

#include "core/errc.hpp"
#include "core/upload_info.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace vidup::store {

namespace net = boost::asio;
using core::Result;
using core::UploadInfo;

// Appends bytes to one upload. Owned by exactly one request, which holds the upload's lock.
// Not thread-safe; all calls come from the coroutine that opened it.
class UploadWriter {
 public:
  virtual ~UploadWriter() = default;
  // Appends `data` after everything written so far. On failure (Errc::storage_full,
  // Errc::storage_error) some prefix of `data` may have been written: written() says how much.
  virtual net::awaitable<Result<void>> write(std::span<const std::byte> data) = 0;
  // Bytes appended through this writer so far (durable or not).
  [[nodiscard]] virtual std::uint64_t written() const = 0;
  // Makes every written byte durable and returns the upload's new stored size. After a crash at
  // any point before commit() returns, recovery reports a size between the size at open and the
  // size commit() would have returned (a staged writer: exactly the size at open).
  virtual net::awaitable<Result<std::uint64_t>> commit() = 0;
  // Staged writers only: drops every byte written through this writer; the stored size returns
  // to what it was at open.
  virtual net::awaitable<Result<void>> discard() = 0;

  // A writer over a local file may let the caller move bytes into that file itself (splice(2)
  // from a socket, no copy through user space): file_target() gives the descriptor and the
  // position of the next byte, valid until the next call on this writer; advance(n) then counts
  // the n bytes put there as written, like a write() of them. nullopt: write() only (S3, memory,
  // staged writers).
  struct FileTarget {
    int fd = -1;
    std::uint64_t offset = 0;
  };
  virtual std::optional<Result<FileTarget>> file_target() { return std::nullopt; }
  virtual void advance(std::uint64_t /*n*/) {}
};

// A ranged reader of stored bytes, for GET.
class ContentSource {
 public:
  virtual ~ContentSource() = default;
  [[nodiscard]] virtual std::uint64_t size() const = 0;  // bytes this source will produce
  // Fills up to buf.size() bytes; 0 means the end.
  virtual net::awaitable<Result<std::size_t>> read(std::span<std::byte> buf) = 0;
};

// Bytes of uploads. Thread-safe: different uploads may be used from different threads at once;
// the Locker keeps one writer per upload.
class DataStore {
 public:
  virtual ~DataStore() = default;
  // Creates empty storage for a new upload (info.id is new and valid).
  virtual net::awaitable<Result<void>> create(const UploadInfo& info) = 0;
  // Opens a writer that appends at info.offset. `staged`: the bytes must stay invisible to
  // recovery until commit(), and discard() must be possible (checksummed chunks, CK-10).
  virtual net::awaitable<Result<std::unique_ptr<UploadWriter>>> open_writer(const UploadInfo& info,
                                                                            bool staged) = 0;
  // Crash recovery: the number of intact bytes stored for an upload whose record says
  // info.offset. Repairs what a crash left (discards unverified staged bytes) and makes the
  // returned size durable.
  virtual net::awaitable<Result<std::uint64_t>> recover(const UploadInfo& info) = 0;
  // Removes all bytes of an upload. Removing an unknown upload succeeds.
  virtual net::awaitable<Result<void>> remove(const std::string& id) = 0;
  // Crash recovery: the ids that have bytes stored, so that recovery can remove those no record
  // names (a crash between the two writes of a creation). A store that cannot list cheaply
  // returns none.
  virtual net::awaitable<Result<std::vector<std::string>>> stored_ids() { co_return std::vector<std::string>{}; }
};

// Optional capability: concatenation (Upload-Concat final). Writes the partials' bytes, in
// order, as the final upload's bytes, durably. The final's storage was created by create().
class Concater {
 public:
  virtual ~Concater() = default;
  virtual net::awaitable<Result<void>> concatenate(const UploadInfo& final_upload,
                                                   const std::vector<UploadInfo>& partials) = 0;
};

// Optional capability: serving stored bytes (GET of a finished upload).
class ContentServer {
 public:
  virtual ~ContentServer() = default;
  virtual net::awaitable<Result<std::unique_ptr<ContentSource>>> open_reader(const UploadInfo& info,
                                                                             std::uint64_t start,
                                                                             std::uint64_t length) = 0;
};

}  // namespace vidup::store
