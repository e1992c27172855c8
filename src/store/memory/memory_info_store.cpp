#include "store/memory/memory_info_store.hpp"

#include <algorithm>
#include <limits>

namespace vidup::store {

namespace {

using core::Errc;
using core::UploadState;

boost::system::error_code fail(Errc e) { return core::make_error_code(e); }

// Like every InfoStore, `metadata` is derived from metadata_raw, which was validated when the
// upload was created; the limits of the day do not apply again.
core::Metadata reparse(const std::string& raw) {
  constexpr auto kNoLimit = std::numeric_limits<std::size_t>::max();
  auto parsed = core::parse_metadata(raw, core::MetadataLimits{kNoLimit, kNoLimit, kNoLimit});
  return parsed ? std::move(*parsed) : core::Metadata{};
}

void sort_by_created(std::vector<UploadInfo>& v) {
  std::sort(v.begin(), v.end(), [](const UploadInfo& a, const UploadInfo& b) {
    return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
  });
}

}  // namespace

net::awaitable<Result<void>> MemoryInfoStore::insert(const UploadInfo& info) {
  UploadInfo copy = info;
  copy.metadata = reparse(copy.metadata_raw);
  std::lock_guard lock(mutex_);
  if (!records_.emplace(copy.id, std::move(copy)).second) {
    co_return fail(Errc::storage_error);
  }
  co_return Result<void>{};
}

net::awaitable<Result<UploadInfo>> MemoryInfoStore::get(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(id);
  if (it == records_.end()) {
    co_return fail(Errc::not_found);
  }
  co_return it->second;
}

net::awaitable<Result<void>> MemoryInfoStore::update(const UploadInfo& info) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(info.id);
  if (it == records_.end()) {
    co_return fail(Errc::not_found);
  }
  UploadInfo& r = it->second;
  r.size = info.size;
  r.offset = info.offset;
  r.state = info.state;
  r.updated_at = info.updated_at;
  r.expires_at = info.expires_at;
  co_return Result<void>{};
}

net::awaitable<Result<void>> MemoryInfoStore::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  if (records_.erase(id) == 0) {
    co_return fail(Errc::not_found);
  }
  co_return Result<void>{};
}

net::awaitable<Result<std::vector<UploadInfo>>> MemoryInfoStore::list_expired(std::int64_t now_ms, std::size_t limit) {
  std::vector<UploadInfo> out;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, r] : records_) {
      if (r.state == UploadState::active && r.expires_at > 0 && r.expires_at <= now_ms) {
        out.push_back(r);
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const UploadInfo& a, const UploadInfo& b) {
    return a.expires_at != b.expires_at ? a.expires_at < b.expires_at : a.id < b.id;
  });
  if (out.size() > limit) {
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(limit), out.end());
  }
  co_return out;
}

net::awaitable<Result<std::vector<UploadInfo>>> MemoryInfoStore::list_active() {
  std::vector<UploadInfo> out;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, r] : records_) {
      if (r.state == UploadState::active) {
        out.push_back(r);
      }
    }
  }
  sort_by_created(out);
  co_return out;
}

net::awaitable<Result<std::vector<UploadInfo>>> MemoryInfoStore::finals_waiting_on(const std::string& partial_id) {
  std::vector<UploadInfo> out;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, r] : records_) {
      if (r.state == UploadState::active && r.is_final() &&
          std::find(r.partial_ids.begin(), r.partial_ids.end(), partial_id) != r.partial_ids.end()) {
        out.push_back(r);
      }
    }
  }
  sort_by_created(out);
  co_return out;
}

net::awaitable<Result<std::size_t>> MemoryInfoStore::purge_tombstones(std::int64_t before_ms) {
  std::lock_guard lock(mutex_);
  const std::size_t n = std::erase_if(
      records_, [before_ms](const auto& kv) { return kv.second.is_tombstone() && kv.second.updated_at < before_ms; });
  co_return n;
}

std::size_t MemoryInfoStore::count() const {
  std::lock_guard lock(mutex_);
  return records_.size();
}

}  // namespace vidup::store
