#include "store/postgres/pg_info_store.hpp"

#include "store/postgres/pg_session.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace vidup::store {

namespace {

using core::ConcatKind;
using core::Errc;
using pg_detail::changed_one;
using pg_detail::Kind;
using pg_detail::Rows;
using pg_detail::Session;

boost::system::error_code fail(Errc e) { return core::make_error_code(e); }

// Stored as smallint: the index in this table is the code (part of the schema, as in SQLite).
constexpr std::array kConcatCodes = {ConcatKind::none, ConcatKind::partial, ConcatKind::final_upload};

std::int64_t concat_code(ConcatKind k) {
  return std::find(kConcatCodes.begin(), kConcatCodes.end(), k) - kConcatCodes.begin();
}

// Every read returns the record's columns then one partial id (NULL when none): a final with n
// partials comes as n rows, in idx order, which read_uploads folds back into one record.
const std::string kSelect =
    R"(SELECT u.id, u.size, u."offset", u.metadata_raw, u.concat, u.concat_raw, u.state, u.created_at, )"
    R"(u.updated_at, u.expires_at, u.owner, p.partial_id FROM )";
const std::string kWithParts = " LEFT JOIN concat_parts p ON p.final_id = u.id ";

const std::string kGet = kSelect + "uploads u" + kWithParts + "WHERE u.id = $1 ORDER BY p.idx";
const std::string kListExpired = kSelect +
                                 "(SELECT * FROM uploads WHERE state = 'active' AND expires_at > 0 AND expires_at <= $1"
                                 " ORDER BY expires_at, id LIMIT $2) u" +
                                 kWithParts + "ORDER BY u.expires_at, u.id, p.idx";
const std::string kListActive =
    kSelect + "uploads u" + kWithParts + "WHERE u.state = 'active' ORDER BY u.created_at, u.id, p.idx";
const std::string kFinalsWaitingOn =
    kSelect + "uploads u" + kWithParts +
    "WHERE u.state = 'active' AND u.id IN (SELECT final_id FROM concat_parts WHERE partial_id = $1)"
    " ORDER BY u.created_at, u.id, p.idx";

// The record and its partial list in one statement: both or neither.
constexpr std::string_view kInsert = R"(
  WITH u AS (
    INSERT INTO uploads (id, size, "offset", metadata_raw, concat, concat_raw, state, created_at, updated_at,
                         expires_at, owner)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id)
  INSERT INTO concat_parts (final_id, idx, partial_id)
  SELECT u.id, p.n - 1, p.partial_id FROM u, unnest($12::text[]) WITH ORDINALITY AS p(partial_id, n))";
constexpr std::string_view kUpdate =
    R"(UPDATE uploads SET size = $2, "offset" = $3, state = $4, updated_at = $5, expires_at = $6 WHERE id = $1)";
constexpr std::string_view kRemove =
    "WITH parts AS (DELETE FROM concat_parts WHERE final_id = $1) DELETE FROM uploads WHERE id = $1";
constexpr std::string_view kPurge = R"(
  WITH dead AS (
    DELETE FROM uploads WHERE state IN ('terminated', 'expired') AND updated_at < $1 RETURNING id),
  parts AS (DELETE FROM concat_parts WHERE final_id IN (SELECT id FROM dead))
  SELECT count(*) FROM dead)";

core::Metadata reparse(const std::string& raw) {
  constexpr auto kAny = std::numeric_limits<std::size_t>::max();
  auto parsed = core::parse_metadata(raw, core::MetadataLimits{kAny, kAny, kAny});
  return parsed ? std::move(*parsed) : core::Metadata{};
}

// Folds the rows of one of the reads above into records.
Result<std::vector<UploadInfo>> read_uploads(const Rows& rows) {
  std::vector<UploadInfo> out;
  for (int r = 0; r < rows.size(); ++r) {
    std::string id = rows.text(r, 0);
    if (out.empty() || out.back().id != id) {
      const auto concat = rows.int64(r, 4);
      const auto state = core::upload_state_from(rows.text(r, 6));
      if (concat < 0 || concat >= static_cast<std::int64_t>(kConcatCodes.size()) || !state) {
        return fail(Errc::storage_error);  // a row this build cannot read
      }
      UploadInfo& info = out.emplace_back();
      info.id = std::move(id);
      info.size = rows.uint64_or_null(r, 1);
      info.offset = rows.uint64(r, 2);
      info.metadata_raw = rows.text(r, 3);
      info.metadata = reparse(info.metadata_raw);
      info.concat = kConcatCodes.at(static_cast<std::size_t>(concat));
      info.concat_raw = rows.text(r, 5);
      info.state = *state;
      info.created_at = rows.int64(r, 7);
      info.updated_at = rows.int64(r, 8);
      info.expires_at = rows.int64(r, 9);
      info.owner = rows.text(r, 10);
    }
    if (!rows.null(r, 11) && out.back().is_final()) {
      out.back().partial_ids.push_back(rows.text(r, 11));
    }
  }
  return out;
}

Result<std::vector<UploadInfo>> query_uploads(Session& s, std::string_view sql,
                                              std::initializer_list<pg_detail::Param> params) {
  auto rows = s.exec(sql, params, Kind::idempotent);
  if (!rows) {
    return rows.error();
  }
  return read_uploads(*rows);
}

}  // namespace

// Every call below hands run_pg a lambda capturing only references and scalars; the referenced
// arguments outlive the co_await.

PgInfoStore::PgInfoStore(PgPool& pool, net::thread_pool& blocking) : pool_(pool), blocking_(blocking) {}

net::awaitable<Result<void>> PgInfoStore::insert(const UploadInfo& info) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&info](Session& s) -> Result<void> {
    auto r =
        s.exec(kInsert,
               {pg_detail::text(info.id), pg_detail::uint64_or_null(info.size), pg_detail::uint64(info.offset),
                pg_detail::text(info.metadata_raw), pg_detail::int64(concat_code(info.concat)),
                pg_detail::text(info.concat_raw), pg_detail::text(core::to_string(info.state)),
                pg_detail::int64(info.created_at), pg_detail::int64(info.updated_at), pg_detail::int64(info.expires_at),
                pg_detail::text(info.owner), pg_detail::text_array(info.partial_ids)},
               Kind::once);
    if (!r) {
      return r.error();  // a duplicate id included
    }
    return {};
  });
}

net::awaitable<Result<UploadInfo>> PgInfoStore::get(const std::string& id) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&id](Session& s) -> Result<UploadInfo> {
    auto found = query_uploads(s, kGet, {pg_detail::text(id)});
    if (!found) {
      return found.error();
    }
    if (found->empty()) {
      return fail(Errc::not_found);
    }
    return std::move(found->front());
  });
}

net::awaitable<Result<void>> PgInfoStore::update(const UploadInfo& info) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&info](Session& s) -> Result<void> {
    return changed_one(s.exec(kUpdate,
                              {pg_detail::text(info.id), pg_detail::uint64_or_null(info.size),
                               pg_detail::uint64(info.offset), pg_detail::text(core::to_string(info.state)),
                               pg_detail::int64(info.updated_at), pg_detail::int64(info.expires_at)},
                              Kind::idempotent));
  });
}

net::awaitable<Result<void>> PgInfoStore::remove(const std::string& id) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&id](Session& s) -> Result<void> {
    return changed_one(s.exec(kRemove, {pg_detail::text(id)}, Kind::once));
  });
}

net::awaitable<Result<std::vector<UploadInfo>>> PgInfoStore::list_expired(std::int64_t now_ms, std::size_t limit) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [now_ms, limit](Session& s) {
    constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    return query_uploads(
        s, kListExpired,
        {pg_detail::int64(now_ms), pg_detail::int64(static_cast<std::int64_t>(std::min(limit, kMax)))});
  });
}

net::awaitable<Result<std::vector<UploadInfo>>> PgInfoStore::list_active() {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [](Session& s) { return query_uploads(s, kListActive, {}); });
}

net::awaitable<Result<std::vector<UploadInfo>>> PgInfoStore::finals_waiting_on(const std::string& partial_id) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [&partial_id](Session& s) {
    return query_uploads(s, kFinalsWaitingOn, {pg_detail::text(partial_id)});
  });
}

net::awaitable<Result<std::size_t>> PgInfoStore::purge_tombstones(std::int64_t before_ms) {
  co_return co_await pg_detail::run_pg(blocking_, pool_, [before_ms](Session& s) -> Result<std::size_t> {
    auto r = s.exec(kPurge, {pg_detail::int64(before_ms)}, Kind::once);
    if (!r) {
      return r.error();
    }
    return static_cast<std::size_t>(r->int64(0, 0));
  });
}

}  // namespace vidup::store
