// The platform API's request bodies and queries through the real code: api::Platform on an
// in-memory Catalog and the tus engine on memory stores. The input's last bytes choose the call
// (POST /v1/projects, /v1/folders, /v1/videos, PATCH /v1/videos/<id>, POST /v2/init, GET
// /v1/videos?…, GET /v1/folders?…, Bearer tus creation with Upload-Metadata), the key and
// --max-size; the rest is the body (or the query, or the Upload-Metadata).
// Invariants:
//  - nothing throws; the status is one of the API's answers (no 5xx on memory stores); every
//    body is a JSON object, {"data": …} on success, {"error": {"code","message"}} otherwise;
//  - what is created matches what was asked: /v2/init's upload has Upload-Length == filesize, a
//    number the tus engine accepts (<= 2^63-1), its Upload-Metadata names the file; a video's
//    size and title are the body's; a key confined to a project never creates outside it.
#include "api/platform.hpp"
#include "core/base64.hpp"
#include "core/integers.hpp"
#include "core/metadata.hpp"
#include "support/check.hpp"
#include "support/memory_catalog.hpp"
#include "support/world.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace {

namespace json = boost::json;
namespace core = vidup::core;
namespace handler = vidup::handler;
namespace store = vidup::store;
using vidup::fuzz::HeaderList;
using vidup::fuzz::MemoryCatalog;
using vidup::fuzz::World;

constexpr std::string_view kProject = "11111111-1111-4111-8111-111111111111";
constexpr std::string_view kOther = "22222222-2222-4222-8222-222222222222";
constexpr std::string_view kFolder = "33333333-3333-4333-8333-333333333333";
constexpr std::string_view kVideo = "44444444-4444-4444-8444-444444444444";
constexpr std::string_view kOtherVideo = "55555555-5555-4555-8555-555555555555";
constexpr std::string_view kGlobalKey = "ky_00000000000000000001";
constexpr std::string_view kScopedKey = "ky_00000000000000000002";
constexpr std::string_view kRevokedKey = "ky_00000000000000000003";
constexpr std::array<unsigned, 11> kStatuses = {200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 410};

template <class T>
T run_or_die(World& w, boost::asio::awaitable<core::Result<T>> a) {
  auto r = w.run(std::move(a));
  FUZZ_CHECK(r.has_value(), "catalog set-up");
  return *r;
}

void seed(World& w, MemoryCatalog& c) {
  const std::int64_t t = vidup::fuzz::kStartMs - 1000;
  auto ok = [&w](boost::asio::awaitable<core::Result<void>> a) {
    FUZZ_CHECK(w.run(std::move(a)).has_value(), "catalog set-up");
  };
  ok(c.insert_key({"key_0000000000000001", std::string(kGlobalKey), "global", std::nullopt, false, t, 0}));
  ok(c.insert_key({"key_0000000000000002", std::string(kScopedKey), "scoped", std::string(kProject), false, t, 0}));
  ok(c.insert_key({"key_0000000000000003", std::string(kRevokedKey), "revoked", std::nullopt, true, t, t}));
  ok(c.insert_project({std::string(kProject), "P", t}));
  ok(c.insert_project({std::string(kOther), "Q", t}));
  ok(c.insert_folder({std::string(kFolder), std::string(kProject), std::string(kProject), "F", t}));
  store::Video v;
  v.id = std::string(kVideo);
  v.project_id = v.parent_id = std::string(kProject);
  v.title = "V";
  v.created_at = v.updated_at = t;
  ok(c.insert_video(v));
  v.id = std::string(kOtherVideo);
  v.project_id = v.parent_id = std::string(kOther);
  ok(c.insert_video(v));
}

bool known_status(unsigned s) {
  for (const unsigned k : kStatuses) {
    if (k == s) {
      return true;
    }
  }
  return false;
}

std::optional<json::object> body_object(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return std::nullopt;
  }
  return v.as_object();
}

const json::value* field(const json::object& o, std::string_view name) { return o.if_contains(name); }

std::optional<std::uint64_t> as_count(const json::value* v) {
  if (v == nullptr) {
    return std::nullopt;
  }
  if (const auto* u = v->if_uint64()) {
    return *u;
  }
  if (const auto* i = v->if_int64(); i != nullptr && *i >= 0) {
    return static_cast<std::uint64_t>(*i);
  }
  return std::nullopt;
}

void check_shape(const handler::Response& r) {
  FUZZ_CHECK(known_status(r.status), "the status is one of the API's answers");
  if (r.status == 204) {
    return;
  }
  const auto body = body_object(r.body);
  FUZZ_CHECK(body.has_value(), "every API body is a JSON object");
  if (r.status < 300) {
    FUZZ_CHECK(body->contains("data"), "a success has data");
    return;
  }
  const auto* error = body->if_contains("error");
  FUZZ_CHECK(error != nullptr && error->is_object(), "an error has error{}");
  const auto& e = error->as_object();
  FUZZ_CHECK(e.contains("code") && e.at("code").is_string() && e.contains("message") && e.at("message").is_string(),
             "an error has a code and a message");
}

// POST /v2/init answered 201: the video and its upload are what the body asked for.
void check_init(World& w, MemoryCatalog& catalog, const handler::Response& r, const json::object& asked,
                bool scoped) {
  const auto answer = body_object(r.body);
  const auto& data = answer->at("data").as_object();
  const std::string id(data.at("id").as_string());
  const std::string endpoint(data.at("endpoint").as_string());
  const auto video = catalog.videos().find(id);
  FUZZ_CHECK(video != catalog.videos().end(), "the created video exists");
  FUZZ_CHECK(!scoped || video->second.project_id == kProject, "a confined key creates in its project only");
  FUZZ_CHECK(!video->second.upload_id.empty() && endpoint.ends_with(video->second.upload_id), "the video has the upload");
  const auto filesize = as_count(field(asked, "filesize"));
  FUZZ_CHECK(filesize.has_value(), "a 201 had a filesize");
  FUZZ_CHECK(video->second.size == filesize, "the video's size is filesize");

  auto head = w.send_tus("HEAD", "/files/" + video->second.upload_id, {{"Tus-Resumable", "1.0.0"}}, "");
  FUZZ_CHECK(head.status == 200, "the upload answers HEAD");
  const auto length = head.headers.get("Upload-Length");
  FUZZ_CHECK(length && core::parse_uint(*length, core::Errc::invalid_length).has_value(),
             "the upload's Upload-Length is a number the tus engine accepts (<= 2^63-1)");
  FUZZ_CHECK(*length == std::to_string(*filesize), "Upload-Length == filesize");
  const std::string filename(asked.at("filename").as_string());
  const auto metadata = core::parse_metadata(head.headers.get("Upload-Metadata").value_or(""));
  FUZZ_CHECK(metadata && metadata->get("filename") == std::string_view(filename),
             "the upload's metadata names the file");
}

void check_created_video(MemoryCatalog& catalog, const handler::Response& r, const json::object& asked, bool scoped) {
  const auto answer = body_object(r.body);
  const auto& data = answer->at("data").as_object();
  const auto video = catalog.videos().find(std::string(data.at("id").as_string()));
  FUZZ_CHECK(video != catalog.videos().end(), "the created video exists");
  FUZZ_CHECK(!scoped || video->second.project_id == kProject, "a confined key creates in its project only");
  FUZZ_CHECK(video->second.title == std::string_view(asked.at("title").as_string()), "title as asked");
  const auto size = as_count(field(asked, "size"));
  FUZZ_CHECK(video->second.size == size, "size as asked");
  FUZZ_CHECK(!size || *size <= static_cast<std::uint64_t>(INT64_MAX), "a declared size is one an upload may have");
}

boost::asio::awaitable<handler::Response> platform_answer(vidup::api::Platform& platform, handler::Request& r) {
  auto answer = co_await platform.handle(r);
  FUZZ_CHECK(answer.has_value(), "the platform answers its own paths");
  co_return std::move(*answer);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  const int call = fdp.ConsumeIntegralInRange<int>(0, 9);
  const int key_choice = fdp.ConsumeIntegralInRange<int>(0, 7);
  handler::Config config;
  config.max_size = fdp.ConsumeBool() ? 1'000'000 : 0;
  const std::string payload = fdp.ConsumeRemainingBytesAsString();

  World w(config);
  MemoryCatalog catalog;
  seed(w, catalog);
  vidup::api::Platform platform({}, catalog, *w.tus, [&w] { return w.now_ms; });
  w.tus->use_policy(&platform);

  HeaderList headers{{"Content-Type", "application/json"}};
  std::string_view key;
  switch (key_choice) {
    case 0:
      break;
    case 1:
      key = kRevokedKey;
      break;
    case 2:
    case 3:
      key = kScopedKey;
      break;
    default:
      key = kGlobalKey;
  }
  if (!key.empty()) {
    headers.emplace_back("Authorization", "Bearer " + std::string(key));
  }
  const bool scoped = key == kScopedKey;

  std::string method = "POST";
  std::string path;
  std::string body = payload;
  std::string query;
  switch (call) {
    case 0:
      path = "/v1/projects";
      break;
    case 1:
      path = "/v1/folders";
      break;
    case 2:
      path = "/v1/videos";
      break;
    case 3:
      method = "PATCH";
      path = "/v1/videos/" + std::string(kVideo);
      break;
    case 4:
      method = "GET";
      path = "/v1/videos";
      query = payload;
      body.clear();
      break;
    case 5:
      method = "GET";
      path = "/v1/folders";
      query = payload;
      body.clear();
      break;
    case 6: {
      // tus creation with a Bearer key: the metadata says where the video goes (parent_id).
      HeaderList tus{{"Tus-Resumable", "1.0.0"}, {"Upload-Length", "10"}, {"Upload-Metadata", payload}};
      if (!key.empty()) {
        tus.emplace_back("Authorization", "Bearer " + std::string(key));
      }
      const auto before = catalog.videos().size();
      auto r = w.send_tus("POST", "/files/", tus, "");
      FUZZ_CHECK(r.status < 500, "no 5xx on memory stores");
      if (r.status == 201) {
        FUZZ_CHECK(catalog.videos().size() == before + 1, "a Bearer creation makes one video");
        for (const auto& [id, v] : catalog.videos()) {
          FUZZ_CHECK(!scoped || v.project_id == kProject || id == kOtherVideo, "confined keys stay in their project");
        }
      }
      return 0;
    }
    default:
      path = "/v2/init";
      break;
  }

  auto r = w.send(
      [&](handler::Request& req) {
        req.query = query;
        return platform_answer(platform, req);
      },
      method, path, headers, body);
  check_shape(r);
  if (r.status != 201 && !(r.status == 200 && method == "PATCH")) {
    return 0;
  }
  const auto asked = body_object(body);
  FUZZ_CHECK(asked.has_value(), "a creation or update came from a JSON object");
  if (path == "/v2/init") {
    check_init(w, catalog, r, *asked, scoped);
  } else if (path == "/v1/videos") {
    check_created_video(catalog, r, *asked, scoped);
  } else if (method == "PATCH") {
    FUZZ_CHECK(catalog.videos().at(std::string(kVideo)).title == std::string_view(asked->at("title").as_string()),
               "a rename stores the title");
  } else if (path == "/v1/folders") {
    FUZZ_CHECK(!scoped || asked->at("parent_id").as_string() != kOther, "a confined key creates in its project only");
  }
  return 0;
}
