#pragma once
// vidup::client — a small tus 1.0.0 client over libcurl, for `vidup upload` and for programs that
// upload to Vidup (or any tus server).
//
//   Client        one HTTP call per method: create (POST), head, patch (one bounded PATCH from a
//                 Source, streamed with CURLOPT_READFUNCTION), terminate (DELETE), post_json.
//                 Stateless between calls: every call uses its own curl easy handle, so one Client
//                 may be used from several threads at once (the --parallel parts do).
//   Uploader      (uploader.hpp) the whole upload of a file or a stream: fingerprint lookup and
//                 HEAD resume, creation, chunked PATCHes with Upload-Checksum, retries with
//                 backoff and HEAD re-sync, concatenation of N partial uploads, deferred length.
//   FingerprintStore (fingerprint_store.hpp) fingerprint → upload URL, a small JSON file written
//                 atomically, so a rerun after a crash resumes.
//   RetryPolicy   (retry.hpp) the delays and which failures are worth another try.
//   formatting.hpp, plan.hpp: pure helpers (metadata header, progress line, presign output, parts).
//
// Errors are values: Result<T> carries a client::Error (what failed, the HTTP status if any, the
// matching core::Errc where one fits, and the server's one-line reason). Nothing throws on a
// network or server failure; only programming errors and std::bad_alloc do.

#include "core/errc.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/assert/source_location.hpp>

namespace vidup::client {

enum class Failure {
  transport,  // connection refused/reset, DNS, timeout, stalled transfer (no HTTP status)
  status,     // the server answered with an unexpected status
  local,      // reading the file failed, it changed, or the server's answer makes no sense
  cancelled,  // the cancel flag was raised (SIGINT/SIGTERM in the CLI)
};

struct Error {
  Failure kind = Failure::local;
  long status = 0;                         // HTTP status for Failure::status, else 0
  core::Errc errc = core::Errc::internal;  // the nearest core error (409 → offset_mismatch, …)
  std::string message;                     // the server's first body line, or what went wrong
  bool retries_exhausted = false;          // a retryable failure that outlived the retry delays

  // "409: ERR_MISMATCHED_OFFSET: …" or "connection refused": one line for people.
  [[nodiscard]] std::string describe() const;
};

// Required by boost::system::result<T, Error>::value() when it holds an error.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

[[nodiscard]] Error make_status_error(long status, std::string_view body);
[[nodiscard]] Error make_local_error(std::string message);

// Where PATCH bodies come from: random access by offset, so a retry can re-read a range.
class Source {
 public:
  virtual ~Source() = default;
  // Reads up to out.size() bytes at `offset`; 0 only at the end. Failure::local on I/O errors.
  [[nodiscard]] virtual Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) = 0;
};

// A regular file, read with pread (thread-safe: the parts of --parallel share one).
class FileSource final : public Source {
 public:
  explicit FileSource(int fd) : fd_(fd) {}
  Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) override;

 private:
  int fd_;
};

// Bytes in memory, addressed from `base` (a chunk of stdin, kept until the server has it).
class MemorySource final : public Source {
 public:
  MemorySource(std::uint64_t base, std::span<const std::byte> bytes) : base_(base), bytes_(bytes) {}
  Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) override;

 private:
  std::uint64_t base_;
  std::span<const std::byte> bytes_;
};

struct ClientOptions {
  std::vector<std::string> headers;  // "Name: value", sent on every request (--header)
  long connect_timeout_s = 30;
  long stall_timeout_s = 30;  // no byte moved for this long → Failure::transport (LOW_SPEED_TIME)
};

// Called from the transfer with the body bytes sent so far in this call; may be called often.
using SentFn = std::function<void(std::uint64_t sent)>;

struct CreateRequest {
  std::string endpoint;                         // the tus creation URL
  std::optional<std::uint64_t> length;          // nullopt → Upload-Defer-Length: 1
  std::string metadata;                         // Upload-Metadata value ("" → not sent)
  std::optional<std::string> concat;            // Upload-Concat value ("partial", "final;…")
  std::vector<std::string> headers;             // extra "Name: value" for this POST only
};

struct UploadStatus {
  std::uint64_t offset = 0;
  std::optional<std::uint64_t> length;  // nullopt while deferred
};

struct PatchRequest {
  std::string url;
  std::uint64_t offset = 0;           // Upload-Offset, and where the Source is read from
  std::uint64_t length = 0;           // body bytes
  std::optional<std::uint64_t> declare_length;  // Upload-Length on this PATCH (deferred length)
  std::optional<std::string> checksum;          // Upload-Checksum value ("sha256 <base64>")
};

class Client {
 public:
  explicit Client(ClientOptions options = {});

  // POST: the absolute upload URL from Location (relative ones resolved against the endpoint).
  [[nodiscard]] Result<std::string> create(const CreateRequest& req, const std::atomic<bool>& cancel) const;
  // HEAD: the server's offset and length.
  [[nodiscard]] Result<UploadStatus> head(const std::string& url, const std::atomic<bool>& cancel) const;
  // PATCH: streams req.length bytes of `source` from req.offset; the new offset on 204.
  [[nodiscard]] Result<std::uint64_t> patch(const PatchRequest& req, Source& source, const SentFn& on_sent,
                                            const std::atomic<bool>& cancel) const;
  // DELETE (termination extension).
  [[nodiscard]] Result<void> terminate(const std::string& url, const std::atomic<bool>& cancel) const;
  // POST a JSON body (the platform API); the response body on 2xx. `headers` add to the defaults.
  [[nodiscard]] Result<std::string> post_json(const std::string& url, const std::string& body,
                                              const std::vector<std::string>& headers,
                                              const std::atomic<bool>& cancel) const;

 private:
  ClientOptions options_;
};

// "http://h:8080/tusupload" → "http://h:8080" (nullopt when it is not an absolute http(s) URL).
[[nodiscard]] std::optional<std::string> origin_of(std::string_view url);
// Location resolved against the URL it answered: absolute, origin-relative or path-relative.
[[nodiscard]] std::string resolve_location(std::string_view base, std::string_view location);

}  // namespace vidup::client
