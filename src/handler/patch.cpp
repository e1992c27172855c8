// PATCH: append bytes at the current offset (PATCH-01..21, CDL-03..09, CK-*, CKT-*).
#include "handler/handler.hpp"

#include "core/headers.hpp"
#include "core/http_date.hpp"
#include "core/integers.hpp"
#include "handler/context.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

namespace vidup::handler {

namespace {

using core::UploadInfo;

// Read buffers, lent only while a request has bytes at hand (BodySource::ready() came first) and
// returned before it waits for the client again: a stalled upload holds no buffer, and a few
// per thread serve every connection. Kept per size (the size is configurable).
class BodyBuffer {
 public:
  explicit BodyBuffer(std::size_t size) : size_(size) {
    auto& free = free_list();
    auto it = std::find_if(free.begin(), free.end(), [size](const auto& b) { return b.first == size; });
    if (it != free.end()) {
      data_ = std::move(it->second);
      free.erase(it);
    } else {
      data_ = std::make_unique_for_overwrite<std::byte[]>(size);  // not zeroed: every byte is read into first
    }
  }
  BodyBuffer(const BodyBuffer&) = delete;
  BodyBuffer& operator=(const BodyBuffer&) = delete;
  ~BodyBuffer() {
    auto& free = free_list();
    if (free.size() < kKeep) {
      free.emplace_back(size_, std::move(data_));
    }
  }
  [[nodiscard]] std::byte* get() const { return data_.get(); }

 private:
  static constexpr std::size_t kKeep = 4;
  using FreeList = std::vector<std::pair<std::size_t, std::unique_ptr<std::byte[]>>>;
  static FreeList& free_list() {
    thread_local FreeList free;
    return free;
  }
  std::size_t size_;
  std::unique_ptr<std::byte[]> data_;
};

constexpr std::size_t kSpliceStep = 1024 * 1024;  // bytes per splice_into(): one pipe's worth

}  // namespace

net::awaitable<Errc> Handler::append_body(UploadInfo& info, BodySource& body, const ChecksumSpec& checksum) {
  // How many bytes this request may add: up to the length, or up to the max size while the
  // length is deferred (CDL-08). One byte more is read to detect an overflow (PATCH-12).
  constexpr auto kUnlimited = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t room = kUnlimited;
  if (info.size) {
    room = *info.size - info.offset;
  } else if (config_.max_size > 0) {
    room = config_.max_size > info.offset ? config_.max_size - info.offset : 0;
  }
  if (auto declared = body.content_length(); declared && *declared > room) {
    co_return info.size ? Errc::size_exceeded : Errc::max_size_exceeded;  // PATCH-11: before reading
  }
  if (!body.has_body()) {
    co_return Errc::ok;
  }

  const bool staged = checksum.any();
  auto opened = co_await stores_.data().open_writer(info, staged);
  if (!opened) {
    co_return core::to_errc(opened.error());
  }
  auto& writer = **opened;

  // Every algorithm runs over a trailer-checksummed body, since its name comes last (CKT-02).
  std::vector<std::pair<core::ChecksumAlgorithm, std::unique_ptr<core::Hasher>>> hashers;
  if (checksum.header) {
    hashers.emplace_back(checksum.header->algorithm, core::make_hasher(checksum.header->algorithm));
  } else if (checksum.trailer) {
    for (auto a : {core::ChecksumAlgorithm::sha1, core::ChecksumAlgorithm::md5, core::ChecksumAlgorithm::sha256,
                   core::ChecksumAlgorithm::crc32}) {
      hashers.emplace_back(a, core::make_hasher(a));
    }
  }

  ++counters_.active_writes;
  const std::size_t buffer_size = config_.body_buffer;
  Errc failure = Errc::ok;
  std::uint64_t taken = 0;
  // A plain body of known length bound for a local file moves socket -> file in the kernel
  // (splice); its length was checked against the room above, so it cannot overflow. Bytes read
  // with the header, chunked bodies and checksummed ones go through the buffer below.
  const bool may_splice = hashers.empty() && body.content_length().has_value();
  for (;;) {
    co_await body.ready();  // the client may be silent for long: no buffer is held meanwhile
    if (may_splice) {
      if (auto target = writer.file_target()) {
        if (!*target) {
          failure = core::to_errc((*target).error());
          break;
        }
        if (auto moved = co_await body.splice_into((*target)->fd, (*target)->offset, kSpliceStep)) {
          writer.advance(moved->bytes);
          taken = writer.written();
          counters_.bytes_received += moved->bytes;
          if (moved->error != Errc::ok) {
            failure = moved->error;
            break;
          }
          if (moved->bytes == 0) {
            break;
          }
          continue;
        }
      }
    }
    const BodyBuffer buffer(buffer_size);
    const std::uint64_t left = room == kUnlimited ? kUnlimited : room - taken;
    // No more than this request may still bring, +1 to see an overflow.
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer_size, left == kUnlimited ? left : left + 1));
    auto got = co_await body.read(std::span(buffer.get(), want));
    if (!got) {
      failure = core::to_errc(got.error());
      break;
    }
    if (*got == 0) {
      break;
    }
    std::size_t n = *got;
    const bool overflow = left != kUnlimited && n > left;
    if (overflow) {
      n = static_cast<std::size_t>(left);  // PATCH-12: keep the valid prefix, refuse the rest
    }
    const std::span<const std::byte> chunk(buffer.get(), n);
    for (auto& [algorithm, hasher] : hashers) {
      hasher->update(chunk);
    }
    auto wrote = co_await writer.write(chunk);
    taken = writer.written();
    counters_.bytes_received += n;
    if (!wrote) {
      failure = core::to_errc(wrote.error());
      break;
    }
    if (overflow) {
      failure = info.size ? Errc::size_exceeded : Errc::max_size_exceeded;
      break;
    }
  }
  --counters_.active_writes;

  if (failure == Errc::ok && staged) {
    // CK-03: verify once the whole request has arrived.
    std::optional<core::ChecksumHeader> expected = checksum.header;
    if (checksum.trailer) {
      auto trailer = body.trailers().get(core::kUploadChecksum);
      if (!trailer) {
        failure = Errc::missing_trailer;  // CKT-03
      } else if (auto parsed = core::parse_checksum(*trailer); !parsed) {
        failure = core::to_errc(parsed.error());
      } else {
        expected = *parsed;
      }
    }
    if (failure == Errc::ok) {
      auto it = std::find_if(hashers.begin(), hashers.end(),
                             [&](const auto& h) { return h.first == expected->algorithm; });
      if (it == hashers.end() || it->second->finish() != expected->digest) {
        failure = Errc::checksum_mismatch;  // CK-05
      }
    }
  }
  if (staged && failure != Errc::ok) {
    co_await writer.discard();  // CK-06, CK-10: the whole chunk goes, the offset stays
    co_return failure;
  }
  // PATCH-09: whatever arrived is kept, even when the request failed part-way.
  auto committed = co_await writer.commit();
  if (!committed) {
    co_return core::to_errc(committed.error());  // PATCH-20: the record keeps the old offset
  }
  auto saved = co_await save_progress(info, *committed);
  if (!saved) {
    // The record keeps the old offset (a full disk: SQLite could not write). Drop the bytes it
    // does not cover now, not at the next PATCH, so HEAD and the data agree and the space is
    // free again; the client resumes from the offset this answer reports.
    static_cast<void>(co_await stores_.data().open_writer(info, false));
    co_return core::to_errc(saved.error());
  }
  co_return failure;
}

net::awaitable<Response> Handler::patch(Ctx& ctx) {
  Request& req = ctx.request;
  if (!is_offset_stream(req.headers.get(core::kContentType))) {
    co_return error(Errc::invalid_content_type);  // PATCH-01: 415, as the spec says
  }
  auto offset_header = req.headers.get(core::kUploadOffset);
  if (!offset_header) {
    co_return error(Errc::invalid_offset);  // PATCH-18
  }
  auto offset = core::parse_uint(*offset_header, Errc::invalid_offset);
  if (!offset) {
    co_return error(Errc::invalid_offset);  // H-OFF-01
  }
  std::optional<std::uint64_t> declared_length;
  if (auto h = req.headers.get(core::kUploadLength)) {
    auto parsed = core::parse_uint(*h, Errc::invalid_length);
    if (!parsed) {
      co_return error(Errc::invalid_length);
    }
    declared_length = *parsed;
  }
  auto checksum = checksum_spec(req);
  if (!checksum) {
    co_return error(core::to_errc(checksum.error()));  // CK-04, H-CK-02
  }

  // PATCH-16: one writer per upload; a newcomer pre-empts us by cancelling our body read.
  auto lock = co_await stores_.locker().acquire(ctx.id, req.body->canceller(), config_.lock_wait);
  if (!lock) {
    co_return error(Errc::locked);
  }
  auto info = co_await load(ctx.id, ctx.now);
  if (!info) {
    co_return error(core::to_errc(info.error()));  // PATCH-07, EXP-05, EXP-08
  }
  if (info->is_final()) {
    co_return error(Errc::modify_final);  // CAT-08
  }
  if (*offset != info->offset) {
    Response r = error(Errc::offset_mismatch);  // PATCH-03
    set_number(r, core::kUploadOffset, info->offset);  // PATCH-04
    if (info->expires_at > 0) {
      r.headers.set(core::kUploadExpires, core::format_http_date(info->expires_at));  // PATCH-19
    }
    co_return r;
  }
  if (declared_length) {
    if (info->size) {
      if (*info->size != *declared_length) {
        co_return error(Errc::length_already_set);  // CDL-05, CDL-06 (an equal repeat is accepted)
      }
    } else {
      if (*declared_length < info->offset) {
        co_return error(Errc::length_below_offset);  // CDL-07
      }
      if (config_.max_size > 0 && *declared_length > config_.max_size) {
        co_return error(Errc::max_size_exceeded);  // CDL-07
      }
      info->size = declared_length;  // CDL-03; saved with the progress below
    }
  }

  const std::uint64_t before = info->offset;
  Errc failure = co_await append_body(*info, *req.body, *checksum);
  if (failure == Errc::ok && info->offset == before) {
    // Nothing appended (empty body, PATCH-14/15): a newly declared length still has to be saved,
    // and may complete the upload (CDL-09).
    if (declared_length) {
      if (auto saved = co_await save_progress(*info, info->offset); !saved) {
        failure = core::to_errc(saved.error());
      }
    }
  }
  Response r;
  if (failure != Errc::ok) {
    r = error(failure);
    r.close = req.body->has_body();  // the rest of the body is not wanted
  } else {
    r.status = 204;  // PATCH-05
  }
  r.bytes_received = info->offset - before;
  // PATCH-06; on a failure too: the offset is what is durably stored, where a retry resumes.
  set_number(r, core::kUploadOffset, info->offset);
  if (info->state == core::UploadState::active && info->expires_at > 0) {
    r.headers.set(core::kUploadExpires, core::format_http_date(info->expires_at));  // PATCH-19
  }
  co_return r;
}

}  // namespace vidup::handler
