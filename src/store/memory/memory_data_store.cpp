#include "store/memory/memory_data_store.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

namespace vidup::store {

namespace {

using core::Errc;

boost::system::error_code fail(Errc e) { return core::make_error_code(e); }

std::string_view as_chars(std::span<const std::byte> data) {
  return {reinterpret_cast<const char*>(data.data()), data.size()};
}

class MemoryContentSource final : public ContentSource {
 public:
  explicit MemoryContentSource(std::string bytes) : bytes_(std::move(bytes)) {}

  [[nodiscard]] std::uint64_t size() const override { return bytes_.size(); }

  net::awaitable<Result<std::size_t>> read(std::span<std::byte> buf) override {
    const std::size_t n = std::min(buf.size(), bytes_.size() - pos_);
    std::copy_n(reinterpret_cast<const std::byte*>(bytes_.data() + pos_), n, buf.data());
    pos_ += n;
    co_return n;
  }

 private:
  std::string bytes_;
  std::size_t pos_ = 0;
};

}  // namespace

// Non-staged writers append to the stored bytes at once, so abandoning one (a crash) leaves
// them stored; staged writers keep their bytes aside until commit().
class MemoryUploadWriter final : public UploadWriter {
 public:
  MemoryUploadWriter(MemoryDataStore& store, std::string id, std::uint64_t start, bool staged)
      : store_(store), id_(std::move(id)), start_(start), staged_(staged) {}

  net::awaitable<Result<void>> write(std::span<const std::byte> data) override {
    std::lock_guard lock(store_.mutex_);
    auto it = store_.files_.find(id_);
    if (it == store_.files_.end()) {
      co_return fail(Errc::storage_error);  // removed under us
    }
    std::size_t fits = data.size();
    if (store_.budget_) {
      fits = static_cast<std::size_t>(std::min<std::uint64_t>(*store_.budget_, fits));
      *store_.budget_ -= fits;
    }
    const auto accepted = as_chars(data.first(fits));
    (staged_ ? pending_ : it->second).append(accepted);
    written_ += fits;
    if (fits < data.size()) {
      co_return fail(Errc::storage_full);
    }
    co_return Result<void>{};
  }

  [[nodiscard]] std::uint64_t written() const override { return written_; }

  net::awaitable<Result<std::uint64_t>> commit() override {
    std::lock_guard lock(store_.mutex_);
    auto it = store_.files_.find(id_);
    if (it == store_.files_.end()) {
      co_return fail(Errc::storage_error);
    }
    it->second.append(pending_);
    pending_.clear();
    co_return start_ + written_;
  }

  net::awaitable<Result<void>> discard() override {
    assert(staged_ && "discard() is for staged writers");
    if (!staged_) {
      co_return fail(Errc::internal);
    }
    written_ -= pending_.size();
    pending_.clear();
    co_return Result<void>{};
  }

 private:
  MemoryDataStore& store_;
  std::string id_;
  std::uint64_t start_;
  bool staged_;
  std::string pending_;
  std::uint64_t written_ = 0;
};

net::awaitable<Result<void>> MemoryDataStore::create(const UploadInfo& info) {
  std::lock_guard lock(mutex_);
  if (!files_.emplace(info.id, std::string{}).second) {
    co_return fail(Errc::storage_error);
  }
  co_return Result<void>{};
}

net::awaitable<Result<std::unique_ptr<UploadWriter>>> MemoryDataStore::open_writer(const UploadInfo& info,
                                                                                   bool staged) {
  std::lock_guard lock(mutex_);
  auto it = files_.find(info.id);
  if (it == files_.end()) {
    co_return fail(Errc::not_found);
  }
  if (it->second.size() < info.offset) {
    co_return fail(Errc::storage_error);  // recover() first
  }
  it->second.resize(static_cast<std::size_t>(info.offset));  // drops bytes past the acknowledged offset
  co_return std::unique_ptr<UploadWriter>(std::make_unique<MemoryUploadWriter>(*this, info.id, info.offset, staged));
}

net::awaitable<Result<std::uint64_t>> MemoryDataStore::recover(const UploadInfo& info) {
  std::lock_guard lock(mutex_);
  auto it = files_.find(info.id);
  if (it == files_.end()) {
    co_return fail(Errc::not_found);
  }
  co_return static_cast<std::uint64_t>(it->second.size());
}

net::awaitable<Result<void>> MemoryDataStore::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  files_.erase(id);
  co_return Result<void>{};
}

net::awaitable<Result<void>> MemoryDataStore::concatenate(const UploadInfo& final_upload,
                                                          const std::vector<UploadInfo>& partials) {
  std::lock_guard lock(mutex_);
  auto out = files_.find(final_upload.id);
  if (out == files_.end()) {
    co_return fail(Errc::not_found);
  }
  std::string joined;
  for (const auto& p : partials) {
    auto in = files_.find(p.id);
    if (in == files_.end() || in->second.size() < p.offset) {
      co_return fail(Errc::storage_error);
    }
    joined.append(in->second, 0, static_cast<std::size_t>(p.offset));
  }
  out->second = std::move(joined);
  co_return Result<void>{};
}

net::awaitable<Result<std::unique_ptr<ContentSource>>> MemoryDataStore::open_reader(const UploadInfo& info,
                                                                                    std::uint64_t start,
                                                                                    std::uint64_t length) {
  std::lock_guard lock(mutex_);
  auto it = files_.find(info.id);
  if (it == files_.end()) {
    co_return fail(Errc::not_found);
  }
  const std::uint64_t size = it->second.size();
  if (start > size || length > size - start) {
    co_return fail(Errc::storage_error);
  }
  co_return std::unique_ptr<ContentSource>(std::make_unique<MemoryContentSource>(
      it->second.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(length))));
}

std::optional<std::string> MemoryDataStore::bytes(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = files_.find(id);
  if (it == files_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::size_t MemoryDataStore::count() const {
  std::lock_guard lock(mutex_);
  return files_.size();
}

void MemoryDataStore::fail_after(std::optional<std::uint64_t> bytes) {
  std::lock_guard lock(mutex_);
  budget_ = bytes;
}

}  // namespace vidup::store
