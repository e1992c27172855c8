// DELETE: termination (DEL-01..10).
#include "handler/handler.hpp"

#include "handler/context.hpp"

namespace vidup::handler {

net::awaitable<Response> Handler::del(Ctx& ctx) {
  // DEL-07: the lock pre-empts an in-flight PATCH, which stops before the bytes are removed.
  auto lock = co_await stores_.locker().acquire(ctx.id, [] {}, config_.lock_wait);
  if (!lock) {
    co_return error(Errc::locked);
  }
  auto info = co_await stores_.info().get(ctx.id);
  if (!info) {
    co_return error(core::to_errc(info.error()));  // DEL-05
  }
  if (info->is_tombstone()) {
    co_return error(Errc::gone);  // DEL-04
  }
  // DEL-08: a finished final owns a copy of its partials' bytes, so deleting a partial never
  // touches it; a final still waiting for this partial can no longer complete and goes too.
  if (info->is_partial()) {
    if (auto finals = co_await stores_.info().finals_waiting_on(info->id)) {
      for (auto& f : *finals) {
        co_await bury(f, core::UploadState::terminated);
      }
    }
  }
  auto buried = co_await bury(*info, core::UploadState::terminated);
  if (!buried) {
    co_return error(core::to_errc(buried.error()));
  }
  ++counters_.uploads_terminated;
  if (hooks_.terminated) {
    hooks_.terminated(*info);  // DEL-10
  }
  Response r;
  r.status = 204;  // DEL-02
  co_return r;
}

}  // namespace vidup::handler
