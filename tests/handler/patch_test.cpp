// §5 PATCH (PATCH-01..20), Upload-Offset (H-OFF-01/03) and the offset edge cases (EDGE-01..03,
// 14, 21). PATCH-16 (concurrency) is in concurrency_test.cpp; PATCH-10 (read timeouts close the
// connection) and PATCH-21 (streaming proxies) belong to http/ and the deployment tests.
#include "fixture.hpp"

namespace vidup::test {
namespace {

class Patch : public HandlerFixture {};

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>('a' + i % 26);
  }
  return s;
}

TEST_F(Patch, PATCH_01_AnyOtherContentTypeIs415) {
  const auto id = create(5);
  const std::vector<HeaderList> bad = {
      {},
      {{"Content-Type", "application/octet-stream"}},
      {{"Content-Type", "text/plain"}},
      {{"Content-Type", "application/offset+octet-streamx"}},
      {{"Content-Type", ""}},
  };
  for (const auto& ct : bad) {
    SCOPED_TRACE(ct.empty() ? std::string("none") : ct.front().second);
    HeaderList headers{kTR, offset_is(0)};
    headers.insert(headers.end(), ct.begin(), ct.end());
    auto r = send("PATCH", url(id), headers, "hello");
    EXPECT_EQ(r.status, 415u);
    EXPECT_EQ(code(r), "ERR_INVALID_CONTENT_TYPE");
  }
  EXPECT_EQ(offset_of(id), 0u);
  EXPECT_EQ(stored(id), "");
  // Parameters and case do not matter.
  auto r = send("PATCH", url(id), {kTR, offset_is(0), {"Content-Type", "Application/Offset+Octet-Stream; x=1"}}, "he");
  EXPECT_EQ(r.status, 204u) << r.body;
}

TEST_F(Patch, PATCH_02_BytesAreAppliedAtUploadOffset) {
  const auto id = create(11);
  auto r = patch(id, 0, "hello ");
  EXPECT_EQ(r.status, 204u);
  r = patch(id, 6, "world");
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(stored(id), "hello world");
}

TEST_F(Patch, PATCH_03_OffsetMismatchIs409AndLeavesTheUploadUnchanged) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "abcde").status, 204u);
  for (std::uint64_t wrong : {0, 3, 4, 6, 7, 10, 11}) {
    SCOPED_TRACE(wrong);
    auto r = patch(id, wrong, "XY");
    EXPECT_EQ(r.status, 409u);
    EXPECT_EQ(code(r), "ERR_MISMATCHED_OFFSET");
    EXPECT_EQ(offset_of(id), 5u);
    EXPECT_EQ(stored(id), "abcde");
  }
}

TEST_F(Patch, PATCH_04_The409CarriesTheCurrentOffset) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "abcde").status, 204u);
  auto r = patch(id, 3, "XY");
  EXPECT_EQ(r.status, 409u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "5");
}

TEST_F(Patch, PATCH_05_SuccessIsExactly204) {
  const auto id = create(5);
  auto r = patch(id, 0, "abc");
  EXPECT_EQ(r.status, 204u);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.content, nullptr);
  r = patch(id, 3, "de");  // the last chunk too
  EXPECT_EQ(r.status, 204u);
}

TEST_F(Patch, PATCH_06_The204CarriesTheNewOffset) {
  const auto id = create(100);
  auto r = patch(id, 0, pattern(30));
  EXPECT_EQ(hdr(r, "Upload-Offset"), "30");
  EXPECT_EQ(r.bytes_received, 30u);
}

TEST_F(Patch, H_OFF_03_EverySuccessfulPatchHasUploadOffset) {
  const auto id = create(4);
  for (std::uint64_t at : {0, 1, 2, 3}) {
    auto r = patch(id, at, "x");
    ASSERT_EQ(r.status, 204u);
    EXPECT_EQ(hdr(r, "Upload-Offset"), std::to_string(at + 1));
  }
  auto r = patch(id, 4, "");  // PATCH-15: the empty retry of a complete upload
  EXPECT_EQ(hdr(r, "Upload-Offset"), "4");
}

TEST_F(Patch, PATCH_07_UnknownUploadIs404AndATerminatedOneIs410) {
  auto r = patch(std::string(kUnknownId), 0, "abc");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(code(r), "ERR_UPLOAD_NOT_FOUND");
  const auto id = create(5);
  ASSERT_EQ(del(id).status, 204u);
  r = patch(id, 0, "abc");
  EXPECT_EQ(r.status, 410u);
  EXPECT_EQ(code(r), "ERR_UPLOAD_GONE");
}

TEST_F(Patch, PATCH_08_ASequenceOfPatchesAppendsInOrder) {
  const auto id = create(30);
  const auto content = pattern(30);
  for (std::uint64_t i = 0; i < 3; ++i) {
    auto r = patch(id, i * 10, content.substr(i * 10, 10));
    ASSERT_EQ(r.status, 204u);
    EXPECT_EQ(hdr(r, "Upload-Offset"), std::to_string((i + 1) * 10));
  }
  EXPECT_EQ(stored(id), content);
  EXPECT_EQ(hooks.finished, std::vector<std::string>{id});
}

TEST_F(Patch, PATCH_09_AConnectionResetKeepsWhatArrivedAndTheClientResumesFromIt) {
  const auto content = pattern(1000);
  const auto id = create(content.size());
  FakeBodyOptions cut;
  cut.fail_after = 600;
  cut.piece = 64;  // many reads and writes before the cut
  auto r = patch(id, 0, content, {}, cut);
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(code(r), "ERR_CONNECTION_RESET");
  EXPECT_TRUE(r.close);
  EXPECT_EQ(offset_of(id), 600u);
  EXPECT_EQ(stored(id), content.substr(0, 600));

  r = patch(id, 600, content.substr(600));
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(stored(id), content);
  EXPECT_EQ(hdr(head(id), "Upload-Offset"), "1000");
}

TEST_F(Patch, PATCH_09_AReadTimeoutKeepsWhatArrivedToo) {
  const auto id = create(100);
  FakeBodyOptions stalled;
  stalled.fail_after = 40;
  stalled.failure = core::Errc::read_timeout;
  auto r = patch(id, 0, pattern(100), {}, stalled);
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(code(r), "ERR_READ_TIMEOUT");
  EXPECT_EQ(offset_of(id), 40u);
}

TEST_F(Patch, EDGE_21_TheWholeFileInOnePatchOverAFlakyLinkKeepsItsPrefix) {
  const auto content = pattern(5000);
  const auto id = create(content.size());
  std::uint64_t offset = 0;
  for (std::size_t cut : {1234, 1, 2000}) {  // three drops, then a clean finish
    FakeBodyOptions flaky;
    flaky.fail_after = cut;
    flaky.piece = 100;
    auto r = patch(id, offset, content.substr(offset), {}, flaky);
    EXPECT_EQ(r.status, 500u);
    offset += cut;
    ASSERT_EQ(offset_of(id), offset);
  }
  ASSERT_EQ(patch(id, offset, content.substr(offset)).status, 204u);
  EXPECT_EQ(stored(id), content);
}

TEST_F(Patch, PATCH_11_OverflowWithContentLengthIs413BeforeReadingAndNothingIsWritten) {
  const auto id = create(100);
  ASSERT_EQ(patch(id, 0, pattern(90)).status, 204u);
  auto r = patch(id, 90, std::string(20, 'Z'));
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(code(r), "ERR_UPLOAD_SIZE_EXCEEDED");
  EXPECT_EQ(offset_of(id), 90u);
  EXPECT_EQ(stored(id), pattern(90));
}

TEST_F(Patch, EDGE_01_NothingPastTheLengthIsEverStored) {
  const auto id = create(10);
  FakeBodyOptions chunked;
  chunked.chunked = true;
  chunked.piece = 3;
  auto r = patch(id, 0, pattern(25), {}, chunked);
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(stored(id), pattern(10));
  EXPECT_EQ(offset_of(id), 10u);
}

TEST_F(Patch, PATCH_12_ChunkedOverflowIs413AndKeepsTheValidPrefix) {
  const auto id = create(100);
  ASSERT_EQ(patch(id, 0, pattern(90)).status, 204u);
  FakeBodyOptions chunked;
  chunked.chunked = true;
  auto r = patch(id, 90, std::string(20, 'Z'), {}, chunked);
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "100");
  EXPECT_TRUE(r.close);
  // IMPL decision: keep the valid prefix (as tusd, which limits the reader).
  auto h = head(id);
  EXPECT_EQ(hdr(h, "Upload-Offset"), "100");
  EXPECT_EQ(stored(id), pattern(90) + std::string(10, 'Z'));
}

TEST_F(Patch, PATCH_12_ChunkedOverflowIsFoundWhateverTheReadSizes) {
  for (std::size_t buffer : {1, 3, 10, 11, 64}) {
    for (std::size_t piece : {0, 1, 4}) {
      SCOPED_TRACE("buffer " + std::to_string(buffer) + " piece " + std::to_string(piece));
      config.body_buffer = buffer;
      rebuild();
      const auto id = create(10);
      FakeBodyOptions chunked;
      chunked.chunked = true;
      chunked.piece = piece;
      auto r = patch(id, 0, pattern(11), {}, chunked);
      EXPECT_EQ(r.status, 413u);
      EXPECT_EQ(stored(id), pattern(10));
      const auto exact = create(10);
      r = patch(exact, 0, pattern(10), {}, chunked);
      EXPECT_EQ(r.status, 204u) << r.body;
      EXPECT_EQ(stored(exact), pattern(10));
    }
  }
}

TEST_F(Patch, PATCH_13_AChunkedPatchWithoutContentLengthIsAllowed) {
  const auto id = create(11);
  FakeBodyOptions chunked;
  chunked.chunked = true;
  chunked.piece = 4;
  auto r = patch(id, 0, "hello world", {}, chunked);
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_EQ(hdr(r, "Upload-Offset"), "11");
  EXPECT_EQ(stored(id), "hello world");
}

TEST_F(Patch, PATCH_14_AnEmptyPatchIs204WithAnUnchangedOffset) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "abc").status, 204u);
  auto r = patch(id, 3, "");
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "3");
  FakeBodyOptions chunked;
  chunked.chunked = true;
  r = patch(id, 3, "", {}, chunked);  // an empty chunked body
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "3");
  EXPECT_EQ(stored(id), "abc");
}

TEST_F(Patch, PATCH_15_AnEmptyPatchOnACompleteUploadIs204AndANonEmptyOneIs413) {
  const auto id = create(5);
  ASSERT_EQ(patch(id, 0, "hello").status, 204u);
  auto r = patch(id, 5, "");
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "5");
  r = patch(id, 5, "!");
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(stored(id), "hello");
  EXPECT_EQ(hdr(head(id), "Upload-Offset"), "5");
}

// The retry of a last chunk changes nothing: in particular the upload is not finished a second
// time (one "finished" event per upload, POST-06).
TEST_F(Patch, PATCH_15_RetryingTheLastChunkDoesNotFinishTheUploadAgain) {
  const auto id = create(5);
  ASSERT_EQ(patch(id, 0, "hello").status, 204u);
  ASSERT_EQ(hooks.finished.size(), 1u);
  const auto finished_before = handler->counters().uploads_finished.load();

  FakeBodyOptions chunked;
  chunked.chunked = true;
  auto r = patch(id, 5, "", {}, chunked);  // an empty chunked retry
  EXPECT_EQ(r.status, 204u);
  r = patch(id, 5, "", {length_is(5)});  // a retry that repeats the length (CDL-05: accepted)
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(hooks.finished.size(), 1u) << "the finished hook ran again for an upload that was already finished";
  EXPECT_EQ(handler->counters().uploads_finished.load(), finished_before);
}

TEST_F(Patch, EDGE_02_SkippingAheadIs409) {
  const auto id = create(10);
  auto r = patch(id, 1, "abc");
  EXPECT_EQ(r.status, 409u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "0");
  EXPECT_EQ(stored(id), "");
}

TEST_F(Patch, EDGE_03_RewindingAfterALostAckIs409WithTheCurrentOffset) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "abcdef").status, 204u);
  auto r = patch(id, 0, "abcdef");  // the client never saw the 204
  EXPECT_EQ(r.status, 409u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "6");
  ASSERT_EQ(patch(id, 6, "ghij").status, 204u);  // re-synced from the 409 (or a HEAD)
  EXPECT_EQ(stored(id), "abcdefghij");
}

TEST_F(Patch, EDGE_14_ZeroLengthUploadTakesAnEmptyPatchButNotOneByte) {
  const auto id = create(0);
  EXPECT_EQ(patch(id, 0, "").status, 204u);
  auto r = patch(id, 0, "x");
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(stored(id), "");
}

TEST_F(Patch, PATCH_18_AMissingUploadOffsetIs400) {
  const auto id = create(5);
  auto r = send("PATCH", url(id), {kTR, kOOS}, "abc");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(code(r), "ERR_INVALID_OFFSET");
}

TEST_F(Patch, H_OFF_01_UploadOffsetIsANonNegativeInteger) {
  const auto id = create(5);
  for (const char* bad : {"-1", "abc", "", "1.5", "0x0", " 0"}) {
    SCOPED_TRACE(std::string("'") + bad + "'");
    auto r = send("PATCH", url(id), {kTR, kOOS, {"Upload-Offset", bad}}, "abc");
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(code(r), "ERR_INVALID_OFFSET");
  }
  EXPECT_EQ(stored(id), "");
}

TEST_F(Patch, PATCH_19_PatchResponsesCarryUploadExpiresWhileTheUploadCanExpire) {
  const auto id = create(10);
  auto r = patch(id, 0, "abc");
  EXPECT_EQ(hdr(r, "Upload-Expires"), expires_in(kDayMs));
  r = patch(id, 3, "defghij");  // finished: it no longer expires
  EXPECT_FALSE(r.headers.has("Upload-Expires"));
}

TEST_F(Patch, PATCH_20_StorageFullIs507AndTheOffsetIsWhatWasStored) {
  const auto content = pattern(100);
  const auto id = create(content.size());
  ASSERT_EQ(patch(id, 0, content.substr(0, 10)).status, 204u);
  data->fail_after(25);
  FakeBodyOptions pieces;
  pieces.piece = 10;
  auto r = patch(id, 10, content.substr(10), {}, pieces);
  EXPECT_EQ(r.status, 507u);
  EXPECT_EQ(code(r), "ERR_STORAGE_FULL");
  const auto offset = offset_of(id);
  EXPECT_EQ(offset, 35u);
  ASSERT_TRUE(stored(id));
  EXPECT_EQ(stored(id)->size(), offset);
  EXPECT_EQ(*stored(id), content.substr(0, offset));

  data->fail_after(std::nullopt);
  r = patch(id, offset, content.substr(offset));
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_EQ(stored(id), content);
}

TEST_F(Patch, PATCH_20_StorageFullWithNothingStoredKeepsTheOffset) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "abc").status, 204u);
  data->fail_after(0);
  auto r = patch(id, 3, "defg");
  EXPECT_EQ(r.status, 507u);
  EXPECT_EQ(offset_of(id), 3u);
  EXPECT_EQ(stored(id), "abc");
}

TEST_F(Patch, PATCH_ProgressIsRecordedAndCounted) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "abc").status, 204u);
  ASSERT_EQ(patch(id, 3, "").status, 204u);  // no progress, no event
  EXPECT_EQ(hooks.progress, std::vector<std::string>{id});
  EXPECT_EQ(handler->counters().bytes_received.load(), 3u);
  EXPECT_EQ(handler->counters().active_writes.load(), 0);
  auto rec = record(id);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->offset, 3u);
  EXPECT_EQ(rec->updated_at, now_ms);
}

}  // namespace
}  // namespace vidup::test
