#pragma once
// A small blocking S3 client over libcurl, for the S3 DataStore: one request per call, signed
// with SigV4 by CURLOPT_AWS_SIGV4, on easy handles kept in a pool so connections are reused.
// Call it only from the blocking pool (run_blocking), never from an I/O thread.
//
// Nothing here logs or returns the secret key, the session token or the Authorization header.

#include "store/s3/s3_config.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vidup::store::s3 {

struct Request {
  const char* method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string key;             // object key, not encoded; "" addresses the bucket
  std::string query;           // already encoded, parameters sorted by name (SigV4's canonical order)
  std::vector<std::string> headers;   // extra "Name: value" lines
  std::span<const std::byte> body;    // PUT/POST payload (signed with its SHA-256)
  // GET: the object's bytes land here; more bytes than into.size() fail the request.
  std::span<std::byte> into;
};

struct Response {
  long status = 0;              // 0: no HTTP answer (transport failure, see `transport`)
  std::string code;             // S3's <Code> on an error answer, e.g. "NoSuchKey"
  std::string transport;        // curl's description when status == 0
  std::string body;             // the answer's XML (not filled for a GET into a buffer)
  std::string etag;             // ETag header, quotes kept
  std::optional<std::uint64_t> content_length;
  std::size_t received = 0;     // GET into a buffer: bytes written there

  [[nodiscard]] bool ok() const { return status >= 200 && status < 300 && code.empty(); }
  [[nodiscard]] bool missing() const { return status == 404; }
  // "403 SignatureDoesNotMatch", "connection refused": what went wrong, without secrets.
  [[nodiscard]] std::string describe() const;
};

class Client {
 public:
  explicit Client(S3Config config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one request; retries transport failures and 5xx answers a few times (every request
  // this store sends is safe to repeat). Blocking.
  Response perform(const Request& r);

  // For a server that is stopping: every request in progress fails within about a second, and
  // every later one at once, without retries (status 0, transport "cancelled"). One-way.
  void cancel_all() { cancelled_.store(true); }
  [[nodiscard]] bool cancelled() const { return cancelled_.load(); }

  // Tests only (fault injection): from now on every request is first shown to `hook`; an answer
  // it returns is taken instead of sending the request. Called on the blocking pool, possibly
  // from several threads at once. An empty function removes the hook.
  using Hook = std::function<std::optional<Response>(const Request&)>;
  void set_hook_for_tests(Hook hook);

  [[nodiscard]] const S3Config& config() const { return config_; }
  // The full key of `name` under the configured prefix.
  [[nodiscard]] std::string key(std::string_view name) const;

 private:
  void* acquire();
  void release(void* handle);
  Response perform_once(void* handle, const Request& r);

  S3Config config_;
  std::string sigv4_;        // "aws:amz:REGION:s3"
  std::string bucket_base_;  // scheme://host[:port]/bucket or scheme://bucket.host[:port]
  std::mutex mutex_;
  std::vector<void*> idle_;  // CURL* easy handles with live connections
  std::shared_ptr<const Hook> hook_;  // guarded by mutex_
  std::atomic<bool> cancelled_{false};
};

// URI-encodes everything but RFC 3986 unreserved characters (and '/' when keep_slash).
std::string uri_encode(std::string_view s, bool keep_slash);

// The decoded text of each <tag>...</tag> in `xml`, in order (flat documents only).
std::vector<std::string> xml_values(std::string_view xml, std::string_view tag);
std::optional<std::string> xml_value(std::string_view xml, std::string_view tag);
// The raw inside of each <tag>...</tag> element, for nested lists (<Part>, <Contents>, <Upload>).
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag);

}  // namespace vidup::store::s3
