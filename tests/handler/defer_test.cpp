// §8 creation-defer-length (CDL-02..10) and Upload-Defer-Length (H-DEF-01..03, EDGE-15).
#include "fixture.hpp"

namespace vidup::test {
namespace {

class Defer : public HandlerFixture {};

TEST_F(Defer, H_DEF_01_NonDeferredUploadsHaveNoUploadDeferLength) {
  const auto id = create(5);
  EXPECT_FALSE(head(id).headers.has("Upload-Defer-Length"));
  const auto deferred = create_deferred();
  ASSERT_EQ(patch(deferred, 0, "ab", {length_is(4)}).status, 204u);
  EXPECT_FALSE(head(deferred).headers.has("Upload-Defer-Length"));
}

TEST_F(Defer, H_DEF_02_UploadDeferLengthOtherThan1Is400) {
  for (const char* bad : {"0", "2", "true", "", " 1", "01"}) {
    SCOPED_TRACE(std::string("'") + bad + "'");
    auto r = send("POST", "/files/", {kTR, {"Upload-Defer-Length", bad}});
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(code(r), "ERR_INVALID_UPLOAD_LENGTH_DEFER");
  }
  EXPECT_EQ(infos->count(), 0u);
}

TEST_F(Defer, CDL_02_OnlyTheValue1DefersTheLength) {
  EXPECT_EQ(send("POST", "/files/", {kTR, {"Upload-Defer-Length", "1"}}).status, 201u);
  EXPECT_EQ(send("POST", "/files/", {kTR, {"Upload-Defer-Length", "yes"}}).status, 400u);
}

TEST_F(Defer, H_DEF_03_BothUploadLengthAndUploadDeferLengthAre400) {
  auto r = send("POST", "/files/", {kTR, length_is(5), {"Upload-Defer-Length", "1"}});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(code(r), "ERR_AMBIGUOUS_UPLOAD_LENGTH");
  EXPECT_EQ(infos->count(), 0u);
}

TEST_F(Defer, CDL_03_TheLengthIsDeclaredInALaterPatch) {
  const auto id = create_deferred();
  ASSERT_EQ(patch(id, 0, "hello").status, 204u);
  auto r = patch(id, 5, " wor", {length_is(11)});
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_EQ(hdr(r, "Upload-Offset"), "9");
  auto h = head(id);
  EXPECT_EQ(hdr(h, "Upload-Length"), "11");
  EXPECT_FALSE(h.headers.has("Upload-Defer-Length"));
  ASSERT_EQ(patch(id, 9, "ld").status, 204u);
  EXPECT_EQ(stored(id), "hello world");
  EXPECT_EQ(hooks.finished, std::vector<std::string>{id});
}

TEST_F(Defer, CDL_04_WhileUnknownEveryHeadHasUploadDeferLength) {
  const auto id = create_deferred();
  for (const char* chunk : {"", "abc", "def"}) {
    if (*chunk != '\0') {
      ASSERT_EQ(patch(id, offset_of(id), chunk).status, 204u);
    }
    auto r = head(id);
    EXPECT_EQ(hdr(r, "Upload-Defer-Length"), "1");
    EXPECT_FALSE(r.headers.has("Upload-Length"));
  }
}

TEST_F(Defer, CDL_05_OnceSetTheLengthCannotChangeButAnEqualRepeatIsAccepted) {
  const auto id = create_deferred();
  ASSERT_EQ(patch(id, 0, "ab", {length_is(10)}).status, 204u);
  auto r = patch(id, 2, "cd", {length_is(12)});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(code(r), "ERR_UPLOAD_LENGTH_ALREADY_SET");
  EXPECT_EQ(offset_of(id), 2u);
  r = patch(id, 2, "cd", {length_is(10)});  // IMPL: lenient (tusd #283)
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(hdr(head(id), "Upload-Length"), "10");
}

TEST_F(Defer, CDL_06_UploadLengthInAPatchOnANonDeferredUploadMustMatch) {
  const auto id = create(10);
  auto r = patch(id, 0, "ab", {length_is(11)});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(stored(id), "");
  r = patch(id, 0, "ab", {length_is(10)});
  EXPECT_EQ(r.status, 204u);
  r = patch(id, 2, "cd", {{"Upload-Length", "ten"}});
  EXPECT_EQ(r.status, 400u);
}

TEST_F(Defer, CDL_07_ADeclaredLengthBelowTheOffsetIs400AndAboveTheMaxIs413) {
  config.max_size = 100;
  rebuild();
  const auto id = create_deferred();
  ASSERT_EQ(patch(id, 0, std::string(50, 'x')).status, 204u);
  auto r = patch(id, 50, "", {length_is(40)});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(code(r), "ERR_UPLOAD_LENGTH_BELOW_OFFSET");
  r = patch(id, 50, "", {length_is(101)});
  EXPECT_EQ(r.status, 413u);
  auto h = head(id);
  EXPECT_EQ(hdr(h, "Upload-Defer-Length"), "1");
  EXPECT_EQ(hdr(h, "Upload-Offset"), "50");
}

TEST_F(Defer, EDGE_15_DeclaringLessThanWhatIsStoredIs400) {
  const auto id = create_deferred();
  ASSERT_EQ(patch(id, 0, "hello").status, 204u);
  auto r = patch(id, 5, "", {length_is(4)});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(stored(id), "hello");
}

TEST_F(Defer, CDL_08_WhileUnknownTheMaxSizeCapsTheUpload) {
  config.max_size = 100;
  rebuild();
  const auto id = create_deferred();
  auto r = patch(id, 0, std::string(150, 'x'));
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(code(r), "ERR_MAX_SIZE_EXCEEDED");
  EXPECT_EQ(offset_of(id), 0u);  // refused before reading: Content-Length said too much

  FakeBodyOptions chunked;
  chunked.chunked = true;
  chunked.piece = 7;
  r = patch(id, 0, std::string(150, 'y'), {}, chunked);
  EXPECT_EQ(r.status, 413u);
  EXPECT_LE(offset_of(id), 100u);
  ASSERT_TRUE(stored(id));
  EXPECT_LE(stored(id)->size(), 100u);
  EXPECT_EQ(stored(id)->size(), offset_of(id));
}

TEST_F(Defer, CDL_09_DeclaringTheCurrentOffsetCompletesTheUpload) {
  const auto id = create_deferred();
  ASSERT_EQ(patch(id, 0, "hello").status, 204u);
  EXPECT_TRUE(hooks.finished.empty());
  auto r = patch(id, 5, "", {length_is(5)});
  EXPECT_EQ(r.status, 204u);
  EXPECT_FALSE(r.headers.has("Upload-Expires"));
  auto h = head(id);
  EXPECT_EQ(hdr(h, "Upload-Length"), "5");
  EXPECT_EQ(hdr(h, "Upload-Offset"), "5");
  EXPECT_EQ(hooks.finished, std::vector<std::string>{id});
  auto rec = record(id);
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->is_finished());
}

TEST_F(Defer, CDL_10_DeferringWhenTheExtensionIsOffIs400) {
  config.defer_length = false;
  rebuild();
  auto r = send("POST", "/files/", {kTR, {"Upload-Defer-Length", "1"}});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(infos->count(), 0u);
}

}  // namespace
}  // namespace vidup::test
