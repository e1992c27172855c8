// §10 checksum (CK-02..12), Upload-Checksum (H-CK-01/02) and §11 checksum-trailer (CKT-02..05),
// trailers delivered through the fake body.
#include "fixture.hpp"

namespace vidup::test {
namespace {

using core::ChecksumAlgorithm;

class Checksum : public HandlerFixture {
 protected:
  static Header sum(ChecksumAlgorithm a, std::string_view name, std::string_view data) {
    return {"Upload-Checksum", checksum_header(a, name, data)};
  }
  static FakeBodyOptions with_trailer(std::string value) {
    FakeBodyOptions o;
    o.chunked = true;
    o.trailers.add("Upload-Checksum", std::move(value));
    return o;
  }
  static Header trailer_announced() { return {"Trailer", "Upload-Checksum"}; }
};

TEST_F(Checksum, H_CK_01_AMatchingSha1Is204) {
  const auto id = create(11);
  auto r = patch(id, 0, "hello world", {{"Upload-Checksum", "sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0="}});
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_EQ(hdr(r, "Upload-Offset"), "11");
}

TEST_F(Checksum, H_CK_02_AMalformedUploadChecksumIs400) {
  const auto id = create(11);
  for (const char* bad : {"sha1", "sha1 ###", "sha1 aGVsbG8=", "sha1  Kq5sNclPz7QV2+lfQIuc6R7oRu0=",
                          "sha1Kq5sNclPz7QV2+lfQIuc6R7oRu0=", ""}) {
    SCOPED_TRACE(std::string("'") + bad + "'");
    auto r = patch(id, 0, "hello world", {{"Upload-Checksum", bad}});
    EXPECT_EQ(r.status, 400u);
  }
  EXPECT_EQ(offset_of(id), 0u);
  EXPECT_EQ(stored(id), "");
}

TEST_F(Checksum, CK_02_UploadChecksumIsOptional) {
  const auto id = create(4);
  EXPECT_EQ(patch(id, 0, "ab").status, 204u);
  EXPECT_EQ(patch(id, 2, "cd", {sum(ChecksumAlgorithm::sha1, "sha1", "cd")}).status, 204u);
  EXPECT_EQ(stored(id), "abcd");
}

TEST_F(Checksum, CK_03_TheChunkIsVerifiedAfterTheWholeRequestArrived) {
  const std::string body(1000, 'q');
  const auto id = create(body.size());
  FakeBodyOptions pieces;
  pieces.piece = 7;
  config.body_buffer = 64;
  rebuild();
  auto r = patch(id, 0, body, {sum(ChecksumAlgorithm::sha256, "sha256", body)}, pieces);
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_EQ(stored(id), body);
}

TEST_F(Checksum, CK_04_AnUnsupportedAlgorithmIs400AndTheOffsetIsUnchanged) {
  const auto id = create(11);
  ASSERT_EQ(patch(id, 0, "hello").status, 204u);
  auto r = patch(id, 5, " world", {{"Upload-Checksum", "whirlpool Kq5sNclPz7QV2+lfQIuc6R7oRu0="}});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(code(r), "ERR_UNSUPPORTED_CHECKSUM_ALGORITHM");
  EXPECT_EQ(offset_of(id), 5u);
  EXPECT_EQ(stored(id), "hello");
}

TEST_F(Checksum, CK_05_AMismatchIs460AndTheOffsetIsUnchanged) {
  const auto id = create(11);
  auto r = patch(id, 0, "hello world", {sum(ChecksumAlgorithm::sha1, "sha1", "hello")});
  EXPECT_EQ(r.status, 460u);
  EXPECT_EQ(code(r), "ERR_CHECKSUM_MISMATCH");
  EXPECT_EQ(hdr(r, "Upload-Offset"), "0");
  EXPECT_EQ(offset_of(id), 0u);
}

TEST_F(Checksum, CK_06_ARefusedChunkIsDiscardedEntirely) {
  const auto id = create(20);
  ASSERT_EQ(patch(id, 0, "keep").status, 204u);
  auto r = patch(id, 4, "discard me", {sum(ChecksumAlgorithm::md5, "md5", "something else")});
  EXPECT_EQ(r.status, 460u);
  r = patch(id, 4, "discard me", {{"Upload-Checksum", "sha512 AAAA"}});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(stored(id), "keep");
  EXPECT_EQ(offset_of(id), 4u);
  EXPECT_TRUE(hooks.progress.size() == 1u);
  // The client resends the chunk and it lands where the discarded one would have.
  r = patch(id, 4, "resent", {sum(ChecksumAlgorithm::md5, "md5", "resent")});
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(stored(id), "keepresent");
}

TEST_F(Checksum, CK_07_AMatchIs204WithTheNewOffset) {
  const auto id = create(10);
  auto r = patch(id, 0, "abc", {sum(ChecksumAlgorithm::crc32, "crc32", "abc")});
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "3");
}

TEST_F(Checksum, CK_10_ACutChecksummedChunkIsDiscarded) {
  const std::string body(100, 'c');
  const auto id = create(200);
  ASSERT_EQ(patch(id, 0, "head").status, 204u);
  FakeBodyOptions cut;
  cut.fail_after = 50;
  auto r = patch(id, 4, body, {sum(ChecksumAlgorithm::sha1, "sha1", body)}, cut);
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(offset_of(id), 4u);
  EXPECT_EQ(stored(id), "head");
}

TEST_F(Checksum, EDGE_24_ChecksumPlusDisconnectDiscardsTheWholeChunk) {
  const std::string body(64, 'e');
  const auto id = create(64);
  FakeBodyOptions cut;
  cut.fail_after = 63;
  cut.failure = core::Errc::read_timeout;
  auto r = patch(id, 0, body, {sum(ChecksumAlgorithm::crc32, "crc32", body)}, cut);
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(offset_of(id), 0u);
  EXPECT_EQ(stored(id), "");
}

TEST_F(Checksum, CK_ChecksummedChunkHittingStorageFullIsDiscarded) {
  const auto id = create(10);
  data->fail_after(3);
  auto r = patch(id, 0, "abcdef", {sum(ChecksumAlgorithm::sha1, "sha1", "abcdef")});
  EXPECT_EQ(r.status, 507u);
  EXPECT_EQ(offset_of(id), 0u);
  EXPECT_EQ(stored(id), "");
}

TEST_F(Checksum, CK_11_AlgorithmNamesAreCaseSensitive) {
  const auto id = create(11);
  auto r = patch(id, 0, "hello world", {{"Upload-Checksum", "SHA1 Kq5sNclPz7QV2+lfQIuc6R7oRu0="}});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(code(r), "ERR_UNSUPPORTED_CHECKSUM_ALGORITHM");
  EXPECT_EQ(offset_of(id), 0u);
}

TEST_F(Checksum, CK_12_EveryAdvertisedAlgorithmVerifies) {
  const std::string body = "The quick brown fox jumps over the lazy dog";
  struct Case {
    ChecksumAlgorithm algorithm;
    const char* name;
  } cases[] = {{ChecksumAlgorithm::sha1, "sha1"},
               {ChecksumAlgorithm::md5, "md5"},
               {ChecksumAlgorithm::sha256, "sha256"},
               {ChecksumAlgorithm::crc32, "crc32"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto id = create(body.size());
    EXPECT_EQ(patch(id, 0, body, {sum(c.algorithm, c.name, "not the body")}).status, 460u);
    EXPECT_EQ(patch(id, 0, body, {sum(c.algorithm, c.name, body)}).status, 204u);
    EXPECT_EQ(stored(id), body);
  }
}

TEST_F(Checksum, CK_ChecksumOffIgnoresUploadChecksum) {
  config.checksum = false;
  rebuild();
  const auto id = create(5);
  auto r = patch(id, 0, "hello", {{"Upload-Checksum", "sha1 AAAA"}});
  EXPECT_EQ(r.status, 204u);
}

// --- checksum-trailer ---

TEST_F(Checksum, CKT_02_AChunkedPatchIsVerifiedAgainstItsTrailer) {
  const auto id = create(22);
  auto r = patch(id, 0, "hello world", {trailer_announced()},
                 with_trailer(checksum_header(ChecksumAlgorithm::sha1, "sha1", "hello world")));
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_EQ(hdr(r, "Upload-Offset"), "11");

  r = patch(id, 11, "hello world", {trailer_announced()},
            with_trailer(checksum_header(ChecksumAlgorithm::sha1, "sha1", "hello")));
  EXPECT_EQ(r.status, 460u);
  EXPECT_EQ(offset_of(id), 11u);
  EXPECT_EQ(stored(id), "hello world");

  for (const auto& [a, name] : std::vector<std::pair<ChecksumAlgorithm, const char*>>{
           {ChecksumAlgorithm::md5, "md5"}, {ChecksumAlgorithm::sha256, "sha256"}, {ChecksumAlgorithm::crc32, "crc32"}}) {
    SCOPED_TRACE(name);
    const auto other = create(3);
    EXPECT_EQ(patch(other, 0, "xyz", {{"Trailer", "Expires, upload-checksum"}}, with_trailer(checksum_header(a, name, "xyz")))
                  .status,
              204u);
  }
}

TEST_F(Checksum, CKT_03_AnAnnouncedTrailerThatNeverArrivesIs400AndTheChunkIsDiscarded) {
  const auto id = create(11);
  FakeBodyOptions chunked;
  chunked.chunked = true;
  auto r = patch(id, 0, "hello world", {trailer_announced()}, chunked);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(code(r), "ERR_MISSING_CHECKSUM_TRAILER");
  EXPECT_EQ(offset_of(id), 0u);
  EXPECT_EQ(stored(id), "");
}

TEST_F(Checksum, CKT_03_AMalformedTrailerIs400AndTheChunkIsDiscarded) {
  const auto id = create(11);
  for (const char* bad : {"sha1 ###", "whirlpool AAAA", "sha1"}) {
    SCOPED_TRACE(bad);
    auto r = patch(id, 0, "hello world", {trailer_announced()}, with_trailer(bad));
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(stored(id), "");
  }
}

TEST_F(Checksum, CKT_04_BothAHeaderAndATrailerAre400) {
  const auto id = create(11);
  const auto good = checksum_header(ChecksumAlgorithm::sha1, "sha1", "hello world");
  auto r = patch(id, 0, "hello world", {{"Upload-Checksum", good}, trailer_announced()}, with_trailer(good));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(code(r), "ERR_AMBIGUOUS_CHECKSUM");
  EXPECT_EQ(stored(id), "");
}

TEST_F(Checksum, CKT_05_WithTrailersOffAnAnnouncedTrailerIsNotTrusted) {
  config.checksum_trailer = false;
  rebuild();
  const auto id = create(5);
  // The trailer is ignored: the chunk is stored unverified, as if no checksum had been sent.
  auto r = patch(id, 0, "hello", {trailer_announced()},
                 with_trailer(checksum_header(ChecksumAlgorithm::sha1, "sha1", "other")));
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(stored(id), "hello");
}

TEST_F(Checksum, CKT_02_ACutTrailerChecksummedChunkIsDiscarded) {
  const auto id = create(11);
  auto opts = with_trailer(checksum_header(ChecksumAlgorithm::sha1, "sha1", "hello world"));
  opts.fail_after = 6;
  auto r = patch(id, 0, "hello world", {trailer_announced()}, opts);
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(stored(id), "");
  EXPECT_EQ(offset_of(id), 0u);
}

TEST_F(Checksum, CKT_02_CreationWithUploadTakesATrailerToo) {
  auto r = send("POST", "/files/", {kTR, kOOS, length_is(5), trailer_announced()}, "hello",
                with_trailer(checksum_header(ChecksumAlgorithm::md5, "md5", "hello")));
  EXPECT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(hdr(r, "Upload-Offset"), "5");
}

}  // namespace
}  // namespace vidup::test
