// POST: creation, creation-with-upload, creation-defer-length and concatenation
// (POST-01..12, CWU-01..09, CDL-*, CAT-*).
#include "handler/handler.hpp"

#include "core/headers.hpp"
#include "core/http_date.hpp"
#include "core/ids.hpp"
#include "core/integers.hpp"
#include "handler/context.hpp"

namespace vidup::handler {

namespace {

using core::UploadInfo;
using core::UploadState;


// Which part of a partial URL names the upload. Absolute URLs must point at this server
// (CAT-18); relative ones must be under the base path (H-CC-02).
Result<std::string> partial_id_from_url(std::string_view url, std::string_view base_url, std::string_view base_path) {
  if (url.starts_with("http://") || url.starts_with("https://")) {
    if (!url.starts_with(base_url) || url.size() == base_url.size() || url[base_url.size()] != '/') {
      return make_error_code(Errc::foreign_partial);
    }
    url.remove_prefix(base_url.size());
  }
  if (!url.starts_with(base_path)) {
    return make_error_code(Errc::partial_not_found);
  }
  url.remove_prefix(base_path.size());
  if (!core::is_valid_upload_id(url)) {
    return make_error_code(Errc::partial_not_found);
  }
  return std::string(url);
}

}  // namespace

net::awaitable<Response> Handler::post(Ctx& ctx) {
  Request& req = ctx.request;
  UploadInfo info;
  info.created_at = info.updated_at = ctx.now;

  // Upload-Concat (H-CC-01..03).
  std::vector<UploadInfo> partials;
  const bool concat_on = config_.concatenation && stores_.concater() != nullptr;
  if (auto h = req.headers.get(core::kUploadConcat); h && concat_on) {
    auto parsed = core::parse_concat(*h);
    if (!parsed) {
      co_return error(Errc::invalid_concat);
    }
    info.concat = parsed->kind;
    info.concat_raw = std::string(*h);
    if (parsed->kind == core::ConcatKind::final_upload) {
      if (req.headers.has(core::kUploadLength) || req.headers.has(core::kUploadDeferLength)) {
        co_return error(Errc::concat_with_length);  // CAT-06
      }
      if (req.body->has_body()) {
        co_return error(Errc::modify_final);  // CAT-08, CWU-09
      }
      for (const auto& url : parsed->urls) {
        auto id = partial_id_from_url(url, req.base_url, config_.base_path);
        if (!id) {
          co_return error(core::to_errc(id.error()));  // CAT-17, CAT-18
        }
        auto partial = co_await stores_.info().get(*id);
        if (!partial || partial->is_tombstone()) {
          co_return error(Errc::partial_not_found);  // CAT-17
        }
        if (!partial->is_partial()) {
          co_return error(Errc::not_a_partial);  // CAT-17
        }
        if (!partial->is_finished() && !config_.concatenation_unfinished) {
          co_return error(Errc::concat_unfinished);  // CAT-07
        }
        info.partial_ids.push_back(*id);
        partials.push_back(std::move(*partial));
      }
      std::uint64_t total = 0;
      bool known = true;
      for (const auto& p : partials) {
        known = known && p.size.has_value();
        // The sum must stay a length the protocol can carry (G-10): no wrap, no > 2^63-1
        // (found by fuzz_request).
        if (p.size.value_or(0) > core::kMaxHeaderInteger - total) {
          co_return error(Errc::max_size_exceeded);
        }
        total += p.size.value_or(0);
      }
      if (known) {
        if (config_.max_size > 0 && total > config_.max_size) {
          co_return error(Errc::max_size_exceeded);
        }
        info.size = total;  // CAT-05
      }
    }
  }

  // Upload-Length / Upload-Defer-Length (POST-02, H-DEF-01..03, CDL-10).
  if (!info.is_final()) {
    auto length = req.headers.get(core::kUploadLength);
    auto defer = req.headers.get(core::kUploadDeferLength);
    if (length && defer) {
      co_return error(Errc::ambiguous_length);  // H-DEF-03
    }
    if (defer) {
      if (*defer != "1") {
        co_return error(Errc::invalid_defer_length);  // H-DEF-02
      }
      if (!(config_.defer_length && stores_.can_defer_length())) {
        co_return error(Errc::invalid_defer_length);  // CDL-10
      }
    } else if (length) {
      auto parsed = core::parse_uint(*length, Errc::invalid_length);
      if (!parsed) {
        co_return error(Errc::invalid_length);  // H-LEN-01, G-10
      }
      if (config_.max_size > 0 && *parsed > config_.max_size) {
        co_return error(Errc::max_size_exceeded);  // H-MAX-03, POST-05
      }
      info.size = *parsed;
    } else {
      co_return error(Errc::missing_length);  // POST-02
    }
  }

  // Upload-Metadata (H-MD-*). An empty header is treated as absent (H-MD-10).
  if (auto h = req.headers.get(core::kUploadMetadata)) {
    auto parsed = core::parse_metadata(*h);
    if (!parsed) {
      co_return error(Errc::invalid_metadata);
    }
    info.metadata = std::move(*parsed);
    if (!info.metadata.empty()) {
      info.metadata_raw = std::string(*h);
    }
  }

  // creation-with-upload (CWU-03..08): everything that can fail is checked before the body.
  const bool with_body = req.body->has_body();
  auto checksum = checksum_spec(req);
  if (with_body) {
    if (!config_.creation_with_upload) {
      co_return error(Errc::bad_request);
    }
    if (!is_offset_stream(req.headers.get(core::kContentType))) {
      co_return error(Errc::invalid_content_type);  // CWU-08, POST-09
    }
    if (!checksum) {
      co_return error(core::to_errc(checksum.error()));
    }
    if (auto declared = req.body->content_length(); declared && info.size && *declared > *info.size) {
      co_return error(Errc::size_exceeded);  // CWU-07, before reading
    }
  }

  if (policy_ != nullptr) {
    auto allowed = co_await policy_->authorize_creation(req, info);  // POST-10: before storage
    if (!allowed) {
      co_return error(core::to_errc(allowed.error()));
    }
  }
  auto stored = co_await store_new(info);
  if (!stored) {
    co_return error(core::to_errc(stored.error()));
  }
  if (info.is_final()) {
    // CAT-04 now, or CATU-02 once the last partial finishes.
    auto done = co_await try_complete_final(info.id);
    if (!done) {
      co_return error(core::to_errc(done.error()));
    }
    if (auto fresh = co_await stores_.info().get(info.id)) {
      info = std::move(*fresh);
    }
  }

  Response r;
  r.status = 201;  // POST-03
  r.upload_id = info.id;
  r.headers.set(core::kLocation, location(req, info.id));  // H-LOC-01
  if (with_body) {
    const Errc failure = co_await append_body(info, *req.body, *checksum);
    r.bytes_received = info.offset;
    if (failure != Errc::ok) {
      // The upload exists with what was stored (CWU-05, CWU-08); Location lets a client resume.
      Response e = error(failure);
      e.upload_id = info.id;
      e.close = true;
      e.headers.set(core::kLocation, location(req, info.id));
      set_number(e, core::kUploadOffset, info.offset);
      co_return e;
    }
    set_number(r, core::kUploadOffset, info.offset);  // CWU-04
  }
  if (info.state == UploadState::active && info.expires_at > 0) {
    r.headers.set(core::kUploadExpires, core::format_http_date(info.expires_at));  // H-EXP-03
  }
  co_return r;
}

net::awaitable<Result<void>> Handler::try_complete_final(const std::string& final_id) {
  auto lock = co_await stores_.locker().acquire(final_id, [] {}, config_.lock_wait);
  if (!lock) {
    co_return lock.error();
  }
  auto info = co_await stores_.info().get(final_id);
  if (!info) {
    co_return info.error();
  }
  if (info->state != UploadState::active) {
    co_return Result<void>{};
  }
  std::vector<UploadInfo> partials;
  std::uint64_t total = 0;
  for (const auto& id : info->partial_ids) {
    auto p = co_await stores_.info().get(id);
    if (!p || p->is_tombstone()) {
      co_return co_await bury(*info, UploadState::expired);  // CATU-04
    }
    if (!p->is_finished()) {
      co_return Result<void>{};  // CATU-02: later, when the last partial finishes
    }
    total += p->offset;
    partials.push_back(std::move(*p));
  }
  auto joined = co_await stores_.concater()->concatenate(*info, partials);
  if (!joined) {
    co_return joined;
  }
  info->size = total;
  co_return co_await save_progress(*info, total);  // CAT-13: offset == length
}

net::awaitable<void> Handler::complete_waiting_finals(const UploadInfo& partial) {
  auto finals = co_await stores_.info().finals_waiting_on(partial.id);
  if (!finals) {
    co_return;
  }
  for (const auto& f : *finals) {
    co_await try_complete_final(f.id);
  }
}

}  // namespace vidup::handler
