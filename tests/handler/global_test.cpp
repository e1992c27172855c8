// §1 of TUS-CHECKLIST.md: rules every request follows (G-01..G-11), and URL resolution
// (EDGE-17). G-12/G-13 (CORS) and G-08 (query strings never reach the handler) belong to http/.
#include "fixture.hpp"

#include <algorithm>
#include <cctype>

namespace vidup::test {
namespace {

class Global : public HandlerFixture {};

struct Case {
  const char* what;
  std::string method;
  std::string path;
  HeaderList headers;
  std::string body;
  unsigned status;
};

TEST_F(Global, G_01_EveryResponseToPostHeadPatchDeleteCarriesTusResumable) {
  const auto id = create(5);
  const auto doomed = create(5);
  const std::vector<Case> cases = {
      {"POST 201", "POST", "/files/", {kTR, length_is(10)}, "", 201},
      {"POST 400 no length", "POST", "/files/", {kTR}, "", 400},
      {"POST 412", "POST", "/files/", {{"Tus-Resumable", "0.2.2"}, length_is(10)}, "", 412},
      {"HEAD 200", "HEAD", url(id), {kTR}, "", 200},
      {"HEAD 404", "HEAD", url(kUnknownId), {kTR}, "", 404},
      {"PATCH 415", "PATCH", url(id), {kTR, offset_is(0)}, "he", 415},
      {"PATCH 400", "PATCH", url(id), {kTR, kOOS, offset_is(0), offset_is(0)}, "he", 400},
      {"PATCH 204", "PATCH", url(id), {kTR, kOOS, offset_is(0)}, "he", 204},
      {"PATCH 409", "PATCH", url(id), {kTR, kOOS, offset_is(0)}, "he", 409},
      {"PATCH 413", "PATCH", url(id), {kTR, kOOS, offset_is(2)}, "llo!", 413},
      {"PATCH 404", "PATCH", url(kUnknownId), {kTR, kOOS, offset_is(0)}, "he", 404},
      {"DELETE 204", "DELETE", url(doomed), {kTR}, "", 204},
      {"DELETE 410", "DELETE", url(doomed), {kTR}, "", 410},
      {"DELETE 404", "DELETE", url(kUnknownId), {kTR}, "", 404},
      {"PUT 405", "PUT", url(id), {kTR}, "", 405},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto r = send(c.method, c.path, c.headers, c.body);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(hdr(r, "Tus-Resumable"), "1.0.0");
  }
}

TEST_F(Global, G_02_ErrorResponsesCarryTusResumableToo) {
  for (const std::string& path : std::vector<std::string>{url(kUnknownId), std::string("/files/nonexistent")}) {
    SCOPED_TRACE(path);
    auto r = send("PATCH", path, {kTR, kOOS, offset_is(0)}, "hello");
    EXPECT_EQ(r.status, 404u);
    EXPECT_EQ(hdr(r, "Tus-Resumable"), "1.0.0");
  }
}

TEST_F(Global, G_03_AnUnsupportedVersionIs412WithTusVersion) {
  const auto id = create(5);
  const Header old{"Tus-Resumable", "0.2.2"};
  const std::vector<Case> cases = {
      {"POST", "POST", "/files/", {old, length_is(5)}, "", 412},
      {"HEAD", "HEAD", url(id), {old}, "", 412},
      {"PATCH", "PATCH", url(id), {old, kOOS, offset_is(0)}, "hello", 412},
      {"DELETE", "DELETE", url(id), {old}, "", 412},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto r = send(c.method, c.path, c.headers, c.body);
    EXPECT_EQ(r.status, 412u);
    EXPECT_EQ(code(r), "ERR_UNSUPPORTED_VERSION");
    EXPECT_EQ(hdr(r, "Tus-Version"), "1.0.0");  // H-VER-03
  }
}

TEST_F(Global, H_VER_03_Every412CarriesTusVersion) {
  const auto id = create(5);
  for (const char* version : {"0.2.2", "1.0", "1.0.0 ", "2.0.0"}) {
    SCOPED_TRACE(version);
    auto r = send("HEAD", url(id), {{"Tus-Resumable", version}});
    EXPECT_EQ(r.status, 412u);
    EXPECT_EQ(hdr(r, "Tus-Version"), "1.0.0");
  }
  auto r = send("POST", "/files/", {length_is(5)});  // missing
  EXPECT_EQ(r.status, 412u);
  EXPECT_EQ(hdr(r, "Tus-Version"), "1.0.0");
}

TEST_F(Global, G_04_A412RequestIsNotProcessed) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "abc").status, 204u);
  const auto uploads = infos->count();

  auto r = send("PATCH", url(id), {{"Tus-Resumable", "0.2.2"}, kOOS, offset_is(3)}, "defg");
  EXPECT_EQ(r.status, 412u);
  EXPECT_EQ(offset_of(id), 3u);
  EXPECT_EQ(stored(id), "abc");

  r = send("POST", "/files/", {{"Tus-Resumable", "0.2.2"}, length_is(10)});
  EXPECT_EQ(r.status, 412u);
  EXPECT_FALSE(r.headers.has("Location"));
  EXPECT_EQ(infos->count(), uploads);

  r = send("DELETE", url(id), {{"Tus-Resumable", "0.2.2"}});
  EXPECT_EQ(r.status, 412u);
  EXPECT_EQ(head(id).status, 200u);
}

TEST_F(Global, G_05_AMissingTusResumableIs412OnPostPatchDeleteButHeadIsLenient) {
  const auto id = create(5);
  const std::vector<Case> cases = {
      {"POST", "POST", "/files/", {length_is(5)}, "", 412},
      {"PATCH", "PATCH", url(id), {kOOS, offset_is(0)}, "hello", 412},
      {"DELETE", "DELETE", url(id), {}, "", 412},
      {"HEAD (IMPL: lenient, as tusd)", "HEAD", url(id), {}, "", 200},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto r = send(c.method, c.path, c.headers, c.body);
    EXPECT_EQ(r.status, c.status);
    if (c.status == 412) {
      EXPECT_EQ(hdr(r, "Tus-Version"), "1.0.0");
    }
  }
  EXPECT_EQ(offset_of(id), 0u);
}

TEST_F(Global, G_06_XHttpMethodOverrideReplacesTheMethod) {
  const auto id = create(10);

  auto r = send("POST", url(id), {kTR, kOOS, offset_is(0), {"X-HTTP-Method-Override", "PATCH"}}, "hello");
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_EQ(hdr(r, "Upload-Offset"), "5");

  r = send("POST", url(id), {kTR, {"X-HTTP-Method-Override", "HEAD"}});
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "5");
  EXPECT_EQ(hdr(r, "Upload-Length"), "10");
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.content, nullptr);

  // The override is a method name, whatever its case.
  r = send("POST", url(id), {kTR, kOOS, offset_is(5), {"X-HTTP-Method-Override", "patch"}}, "world");
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_EQ(hdr(r, "Upload-Offset"), "10");

  r = send("POST", url(id), {kTR, {"X-HTTP-Method-Override", "DELETE"}});  // DEL-09
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(head(id).status, 410u);

  // The actual method is ignored: a GET overridden as PATCH is a PATCH.
  const auto other = create(3);
  r = send("GET", url(other), {kTR, kOOS, offset_is(0), {"X-HTTP-Method-Override", "PATCH"}}, "abc");
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_EQ(stored(other), "abc");
}

TEST_F(Global, G_07_NativePatchAndDeleteWork) {
  const auto id = create(3);
  EXPECT_EQ(send("PATCH", url(id), {kTR, kOOS, offset_is(0)}, "abc").status, 204u);
  EXPECT_EQ(send("DELETE", url(id), {kTR}).status, 204u);
}

TEST_F(Global, G_09_AnUnknownMethodOnAnUploadUrlIs405WithAllow) {
  const auto id = create(3);
  for (const char* method : {"PUT", "TRACE", "PROPFIND", "POST"}) {  // POST: POST-12
    SCOPED_TRACE(method);
    auto r = send(method, url(id), {kTR});
    EXPECT_EQ(r.status, 405u);
    const auto allow = tokens(hdr(r, "Allow"));
    EXPECT_EQ(std::count(allow.begin(), allow.end(), "PATCH"), 1) << hdr(r, "Allow");
    EXPECT_EQ(std::count(allow.begin(), allow.end(), "HEAD"), 1) << hdr(r, "Allow");
  }
  auto r = send("PUT", "/files/", {kTR});
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(hdr(r, "Allow"), "OPTIONS, POST");
}

TEST_F(Global, G_10_IntegersAreDigitsOnlyAndFitInInt64) {
  const auto id = create(10);
  for (const char* bad : {"-1", "+5", "1e3", "0x10", "99999999999999999999", "9223372036854775808", "", " 5", "5 ",
                          "5 5", "\t5", "1.0", "5,"}) {
    SCOPED_TRACE(std::string("'") + bad + "'");
    auto r = send("POST", "/files/", {kTR, {"Upload-Length", bad}});
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(code(r), "ERR_INVALID_UPLOAD_LENGTH");
    r = send("PATCH", url(id), {kTR, kOOS, {"Upload-Offset", bad}}, "x");
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(code(r), "ERR_INVALID_OFFSET");
  }
  EXPECT_EQ(offset_of(id), 0u);

  // IMPL: leading zeros are accepted ("007" is 7).
  auto r = send("POST", "/files/", {kTR, {"Upload-Length", "007"}});
  ASSERT_EQ(r.status, 201u);
  EXPECT_EQ(hdr(head(id_from_location(hdr(r, "Location"))), "Upload-Length"), "7");
  r = send("PATCH", url(id), {kTR, kOOS, {"Upload-Offset", "000"}}, "ab");
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "2");

  // The largest int64 is a valid length (EDGE-13: without a max size).
  r = send("POST", "/files/", {kTR, {"Upload-Length", "9223372036854775807"}});
  EXPECT_EQ(r.status, 201u);
}

TEST_F(Global, G_11_DuplicateSingletonHeadersAre400) {
  const auto id = create(10);
  const std::vector<Case> cases = {
      {"two Upload-Offset", "PATCH", url(id), {kTR, kOOS, offset_is(0), offset_is(0)}, "abc", 400},
      {"comma-joined Upload-Offset", "PATCH", url(id), {kTR, kOOS, {"Upload-Offset", "5, 6"}}, "abc", 400},
      {"two Content-Type", "PATCH", url(id), {kTR, kOOS, kOOS, offset_is(0)}, "abc", 400},
      {"two Tus-Resumable", "PATCH", url(id), {kTR, kTR, kOOS, offset_is(0)}, "abc", 400},
      {"two Upload-Length", "POST", "/files/", {kTR, length_is(5), length_is(5)}, "", 400},
      {"two Upload-Metadata", "POST", "/files/", {kTR, length_is(5), {"Upload-Metadata", "a YQ=="},
                                                   {"Upload-Metadata", "b Yg=="}}, "", 400},
      {"two Upload-Checksum", "PATCH", url(id), {kTR, kOOS, offset_is(0), {"Upload-Checksum", "sha1 x"},
                                                  {"Upload-Checksum", "sha1 y"}}, "abc", 400},
      {"two overrides", "POST", url(id), {kTR, {"X-HTTP-Method-Override", "HEAD"},
                                          {"X-HTTP-Method-Override", "DELETE"}}, "", 400},
  };
  const auto uploads = infos->count();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto r = send(c.method, c.path, c.headers, c.body);
    EXPECT_EQ(r.status, c.status);
    if (std::string_view(c.what).starts_with("two")) {
      EXPECT_EQ(code(r), "ERR_DUPLICATE_HEADER");
    }
  }
  EXPECT_EQ(offset_of(id), 0u);
  EXPECT_EQ(infos->count(), uploads);
}

TEST_F(Global, EDGE_17_TrailingSlashResolvesIdenticallyAndJunkIdsAre404) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "abc").status, 204u);

  auto r = send("HEAD", url(id) + "/", {kTR});
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "3");
  r = send("PATCH", url(id) + "/", {kTR, kOOS, offset_is(3)}, "de");
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "5");

  std::string upper = id;
  for (auto& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  for (const std::string& path : std::vector<std::string>{"/files/../" + id, "/files/..%2F" + id, "/files/../../etc/passwd",
                                  url(id) + "/extra", url(id + "0"), url(id.substr(1)), url(upper),
                                  std::string("/other/") + id, std::string("/files/%00")}) {
    SCOPED_TRACE(path);
    for (const char* method : {"HEAD", "PATCH", "DELETE", "GET"}) {
      SCOPED_TRACE(method);
      r = send(method, path, {kTR, kOOS, offset_is(5)}, method == std::string("PATCH") ? "x" : "");
      EXPECT_EQ(r.status, 404u) << r.body;
      EXPECT_FALSE(r.headers.has("Upload-Offset"));
    }
  }
  EXPECT_EQ(stored(id), "abcde");
}

TEST_F(Global, GET_02_EveryResponseCarriesNoSniff) {
  const auto id = create(3);
  std::vector<Response> responses;
  responses.push_back(head(id));
  responses.push_back(options());
  responses.push_back(head(std::string(kUnknownId)));
  responses.push_back(patch(id, 9, "x"));
  for (const auto& r : responses) {
    SCOPED_TRACE(r.status);
    EXPECT_EQ(hdr(r, "X-Content-Type-Options"), "nosniff");
  }
}

}  // namespace
}  // namespace vidup::test
