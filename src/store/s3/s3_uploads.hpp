#pragma once
// The S3 DataStore's objects and the blocking steps on them (docs/decisions/0003-s3-layout.md).
// Every function here blocks on S3: call them through run_blocking. Ids were checked by the
// caller (safe_id).

#include "core/errc.hpp"
#include "core/upload_info.hpp"
#include "store/s3/s3_client.hpp"

#include <boost/asio/thread_pool.hpp>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace vidup::store::s3 {

using core::Result;
using core::UploadInfo;

// What <id>.info says. Written once at creation; the part size travels with the upload, so
// nodes with another configured part size still agree on where each byte lives.
struct UploadRecord {
  std::string upload_id;       // the multipart upload; empty for a final (concatenated) upload
  std::uint64_t part_size = 0;
};

// id -> UploadRecord, bounded; records never change, so a cached one is never stale (an upload
// completed or removed meanwhile shows up as a 404 from the multipart upload).
class RecordCache {
 public:
  std::optional<UploadRecord> get(const std::string& id);
  void put(const std::string& id, const UploadRecord& r);
  void erase(const std::string& id);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, UploadRecord> map_;
};

struct Shared {
  explicit Shared(S3Config config) : client(std::move(config)) {}
  Client client;
  RecordCache cache;
};

// The state a writer starts from.
struct WriterStart {
  std::optional<UploadRecord> record;  // nullopt: the upload is already complete
  std::uint64_t complete_size = 0;     // the finished object's size, when record is nullopt
  std::vector<std::byte> slot;         // the slot's bytes before the offset (from its tail)
};

Result<void> create_upload(Shared& s, const UploadInfo& info);
Result<WriterStart> start_writer(Shared& s, const std::string& id, std::uint64_t offset);
// UploadPart `number`. Errc::not_found: the multipart upload is gone (completed or removed).
Result<void> upload_part(Shared& s, const std::string& id, const UploadRecord& r, std::uint64_t number,
                         std::span<const std::byte> data);
Result<void> put_tail(Shared& s, const std::string& id, std::uint64_t slot, std::span<const std::byte> data);
// The finished object's size if it exists and holds at least `needed` bytes (then the leftovers
// are cleaned up); nullopt if there is none; storage_error if it is shorter.
Result<std::optional<std::uint64_t>> already_complete(Shared& s, const std::string& id, std::uint64_t needed);
// Completes the multipart upload of an upload of `size` bytes whose parts are all uploaded:
// ListParts checks that parts 1..last exist with the right sizes, then Complete lists exactly
// those, then the tails and <id>.info go. Tolerates a concurrent or earlier completion.
Result<void> complete_upload(Shared& s, const std::string& id, const UploadRecord& r, std::uint64_t size);
// Makes sure the finished object of an upload of `size` bytes exists (uploads the last part
// from the tail and completes if needed); returns its size and ETag.
struct ObjectHead {
  std::uint64_t size = 0;
  std::string etag;
};
Result<ObjectHead> finish_upload(Shared& s, const std::string& id, std::uint64_t size);
Result<std::optional<ObjectHead>> head_object(Shared& s, const std::string& id);
Result<std::uint64_t> recover_upload(Shared& s, const UploadInfo& info);
Result<void> remove_upload(Shared& s, const std::string& id);
Result<void> concatenate_uploads(Shared& s, const std::string& final_id, const std::vector<UploadInfo>& partials);
// GET [start, start + into.size()) of the finished object, which must still have `etag`.
Result<void> read_range(Shared& s, const std::string& id, const std::string& etag, std::uint64_t start,
                        std::span<std::byte> into);
// The startup check: a one-key listing. Returns S3's answer when it fails.
std::optional<std::string> check_bucket(Shared& s);

}  // namespace vidup::store::s3
