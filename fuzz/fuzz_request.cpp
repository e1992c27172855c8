// Whole requests through handler::Handler on memory stores. One input is a little session: a
// handler configuration, then up to 8 requests against the same handler and stores, each a
// method, a path (often the URL of an upload an earlier request created), headers (names from
// the tus vocabulary, values the fuzzer's own or well-formed ones: the current offset, a correct
// checksum of the body, a final over known partials) and a body (Content-Length or chunked,
// sometimes cut off). So POST -> PATCH -> HEAD -> GET/DELETE/concatenation sequences happen.
// Invariants, checked after every request:
//  - nothing throws; the status is one of the tus answers (no 5xx on memory stores);
//  - every Upload-Offset / Upload-Length the server sends is a number it would itself accept,
//    and a HEAD's Upload-Offset never exceeds its Upload-Length and equals the record's offset;
//  - a 201 has a Location on this server naming a valid upload id;
//  - for every upload: stored bytes == offset <= length, finished <=> offset == length, an
//    offset never moves back, a PATCH's new bytes are exactly the start of its body, a
//    finished final holds its partials' bytes in order, a GET returns the stored bytes.
#include "core/base64.hpp"
#include "core/checksum.hpp"
#include "core/ids.hpp"
#include "core/integers.hpp"
#include "support/check.hpp"
#include "support/world.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using vidup::fuzz::HeaderList;
using vidup::fuzz::World;
namespace core = vidup::core;
namespace handler = vidup::handler;

constexpr std::array<std::string_view, 8> kMethods = {"POST", "PATCH", "HEAD", "GET", "DELETE", "OPTIONS", "PUT", "post"};
constexpr std::array<std::string_view, 16> kNames = {
    "Tus-Resumable",  "Upload-Length",   "Upload-Offset", "Upload-Defer-Length", "Upload-Metadata",
    "Upload-Concat",  "Upload-Checksum", "Content-Type",  "X-HTTP-Method-Override", "Trailer",
    "Range",          "Origin",          "Access-Control-Request-Method", "upload-offset", "Content-Length",
    "Upload-Expires"};
constexpr std::array<std::string_view, 5> kAlgorithms = {"sha1", "md5", "sha256", "crc32", "SHA1"};
constexpr std::array<unsigned, 17> kStatuses = {200, 201, 204, 206, 400, 403, 404, 405, 409,
                                                410, 412, 413, 415, 416, 423, 460, 401};

bool known_status(unsigned s) {
  for (const unsigned k : kStatuses) {
    if (k == s) {
      return true;
    }
  }
  return false;
}

std::string algorithm_digest(std::string_view name, std::string_view body) {
  static const std::map<std::string_view, core::ChecksumAlgorithm> kMap = {{"sha1", core::ChecksumAlgorithm::sha1},
                                                                           {"md5", core::ChecksumAlgorithm::md5},
                                                                           {"sha256", core::ChecksumAlgorithm::sha256},
                                                                           {"crc32", core::ChecksumAlgorithm::crc32}};
  auto it = kMap.find(name);
  return it == kMap.end() ? std::string("x") : core::digest(it->second, body);
}

// An emitted number must be one the server would accept on input (G-10).
std::optional<std::uint64_t> number(const handler::Response& r, std::string_view name) {
  auto v = r.headers.get(name);
  if (!v) {
    return std::nullopt;
  }
  auto parsed = core::parse_uint(*v, core::Errc::bad_request);
  FUZZ_CHECK(parsed.has_value(), "an emitted Upload-Offset/Upload-Length is a valid tus integer");
  return *parsed;
}

struct Session {
  explicit Session(FuzzedDataProvider& f, handler::Config config) : fdp(f), world(std::move(config)) {}

  FuzzedDataProvider& fdp;
  World world;
  std::vector<std::string> ids;  // every upload a 201 named, in order
  const bool trace = std::getenv("VIDUP_FUZZ_TRACE") != nullptr;

  std::string pick_id() {
    if (ids.empty() || fdp.ConsumeIntegralInRange<int>(0, 7) == 0) {
      return fdp.ConsumeBool() ? std::string("0123456789abcdef0123456789abcdef") : fdp.ConsumeRandomLengthString(40);
    }
    return ids[fdp.ConsumeIntegralInRange<std::size_t>(0, ids.size() - 1)];
  }

  std::string pick_path(std::string& target) {
    switch (fdp.ConsumeIntegralInRange<int>(0, 7)) {
      case 0:
        return "/files";
      case 1:
        return fdp.ConsumeRandomLengthString(40);
      case 2:
      case 3:
        return "/files/";
      default:
        target = pick_id();
        return "/files/" + target + (fdp.ConsumeIntegralInRange<int>(0, 15) == 0 ? "/" : "");
    }
  }

  std::string offset_value(const std::string& target) {
    auto rec = world.record(target);
    switch (fdp.ConsumeIntegralInRange<int>(0, 3)) {
      case 0:
        return std::to_string(fdp.ConsumeIntegralInRange<std::uint64_t>(0, 64));
      case 1:
        return fdp.ConsumeRandomLengthString(24);
      default:
        return std::to_string(rec ? rec->offset : 0);
    }
  }

  std::string length_value() {
    switch (fdp.ConsumeIntegralInRange<int>(0, 5)) {
      case 0:
        return fdp.ConsumeRandomLengthString(24);
      case 1:
        return std::to_string(fdp.ConsumeIntegral<std::uint64_t>() >> fdp.ConsumeIntegralInRange<int>(0, 1));
      default:
        return std::to_string(fdp.ConsumeIntegralInRange<std::uint64_t>(0, 600));
    }
  }

  std::string concat_value() {
    const int mode = fdp.ConsumeIntegralInRange<int>(0, 3);
    if (mode == 0) {
      return fdp.ConsumeRandomLengthString(80);
    }
    if (mode == 1) {
      return "partial";
    }
    std::string out = "final;";
    const auto n = fdp.ConsumeIntegralInRange<std::size_t>(1, 4);
    for (std::size_t i = 0; i < n; ++i) {
      out += (i == 0 ? "" : " ");
      out += (fdp.ConsumeBool() ? std::string(vidup::fuzz::kBaseUrl) : std::string()) + "/files/" + pick_id();
    }
    return out;
  }

  std::string checksum_value(std::string_view body) {
    const auto name = kAlgorithms[fdp.ConsumeIntegralInRange<std::size_t>(0, kAlgorithms.size() - 1)];
    if (fdp.ConsumeIntegralInRange<int>(0, 3) == 0) {
      return fdp.ConsumeRandomLengthString(60);
    }
    std::string digest = algorithm_digest(name, body);
    if (fdp.ConsumeIntegralInRange<int>(0, 3) == 0 && !digest.empty()) {
      digest[0] = static_cast<char>(digest[0] ^ 1);  // a wrong digest of the right length
    }
    return std::string(name) + " " + core::base64_encode(digest);
  }

  std::string value_for(std::string_view name, const std::string& target, std::string_view body) {
    if (fdp.ConsumeIntegralInRange<int>(0, 4) == 0) {
      return fdp.ConsumeRandomLengthString(64);
    }
    if (name == "Tus-Resumable") {
      return "1.0.0";
    }
    if (name == "Upload-Offset" || name == "upload-offset") {
      return offset_value(target);
    }
    if (name == "Upload-Length") {
      return length_value();
    }
    if (name == "Upload-Defer-Length") {
      return "1";
    }
    if (name == "Upload-Concat") {
      return concat_value();
    }
    if (name == "Upload-Checksum") {
      return checksum_value(body);
    }
    if (name == "Content-Type") {
      return "application/offset+octet-stream";
    }
    if (name == "X-HTTP-Method-Override") {
      return std::string(kMethods[fdp.ConsumeIntegralInRange<std::size_t>(0, kMethods.size() - 1)]);
    }
    if (name == "Trailer") {
      return "Upload-Checksum";
    }
    if (name == "Range") {
      return "bytes=" + std::to_string(fdp.ConsumeIntegralInRange<int>(0, 40)) + "-" +
             (fdp.ConsumeBool() ? std::to_string(fdp.ConsumeIntegralInRange<int>(0, 40)) : std::string());
    }
    if (name == "Upload-Metadata") {
      return "filename " + core::base64_encode(fdp.ConsumeRandomLengthString(20)) + ",k";
    }
    return fdp.ConsumeRandomLengthString(16);
  }

  // Snapshot of every known upload: record (if any) and stored bytes.
  struct Seen {
    std::optional<core::UploadInfo> info;
    std::optional<std::string> bytes;
  };
  std::map<std::string, Seen> snapshot() {
    std::map<std::string, Seen> out;
    for (const auto& id : ids) {
      out[id] = Seen{world.record(id), world.data->bytes(id)};
    }
    return out;
  }

  void check_uploads(const std::map<std::string, Seen>& before, const std::string& target, std::string_view body) {
    for (const auto& id : ids) {
      const auto info = world.record(id);
      const auto bytes = world.data->bytes(id);
      if (!info || info->is_tombstone()) {
        continue;
      }
      FUZZ_CHECK(bytes ? bytes->size() == info->offset : info->offset == 0, "stored bytes == offset");
      if (info->size) {
        FUZZ_CHECK(info->offset <= *info->size, "offset <= length");
        FUZZ_CHECK(!info->is_finished() || info->offset == *info->size, "finished => offset == length");
        FUZZ_CHECK(info->is_final() || info->is_finished() == (info->offset == *info->size),
                   "an upload is finished as soon as offset == length");
      } else {
        FUZZ_CHECK(!info->is_finished(), "an upload of unknown length is not finished");
      }
      auto was = before.find(id);
      if (was == before.end() || !was->second.info || was->second.info->is_tombstone()) {
        continue;
      }
      const auto& old = *was->second.info;
      FUZZ_CHECK(info->offset >= old.offset, "an offset never moves back");
      FUZZ_CHECK(!old.is_finished() || info->is_finished(), "a finished upload stays finished");
      if (info->offset > old.offset && id == target && !info->is_final()) {
        FUZZ_CHECK(bytes && bytes->substr(old.offset) == body.substr(0, info->offset - old.offset),
                   "a PATCH stores exactly the start of its body");
      }
      if (info->is_final() && info->is_finished() && !old.is_finished()) {
        std::string expected;
        for (const auto& p : info->partial_ids) {
          expected += world.data->bytes(p).value_or("<missing partial>");
        }
        FUZZ_CHECK(bytes && *bytes == expected, "a finished final holds its partials' bytes in order");
      }
    }
  }

  void one_request() {
    if (fdp.ConsumeIntegralInRange<int>(0, 7) == 0) {
      world.now_ms += fdp.ConsumeIntegralInRange<std::int64_t>(0, 3 * 24 * 3'600'000LL);
      if (fdp.ConsumeBool()) {
        (void)world.run(world.tus->sweep());
      }
    }
    std::string method(kMethods[fdp.ConsumeIntegralInRange<std::size_t>(0, kMethods.size() - 1)]);
    std::string target;
    std::string path = pick_path(target);
    const std::string body = fdp.ConsumeRandomLengthString(300);
    vidup::test::FakeBodyOptions opts;
    const int framing = fdp.ConsumeIntegralInRange<int>(0, 7);
    if (framing == 1 || framing == 2) {
      opts.chunked = true;
      if (framing == 2) {
        opts.trailers.add("Upload-Checksum", checksum_value(body));
      }
    } else if (framing == 3) {
      opts.fail_after = fdp.ConsumeIntegralInRange<std::size_t>(0, body.size());
    } else if (framing == 4) {
      opts.piece = fdp.ConsumeIntegralInRange<std::size_t>(1, 16);
    }

    HeaderList headers;
    if (fdp.ConsumeIntegralInRange<int>(0, 15) != 0) {
      headers.emplace_back("Tus-Resumable", "1.0.0");
    }
    const auto n = fdp.ConsumeIntegralInRange<std::size_t>(0, 6);
    for (std::size_t i = 0; i < n; ++i) {
      const auto name = kNames[fdp.ConsumeIntegralInRange<std::size_t>(0, kNames.size() - 1)];
      headers.emplace_back(std::string(name), value_for(name, target, body));
    }

    const auto before = snapshot();
    const bool cut_off = opts.fail_after.has_value();
    auto r = world.send_tus(method, path, headers, body, std::move(opts));
    if (trace) {  // VIDUP_FUZZ_TRACE=1: what an input does, to read a finding or check a seed
      std::fprintf(stderr, "%s %s [%zu body bytes]", method.c_str(), path.c_str(), body.size());
      for (const auto& [name, value] : headers) {
        std::fprintf(stderr, " | %s: %s", name.c_str(), value.c_str());
      }
      std::fprintf(stderr, " -> %u %s\n", r.status, r.body.c_str());
    }

    // A body cut off by the client ends the request with ERR_CONNECTION_RESET, which nobody
    // receives (the connection is gone); any other 5xx on memory stores is a bug.
    const bool reset = cut_off && r.body.starts_with("ERR_CONNECTION_RESET");
    FUZZ_CHECK(known_status(r.status) || reset, "the status is one of the tus answers");
    const auto offset = number(r, "Upload-Offset");
    const auto length = number(r, "Upload-Length");
    if (offset && length) {
      FUZZ_CHECK(*offset <= *length, "Upload-Offset <= Upload-Length");
    }
    if (r.status == 201) {
      auto location = r.headers.get("Location");
      const std::string prefix = std::string(vidup::fuzz::kBaseUrl) + "/files/";
      FUZZ_CHECK(location && location->starts_with(prefix), "a 201 has a Location on this server");
      const std::string id(location->substr(prefix.size()));
      FUZZ_CHECK(core::is_valid_upload_id(id), "a created upload has a valid id");
      ids.push_back(id);
    }
    bool overridden = false;
    for (const auto& [name, value] : headers) {
      overridden = overridden || handler::iequals(name, "X-HTTP-Method-Override");
    }
    const bool effective_head = method == "HEAD" && !overridden;
    if (r.status == 200 && effective_head && !target.empty() && path == "/files/" + target) {
      auto rec = world.record(target);
      FUZZ_CHECK(rec.has_value(), "a HEAD 200 is about an upload that exists");
      if (offset) {
        FUZZ_CHECK(*offset == rec->offset, "HEAD's Upload-Offset is the record's offset");
      }
    }
    if (r.content) {
      const auto got = world.drain(r);
      FUZZ_CHECK(got.has_value(), "a GET body reads to its end");
      const auto declared = number(r, "Content-Length");
      FUZZ_CHECK(!declared || *declared == got->size(), "a GET body has its Content-Length");
      if (r.status == 200 && !target.empty()) {
        FUZZ_CHECK(world.data->bytes(target) == *got, "a GET returns the stored bytes");
      }
    }
    check_uploads(before, target, body);
  }
};

handler::Config config_from(FuzzedDataProvider& fdp) {
  handler::Config c;
  const auto flags = fdp.ConsumeIntegral<std::uint16_t>();
  c.max_size = (flags & 1U) != 0 ? fdp.ConsumeIntegralInRange<std::uint64_t>(0, 1000) : 0;
  c.creation_with_upload = (flags & 2U) == 0;
  c.defer_length = (flags & 4U) == 0;
  c.checksum_trailer = (flags & 8U) == 0;
  c.concatenation_unfinished = (flags & 16U) == 0;
  c.termination = (flags & 32U) == 0;
  c.get = (flags & 64U) == 0;
  c.body_buffer = (flags & 128U) != 0 ? 7 : 256 * 1024;
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  Session session(fdp, config_from(fdp));
  const auto requests = fdp.ConsumeIntegralInRange<int>(1, 8);
  for (int i = 0; i < requests && fdp.remaining_bytes() > 0; ++i) {
    session.one_request();
  }
  return 0;
}
