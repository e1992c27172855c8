// The platform as the tus engine's UploadPolicy: who may create an upload (seed 000's presigned
// headers, a Bearer key for server-to-server creation, or nobody with --no-auth), and how upload
// events move a video through created → uploading → uploaded | aborted | expired.
#include "api/platform_impl.hpp"

#include "auth/auth.hpp"

#include <exception>

namespace vidup::api {

namespace {

constexpr std::string_view kSignature = "Signature";
constexpr std::string_view kExpiration = "Expiration";
constexpr std::string_view kVideoId = "Video-Id";
constexpr std::string_view kUntitled = "Untitled";

std::string message_of(const boost::system::error_code& ec) {
  return std::string(core::describe(core::to_errc(ec)).code);
}

}  // namespace

net::awaitable<Result<void>> Platform::Impl::authorize(const Request& request, core::UploadInfo& draft) {
  const auto& h = request.headers;
  if (h.has(kSignature) || h.has(kExpiration) || h.has(kVideoId)) {
    co_return co_await authorize_presigned(request, draft);
  }
  if (auth::bearer_token(h.get("Authorization"))) {
    co_return co_await authorize_bearer(request, draft);
  }
  if (options.no_auth) {
    co_return Result<void>{};
  }
  co_return make_error_code(Errc::missing_credentials);
}

net::awaitable<Result<void>> Platform::Impl::authorize_presigned(const Request& request, core::UploadInfo& draft) {
  const auto& h = request.headers;
  if (h.count(kSignature) > 1 || h.count(kExpiration) > 1 || h.count(kVideoId) > 1) {
    co_return make_error_code(Errc::signature_malformed);
  }
  auto presign = auth::parse_presign(h.get(kSignature), h.get(kExpiration), h.get(kVideoId));
  if (!presign) {
    co_return presign.error();
  }
  auto video = co_await catalog.get_video(presign->video_id);
  if (!video) {
    co_return make_error_code(video.error() == make_error_code(Errc::not_found) ? Errc::video_not_found
                                                                                : core::to_errc(video.error()));
  }
  if (!video->upload_id.empty()) {
    co_return make_error_code(Errc::video_has_upload);
  }
  auto keys = co_await catalog.list_keys();
  if (!keys) {
    co_return make_error_code(core::to_errc(keys.error()));
  }
  std::vector<auth::SigningKey> candidates;
  for (const auto& key : *keys) {
    if (!key.project_id || *key.project_id == video->project_id) {
      candidates.push_back({key.secret, key.revoked});
    }
  }
  auto verified = auth::verify_presign(*presign, now_ms() / 1000, candidates);
  if (!verified) {
    co_return verified;
  }
  if (!reserve(video->id)) {
    co_return make_error_code(Errc::video_has_upload);  // a concurrent creation is being stored
  }
  // A creation that attached (and released its reservation) after our first read is seen now.
  auto again = co_await catalog.get_video(video->id);
  if (!again || !again->upload_id.empty()) {
    release(video->id);
    if (!again) {
      co_return make_error_code(again.error() == make_error_code(Errc::not_found) ? Errc::video_not_found
                                                                                  : core::to_errc(again.error()));
    }
    co_return make_error_code(Errc::video_has_upload);
  }
  draft.owner = video->id;
  co_return Result<void>{};
}

bool Platform::Impl::reserve(const std::string& video_id) {
  const auto now = now_ms();
  const std::lock_guard lock(reservations_mutex);
  std::erase_if(reservations, [now](const auto& entry) { return now - entry.second >= kReservationMs; });
  return reservations.emplace(video_id, now).second;
}

void Platform::Impl::release(const std::string& video_id) {
  const std::lock_guard lock(reservations_mutex);
  reservations.erase(video_id);
}

net::awaitable<Result<void>> Platform::Impl::authorize_bearer(const Request& request, core::UploadInfo& draft) {
  auto key = co_await authenticate(request);
  if (!key) {
    co_return key.error();
  }
  std::string parent_id;
  if (auto meta = draft.metadata.get("parent_id"); meta && !meta->empty()) {
    parent_id = std::string(*meta);
  } else if (key->project_id) {
    parent_id = *key->project_id;
  } else {
    co_return make_error_code(Errc::invalid_field);  // a global key must say where the video goes
  }
  auto project_id = co_await resolve_parent(parent_id, key->project_id);
  if (!project_id) {
    co_return project_id.error();
  }
  store::Video video;
  video.id = auth::new_uuid();
  video.project_id = std::move(*project_id);
  video.parent_id = std::move(parent_id);
  video.filename = metadata_filename(draft.metadata);
  if (auto type = draft.metadata.get("filetype")) {
    video.filetype = std::string(*type);
  }
  if (auto title = draft.metadata.get("title"); title && !title->empty()) {
    video.title = std::string(*title);
  } else {
    video.title = video.filename.empty() ? std::string(kUntitled) : video.filename;
  }
  video.size = draft.size;
  video.created_at = video.updated_at = now_ms();
  if (auto inserted = co_await catalog.insert_video(video); !inserted) {
    co_return inserted;
  }
  draft.owner = video.id;
  co_return Result<void>{};
}

// --- events ------------------------------------------------------------------------------------
// Each handler catches everything: the engine has already made the change durable and must not
// fail the client's request because the catalog lags behind.

net::awaitable<std::optional<store::Video>> Platform::Impl::video_of(const core::UploadInfo& info,
                                                                     std::string_view event) {
  if (info.owner.empty()) {
    co_return std::nullopt;
  }
  auto video = co_await catalog.get_video(info.owner);
  if (!video) {
    if (video.error() != make_error_code(Errc::not_found)) {  // not_found: the video was deleted
      log_failure(event, info.id, message_of(video.error()));
    }
    co_return std::nullopt;
  }
  if (video->upload_id != info.id) {
    co_return std::nullopt;  // an upload that lost a creation race, already terminated
  }
  co_return std::move(*video);
}

net::awaitable<void> Platform::Impl::save(store::Video& video, std::string_view event) {
  video.updated_at = now_ms();
  if (auto updated = co_await catalog.update_video(video); !updated) {
    log_failure(event, video.upload_id, message_of(updated.error()));
  }
}

net::awaitable<void> Platform::Impl::created(const core::UploadInfo& info) {
  if (info.owner.empty()) {
    co_return;
  }
  bool lost_race = false;
  try {
    auto attached = co_await catalog.attach_upload(info.owner, info.id, now_ms());
    release(info.owner);
    if (!attached) {
      if (attached.error() != make_error_code(Errc::video_has_upload)) {
        log_failure("upload_created", info.id, message_of(attached.error()));
        co_return;
      }
      // Two creations raced past authorize_creation: the first one attached keeps the video.
      auto current = co_await catalog.get_video(info.owner);
      lost_race = !current || current->upload_id != info.id;
    }
    if (!lost_race) {
      auto video = co_await video_of(info, "upload_created");
      if (!video) {
        co_return;
      }
      if (!video->size && info.size) {
        video->size = info.size;
      }
      if (video->filename.empty()) {
        video->filename = metadata_filename(info.metadata);
      }
      if (auto type = info.metadata.get("filetype"); video->filetype.empty() && type) {
        video->filetype = std::string(*type);
      }
      co_await save(*video, "upload_created");
      co_return;
    }
  } catch (const std::exception& e) {
    log_failure("upload_created", info.id, e.what());
    co_return;
  }
  try {
    log_failure("upload_created", info.id, "ERR_VIDEO_HAS_UPLOAD: the video got another upload; terminating this one");
    co_await tus.terminate_upload(info.id);
  } catch (const std::exception& e) {
    log_failure("upload_created", info.id, e.what());
  }
}

net::awaitable<void> Platform::Impl::progressed(const core::UploadInfo& info) {
  try {
    auto video = co_await video_of(info, "upload_progress");
    if (!video || video->status == store::VideoStatus::uploaded) {
      co_return;
    }
    video->status = store::VideoStatus::uploading;
    video->bytes_received = info.offset;
    co_await save(*video, "upload_progress");
  } catch (const std::exception& e) {
    log_failure("upload_progress", info.id, e.what());
  }
}

net::awaitable<void> Platform::Impl::finished(const core::UploadInfo& info) {
  try {
    auto video = co_await video_of(info, "upload_finished");
    if (!video) {
      co_return;
    }
    const std::uint64_t size = info.size.value_or(info.offset);
    video->status = store::VideoStatus::uploaded;
    video->size = size;  // the finished upload's length is the truth
    video->bytes_received = size;
    co_await save(*video, "upload_finished");
  } catch (const std::exception& e) {
    log_failure("upload_finished", info.id, e.what());
  }
}

net::awaitable<void> Platform::Impl::ended(const core::UploadInfo& info) {
  try {
    auto video = co_await video_of(info, "upload_ended");
    if (!video) {
      co_return;
    }
    video->status =
        info.state == core::UploadState::terminated ? store::VideoStatus::aborted : store::VideoStatus::expired;
    co_await save(*video, "upload_ended");
  } catch (const std::exception& e) {
    log_failure("upload_ended", info.id, e.what());
  }
}

}  // namespace vidup::api
