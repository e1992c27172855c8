#include "store/s3/s3_data_store.hpp"

#include "store/run_blocking.hpp"
#include "store/s3/s3_uploads.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace vidup::store {

namespace {

using core::Errc;
using ErrorCode = boost::system::error_code;
using s3::Shared;
using s3::UploadRecord;

constexpr std::size_t kMaxIdBytes = 200;
constexpr std::uint64_t kReadWindow = 4 << 20;

ErrorCode fail(Errc e) { return core::make_error_code(e); }

// Ids become keys: only [A-Za-z0-9_-], so no clash with the .info and .tail.N suffixes. The
// handler validates ids already; this is the last line of defence.
bool safe_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// A full part on its way to S3, uploaded on the blocking pool while the writer fills the next
// slot. `bytes`, `number` and `cancelled` are read on the pool; `done` and `result` are set on
// the writer's executor only (the pool posts the result there), so the writer reads them without
// locks.
struct PartUpload {
  std::uint64_t number = 0;
  std::vector<std::byte> bytes;
  std::atomic<bool> cancelled{false};  // the writer is gone: do not start the upload
  bool done = false;
  Result<void> result;
};

// What an upload's completion needs to wake the writer, shared so that a completion arriving
// after the writer was destroyed touches nothing freed. Lives on the writer's executor.
struct PartSignal {
  explicit PartSignal(const net::any_io_executor& ex) : executor(ex), timer(ex) {}
  net::any_io_executor executor;
  net::steady_timer timer;  // waited on with no deadline; cancelled by each completion
};

// Keeps the open slot in memory: bytes [slot * P, slot * P + buffer_.size()). A full slot is
// handed to the blocking pool as part slot + 1 and the next slot starts at once, so the client's
// next bytes are received while the part travels; write() waits only while parts_in_flight
// uploads are still running (memory: about parts_in_flight + 1 parts). Re-uploading a part
// number replaces it, so a writer that starts again behind an abandoned one simply overwrites
// its parts. commit() first waits for every upload in flight and fails if one of them failed
// (the record keeps the older offset and the next writer rewinds over the slot); it then puts
// the slot's bytes as its tail, or completes the upload when the length is reached. Nothing is
// visible before the record moves, so staged and plain writers behave the same and discard()
// waits for the uploads in flight and drops the buffer.
//
// A writer may find the upload already complete (a node completed it and died before saving
// the record): it then accepts the bytes the client sends again, up to the object's size.
class S3UploadWriter final : public UploadWriter {
 public:
  S3UploadWriter(std::shared_ptr<Shared> s, net::thread_pool& blocking, std::string id, s3::WriterStart start,
                 std::uint64_t offset, std::optional<std::uint64_t> size, bool staged)
      : s_(std::move(s)),
        blocking_(blocking),
        in_flight_limit_(s_->client.config().parts_in_flight),
        id_(std::move(id)),
        record_(std::move(start.record)),
        complete_size_(start.complete_size),
        buffer_(std::move(start.slot)),
        start_(offset),
        size_(size),
        staged_(staged) {
    if (record_) {
      slot_ = offset / record_->part_size;
    }
  }

  // Uploads still queued on the pool are not started; those already sending finish on their
  // own (a part past the record's offset is never visible, and the next writer replaces it).
  ~S3UploadWriter() override {
    for (const auto& part : in_flight_) {
      part->cancelled = true;
    }
  }

  S3UploadWriter(const S3UploadWriter&) = delete;
  S3UploadWriter& operator=(const S3UploadWriter&) = delete;

  net::awaitable<Result<void>> write(std::span<const std::byte> data) override {
    if (discarded_) {
      co_return fail(Errc::internal);
    }
    if (failure_) {
      co_return *failure_;
    }
    while (!data.empty()) {
      if (!record_) {
        co_return accept_again(data.size());
      }
      const auto p = static_cast<std::size_t>(record_->part_size);
      if (buffer_.size() == p) {
        if (auto r = co_await send_part(); !r) {
          co_return r;
        }
        continue;
      }
      if (buffer_.capacity() < p) {
        buffer_.reserve(p);
      }
      const std::size_t take = std::min(data.size(), p - buffer_.size());
      buffer_.insert(buffer_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
      written_ += take;
      data = data.subspan(take);
    }
    if (record_ && buffer_.size() == record_->part_size) {
      co_return co_await send_part();
    }
    co_return Result<void>{};
  }

  [[nodiscard]] std::uint64_t written() const override { return written_; }

  net::awaitable<Result<std::uint64_t>> commit() override {
    if (discarded_) {
      committed_ = written_;
      co_return start_ + written_;
    }
    if (auto r = co_await settle(0); !r) {
      co_return r.error();  // an upload in flight failed: its bytes are not counted
    }
    if (!record_) {
      committed_ = written_;
      co_return start_ + written_;
    }
    if (buffer_.size() == record_->part_size) {  // a part left over by a failed write()
      if (auto r = co_await upload_now(); !r) {
        co_return r.error();
      }
      if (!record_) {
        co_return co_await commit();
      }
    }
    const std::uint64_t end = start_ + written_;
    if (size_ && end == *size_) {
      if (auto r = co_await finish(); !r) {
        co_return r.error();
      }
    } else if (written_ > committed_ && !buffer_.empty()) {
      auto r = co_await run_blocking(blocking_, [this] { return s3::put_tail(*s_, id_, slot_, buffer_); });
      if (!r) {
        co_return r.error();
      }
    }
    committed_ = written_;
    co_return end;
  }

  net::awaitable<Result<void>> discard() override {
    assert(staged_ && "discard() is for staged writers");
    if (!staged_) {
      co_return fail(Errc::internal);
    }
    // Nothing of this writer may still land in S3 once the next writer starts.
    static_cast<void>(co_await settle(0));
    written_ = committed_;
    buffer_ = {};
    discarded_ = true;
    co_return Result<void>{};
  }

 private:
  Result<void> accept_again(std::size_t n) {
    if (start_ + written_ + n > complete_size_) {
      return fail(Errc::storage_error);
    }
    written_ += n;
    return {};
  }

  // The full slot goes to the pool as part slot + 1 (after waiting for room in the pipeline) and
  // the next slot starts. With parts_in_flight 0 the upload is awaited here.
  net::awaitable<Result<void>> send_part() {
    if (in_flight_limit_ == 0) {
      co_return co_await upload_now();
    }
    if (auto r = co_await settle(in_flight_limit_ - 1); !r || !record_) {
      co_return r;
    }
    if (!signal_) {
      signal_ = std::make_shared<PartSignal>(co_await net::this_coro::executor);
    }
    auto part = std::make_shared<PartUpload>();
    part->number = slot_ + 1;
    part->bytes = std::move(buffer_);
    buffer_ = {};
    ++slot_;
    in_flight_.push_back(part);
    // The pool thread owns copies of everything it uses; the answer is posted back to the
    // writer's executor, which the work guard keeps running until then.
    net::post(blocking_, [s = s_, id = id_, record = *record_, part, signal = signal_,
                          guard = net::make_work_guard(signal_->executor)]() mutable {
      Result<void> result = fail(Errc::internal);
      if (!part->cancelled) {
        try {
          result = s3::upload_part(*s, id, record, part->number, part->bytes);
        } catch (...) {
          result = fail(Errc::storage_error);  // bad_alloc in the client: the part did not go up
        }
      }
      auto executor = signal->executor;
      net::post(executor, [part = std::move(part), signal = std::move(signal), result,
                           guard = std::move(guard)]() mutable {
        part->bytes = {};
        part->result = result;
        part->done = true;
        signal->timer.cancel();
        guard.reset();
      });
    });
    co_return Result<void>{};
  }

  // Waits until at most `limit` uploads are in flight, taking in the answers of those that
  // finished. A failed upload makes the writer fail from then on (with `limit` 0 only after every
  // upload has finished, so nothing of this writer is still on its way). A multipart upload
  // found gone means a completed upload (the writer switches to accepting bytes again, once no
  // upload is in flight) or a removed one.
  net::awaitable<Result<void>> settle(std::size_t limit) {
    for (;;) {
      std::erase_if(in_flight_, [this](const std::shared_ptr<PartUpload>& part) {
        if (!part->done) {
          return false;
        }
        if (!part->result) {
          if (part->result.error() == Errc::not_found) {
            gone_ = true;
          } else if (!failure_) {
            failure_ = part->result.error();
          }
        }
        return true;
      });
      const bool drain = limit == 0 || gone_;
      if (failure_ && !drain) {
        co_return *failure_;
      }
      if (in_flight_.size() <= (drain ? 0 : limit)) {
        break;
      }
      signal_->timer.expires_at(net::steady_timer::time_point::max());
      static_cast<void>(co_await signal_->timer.async_wait(net::as_tuple(net::use_awaitable)));
    }
    if (failure_) {
      co_return *failure_;
    }
    if (gone_) {
      gone_ = false;
      co_return co_await switch_to_complete();
    }
    co_return Result<void>{};
  }

  // UploadPart of the slot's bytes as part slot + 1, awaited here; on success the next slot starts.
  net::awaitable<Result<void>> upload_now() {
    auto r = co_await run_blocking(blocking_,
                                   [this] { return s3::upload_part(*s_, id_, *record_, slot_ + 1, buffer_); });
    if (!r && r.error() == Errc::not_found) {
      co_return co_await switch_to_complete();
    }
    if (!r) {
      co_return r;
    }
    ++slot_;
    buffer_.clear();
    co_return Result<void>{};
  }

  net::awaitable<Result<void>> switch_to_complete() {
    const std::uint64_t needed = start_ + written_;
    auto done = co_await run_blocking(blocking_, [this, needed] { return s3::already_complete(*s_, id_, needed); });
    if (!done) {
      co_return done.error();
    }
    if (!*done) {
      co_return fail(Errc::storage_error);  // the multipart upload is gone and there is no object: removed
    }
    record_.reset();
    complete_size_ = **done;
    buffer_ = {};
    co_return Result<void>{};
  }

  // The length is reached (no upload in flight): the slot goes up as the last part, then
  // CompleteMultipartUpload.
  net::awaitable<Result<void>> finish() {
    const std::uint64_t size = *size_;
    if (!buffer_.empty()) {
      auto r = co_await run_blocking(blocking_,
                                     [this] { return s3::upload_part(*s_, id_, *record_, slot_ + 1, buffer_); });
      if (!r && r.error() == Errc::not_found) {
        co_return co_await switch_to_complete();
      }
      if (!r) {
        co_return r;
      }
    }
    auto r =
        co_await run_blocking(blocking_, [this, size] { return s3::complete_upload(*s_, id_, *record_, size); });
    if (!r) {
      co_return r;
    }
    record_.reset();
    complete_size_ = size;
    buffer_ = {};
    co_return Result<void>{};
  }

  std::shared_ptr<Shared> s_;
  net::thread_pool& blocking_;
  std::size_t in_flight_limit_;
  std::string id_;
  std::optional<UploadRecord> record_;  // nullopt: the upload is complete
  std::uint64_t complete_size_ = 0;
  std::vector<std::byte> buffer_;
  std::uint64_t slot_ = 0;  // the slot buffer_ holds; parts of earlier slots may be in flight
  std::uint64_t start_;
  std::optional<std::uint64_t> size_;
  bool staged_;
  bool discarded_ = false;
  std::uint64_t written_ = 0;
  std::uint64_t committed_ = 0;
  std::vector<std::shared_ptr<PartUpload>> in_flight_;  // in the order they were sent
  std::shared_ptr<PartSignal> signal_;                   // made by the first background upload
  std::optional<ErrorCode> failure_;                     // the first failed upload's error
  bool gone_ = false;                                    // an upload found the multipart upload gone
};

// Serves [start, start + length) of a finished object through one window of ranged GETs,
// each pinned to the object's ETag so a concurrent replacement fails the read instead of
// mixing two versions.
class S3ContentSource final : public ContentSource {
 public:
  S3ContentSource(Shared& s, net::thread_pool& blocking, std::string id, std::string etag, std::uint64_t start,
                  std::uint64_t length)
      : s_(s), blocking_(blocking), id_(std::move(id)), etag_(std::move(etag)), next_(start), size_(length),
        left_(length) {}

  [[nodiscard]] std::uint64_t size() const override { return size_; }

  net::awaitable<Result<std::size_t>> read(std::span<std::byte> buf) override {
    if (buf.empty()) {
      co_return std::size_t{0};
    }
    if (pos_ == window_.size()) {
      if (left_ == 0) {
        co_return std::size_t{0};
      }
      window_.resize(static_cast<std::size_t>(std::min(left_, kReadWindow)));
      auto r = co_await run_blocking(blocking_, [this] { return s3::read_range(s_, id_, etag_, next_, window_); });
      if (!r) {
        window_.clear();
        pos_ = 0;
        co_return r.error();
      }
      next_ += window_.size();
      left_ -= window_.size();
      pos_ = 0;
    }
    const std::size_t n = std::min(buf.size(), window_.size() - pos_);
    std::copy_n(window_.begin() + static_cast<std::ptrdiff_t>(pos_), n, buf.begin());
    pos_ += n;
    co_return n;
  }

 private:
  Shared& s_;
  net::thread_pool& blocking_;
  std::string id_;
  std::string etag_;
  std::uint64_t next_;  // the next byte to fetch
  std::uint64_t size_;
  std::uint64_t left_;  // bytes not fetched yet
  std::vector<std::byte> window_;
  std::size_t pos_ = 0;  // bytes of the window already served
};

}  // namespace

S3DataStore::S3DataStore(S3Config config, net::thread_pool& blocking) : blocking_(blocking) {
  if (config.part_size < kS3MinPartSize || config.part_size > kS3MaxPartSize) {
    throw std::runtime_error("S3 part size must be between 5 MiB and 5 GiB");
  }
  const std::string where = "S3 bucket '" + config.bucket + "' at " + config.endpoint;
  if (config.parts_in_flight > kS3MaxPartsInFlight) {
    throw std::runtime_error("S3 parts_in_flight must be between 0 and 64");
  }
  shared_ = std::make_shared<Shared>(std::move(config));
  if (auto problem = s3::check_bucket(*shared_)) {
    throw std::runtime_error(where + " is not usable: " + *problem +
                             " (check the endpoint, the bucket, the region and the credentials)");
  }
}

S3DataStore::~S3DataStore() = default;

std::uint64_t S3DataStore::max_upload_size() const { return kS3MaxParts * shared_->client.config().part_size; }

std::string S3DataStore::object_key(const std::string& id) const { return shared_->client.key(id); }

void S3DataStore::cancel_requests() { shared_->client.cancel_all(); }

void S3DataStore::set_request_hook_for_tests(s3::Client::Hook hook) {
  shared_->client.set_hook_for_tests(std::move(hook));
}

net::awaitable<Result<void>> S3DataStore::create(const UploadInfo& info) {
  if (!safe_id(info.id)) {
    co_return fail(Errc::invalid_upload_id);
  }
  co_return co_await run_blocking(blocking_, [this, &info] { return s3::create_upload(*shared_, info); });
}

net::awaitable<Result<std::unique_ptr<UploadWriter>>> S3DataStore::open_writer(const UploadInfo& info, bool staged) {
  if (!safe_id(info.id)) {
    co_return fail(Errc::invalid_upload_id);
  }
  const std::uint64_t offset = info.offset;
  auto start =
      co_await run_blocking(blocking_, [this, &info, offset] { return s3::start_writer(*shared_, info.id, offset); });
  if (!start) {
    co_return start.error();
  }
  co_return std::unique_ptr<UploadWriter>(std::make_unique<S3UploadWriter>(
      shared_, blocking_, info.id, std::move(*start), offset, info.size, staged));
}

net::awaitable<Result<std::uint64_t>> S3DataStore::recover(const UploadInfo& info) {
  if (!safe_id(info.id)) {
    co_return fail(Errc::invalid_upload_id);
  }
  co_return co_await run_blocking(blocking_, [this, &info] { return s3::recover_upload(*shared_, info); });
}

net::awaitable<Result<void>> S3DataStore::remove(const std::string& id) {
  if (!safe_id(id)) {
    co_return fail(Errc::invalid_upload_id);
  }
  co_return co_await run_blocking(blocking_, [this, &id] { return s3::remove_upload(*shared_, id); });
}

net::awaitable<Result<void>> S3DataStore::concatenate(const UploadInfo& final_upload,
                                                      const std::vector<UploadInfo>& partials) {
  if (!safe_id(final_upload.id)) {
    co_return fail(Errc::invalid_upload_id);
  }
  for (const auto& p : partials) {
    if (!safe_id(p.id)) {
      co_return fail(Errc::invalid_upload_id);
    }
  }
  co_return co_await run_blocking(
      blocking_, [this, &final_upload, &partials] { return s3::concatenate_uploads(*shared_, final_upload.id, partials); });
}

net::awaitable<Result<std::unique_ptr<ContentSource>>> S3DataStore::open_reader(const UploadInfo& info,
                                                                                std::uint64_t start,
                                                                                std::uint64_t length) {
  if (!safe_id(info.id)) {
    co_return fail(Errc::invalid_upload_id);
  }
  auto head = co_await run_blocking(blocking_, [this, &info]() -> Result<s3::ObjectHead> {
    auto found = s3::head_object(*shared_, info.id);
    if (!found) {
      return found.error();
    }
    if (*found) {
      return **found;
    }
    if (!info.is_final() && info.size && info.offset == *info.size) {
      return s3::finish_upload(*shared_, info.id, *info.size);  // its last PATCH was empty
    }
    auto exists = s3::recover_upload(*shared_, info);
    return exists ? fail(Errc::upload_incomplete) : exists.error();
  });
  if (!head) {
    co_return head.error();
  }
  if (start > head->size || length > head->size - start) {
    co_return fail(Errc::storage_error);  // the record promises more bytes than are stored
  }
  co_return std::unique_ptr<ContentSource>(
      std::make_unique<S3ContentSource>(*shared_, blocking_, info.id, std::move(head->etag), start, length));
}

}  // namespace vidup::store
