#pragma once
// The whole upload of one file or stream, as `vidup upload` does it:
//
//   1. resume: the file's fingerprint names a stored upload URL → HEAD it; 404/410/403 → forget
//      it and start over; otherwise continue from the server's offset;
//   2. create: `authorize` runs first (it may create the platform video and sign it), then POST;
//      the URL is stored before the first byte is sent;
//   3. PATCH the rest, chunk by chunk (chunk_size; 0 = one PATCH), each with Upload-Checksum when
//      asked, streamed from the file (never loaded in memory);
//   4. on a network error, a stall, 5xx or 423 (and 409 for a PATCH): wait the next retry delay,
//      HEAD to re-sync the offset, continue. The retry count starts again after any progress.
//      Any other 4xx fails at once with the server's line;
//   5. finished → the stored entry is removed. Failed or cancelled → it is kept for a rerun.
//
// --parallel N: N partial uploads (Upload-Concat: partial) sent by N threads, each resumable,
// then one final upload (Upload-Concat: final;<urls>) with the metadata and the credentials.
// Streams (stdin) use Upload-Defer-Length: 1 and declare the length with the last PATCH; one
// chunk is kept in memory so a failed PATCH can be re-sent; they are never resumed across runs.

#include "client/client.hpp"
#include "client/fingerprint_store.hpp"
#include "client/formatting.hpp"
#include "client/retry.hpp"

#include "core/checksum.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vidup::client {

// Credentials for a creation, obtained only when a creation is needed (never on resume).
struct Grant {
  std::vector<std::string> headers;  // "Signature: …", "Expiration: …", "Video-Id: …"
  std::optional<std::string> video_id;
};
using Authorizer = std::function<Result<Grant>()>;

inline constexpr std::uint64_t kDefaultChecksumChunk = 64ULL << 20U;  // checksum without --chunk-size
inline constexpr std::uint64_t kDefaultStreamChunk = 8ULL << 20U;     // stdin without --chunk-size

struct UploadOptions {
  std::string endpoint;                   // tus creation URL
  std::optional<std::string> upload_url;  // an existing upload (/v2/init): no creation
  Authorizer authorize;                   // empty: anonymous creation
  MetadataPairs metadata;                 // sent on creation (the final one with --parallel)
  std::uint64_t chunk_size = 0;
  std::optional<core::ChecksumAlgorithm> checksum;
  unsigned parallel = 1;
  RetryPolicy retry;
  bool resume = true;                       // false: ignore (and replace) a stored entry
  FingerprintStore* store = nullptr;        // nullptr: no resume state
  std::function<void(std::string_view)> warn;  // non-fatal notes ("stored upload gone, starting over")
};

// Bytes the server has plus bytes in flight, and the total (nullopt while a stream's is unknown).
// Called from worker threads, serialised by the Uploader.
using ProgressFn = std::function<void(std::uint64_t done, std::optional<std::uint64_t> total)>;

struct Report {
  std::string upload_url;               // empty if no upload was created
  std::optional<std::string> video_id;
  std::uint64_t size = 0;               // the file's (or stream's, so far) size
  std::uint64_t bytes_sent = 0;         // bytes the server acknowledged in this run
  std::uint64_t resumed_from = 0;       // the offset this run started at
  std::optional<Error> error;           // set when the upload did not finish
};

class Uploader {
 public:
  Uploader(const Client& client, UploadOptions options) : client_(client), options_(std::move(options)) {}

  // A regular file. Resumable across runs through options.store.
  [[nodiscard]] Report upload_file(const std::filesystem::path& file, const ProgressFn& progress,
                                   const std::atomic<bool>& cancel);
  // A stream of unknown length (stdin): deferred length, never resumed across runs.
  [[nodiscard]] Report upload_stream(int fd, const ProgressFn& progress, const std::atomic<bool>& cancel);

 private:
  const Client& client_;
  UploadOptions options_;
};

}  // namespace vidup::client
