// §6 creation (POST-02..12), §7 creation-with-upload (CWU-03..09), Upload-Length (H-LEN-01),
// Tus-Max-Size (H-MAX-03), Location (H-LOC-01/03) and Upload-Metadata through POST and HEAD
// (H-MD-01..14, EDGE-09, EDGE-13). POST-10 (auth) and POST-11 (quotas) are not the handler's;
// H-LOC-02/EDGE-26 (forwarded headers) and CWU-06 (100-continue) are http/'s.
#include "fixture.hpp"

#include "core/base64.hpp"

#include <algorithm>
#include <set>

namespace vidup::test {
namespace {

class Post : public HandlerFixture {
 protected:
  Response post(HeaderList headers, std::string body = "", FakeBodyOptions opts = {}) {
    return send("POST", "/files/", std::move(headers), std::move(body), std::move(opts));
  }
  Response post_metadata(std::string value) {
    return post({kTR, length_is(5), {"Upload-Metadata", std::move(value)}});
  }
  core::Metadata metadata_of(const Response& created) {
    auto rec = record(id_from_location(hdr(created, "Location")));
    return rec ? rec->metadata : core::Metadata{};
  }
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST_F(Post, POST_02_NeitherUploadLengthNorUploadDeferLengthIs400) {
  auto r = post({kTR});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(code(r), "ERR_INVALID_UPLOAD_LENGTH");
  EXPECT_EQ(infos->count(), 0u);
  EXPECT_EQ(data->count(), 0u);
}

TEST_F(Post, POST_03_CreationIs201WithLocation) {
  auto r = post({kTR, length_is(100)});
  EXPECT_EQ(r.status, 201u);
  EXPECT_TRUE(r.headers.has("Location"));
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(hooks.created.size(), 1u);
  EXPECT_EQ(handler->counters().uploads_created.load(), 1u);
}

TEST_F(Post, POST_04_TheNewUploadIsAtOffsetZero) {
  const auto id = create(100);
  auto r = head(id);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "0");
  EXPECT_EQ(hdr(r, "Upload-Length"), "100");
  EXPECT_EQ(stored(id), "");
}

TEST_F(Post, H_MAX_03_UploadLengthAboveTheMaxIs413AndCreatesNothing) {
  config.max_size = 1000;
  rebuild();
  auto r = post({kTR, length_is(1001)});
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(code(r), "ERR_MAX_SIZE_EXCEEDED");
  EXPECT_FALSE(r.headers.has("Location"));
  EXPECT_EQ(infos->count(), 0u);
  EXPECT_EQ(post({kTR, length_is(1000)}).status, 201u);  // the limit itself is allowed
}

TEST_F(Post, POST_05_UploadLengthAboveTheMaxIs413) {
  config.max_size = 10;
  rebuild();
  EXPECT_EQ(post({kTR, length_is(11)}).status, 413u);
}

TEST_F(Post, EDGE_13_LengthsBeyondInt64Are400AndInt64MaxIs413OverTheMax) {
  config.max_size = 1ULL << 30;
  rebuild();
  EXPECT_EQ(post({kTR, {"Upload-Length", "9223372036854775808"}}).status, 400u);
  EXPECT_EQ(post({kTR, {"Upload-Length", "18446744073709551616"}}).status, 400u);
  EXPECT_EQ(post({kTR, {"Upload-Length", "9223372036854775807"}}).status, 413u);
}

TEST_F(Post, POST_06_ZeroLengthIsCompleteAtOnceAndFinishedOnce) {
  auto r = post({kTR, length_is(0)});
  ASSERT_EQ(r.status, 201u);
  const auto id = id_from_location(hdr(r, "Location"));
  EXPECT_FALSE(r.headers.has("Upload-Expires"));  // complete: it never expires
  auto h = head(id);
  EXPECT_EQ(hdr(h, "Upload-Offset"), "0");
  EXPECT_EQ(hdr(h, "Upload-Length"), "0");
  EXPECT_EQ(hooks.finished, std::vector<std::string>{id});
  EXPECT_EQ(handler->counters().uploads_finished.load(), 1u);
  auto rec = record(id);
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->is_finished());
}

// The same, when the zero-length creation carries an (empty) chunked body.
TEST_F(Post, POST_06_AZeroLengthUploadWithAnEmptyChunkedBodyIsFinishedOnce) {
  FakeBodyOptions chunked;
  chunked.chunked = true;
  auto r = post({kTR, kOOS, length_is(0)}, "", chunked);
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(hdr(r, "Upload-Offset"), "0");
  EXPECT_EQ(hooks.finished.size(), 1u) << "the finished hook ran more than once";
  EXPECT_EQ(handler->counters().uploads_finished.load(), 1u);
}

TEST_F(Post, POST_07_MetadataMayBeSuppliedAndIsKept) {
  auto r = post({kTR, length_is(5), {"Upload-Metadata", "filename bW92aWUubXA0,filetype dmlkZW8vbXA0"}});
  ASSERT_EQ(r.status, 201u);
  const auto md = metadata_of(r);
  EXPECT_EQ(md.get("filename"), "movie.mp4");
  EXPECT_EQ(md.get("filetype"), "video/mp4");
}

TEST_F(Post, POST_08_UploadExpiresIsInThe201) {
  auto r = post({kTR, length_is(5)});
  EXPECT_EQ(hdr(r, "Upload-Expires"), expires_in(kDayMs));
}

TEST_F(Post, POST_09_ABodyWithoutTheOffsetStreamContentTypeIs415AndCreatesNothing) {
  for (const HeaderList& ct : {HeaderList{{"Content-Type", "text/plain"}}, HeaderList{}}) {
    SCOPED_TRACE(ct.empty() ? "none" : ct.front().second);
    HeaderList headers{kTR, length_is(5)};
    headers.insert(headers.end(), ct.begin(), ct.end());
    auto r = post(headers, "hello");
    EXPECT_EQ(r.status, 415u);
    EXPECT_FALSE(r.headers.has("Location"));
  }
  EXPECT_EQ(infos->count(), 0u);
  EXPECT_EQ(data->count(), 0u);
}

TEST_F(Post, POST_12_PostOnAnUploadUrlWithoutOverrideIs405) {
  const auto id = create(5);
  auto r = send("POST", url(id), {kTR, length_is(5)});
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(infos->count(), 1u);
}

TEST_F(Post, H_LEN_01_UploadLengthIsANonNegativeInteger) {
  for (const char* bad : {"-5", "five", "5.0", ""}) {
    SCOPED_TRACE(bad);
    auto r = post({kTR, {"Upload-Length", bad}});
    EXPECT_EQ(r.status, 400u);
  }
  EXPECT_EQ(infos->count(), 0u);
}

TEST_F(Post, H_LOC_01_LocationIsTheAbsoluteUrlOfTheNewUpload) {
  auto r = post({kTR, length_is(5)});
  const auto location = hdr(r, "Location");
  EXPECT_TRUE(location.starts_with("http://vidup.test/files/")) << location;
  const auto id = id_from_location(location);
  EXPECT_EQ(r.upload_id, id);
  EXPECT_EQ(head(id).status, 200u);
}

TEST_F(Post, H_LOC_01_LocationFollowsTheConfiguredBasePath) {
  config.base_path = "/api/uploads";  // no trailing slash: the handler adds it
  rebuild();
  auto r = send("POST", "/api/uploads", {kTR, length_is(5)});
  ASSERT_EQ(r.status, 201u);
  const auto location = hdr(r, "Location");
  ASSERT_TRUE(location.starts_with("http://vidup.test/api/uploads/")) << location;
  const auto id = location.substr(std::string("http://vidup.test/api/uploads/").size());
  EXPECT_EQ(send("HEAD", "/api/uploads/" + id, {kTR}).status, 200u);
  EXPECT_EQ(send("HEAD", "/files/" + id, {kTR}).status, 404u);
}

TEST_F(Post, H_LOC_03_UploadIdsAre128RandomBitsInHex) {
  std::set<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    const auto id = create(1);
    ASSERT_EQ(id.size(), 32u) << id;
    EXPECT_TRUE(std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
        << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 200u);
}

// --- creation-with-upload ---

TEST_F(Post, CWU_03_ABodyWithTheOffsetStreamContentTypeIsAccepted) {
  auto r = post({kTR, kOOS, length_is(100)}, "hello");
  EXPECT_EQ(r.status, 201u) << r.body;
  EXPECT_TRUE(r.headers.has("Location"));
}

TEST_F(Post, CWU_04_The201CarriesTheOffsetAfterTheBody) {
  auto r = post({kTR, kOOS, length_is(100)}, "hello");
  ASSERT_EQ(r.status, 201u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "5");
  EXPECT_EQ(r.bytes_received, 5u);
  const auto id = id_from_location(hdr(r, "Location"));
  EXPECT_EQ(stored(id), "hello");
  EXPECT_EQ(offset_of(id), 5u);
  ASSERT_EQ(patch(id, 5, " world").status, 204u);
  EXPECT_EQ(stored(id), "hello world");
}

TEST_F(Post, CWU_04_ABodyThatCompletesTheUploadFinishesIt) {
  auto r = post({kTR, kOOS, length_is(5)}, "hello");
  ASSERT_EQ(r.status, 201u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "5");
  EXPECT_FALSE(r.headers.has("Upload-Expires"));
  EXPECT_EQ(hooks.finished.size(), 1u);
}

TEST_F(Post, CWU_05_ABodyCutShortKeepsTheUploadWithWhatArrived) {
  FakeBodyOptions cut;
  cut.fail_after = 3;
  auto r = post({kTR, kOOS, length_is(10)}, "abcdefghij", cut);
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(code(r), "ERR_CONNECTION_RESET");
  EXPECT_EQ(hdr(r, "Upload-Offset"), "3");
  const auto id = id_from_location(hdr(r, "Location"));  // if the client ever sees it
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(offset_of(id), 3u);
  EXPECT_EQ(stored(id), "abc");
}

TEST_F(Post, CWU_07_ABodyLargerThanUploadLengthIs413AndNothingBeyondIsStored) {
  auto r = post({kTR, kOOS, length_is(3)}, "hello");
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(infos->count(), 0u);  // known before reading: nothing created

  FakeBodyOptions chunked;
  chunked.chunked = true;
  r = post({kTR, kOOS, length_is(3)}, "hello", chunked);
  EXPECT_EQ(r.status, 413u);
  const auto id = id_from_location(hdr(r, "Location"));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(stored(id), "hel");  // PATCH-12's decision: the valid prefix is kept
}

TEST_F(Post, CWU_08_ChecksumMismatchIs460TheUploadExistsAtOffsetZero) {
  const auto bad = checksum_header(core::ChecksumAlgorithm::sha1, "sha1", "hullo");
  auto r = post({kTR, kOOS, length_is(10), {"Upload-Checksum", bad}}, "hello");
  EXPECT_EQ(r.status, 460u);
  EXPECT_EQ(code(r), "ERR_CHECKSUM_MISMATCH");
  EXPECT_EQ(hdr(r, "Upload-Offset"), "0");
  const auto id = id_from_location(hdr(r, "Location"));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(offset_of(id), 0u);
  EXPECT_EQ(stored(id), "");

  const auto good = checksum_header(core::ChecksumAlgorithm::sha1, "sha1", "hello");
  r = post({kTR, kOOS, length_is(10), {"Upload-Checksum", good}}, "hello");
  EXPECT_EQ(r.status, 201u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "5");
}

TEST_F(Post, CWU_08_UnsupportedAlgorithmIs400AndWrongContentTypeIs415BeforeCreating) {
  auto r = post({kTR, kOOS, length_is(10), {"Upload-Checksum", "whirlpool AAAA"}}, "hello");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(code(r), "ERR_UNSUPPORTED_CHECKSUM_ALGORITHM");
  r = post({kTR, {"Content-Type", "application/octet-stream"}, length_is(10)}, "hello");
  EXPECT_EQ(r.status, 415u);
  EXPECT_EQ(infos->count(), 0u);
}

TEST_F(Post, CWU_09_AFinalConcatenationWithABodyIs403) {
  const auto a = finished_partial("ab");
  auto r = post({kTR, kOOS, {"Upload-Concat", "final;" + url(a)}}, "cd");
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(code(r), "ERR_MODIFY_FINAL");
  EXPECT_EQ(infos->count(), 1u);
}

TEST_F(Post, CWU_DisabledCreationWithUploadRefusesABody) {
  config.creation_with_upload = false;
  rebuild();
  auto r = post({kTR, kOOS, length_is(10)}, "hello");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(infos->count(), 0u);
  EXPECT_EQ(post({kTR, length_is(10)}).status, 201u);
}

// --- Upload-Metadata ---

TEST_F(Post, H_MD_01_PairsAreParsedAndDecoded) {
  auto r = post_metadata("k1 djE=,k2 djI=");
  ASSERT_EQ(r.status, 201u);
  EXPECT_EQ(metadata_of(r).pairs, (Pairs{{"k1", "v1"}, {"k2", "v2"}}));
}

TEST_F(Post, H_MD_02_AKeyWithoutValueOrSpaceHasAnEmptyValue) {
  auto r = post_metadata("filename d29ybGQ=,is_confidential");
  ASSERT_EQ(r.status, 201u);
  EXPECT_EQ(metadata_of(r).pairs, (Pairs{{"filename", "world"}, {"is_confidential", ""}}));
}

TEST_F(Post, H_MD_03_AKeyWithASpaceAndNoValueHasAnEmptyValue) {
  auto r = post_metadata("filename d29ybGQ=,is_confidential ");
  ASSERT_EQ(r.status, 201u);
  EXPECT_EQ(metadata_of(r).pairs, (Pairs{{"filename", "world"}, {"is_confidential", ""}}));
  r = post_metadata("is_confidential ,filename d29ybGQ=");
  ASSERT_EQ(r.status, 201u);
  EXPECT_EQ(metadata_of(r).pairs, (Pairs{{"is_confidential", ""}, {"filename", "world"}}));
}

TEST_F(Post, H_MD_04_AnEmptyKeyIs400) {
  for (const char* bad : {",a YQ==", "a YQ==,,b Yg==", " djE=", "a YQ==,"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(post_metadata(bad).status, 400u);
  }
  EXPECT_EQ(infos->count(), 0u);
}

TEST_F(Post, H_MD_05_DuplicateKeysAre400) {
  auto r = post_metadata("a YQ==,a Yg==");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(code(r), "ERR_INVALID_METADATA");
}

TEST_F(Post, H_MD_06_ValuesMustBeBase64) {
  for (const char* bad : {"name !!!", "name YQ=a", "name Y", "name YR==", "name YQ==="}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(post_metadata(bad).status, 400u);
  }
  // Decision recorded: the standard alphabet, padding optional but correct when present.
  EXPECT_EQ(post_metadata("name YQ").status, 201u);
  EXPECT_EQ(post_metadata("name YQ==").status, 201u);
}

TEST_F(Post, H_MD_07_APairWithMoreThanOneSpaceIs400) {
  EXPECT_EQ(post_metadata("a b c").status, 400u);
  EXPECT_EQ(post_metadata("a  YQ==").status, 400u);
}

TEST_F(Post, H_MD_08_NonAsciiKeysAre400) {
  EXPECT_EQ(post_metadata("cl\xc3\xa9 YQ==").status, 400u);
  EXPECT_EQ(post_metadata("a\x01 YQ==").status, 400u);
}

TEST_F(Post, H_MD_09_HeadEchoesTheMetadataAsSentByteForByte) {
  auto r = post_metadata("b YQ==,a Yg==,empty,pad YQ");
  ASSERT_EQ(r.status, 201u);
  EXPECT_EQ(hdr(head(id_from_location(hdr(r, "Location"))), "Upload-Metadata"), "b YQ==,a Yg==,empty,pad YQ");
}

TEST_F(Post, H_MD_10_AnEmptyMetadataHeaderIsTreatedAsAbsent) {
  auto r = post_metadata("");
  ASSERT_EQ(r.status, 201u);
  EXPECT_FALSE(head(id_from_location(hdr(r, "Location"))).headers.has("Upload-Metadata"));
}

TEST_F(Post, H_MD_11_DecodedValuesWithControlCharactersAreNeverReflectedRaw) {
  const auto evil = core::base64_encode("a\r\nSet-Cookie: x");
  auto r = post({kTR, kOOS, length_is(3), {"Upload-Metadata", "filename " + evil + ",filetype " +
                                                                  core::base64_encode("text/html\r\nX: y")}},
                "abc");
  ASSERT_EQ(r.status, 201u) << r.body;
  const auto id = id_from_location(hdr(r, "Location"));
  std::vector<Response> responses;
  responses.push_back(head(id));
  responses.push_back(get(id));
  for (const auto& resp : responses) {
    SCOPED_TRACE(resp.status);
    for (const auto& [name, value] : resp.headers.fields()) {
      EXPECT_EQ(value.find_first_of(std::string("\r\n\0", 3)), std::string::npos) << name << ": " << value;
    }
  }
}

TEST_F(Post, H_MD_13_WhitespaceAroundCommasIsTolerated) {
  auto spaced = post_metadata("a YQ==, b Yg==");
  auto tight = post_metadata("a YQ==,b Yg==");
  ASSERT_EQ(spaced.status, 201u);
  ASSERT_EQ(tight.status, 201u);
  EXPECT_EQ(metadata_of(spaced).pairs, metadata_of(tight).pairs);
  EXPECT_EQ(post_metadata("a YQ== ,\tb Yg==").status, 201u);
}

TEST_F(Post, H_MD_14_OversizedMetadataIs400) {
  const std::string big_value = core::base64_encode(std::string(7600, 'x'));  // ~10 KB header
  EXPECT_EQ(post_metadata("big " + big_value).status, 400u);
  std::string many;
  for (int i = 0; i < 33; ++i) {
    many += (i ? "," : "") + std::string("k") + std::to_string(i);
  }
  EXPECT_EQ(post_metadata(many).status, 400u);
  EXPECT_EQ(post_metadata(std::string(129, 'k') + " YQ==").status, 400u);
  EXPECT_EQ(infos->count(), 0u);
}

TEST_F(Post, EDGE_09_MetadataEdgeCasesTable) {
  struct Case {
    const char* value;
    unsigned status;
  } cases[] = {
      {"is_confidential", 201},   // key without value: accept
      {"a YQ==,a YQ==", 400},     // duplicate key
      {"a @@@@", 400},            // invalid base64
      {"a b YQ==", 400},          // key with a space
      {",a YQ==", 400},           // empty key
      {"a YQ==,", 400},           // trailing comma
      {"\xe2\x82\xac YQ==", 400}, // non-ASCII key
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.value);
    EXPECT_EQ(post_metadata(c.value).status, c.status);
  }
}

}  // namespace
}  // namespace vidup::test
