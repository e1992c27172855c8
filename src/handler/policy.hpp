#pragma once
// What a layer above the tus engine (the video platform) plugs into it. The engine knows nothing
// of videos: it asks the policy before creating an upload and tells it what happened after.

#include "core/errc.hpp"
#include "core/upload_info.hpp"
#include "handler/request.hpp"

#include <boost/asio/awaitable.hpp>

namespace vidup::handler {

class UploadPolicy {
 public:
  virtual ~UploadPolicy() = default;
  // POST-10: called before any storage is allocated, after the tus headers were validated. May
  // refuse (Errc::missing_credentials, Errc::signature_expired, ...) and may set draft.owner or
  // add metadata. Runs on the request's strand.
  virtual net::awaitable<Result<void>> authorize_creation(const Request& request, core::UploadInfo& draft) = 0;
  // After the state change is durable. Must not throw; failures are the policy's to log.
  virtual net::awaitable<void> on_created(core::UploadInfo info) = 0;
  virtual net::awaitable<void> on_progress(core::UploadInfo info) = 0;
  virtual net::awaitable<void> on_finished(core::UploadInfo info) = 0;
  // Terminated (DELETE) or expired (sweep).
  virtual net::awaitable<void> on_ended(core::UploadInfo info) = 0;
};

}  // namespace vidup::handler
