// DELETE: termination (DEL-01..10).
#include "handler/handler.hpp"

#include "handler/context.hpp"

namespace vidup::handler {

net::awaitable<Response> Handler::del(Ctx& ctx) {
  auto done = co_await terminate_upload(ctx.id);
  if (!done) {
    co_return error(core::to_errc(done.error()));  // DEL-04, DEL-05, 423
  }
  Response r;
  r.status = 204;  // DEL-02
  co_return r;
}

net::awaitable<Result<void>> Handler::terminate_upload(const std::string& id) {
  // DEL-07: the lock pre-empts an in-flight PATCH, which stops before the bytes are removed.
  auto lock = co_await stores_.locker().acquire(id, [] {}, config_.lock_wait);
  if (!lock) {
    co_return lock.error();
  }
  auto info = co_await stores_.info().get(id);
  if (!info) {
    co_return info.error();  // DEL-05
  }
  if (info->is_tombstone()) {
    co_return make_error_code(Errc::gone);  // DEL-04
  }
  // DEL-08: a finished final owns a copy of its partials' bytes, so deleting a partial never
  // touches it; a final still waiting for this partial can no longer complete and goes too.
  if (info->is_partial()) {
    if (auto finals = co_await stores_.info().finals_waiting_on(info->id)) {
      for (auto& f : *finals) {
        co_await bury(f, core::UploadState::terminated);
        co_await notify(Event::ended, f);
      }
    }
  }
  auto buried = co_await bury(*info, core::UploadState::terminated);
  if (!buried) {
    co_return buried;
  }
  ++counters_.uploads_terminated;
  co_await notify(Event::ended, *info);  // DEL-10
  co_return Result<void>{};
}

}  // namespace vidup::handler
