#pragma once
// The handler on memory stores, driven like the transport drives it: one Request in, one
// Response out, on an io_context the test owns, with a clock the test moves.

#include "core/checksum.hpp"
#include "core/errc.hpp"
#include "core/http_date.hpp"
#include "handler/handler.hpp"
#include "store/composer.hpp"
#include "store/memory/local_locker.hpp"
#include "store/memory/memory_data_store.hpp"
#include "store/memory/memory_info_store.hpp"
#include "support/fake_body.hpp"
#include "support/run_awaitable.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vidup::test {

namespace net = boost::asio;
using handler::Response;

using Header = std::pair<std::string, std::string>;
using HeaderList = std::vector<Header>;

inline const Header kTR{"Tus-Resumable", "1.0.0"};
inline const Header kOOS{"Content-Type", "application/offset+octet-stream"};
inline constexpr std::string_view kBaseUrl = "http://vidup.test";
inline constexpr std::string_view kUnknownId = "0123456789abcdef0123456789abcdef";  // valid, never created
inline constexpr std::int64_t kStartMs = 1'750'000'000'000;  // 2025-06-15T15:06:40Z
inline constexpr std::int64_t kHourMs = 3'600'000;
inline constexpr std::int64_t kDayMs = 24 * kHourMs;

inline Header offset_is(std::uint64_t v) { return {"Upload-Offset", std::to_string(v)}; }
inline Header length_is(std::uint64_t v) { return {"Upload-Length", std::to_string(v)}; }

// A header of a response, or "<absent>": comparisons print well.
inline std::string hdr(const Response& r, std::string_view name) {
  auto v = r.headers.get(name);
  return v ? std::string(*v) : std::string("<absent>");
}

// The tus error code of an error response ("ERR_MISMATCHED_OFFSET"), from its body.
inline std::string code(const Response& r) { return r.body.substr(0, r.body.find(':')); }

// The comma-separated tokens of a header value, trimmed.
inline std::vector<std::string> tokens(std::string_view value) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= value.size()) {
    auto comma = value.find(',', pos);
    auto t = value.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!t.empty() && t.front() == ' ') {
      t.remove_prefix(1);
    }
    while (!t.empty() && t.back() == ' ') {
      t.remove_suffix(1);
    }
    out.emplace_back(t);
    if (comma == std::string_view::npos) {
      break;
    }
    pos = comma + 1;
  }
  return out;
}

// `<algorithm> <base64 digest of data>`.
std::string checksum_header(core::ChecksumAlgorithm algorithm, std::string_view algorithm_name, std::string_view data);

// What the hooks saw, in order.
struct HookLog {
  std::vector<std::string> created;
  std::vector<std::string> progress;
  std::vector<std::string> finished;
  std::vector<std::string> terminated;
};

// A request started on the io_context and not yet finished (concurrency tests).
struct InFlight {
  handler::Request request;
  std::unique_ptr<FakeBody> body;
  std::optional<Response> response;
  [[nodiscard]] bool done() const { return response.has_value(); }
};

class HandlerFixture : public ::testing::Test {
 protected:
  HandlerFixture();

  // Rebuilds the handler from `config` (the stores and everything in them are kept).
  void rebuild();

  // Sends one request and runs the io_context until the response is there.
  Response send(std::string method, std::string path, HeaderList headers = {kTR}, std::string body = "",
                FakeBodyOptions opts = {});

  // Starts a request; run_until()/run_all() drive it.
  std::shared_ptr<InFlight> start(std::string method, std::string path, HeaderList headers, std::string body = "",
                                  FakeBodyOptions opts = {});
  // Runs handlers one at a time until `done` holds (or nothing is left to run).
  void run_until(const std::function<bool()>& done);
  void run_all();

  // POST with Upload-Length (and Upload-Metadata when given); the new id from Location, or ""
  // (and a test failure) if the creation failed.
  std::string create(std::uint64_t length, std::string_view metadata = {}, HeaderList extra = {});
  std::string create_deferred(HeaderList extra = {});
  std::string create_partial(std::uint64_t length);
  // A final upload over `partial_ids` (relative URLs, in order).
  Response create_final(const std::vector<std::string>& partial_ids, HeaderList extra = {});
  // A finished partial holding `content`.
  std::string finished_partial(std::string_view content);

  Response head(const std::string& id, HeaderList headers = {kTR}) { return send("HEAD", url(id), std::move(headers)); }
  Response patch(const std::string& id, std::uint64_t offset, std::string body, HeaderList extra = {},
                 FakeBodyOptions opts = {});
  Response del(const std::string& id) { return send("DELETE", url(id), {kTR}); }
  Response get(const std::string& id, HeaderList headers = {}) { return send("GET", url(id), std::move(headers)); }
  Response options(const std::string& path = "/files/", HeaderList headers = {}) {
    return send("OPTIONS", path, std::move(headers));
  }

  // The Tus-Extension tokens advertised by OPTIONS.
  std::set<std::string> advertised_extensions();

  // The body of a streamed (GET) response.
  std::string drain(Response& r);

  // The record and the stored bytes, as the stores have them.
  std::optional<core::UploadInfo> record(const std::string& id);
  std::optional<std::string> stored(const std::string& id) const { return data->bytes(id); }
  std::uint64_t offset_of(const std::string& id);  // via HEAD; fails the test if HEAD is not 200

  static std::string url(std::string_view id) { return "/files/" + std::string(id); }
  static std::string absolute_url(std::string_view id) { return std::string(kBaseUrl) + url(id); }
  static std::string id_from_location(std::string_view location);
  [[nodiscard]] std::string expires_in(std::int64_t ms) const { return core::format_http_date(now_ms + ms); }

  template <class T>
  T run(net::awaitable<T> a) {
    return test::run(io, std::move(a));
  }

  std::int64_t now_ms = kStartMs;
  handler::Config config;
  HookLog hooks;
  store::MemoryDataStore* data = nullptr;  // owned by `composer`
  store::MemoryInfoStore* infos = nullptr;
  store::LocalLocker* locker = nullptr;
  std::unique_ptr<store::Composer> composer;
  std::unique_ptr<handler::Handler> handler;
  // Last, so destroyed first: a coroutine still pending when a test ends is destroyed while the
  // handler and the stores it refers to are alive.
  net::io_context io;
};

}  // namespace vidup::test
