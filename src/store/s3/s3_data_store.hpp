#pragma once
// Upload bytes in S3-compatible object storage, shared by any number of stateless Vidup nodes.
//
// The record's offset is the truth (docs/decisions/0003-s3-layout.md). With P the part size
// written in the upload's state object, part n (1-based) of one multipart upload holds bytes
// [(n-1)P, nP); the bytes of the unfinished last slot k live in `<id>.tail.<k>`, rewritten whole
// by each commit. Keys, under the configured prefix:
//   <id>.info      immutable: the multipart upload id and P (absent for size 0)
//   <id>.tail.<k>  the first bytes of slot k, put by commit(); removed at completion
//   <id>           the finished object (CompleteMultipartUpload, or concatenation)
// A writer hands each full part to the blocking pool and receives the next one meanwhile (at
// most S3Config::parts_in_flight uploads at once, so about parts_in_flight + 1 parts in memory);
// commit() waits for them all. Nothing written becomes visible before the record moves:
// discard() waits for the uploads in flight and drops the buffer, and recover() returns the
// record's offset without changing anything in S3. Another node can take
// over an upload at any offset the record holds. A finished upload with no object yet (its
// last PATCH was empty) is completed by the first reader or concatenation.
//
// Blocking libcurl calls run on the blocking pool. Failures are Errc::storage_error (a line on
// stderr says which S3 call failed and why; never a key, token or signature), storage_full for a
// quota, max_size_exceeded past 10000 parts.

#include "store/data_store.hpp"
#include "store/s3/s3_client.hpp"
#include "store/s3/s3_config.hpp"

#include <boost/asio/thread_pool.hpp>

#include <memory>
#include <string>

namespace vidup::store {

namespace s3 {
struct Shared;
}

class S3DataStore final : public DataStore, public Concater, public ContentServer {
 public:
  // Checks that the bucket answers (a one-key listing under the prefix, which needs the same
  // permission as HEAD bucket and says why it failed). Throws std::runtime_error if it does not,
  // with a message that names the endpoint, the bucket and S3's answer, never the secret.
  S3DataStore(S3Config config, net::thread_pool& blocking);
  ~S3DataStore() override;
  S3DataStore(const S3DataStore&) = delete;
  S3DataStore& operator=(const S3DataStore&) = delete;

  net::awaitable<Result<void>> create(const UploadInfo& info) override;
  net::awaitable<Result<std::unique_ptr<UploadWriter>>> open_writer(const UploadInfo& info, bool staged) override;
  // One GET of <id>.info (HEAD of the object when it is gone); returns info.offset, or the
  // object's size for an upload completed after its record was last saved. Changes nothing.
  net::awaitable<Result<std::uint64_t>> recover(const UploadInfo& info) override;
  // Aborts every multipart upload of the key and deletes every object of the upload.
  net::awaitable<Result<void>> remove(const std::string& id) override;

  // Partials of 5 MiB to 5 GiB become parts by whole-object UploadPartCopy; smaller ones (and
  // what follows them until a part is full) are read and uploaded again, one part at a time.
  // A partial's length is its record's offset.
  net::awaitable<Result<void>> concatenate(const UploadInfo& final_upload,
                                           const std::vector<UploadInfo>& partials) override;

  // Ranged GETs of the finished object, a window of at most 4 MiB at a time. An upload whose
  // record is finished (offset == size) but has no object yet is completed first.
  net::awaitable<Result<std::unique_ptr<ContentSource>>> open_reader(const UploadInfo& info, std::uint64_t start,
                                                                     std::uint64_t length) override;

  // The largest upload this store can hold: 10000 parts of the part size.
  [[nodiscard]] std::uint64_t max_upload_size() const;
  // The full key of an upload's finished object.
  [[nodiscard]] std::string object_key(const std::string& id) const;
  // The server is stopping: S3 requests in progress fail within about a second and later ones
  // at once, so the blocking pool can be joined even when S3 has stopped answering.
  void cancel_requests();
  // Tests only: fault injection, see s3::Client::set_hook_for_tests.
  void set_request_hook_for_tests(s3::Client::Hook hook);

 private:
  std::shared_ptr<s3::Shared> shared_;  // shared with uploads still in flight on the pool
  net::thread_pool& blocking_;
};

}  // namespace vidup::store
