#include "handler/handler.hpp"

#include "core/headers.hpp"
#include "core/http_date.hpp"
#include "core/ids.hpp"
#include "handler/context.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <tuple>

namespace vidup::handler {

namespace {

using core::UploadInfo;
using core::UploadState;

// Headers that may appear once at most (G-11).
constexpr std::string_view kSingletons[] = {
    core::kTusResumable,   core::kUploadOffset,   core::kUploadLength, core::kUploadDeferLength,
    core::kUploadMetadata, core::kUploadConcat,   core::kUploadChecksum, core::kContentType,
    core::kMethodOverride,
};

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

bool trailer_announces_checksum(std::string_view trailer) {
  // `Trailer: Upload-Checksum` or a comma-separated list containing it.
  std::size_t pos = 0;
  while (pos <= trailer.size()) {
    auto comma = trailer.find(',', pos);
    auto token = trailer.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) {
      token.remove_prefix(1);
    }
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
      token.remove_suffix(1);
    }
    if (iequals(token, core::kUploadChecksum)) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    pos = comma + 1;
  }
  return false;
}

}  // namespace

std::int64_t system_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Handler::Handler(Config config, store::Composer& stores, Clock clock, Hooks hooks)
    : config_(std::move(config)), stores_(stores), clock_(std::move(clock)), hooks_(std::move(hooks)) {
  if (config_.base_path.empty() || config_.base_path.back() != '/') {
    config_.base_path.push_back('/');
  }
}

std::string Handler::extensions() const {
  std::string out;
  auto add = [&](bool on, std::string_view name) {
    if (!on) {
      return;
    }
    if (!out.empty()) {
      out += ',';
    }
    out += name;
  };
  const bool concat = config_.concatenation && stores_.concater() != nullptr;
  add(config_.creation, core::kExtCreation);
  add(config_.creation && config_.creation_with_upload, core::kExtCreationWithUpload);
  add(config_.creation && config_.defer_length && stores_.can_defer_length(), core::kExtCreationDeferLength);
  add(expiring(), core::kExtExpiration);
  add(config_.checksum, core::kExtChecksum);
  add(config_.checksum && config_.checksum_trailer, core::kExtChecksumTrailer);
  add(config_.termination && stores_.can_terminate(), core::kExtTermination);
  add(config_.creation && concat, core::kExtConcatenation);
  add(config_.creation && concat && config_.concatenation_unfinished, core::kExtConcatenationUnfinished);
  return out;
}

bool Handler::expiring() const { return config_.expiration && config_.expiry.count() > 0; }

std::int64_t Handler::next_expiry(std::int64_t now) const { return expiring() ? now + config_.expiry.count() : 0; }

Response Handler::error(Errc e) const {
  const auto d = core::describe(e);
  Response r;
  r.status = d.status;
  r.headers.set(core::kContentType, "text/plain; charset=utf-8");
  r.body.reserve(d.code.size() + d.message.size() + 3);
  r.body.append(d.code).append(": ").append(d.message).append("\n");
  if (e == Errc::unsupported_version) {
    r.headers.set(core::kTusVersionHeader, std::string(core::kTusVersion));
  }
  return r;
}

std::string Handler::location(const Request& request, const std::string& id) const {
  return request.base_url + config_.base_path + id;
}

Result<Handler::ChecksumSpec> Handler::checksum_spec(const Request& request) const {
  ChecksumSpec spec;
  if (!config_.checksum) {
    return spec;
  }
  if (auto h = request.headers.get(core::kUploadChecksum)) {
    auto parsed = core::parse_checksum(*h);
    if (!parsed) {
      return parsed.error();
    }
    spec.header = *parsed;
  }
  if (auto t = request.headers.get(core::kTrailer); t && config_.checksum_trailer && trailer_announces_checksum(*t)) {
    if (spec.header) {
      return make_error_code(Errc::ambiguous_checksum);  // CKT-04
    }
    spec.trailer = true;
  }
  return spec;
}

net::awaitable<Result<UploadInfo>> Handler::load(const std::string& id, std::int64_t now) {
  auto info = co_await stores_.info().get(id);
  if (!info) {
    co_return info.error();
  }
  if (info->is_tombstone()) {
    co_return make_error_code(Errc::gone);
  }
  if (info->state == UploadState::active && info->expires_at > 0 && now >= info->expires_at) {
    co_return make_error_code(Errc::gone);  // EXP-08: enforced before the sweeper runs
  }
  co_return info;
}

net::awaitable<Response> Handler::handle(Request& request) {
  Ctx ctx{request, request.method, {}, clock_()};
  if (auto override_method = request.headers.get(core::kMethodOverride)) {
    ctx.method = upper(*override_method);  // G-06
  }
  Response response = co_await route(ctx);
  response.headers.set(core::kTusResumable, std::string(core::kTusVersion));  // G-01, G-02, OPT-06
  response.headers.set(core::kNoSniff, "nosniff");
  if (response.upload_id.empty()) {
    response.upload_id = ctx.id;
  }
  co_return response;
}

net::awaitable<Response> Handler::route(Ctx& ctx) {
  const Request& req = ctx.request;
  const auto& base = config_.base_path;
  std::string_view path = req.path;
  const bool collection = path == base || path == std::string_view(base).substr(0, base.size() - 1);
  if (!collection) {
    if (!path.starts_with(base)) {
      co_return error(Errc::not_found);
    }
    path.remove_prefix(base.size());
    if (path.ends_with('/')) {
      path.remove_suffix(1);  // EDGE-17: a trailing slash resolves identically
    }
    ctx.id = std::string(path);
  }

  if (ctx.method == "OPTIONS") {
    co_return co_await options(ctx);  // OPT-05: Tus-Resumable is ignored on OPTIONS
  }
  if (ctx.method == "GET") {
    co_return collection ? error(Errc::method_not_allowed) : co_await get(ctx);  // GET-04
  }
  for (auto name : kSingletons) {
    if (req.headers.count(name) > 1) {
      co_return error(Errc::duplicate_header);  // G-11
    }
  }
  // G-03/G-05: POST, PATCH and DELETE must carry our version; HEAD may omit it (browsers and
  // tusd's leniency) but may not name another one.
  const auto version = req.headers.get(core::kTusResumable);
  const bool is_head = ctx.method == "HEAD";
  if ((version && *version != core::kTusVersion) || (!version && !is_head)) {
    co_return error(Errc::unsupported_version);
  }

  if (collection) {
    if (ctx.method == "POST" && config_.creation) {
      co_return co_await post(ctx);
    }
    Response r = error(Errc::method_not_allowed);
    r.headers.set(core::kAllow, config_.creation ? "OPTIONS, POST" : "OPTIONS");
    co_return r;
  }
  if (!core::is_valid_upload_id(ctx.id)) {
    co_return error(Errc::not_found);  // EDGE-17: never a store lookup for `..` or junk
  }
  if (ctx.method == "HEAD") {
    co_return co_await head(ctx);
  }
  if (ctx.method == "PATCH") {
    co_return co_await patch(ctx);
  }
  if (ctx.method == "DELETE" && config_.termination && stores_.can_terminate()) {
    co_return co_await del(ctx);
  }
  Response r = error(Errc::method_not_allowed);  // G-09, POST-12, H-EXT-03
  r.headers.set(core::kAllow, config_.termination && stores_.can_terminate() ? "OPTIONS, HEAD, PATCH, DELETE, GET"
                                                                            : "OPTIONS, HEAD, PATCH, GET");
  co_return r;
}

net::awaitable<Result<void>> Handler::save_progress(UploadInfo& info, std::uint64_t new_offset) {
  const auto now = clock_();
  const bool advanced = new_offset != info.offset;
  const bool was_finished = info.is_finished();
  // On a failed update `info` is put back as stored, so the caller reports the recorded offset.
  const auto before = std::tuple(info.offset, info.updated_at, info.state, info.expires_at);
  info.offset = new_offset;
  info.updated_at = now;
  if (info.size && info.offset == *info.size) {
    info.state = UploadState::finished;
    info.expires_at = 0;  // EXP-07: finished uploads are kept
  } else if (advanced) {
    info.expires_at = next_expiry(now);  // H-EXP-04: sliding expiry
  }
  auto saved = co_await stores_.info().update(info);
  if (!saved) {
    std::tie(info.offset, info.updated_at, info.state, info.expires_at) = before;
    co_return saved;
  }
  if (info.is_finished() && !was_finished) {  // side effects once, on the transition (POST-06)
    ++counters_.uploads_finished;
    co_await notify(Event::finished, info);
    if (info.is_partial() && config_.concatenation_unfinished) {
      co_await complete_waiting_finals(info);
    }
  } else if (advanced) {
    co_await notify(Event::progress, info);
  }
  co_return Result<void>{};
}

net::awaitable<void> Handler::notify(Event event, const UploadInfo& info) {
  if (info.is_partial()) {
    co_return;  // CAT-03: a partial is not the user's upload; its final is
  }
  const std::function<void(const UploadInfo&)>* hook = nullptr;
  switch (event) {
    case Event::created:
      hook = &hooks_.created;
      break;
    case Event::progress:
      hook = &hooks_.progress;
      break;
    case Event::finished:
      hook = &hooks_.finished;
      break;
    case Event::ended:
      hook = &hooks_.terminated;
      break;
  }
  if (*hook) {
    (*hook)(info);
  }
  if (policy_ == nullptr) {
    co_return;
  }
  switch (event) {
    case Event::created:
      co_await policy_->on_created(info);
      break;
    case Event::progress:
      co_await policy_->on_progress(info);
      break;
    case Event::finished:
      co_await policy_->on_finished(info);
      break;
    case Event::ended:
      co_await policy_->on_ended(info);
      break;
  }
}

std::string Handler::upload_url(std::string_view base_url, const std::string& id) const {
  return std::string(base_url) + config_.base_path + id;
}

net::awaitable<Result<void>> Handler::store_new(UploadInfo& info) {
  info.id = core::new_upload_id();
  const bool complete_now = !info.is_final() && info.size && *info.size == 0;
  if (complete_now) {
    info.state = UploadState::finished;  // POST-06
    info.expires_at = 0;
  } else if (!info.is_final()) {
    // A final has nothing to PATCH that could keep it alive; it lives as long as its partials
    // (CATU-04 removes it when one of them goes).
    info.expires_at = next_expiry(info.created_at);
  }
  auto created = co_await stores_.data().create(info);
  if (!created) {
    co_return created;
  }
  auto inserted = co_await stores_.info().insert(info);
  if (!inserted) {
    co_await stores_.data().remove(info.id);
    co_return inserted;
  }
  ++counters_.uploads_created;
  co_await notify(Event::created, info);
  if (complete_now) {
    ++counters_.uploads_finished;
    co_await notify(Event::finished, info);
  }
  co_return Result<void>{};
}

net::awaitable<Result<UploadInfo>> Handler::create_upload(UploadInfo draft) {
  UploadInfo info;
  info.size = draft.size;
  info.metadata_raw = std::move(draft.metadata_raw);
  info.metadata = std::move(draft.metadata);
  info.owner = std::move(draft.owner);
  info.created_at = info.updated_at = clock_();
  if (!info.size && !(config_.defer_length && stores_.can_defer_length())) {
    co_return make_error_code(Errc::missing_length);
  }
  if (info.size && config_.max_size > 0 && *info.size > config_.max_size) {
    co_return make_error_code(Errc::max_size_exceeded);
  }
  auto stored = co_await store_new(info);
  if (!stored) {
    co_return stored.error();
  }
  co_return info;
}

net::awaitable<Result<void>> Handler::bury(UploadInfo& info, UploadState state) {
  auto removed = co_await stores_.data().remove(info.id);
  if (!removed) {
    co_return removed;
  }
  info.state = state;
  info.updated_at = clock_();
  info.expires_at = 0;
  co_return co_await stores_.info().update(info);
}

net::awaitable<Result<std::size_t>> Handler::recover() {
  auto active = co_await stores_.info().list_active();
  if (!active) {
    co_return active.error();
  }
  std::size_t changed = 0;
  for (auto& info : *active) {
    if (info.is_final()) {
      continue;  // a final has no bytes of its own until it is concatenated
    }
    auto stored = co_await stores_.data().recover(info);
    if (!stored) {
      if (stored.error() == make_error_code(Errc::not_found)) {
        // The record outlived its bytes (a crash between the two at creation): nothing was ever
        // acknowledged beyond a 201, so the upload is gone for its client.
        if (co_await bury(info, UploadState::expired)) {
          ++changed;
        }
      }
      continue;
    }
    // The stored bytes are the truth (docs/decisions/0001-offset-truth.md); they never exceed
    // the length because writers are capped at it.
    const std::uint64_t offset = info.size ? std::min(*stored, *info.size) : *stored;
    if (offset != info.offset || (info.size && offset == *info.size && !info.is_finished())) {
      if (co_await save_progress(info, offset)) {
        ++changed;
      }
    }
  }
  for (auto& info : *active) {
    if (info.is_final()) {
      co_await try_complete_final(info.id);
    }
  }
  // Bytes no record names: a crash between the two writes of a creation (the data comes first),
  // before any 201. No client knows the id, so they go.
  if (auto stored = co_await stores_.data().stored_ids()) {
    for (const auto& id : *stored) {
      auto known = co_await stores_.info().get(id);
      if (!known && known.error() == make_error_code(Errc::not_found) && co_await stores_.data().remove(id)) {
        ++changed;
      }
    }
  }
  co_return changed;
}

net::awaitable<Result<std::size_t>> Handler::sweep() {
  const auto now = clock_();
  std::size_t expired = 0;
  auto due = co_await stores_.info().list_expired(now, 1000);
  if (!due) {
    co_return due.error();
  }
  for (auto& candidate : *due) {
    // EXP-09: under the upload's lock, so a racing PATCH sees either the upload or a tombstone.
    auto lock = co_await stores_.locker().acquire(candidate.id, [] {}, config_.lock_wait);
    if (!lock) {
      continue;  // busy: an active writer will move its expiry; try again next sweep
    }
    auto info = co_await stores_.info().get(candidate.id);
    if (!info || info->state != UploadState::active || info->expires_at == 0 || info->expires_at > now) {
      continue;
    }
    if (co_await bury(*info, UploadState::expired)) {
      ++expired;
      ++counters_.uploads_expired;
      co_await notify(Event::ended, *info);
    }
    if (info->is_partial()) {
      // CATU-04: a final waiting for an expired partial can never complete.
      if (auto finals = co_await stores_.info().finals_waiting_on(info->id)) {
        for (auto& f : *finals) {
          co_await bury(f, UploadState::expired);
        }
      }
    }
  }
  co_await stores_.info().purge_tombstones(now - config_.tombstone_ttl.count());
  co_return expired;
}

}  // namespace vidup::handler
