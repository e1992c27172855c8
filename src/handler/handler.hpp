#pragma once
// vidup::handler — the tus 1.0.0 engine over the store ports: one verb per file
// (options.cpp, head.cpp, patch.cpp, post.cpp, delete.cpp, get.cpp). No Beast: it sees Request,
// BodySource and Response only.

#include "core/checksum.hpp"
#include "handler/policy.hpp"
#include "handler/request.hpp"
#include "store/composer.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace vidup::handler {

using Clock = std::function<std::int64_t()>;  // unix ms; injectable for tests
[[nodiscard]] std::int64_t system_clock_ms();

struct Config {
  std::string base_path = "/files/";          // ends with '/'
  std::uint64_t max_size = 0;                  // 0 = no limit (Tus-Max-Size omitted)
  std::chrono::milliseconds expiry{std::chrono::hours(24)};  // unfinished uploads; 0 = never
  std::chrono::milliseconds tombstone_ttl{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds lock_wait{std::chrono::seconds(5)};
  std::size_t body_buffer = 256 * 1024;        // bytes per read from the socket
  bool creation = true;
  bool creation_with_upload = true;
  bool defer_length = true;
  bool expiration = true;
  bool checksum = true;
  bool checksum_trailer = true;
  bool termination = true;
  bool concatenation = true;
  bool concatenation_unfinished = true;
  bool get = true;                             // GET of finished uploads (not tus 1.0.0)
};

// Reactions to upload events (the platform layer plugs in here later). Called after the state
// change is durable; must not block.
struct Hooks {
  std::function<void(const core::UploadInfo&)> created;
  std::function<void(const core::UploadInfo&)> progress;
  std::function<void(const core::UploadInfo&)> finished;
  std::function<void(const core::UploadInfo&)> terminated;
};

// Counters exported by /metrics. Lock-free; shared with http/.
struct Counters {
  std::atomic<std::uint64_t> uploads_created{0};
  std::atomic<std::uint64_t> uploads_finished{0};
  std::atomic<std::uint64_t> uploads_terminated{0};
  std::atomic<std::uint64_t> uploads_expired{0};
  std::atomic<std::uint64_t> bytes_received{0};
  std::atomic<std::int64_t> active_writes{0};
};

class Handler {
 public:
  Handler(Config config, store::Composer& stores, Clock clock = system_clock_ms, Hooks hooks = {});

  // Handles one tus request whose path is under config().base_path (or equals it without the
  // trailing slash). Never throws for anything a client can cause.
  net::awaitable<Response> handle(Request& request);

  // Plugs in the platform layer (nullptr: anonymous creation, no events). Not owned.
  void use_policy(UploadPolicy* policy) { policy_ = policy; }

  // Creates an upload without an HTTP request (the platform's /v2/init). `draft` carries size
  // (or nullopt for a deferred length if enabled), metadata_raw/metadata and owner; everything
  // else is filled in. Returns the stored record. Errc::max_size_exceeded past --max-size.
  net::awaitable<Result<core::UploadInfo>> create_upload(core::UploadInfo draft);
  // Terminates an upload the way DELETE does (the platform deletes a video). Unknown → not_found.
  net::awaitable<Result<void>> terminate_upload(const std::string& id);
  // The upload URL of an id, on the given base URL.
  [[nodiscard]] std::string upload_url(std::string_view base_url, const std::string& id) const;

  // Start-up: reconciles every active upload's record with its stored bytes (after a crash the
  // bytes are the truth, see docs/decisions/0001-offset-truth.md). Returns how many changed.
  net::awaitable<Result<std::size_t>> recover();

  // One sweep: expires unfinished uploads past Upload-Expires (bytes removed, tombstone kept
  // for 410) and purges old tombstones. Returns how many uploads expired.
  net::awaitable<Result<std::size_t>> sweep();

  [[nodiscard]] const Config& config() const { return config_; }
  [[nodiscard]] Counters& counters() { return counters_; }
  // The Tus-Extension value advertised, from config and the Composer's capabilities.
  [[nodiscard]] std::string extensions() const;

 private:
  struct Ctx;
  // How a body's integrity is checked: a digest from the header, one expected in a trailer, or
  // none.
  struct ChecksumSpec {
    std::optional<core::ChecksumHeader> header;
    bool trailer = false;
    [[nodiscard]] bool any() const { return header.has_value() || trailer; }
  };

  net::awaitable<Response> route(Ctx& ctx);
  net::awaitable<Response> options(Ctx& ctx);
  net::awaitable<Response> head(Ctx& ctx);
  net::awaitable<Response> patch(Ctx& ctx);
  net::awaitable<Response> post(Ctx& ctx);
  net::awaitable<Response> del(Ctx& ctx);
  net::awaitable<Response> get(Ctx& ctx);

  [[nodiscard]] Response error(Errc e) const;
  [[nodiscard]] std::string location(const Request& request, const std::string& id) const;
  [[nodiscard]] bool expiring() const;
  [[nodiscard]] std::int64_t next_expiry(std::int64_t now) const;
  [[nodiscard]] Result<ChecksumSpec> checksum_spec(const Request& request) const;
  // Loads a live upload: not_found for unknown ids, gone for tombstones and for uploads whose
  // Upload-Expires has passed (EXP-08), even before the sweeper ran.
  net::awaitable<Result<core::UploadInfo>> load(const std::string& id, std::int64_t now);
  // Streams the request body into the upload at info.offset, enforcing the length, the max size
  // and the checksum; persists the new offset (and completion) before returning. On any error,
  // what was stored and acknowledged is still consistent: info.offset is the durable offset.
  net::awaitable<Errc> append_body(core::UploadInfo& info, BodySource& body, const ChecksumSpec& checksum);
  // Durably records a change of offset/size/state and runs the hooks.
  net::awaitable<Result<void>> save_progress(core::UploadInfo& info, std::uint64_t new_offset);
  // Completes every final upload that was waiting for `partial` (concatenation-unfinished).
  net::awaitable<void> complete_waiting_finals(const core::UploadInfo& partial);
  // Concatenates a final upload whose partials are all finished; a no-op otherwise.
  net::awaitable<Result<void>> try_complete_final(const std::string& final_id);
  // The sum of a final upload's partial lengths, once every one is known (CAT-14).
  net::awaitable<std::optional<std::uint64_t>> final_length(const core::UploadInfo& final_upload);
  enum class Event { created, progress, finished, ended };
  // Tells the hooks and the policy; partials fire no business event (CAT-03).
  net::awaitable<void> notify(Event event, const core::UploadInfo& info);
  // Stores a new upload's bytes and record; the policy was already asked.
  net::awaitable<Result<void>> store_new(core::UploadInfo& info);
  // Removes the bytes of an upload and keeps a tombstone in `state`.
  net::awaitable<Result<void>> bury(core::UploadInfo& info, core::UploadState state);

  Config config_;
  store::Composer& stores_;
  Clock clock_;
  Hooks hooks_;
  Counters counters_;
  UploadPolicy* policy_ = nullptr;
};

}  // namespace vidup::handler
