// §15 GET (not tus 1.0.0): downloads of finished uploads (GET-01..04), single ranges (206/416), a
// Content-Type from an allow-list and a sanitised Content-Disposition (H-MD-11).
#include "fixture.hpp"

#include "core/base64.hpp"

namespace vidup::test {
namespace {

class Get : public HandlerFixture {
 protected:
  std::string finished(std::string_view content, std::string_view metadata = {}) {
    const auto id = create(content.size(), metadata);
    if (!content.empty()) {
      EXPECT_EQ(patch(id, 0, std::string(content)).status, 204u);
    }
    return id;
  }
  static std::string meta(std::string_view key, std::string_view value) {
    return std::string(key) + " " + core::base64_encode(value);
  }
};

TEST_F(Get, GET_01_AFinishedUploadIsDownloadable) {
  const auto id = finished("hello world");
  auto r = get(id);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(hdr(r, "Content-Length"), "11");
  EXPECT_EQ(hdr(r, "Accept-Ranges"), "bytes");
  ASSERT_NE(r.content, nullptr);
  EXPECT_EQ(r.content->size(), 11u);
  EXPECT_EQ(drain(r), "hello world");
}

TEST_F(Get, GET_01_RangeRequestsAre206AndUnsatisfiableOnesAre416) {
  const auto id = finished("hello world");
  struct Case {
    const char* range;
    unsigned status;
    const char* content_range;
    const char* body;
  } cases[] = {
      {"bytes=0-4", 206, "bytes 0-4/11", "hello"},
      {"bytes=6-", 206, "bytes 6-10/11", "world"},
      {"bytes=-5", 206, "bytes 6-10/11", "world"},
      {"bytes=-50", 206, "bytes 0-10/11", "hello world"},
      {"bytes=4-100", 206, "bytes 4-10/11", "o world"},
      {"bytes=10-10", 206, "bytes 10-10/11", "d"},
      {"bytes=11-", 416, "bytes */11", ""},
      {"bytes=20-30", 416, "bytes */11", ""},
      {"bytes=-0", 416, "bytes */11", ""},
      {"bytes=0-1,3-4", 200, "<absent>", "hello world"},  // several ranges: served whole
      {"items=0-1", 200, "<absent>", "hello world"},       // other units: ignored
      {"bytes=5-1", 200, "<absent>", "hello world"},       // malformed: ignored
      {"bytes=x-", 200, "<absent>", "hello world"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.range);
    auto r = get(id, {{"Range", c.range}});
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(hdr(r, "Content-Range"), c.content_range);
    if (c.status != 416) {
      EXPECT_EQ(hdr(r, "Content-Length"), std::to_string(std::string_view(c.body).size()));
      EXPECT_EQ(drain(r), c.body);
    } else {
      EXPECT_EQ(code(r), "ERR_RANGE_NOT_SATISFIABLE");
    }
  }
}

TEST_F(Get, GET_01_AnEmptyUploadDownloadsAsNothing) {
  const auto id = finished("");
  auto r = get(id);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(hdr(r, "Content-Length"), "0");
  EXPECT_EQ(drain(r), "");
  EXPECT_EQ(get(id, {{"Range", "bytes=0-"}}).status, 416u);
}

TEST_F(Get, GET_01_AFinishedFinalIsDownloadable) {
  const auto a = finished_partial("hello");
  const auto b = finished_partial(" world");
  auto f = create_final({a, b});
  ASSERT_EQ(f.status, 201u);
  auto r = get(id_from_location(hdr(f, "Location")));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(drain(r), "hello world");
}

TEST_F(Get, GET_02_ContentTypeComesFromAnAllowList) {
  struct Case {
    const char* filetype;
    const char* served;
  } cases[] = {
      {"text/html", "application/octet-stream"},
      {"TEXT/HTML", "application/octet-stream"},
      {"image/svg+xml", "application/octet-stream"},
      {"application/javascript", "application/octet-stream"},
      {"text/html; charset=utf-8", "application/octet-stream"},
      {"video/mp4\r\nX-Evil: 1", "application/octet-stream"},
      {"video", "application/octet-stream"},
      {"", "application/octet-stream"},
      {"video/mp4", "video/mp4"},
      {"Video/MP4", "video/mp4"},
      {"audio/mpeg", "audio/mpeg"},
      {"image/png", "image/png"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.filetype);
    const auto id = finished("x", meta("filetype", c.filetype));
    auto r = get(id);
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(hdr(r, "Content-Type"), c.served);
    EXPECT_EQ(hdr(r, "X-Content-Type-Options"), "nosniff");
  }
  EXPECT_EQ(hdr(get(finished("x")), "Content-Type"), "application/octet-stream");
}

TEST_F(Get, GET_02_ContentDispositionIsSanitised) {
  struct Case {
    std::string filename;
    const char* disposition;
  } cases[] = {
      {"movie.mp4", "attachment; filename=\"movie.mp4\"; filename*=UTF-8''movie.mp4"},
      {"a\r\nSet-Cookie: x", "attachment; filename=\"a__Set-Cookie: x\"; filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x"},
      {"say \"hi\".txt", "attachment; filename=\"say _hi_.txt\"; filename*=UTF-8''say%20%22hi%22.txt"},
      {"back\\slash", "attachment; filename=\"slash\"; filename*=UTF-8''slash"},
      {"../../etc/passwd", "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"},
      {"caf\xc3\xa9.mp4", "attachment; filename=\"caf__.mp4\"; filename*=UTF-8''caf%C3%A9.mp4"},
      {std::string("nul\0x", 5), "attachment; filename=\"nul_x\"; filename*=UTF-8''nul%00x"},
      {"..", "attachment"},
      {"", "attachment"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.filename);
    const auto id = finished("x", meta("filename", c.filename));
    auto r = get(id);
    ASSERT_EQ(r.status, 200u);
    const auto value = hdr(r, "Content-Disposition");
    EXPECT_EQ(value, c.disposition);
    EXPECT_EQ(value.find_first_of(std::string("\r\n\0", 3)), std::string::npos);
  }
  EXPECT_EQ(hdr(get(finished("x")), "Content-Disposition"), "attachment");
}

TEST_F(Get, GET_03_AnIncompleteUploadIs409) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "abc").status, 204u);
  auto r = get(id);
  EXPECT_EQ(r.status, 409u);
  EXPECT_EQ(code(r), "ERR_UPLOAD_INCOMPLETE");
  EXPECT_EQ(r.content, nullptr);
  const auto a = create_partial(3);
  auto f = create_final({a});
  EXPECT_EQ(get(id_from_location(hdr(f, "Location"))).status, 409u);
}

TEST_F(Get, GET_04_TusResumableIsNotRequired) {
  const auto id = finished("abc");
  EXPECT_EQ(get(id, {}).status, 200u);
  EXPECT_EQ(get(id, {{"Tus-Resumable", "0.0.1"}}).status, 200u);
}

TEST_F(Get, GET_UnknownJunkAndCollectionUrls) {
  EXPECT_EQ(get(std::string(kUnknownId)).status, 404u);
  EXPECT_EQ(send("GET", "/files/../x", {}).status, 404u);
  EXPECT_EQ(send("GET", "/files/", {}).status, 405u);
}

TEST_F(Get, GET_OffWhenConfiguredOrWithoutAContentServer) {
  const auto id = finished("abc");
  config.get = false;
  rebuild();
  EXPECT_EQ(get(id).status, 405u);
  config.get = true;
  rebuild();
  composer->use_content_server(nullptr);
  EXPECT_EQ(get(id).status, 405u);
}

}  // namespace
}  // namespace vidup::test
