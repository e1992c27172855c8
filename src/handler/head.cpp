// HEAD: the upload's offset and state (HEAD-01..14).
#include "handler/handler.hpp"

#include "core/headers.hpp"
#include "core/http_date.hpp"
#include "core/integers.hpp"
#include "handler/context.hpp"

namespace vidup::handler {

net::awaitable<std::optional<std::uint64_t>> Handler::final_length(const core::UploadInfo& final_upload) {
  std::uint64_t total = 0;
  for (const auto& id : final_upload.partial_ids) {
    auto partial = co_await stores_.info().get(id);
    if (!partial || !partial->size) {
      co_return std::nullopt;
    }
    if (*partial->size > core::kMaxHeaderInteger - total) {
      co_return std::nullopt;  // past 2^63-1 (deferred partials): not a length (G-10); never completes
    }
    total += *partial->size;
  }
  co_return total;
}

net::awaitable<Response> Handler::head(Ctx& ctx) {
  // HEAD-14: an in-flight PATCH is asked to stop and make its bytes durable, and HEAD waits until
  // it has let go, so the offset reported is exactly what a following PATCH must send (a resuming
  // client's HEAD pre-empts the PATCH its dropped connection left behind). HEADs do not exclude
  // each other: a record is only read.
  if (auto settled = co_await stores_.locker().await_free(ctx.id, config_.lock_wait); !settled) {
    co_return error(Errc::locked);
  }
  auto info = co_await load(ctx.id, ctx.now);
  Response r;
  if (!info) {
    r = error(core::to_errc(info.error()));  // HEAD-05: no Upload-Offset
    r.headers.set(core::kCacheControl, "no-store");
    co_return r;
  }
  r.status = 200;  // HEAD-04
  r.headers.set(core::kCacheControl, "no-store");  // HEAD-03
  const bool final_pending = info->is_final() && !info->is_finished();
  if (!final_pending) {
    set_number(r, core::kUploadOffset, info->offset);  // HEAD-01, HEAD-09, HEAD-10
  }
  if (info->is_final() && !info->size) {
    info->size = co_await final_length(*info);  // CAT-14: known once every partial's is
  }
  if (info->size) {
    set_number(r, core::kUploadLength, *info->size);  // HEAD-02, CAT-14
  } else if (!info->is_final()) {
    r.headers.set(core::kUploadDeferLength, "1");  // HEAD-06
  }
  if (!info->metadata_raw.empty()) {
    r.headers.set(core::kUploadMetadata, info->metadata_raw);  // HEAD-07, H-MD-09
  }
  if (!info->concat_raw.empty()) {
    r.headers.set(core::kUploadConcat, info->concat_raw);  // HEAD-08, CAT-10
  }
  if (info->state == core::UploadState::active && info->expires_at > 0) {
    r.headers.set(core::kUploadExpires, core::format_http_date(info->expires_at));  // HEAD-12
  }
  r.headers.set(core::kContentLength, "0");  // HEAD-11: 200 with Content-Length 0
  co_return r;
}

}  // namespace vidup::handler
