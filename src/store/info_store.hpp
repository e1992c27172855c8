#pragma once

#include "core/errc.hpp"
#include "core/upload_info.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vidup::store {

namespace net = boost::asio;
using core::Result;
using core::UploadInfo;

// Upload records. Thread-safe. Every call may block on I/O inside; implementations move that
// work off the caller's (I/O) thread. Failures: Errc::not_found for an unknown id, otherwise
// Errc::storage_error.
class InfoStore {
 public:
  virtual ~InfoStore() = default;
  // Durably records a new upload (id unique).
  virtual net::awaitable<Result<void>> insert(const UploadInfo& info) = 0;
  virtual net::awaitable<Result<UploadInfo>> get(const std::string& id) = 0;
  // Durably stores the mutable fields: size, offset, state, updated_at, expires_at.
  virtual net::awaitable<Result<void>> update(const UploadInfo& info) = 0;
  // Forgets the record entirely (tombstones too).
  virtual net::awaitable<Result<void>> remove(const std::string& id) = 0;
  // Active uploads whose expires_at is set and <= now_ms, at most `limit`.
  virtual net::awaitable<Result<std::vector<UploadInfo>>> list_expired(std::int64_t now_ms, std::size_t limit) = 0;
  // Every active upload (start-up recovery).
  virtual net::awaitable<Result<std::vector<UploadInfo>>> list_active() = 0;
  // Active final uploads whose partial list contains `partial_id` (concatenation-unfinished).
  virtual net::awaitable<Result<std::vector<UploadInfo>>> finals_waiting_on(const std::string& partial_id) = 0;
  // Removes tombstones last updated before `before_ms`; returns how many.
  virtual net::awaitable<Result<std::size_t>> purge_tombstones(std::int64_t before_ms) = 0;
};

}  // namespace vidup::store
