// §4 HEAD (HEAD-01..12) and the headers it must carry: Upload-Offset (H-OFF-02), Upload-Length
// (H-LEN-02), Cache-Control (H-CC-NS-01). HEAD-14 is in concurrency_test.cpp; HEAD-13 (auth) is
// not the handler's: it has no authentication.
#include "fixture.hpp"

namespace vidup::test {
namespace {

class Head : public HandlerFixture {};

TEST_F(Head, HEAD_01_UploadOffsetIsAlwaysPresentEvenZeroEvenComplete) {
  const auto fresh = create(5);
  const auto half = create(5);
  ASSERT_EQ(patch(half, 0, "ab").status, 204u);
  const auto done = create(5);
  ASSERT_EQ(patch(done, 0, "abcde").status, 204u);
  const auto empty = create(0);
  struct Case {
    const char* what;
    std::string id;
    const char* offset;
  } cases[] = {{"fresh", fresh, "0"}, {"half", half, "2"}, {"complete", done, "5"}, {"zero-length", empty, "0"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto r = head(c.id);
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(hdr(r, "Upload-Offset"), c.offset);
  }
}

TEST_F(Head, H_OFF_02_FreshUploadIsOffsetZeroAndCompleteIsOffsetEqualsLength) {
  const auto id = create(11);
  EXPECT_EQ(hdr(head(id), "Upload-Offset"), "0");
  ASSERT_EQ(patch(id, 0, "hello world").status, 204u);
  auto r = head(id);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "11");
  EXPECT_EQ(hdr(r, "Upload-Length"), "11");
}

TEST_F(Head, HEAD_02_UploadLengthIsPresentWhenKnown) {
  const auto id = create(42);
  EXPECT_EQ(hdr(head(id), "Upload-Length"), "42");
}

TEST_F(Head, H_LEN_02_HeadOnANonDeferredUploadHasUploadLength) {
  const auto id = create(0);
  EXPECT_EQ(hdr(head(id), "Upload-Length"), "0");
}

TEST_F(Head, HEAD_03_CacheControlNoStore) {
  const auto id = create(5);
  EXPECT_EQ(hdr(head(id), "Cache-Control"), "no-store");
}

TEST_F(Head, H_CC_NS_01_EveryHeadResponseHasCacheControlNoStore) {
  const auto active = create(5);
  const auto done = create(1);
  ASSERT_EQ(patch(done, 0, "x").status, 204u);
  const auto deferred = create_deferred();
  const auto gone = create(5);
  ASSERT_EQ(del(gone).status, 204u);
  for (const std::string& id : {active, done, deferred, gone, std::string(kUnknownId)}) {
    SCOPED_TRACE(id);
    EXPECT_EQ(hdr(head(id), "Cache-Control"), "no-store");
  }
}

TEST_F(Head, EDGE_18_HeadIsNeverCacheable) {
  const auto id = create(5);
  auto before = head(id);
  ASSERT_EQ(patch(id, 0, "abc").status, 204u);
  auto after = head(id);
  EXPECT_EQ(hdr(before, "Cache-Control"), "no-store");
  EXPECT_EQ(hdr(after, "Cache-Control"), "no-store");
  EXPECT_EQ(hdr(after, "Upload-Offset"), "3");
}

TEST_F(Head, HEAD_04_SuccessIs200) {
  const auto id = create(5);
  EXPECT_EQ(head(id).status, 200u);
}

TEST_F(Head, HEAD_05_UnknownTerminatedAndExpiredUploadsHaveNoUploadOffset) {
  const auto terminated = create(5);
  ASSERT_EQ(del(terminated).status, 204u);
  const auto expired = create(5);
  now_ms += 25 * kHourMs;
  ASSERT_TRUE(run(handler->sweep()));
  struct Case {
    const char* what;
    std::string id;
    unsigned status;
  } cases[] = {{"unknown", std::string(kUnknownId), 404}, {"terminated", terminated, 410}, {"expired", expired, 410}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto r = head(c.id);
    EXPECT_EQ(r.status, c.status);
    EXPECT_FALSE(r.headers.has("Upload-Offset"));
    EXPECT_FALSE(r.headers.has("Upload-Length"));
    EXPECT_EQ(hdr(r, "Tus-Resumable"), "1.0.0");
  }
}

TEST_F(Head, HEAD_06_DeferredLengthHasUploadDeferLengthAndNoUploadLength) {
  const auto id = create_deferred();
  auto r = head(id);
  EXPECT_EQ(hdr(r, "Upload-Defer-Length"), "1");
  EXPECT_FALSE(r.headers.has("Upload-Length"));
  EXPECT_EQ(hdr(r, "Upload-Offset"), "0");
}

TEST_F(Head, HEAD_07_MetadataIsEchoed) {
  const auto id = create(5, "filename d29ybGQudHh0,type dGV4dA==");
  EXPECT_EQ(hdr(head(id), "Upload-Metadata"), "filename d29ybGQudHh0,type dGV4dA==");
  EXPECT_FALSE(head(create(5)).headers.has("Upload-Metadata"));
}

TEST_F(Head, HEAD_08_ConcatUploadsEchoUploadConcatAsReceived) {
  const auto a = finished_partial("ab");
  EXPECT_EQ(hdr(head(a), "Upload-Concat"), "partial");
  const std::string value = "final;" + url(a) + "  " + absolute_url(a);
  auto r = send("POST", "/files/", {kTR, {"Upload-Concat", value}});
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(hdr(head(id_from_location(hdr(r, "Location"))), "Upload-Concat"), value);
  EXPECT_FALSE(head(create(5)).headers.has("Upload-Concat"));
}

TEST_F(Head, HEAD_09_PartialUploadsHaveUploadOffset) {
  const auto a = create_partial(5);
  ASSERT_EQ(patch(a, 0, "ab").status, 204u);
  EXPECT_EQ(hdr(head(a), "Upload-Offset"), "2");
}

TEST_F(Head, HEAD_10_FinalUploadHasNoOffsetUntilConcatenatedThenOffsetEqualsLength) {
  const auto a = create_partial(2);
  const auto b = finished_partial("cd");
  auto r = create_final({a, b});
  ASSERT_EQ(r.status, 201u) << r.body;
  const auto final_id = id_from_location(hdr(r, "Location"));
  r = head(final_id);
  EXPECT_EQ(r.status, 200u);
  EXPECT_FALSE(r.headers.has("Upload-Offset"));
  EXPECT_EQ(hdr(r, "Upload-Length"), "4");
  ASSERT_EQ(patch(a, 0, "ab").status, 204u);
  r = head(final_id);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "4");
  EXPECT_EQ(hdr(r, "Upload-Length"), "4");
}

TEST_F(Head, HEAD_11_HeadHasNoBodyAnd200HasContentLengthZero) {
  const auto id = create(5);
  ASSERT_EQ(patch(id, 0, "abc").status, 204u);
  auto r = head(id);
  EXPECT_EQ(r.status, 200u);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.content, nullptr);
  EXPECT_EQ(hdr(r, "Content-Length"), "0");
}

TEST_F(Head, HEAD_12_UnfinishedExpiringUploadsHaveUploadExpiresFinishedOnesDoNot) {
  const auto id = create(2);
  auto r = head(id);
  EXPECT_EQ(hdr(r, "Upload-Expires"), expires_in(kDayMs));
  ASSERT_EQ(patch(id, 0, "ab").status, 204u);
  EXPECT_FALSE(head(id).headers.has("Upload-Expires"));
}

}  // namespace
}  // namespace vidup::test
