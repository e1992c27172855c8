// §13 concatenation (CAT-02..22), concatenation-unfinished (CATU-02..04), Upload-Concat
// (H-CC-01..03, H-LEN-03) and the concatenation edge cases (EDGE-04..08, EDGE-25).
#include "fixture.hpp"

namespace vidup::test {
namespace {

class Concat : public HandlerFixture {
 protected:
  std::string final_of(const std::vector<std::string>& partial_ids) {
    auto r = create_final(partial_ids);
    EXPECT_EQ(r.status, 201u) << r.body;
    return id_from_location(hdr(r, "Location"));
  }
  Response post_concat(std::string value, HeaderList extra = {}) {
    HeaderList headers{kTR, {"Upload-Concat", std::move(value)}};
    headers.insert(headers.end(), extra.begin(), extra.end());
    return send("POST", "/files/", std::move(headers));
  }
};

TEST_F(Concat, H_CC_01_PartialOrFinalFollowedByUrls) {
  EXPECT_EQ(post_concat("partial", {length_is(3)}).status, 201u);
  const auto a = finished_partial("x");
  EXPECT_EQ(post_concat("final;" + url(a)).status, 201u);
  EXPECT_EQ(post_concat("final; " + url(a) + " " + url(a)).status, 201u);
}

TEST_F(Concat, H_CC_02_PartialUrlsMayBeRelativeOrAbsolute) {
  const auto a = finished_partial("hello");
  const auto b = finished_partial(" world");
  auto r = post_concat("final;" + url(a) + " " + absolute_url(b));
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(stored(id_from_location(hdr(r, "Location"))), "hello world");
}

TEST_F(Concat, H_CC_03_AnyOtherUploadConcatIs400) {
  const auto a = finished_partial("x");
  const auto uploads = infos->count();
  for (const std::string& bad : std::vector<std::string>{"foo", "partial;x", "final;", "final", "final; ", "Partial", "partial ",
                                "final;" + url(a) + "\t" + url(a), "final," + url(a)}) {
    SCOPED_TRACE(bad);
    auto r = post_concat(bad, {length_is(1)});
    EXPECT_EQ(r.status, 400u);
  }
  EXPECT_EQ(infos->count(), uploads);
}

TEST_F(Concat, CAT_02_APartialIsCreatedWithUploadConcatPartial) {
  auto r = post_concat("partial", {length_is(5)});
  ASSERT_EQ(r.status, 201u);
  const auto id = id_from_location(hdr(r, "Location"));
  auto rec = record(id);
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->is_partial());
  EXPECT_EQ(post_concat("partial").status, 400u);  // still needs a length (POST-02)
}

TEST_F(Concat, CAT_03_AFinishedPartialFiresNoBusinessHook) {
  const auto a = finished_partial("hello");
  EXPECT_TRUE(hooks.finished.empty());
  const auto empty = create_partial(0);  // complete at creation (POST-06)
  EXPECT_TRUE(hooks.finished.empty());
  const auto f = final_of({a, empty});
  EXPECT_EQ(hooks.finished, std::vector<std::string>{f});
}

TEST_F(Concat, CAT_04_PartialsAreConcatenatedInListOrder) {
  const auto a = finished_partial("hello");
  const auto b = finished_partial(" world");
  EXPECT_EQ(stored(final_of({a, b})), "hello world");
  EXPECT_EQ(stored(final_of({b, a})), " worldhello");
}

TEST_F(Concat, CAT_05_TheFinalLengthIsTheSumOfThePartialLengths) {
  const auto a = finished_partial("hello");
  const auto b = finished_partial(" world");
  const auto empty = create_partial(0);
  EXPECT_EQ(hdr(head(final_of({a, empty, b})), "Upload-Length"), "11");
}

TEST_F(Concat, CAT_06_AFinalWithUploadLengthIs400) {
  const auto a = finished_partial("hello");
  auto r = post_concat("final;" + url(a), {length_is(5)});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(code(r), "ERR_CONCAT_WITH_LENGTH");
  r = post_concat("final;" + url(a), {{"Upload-Defer-Length", "1"}});
  EXPECT_EQ(r.status, 400u);
}

TEST_F(Concat, H_LEN_03_EDGE_08_AFinalPostMustNotCarryUploadLength) {
  const auto a = finished_partial("hello");
  const auto uploads = infos->count();
  EXPECT_EQ(post_concat("final;" + url(a), {length_is(11)}).status, 400u);
  EXPECT_EQ(infos->count(), uploads);
}

TEST_F(Concat, CAT_07_WithoutConcatenationUnfinishedUnfinishedPartialsAre400) {
  config.concatenation_unfinished = false;
  rebuild();
  const auto a = finished_partial("hello");
  const auto b = create_partial(6);
  ASSERT_EQ(patch(b, 0, "abc").status, 204u);
  auto r = create_final({a, b});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(code(r), "ERR_UPLOAD_NOT_FINISHED");
}

TEST_F(Concat, CAT_08_PatchingAFinalIs403AndChangesNothing) {
  const auto a = finished_partial("hello");
  const auto b = finished_partial(" world");
  const auto f = final_of({a, b});
  for (std::uint64_t offset : {0, 5, 11}) {
    SCOPED_TRACE(offset);
    auto r = patch(f, offset, offset == 11 ? "" : "XX");
    EXPECT_EQ(r.status, 403u);
    EXPECT_EQ(code(r), "ERR_MODIFY_FINAL");
  }
  EXPECT_EQ(hdr(head(f), "Upload-Offset"), "11");
  EXPECT_EQ(stored(f), "hello world");
  EXPECT_EQ(stored(a), "hello");
  EXPECT_EQ(stored(b), " world");
  EXPECT_EQ(hdr(head(a), "Upload-Offset"), "5");
}

TEST_F(Concat, EDGE_04_PatchingAnUnfinishedFinalIs403AndThePartialsAreUntouched) {
  const auto a = create_partial(5);
  const auto f = final_of({a});
  auto r = patch(f, 0, "hello");
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(stored(a), "");
  EXPECT_EQ(offset_of(a), 0u);
}

TEST_F(Concat, CAT_08_AFinalPostWithABodyIs403) {
  const auto a = finished_partial("hello");
  auto r = send("POST", "/files/", {kTR, kOOS, {"Upload-Concat", "final;" + url(a)}}, "more");
  EXPECT_EQ(r.status, 403u);
}

TEST_F(Concat, CAT_09_PartialMetadataIsNotTransferred) {
  const auto a = create(5, "name YS50eHQ=", {{"Upload-Concat", "partial"}});
  ASSERT_EQ(patch(a, 0, "hello").status, 204u);
  EXPECT_FALSE(head(final_of({a})).headers.has("Upload-Metadata"));
  auto r = create_final({a}, {{"Upload-Metadata", "name Zi50eHQ="}});
  ASSERT_EQ(r.status, 201u);
  EXPECT_EQ(hdr(head(id_from_location(hdr(r, "Location"))), "Upload-Metadata"), "name Zi50eHQ=");
}

TEST_F(Concat, CAT_10_HeadEchoesUploadConcatAsReceived) {
  const auto a = finished_partial("hello");
  const auto b = finished_partial(" world");
  EXPECT_EQ(hdr(head(a), "Upload-Concat"), "partial");
  const std::string value = "final;" + url(a) + " " + absolute_url(b);
  auto r = post_concat(value);
  ASSERT_EQ(r.status, 201u);
  EXPECT_EQ(hdr(head(id_from_location(hdr(r, "Location"))), "Upload-Concat"), value);
}

TEST_F(Concat, CAT_11_HeadOnAPartialHasUploadOffset) {
  const auto a = create_partial(5);
  EXPECT_EQ(hdr(head(a), "Upload-Offset"), "0");
  ASSERT_EQ(patch(a, 0, "hel").status, 204u);
  EXPECT_EQ(hdr(head(a), "Upload-Offset"), "3");
}

TEST_F(Concat, EDGE_05_HeadOnAPartial) {
  const auto a = create_partial(5);
  auto r = head(a);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "0");
  EXPECT_EQ(hdr(r, "Upload-Concat"), "partial");
  EXPECT_EQ(hdr(r, "Upload-Length"), "5");
}

TEST_F(Concat, CAT_12_AnUnfinishedFinalHasNoUploadOffset) {
  const auto a = create_partial(5);
  auto r = head(final_of({a}));
  EXPECT_EQ(r.status, 200u);
  EXPECT_FALSE(r.headers.has("Upload-Offset"));
}

TEST_F(Concat, CAT_13_EDGE_06_AFinishedFinalHasOffsetEqualToLength) {
  const auto a = finished_partial("hello");
  const auto b = finished_partial(" world");
  const std::string value = "final;" + url(a) + " " + url(b);
  auto r = post_concat(value);
  ASSERT_EQ(r.status, 201u);
  auto h = head(id_from_location(hdr(r, "Location")));
  EXPECT_EQ(hdr(h, "Upload-Offset"), "11");
  EXPECT_EQ(hdr(h, "Upload-Length"), "11");
  EXPECT_EQ(hdr(h, "Upload-Concat"), value);
  EXPECT_EQ(hdr(h, "Cache-Control"), "no-store");
  EXPECT_FALSE(h.headers.has("Upload-Expires"));
}

TEST_F(Concat, CAT_14_AFinalOverDeferredPartialsHasNoLengthUntilAllAreKnown) {
  const auto a = create_deferred({{"Upload-Concat", "partial"}});
  const auto b = finished_partial(" world");
  const auto f = final_of({a, b});
  auto h = head(f);
  EXPECT_FALSE(h.headers.has("Upload-Length"));
  EXPECT_FALSE(h.headers.has("Upload-Defer-Length"));  // a final never defers: it has no PATCH
  ASSERT_EQ(patch(a, 0, "hello", {length_is(5)}).status, 204u);
  h = head(f);
  EXPECT_EQ(hdr(h, "Upload-Length"), "11");
  EXPECT_EQ(hdr(h, "Upload-Offset"), "11");
}

// CAT-14 (MUST): "Upload-Length is in HEAD whenever the final length can be computed". Here every
// partial's length is known (one was declared by PATCH) while a partial is still unfinished.
TEST_F(Concat, CAT_14_AFinalShowsUploadLengthAsSoonAsEveryPartialLengthIsKnown) {
  const auto a = create_deferred({{"Upload-Concat", "partial"}});
  const auto b = finished_partial(" world");
  const auto f = final_of({a, b});
  ASSERT_EQ(patch(a, 0, "hel", {length_is(5)}).status, 204u);  // a's length is now known, a unfinished
  auto h = head(f);
  EXPECT_EQ(h.status, 200u);
  EXPECT_FALSE(h.headers.has("Upload-Offset"));
  EXPECT_EQ(hdr(h, "Upload-Length"), "11");
}

TEST_F(Concat, EDGE_07_AnUnfinishedFinalHasNoOffsetAndALengthOnlyIfComputable) {
  const auto a = create_partial(5);
  const auto b = finished_partial(" world");
  auto h = head(final_of({a, b}));
  EXPECT_FALSE(h.headers.has("Upload-Offset"));
  EXPECT_EQ(hdr(h, "Upload-Length"), "11");
  const auto d = create_deferred({{"Upload-Concat", "partial"}});
  h = head(final_of({d, b}));
  EXPECT_FALSE(h.headers.has("Upload-Offset"));
  EXPECT_FALSE(h.headers.has("Upload-Length"));
}

TEST_F(Concat, CAT_15_APartialMayBeReusedInOneFinalAndInSeveral) {
  const auto a = finished_partial("hello");
  EXPECT_EQ(stored(final_of({a, a})), "hellohello");
  EXPECT_EQ(stored(final_of({a})), "hello");
  EXPECT_EQ(stored(a), "hello");
  EXPECT_EQ(head(a).status, 200u);
}

TEST_F(Concat, EDGE_25_TheSamePartialTwiceIsValid) {
  const auto a = finished_partial("ab");
  auto h = head(final_of({a, a, a}));
  EXPECT_EQ(hdr(h, "Upload-Length"), "6");
  EXPECT_EQ(hdr(h, "Upload-Offset"), "6");
}

TEST_F(Concat, CAT_16_SpacesSeparatePartialUrlsAndCannotBePartOfOne) {
  const auto a = finished_partial("ab");
  EXPECT_EQ(stored(id_from_location(hdr(post_concat("final;" + url(a) + " " + url(a)), "Location"))), "abab");
  EXPECT_EQ(post_concat("final;" + url(a) + "%20" + url(a)).status, 400u);
  EXPECT_EQ(post_concat("final;/files/ " + a).status, 400u);
}

TEST_F(Concat, CAT_17_NonPartialAndUnknownUploadsAre400) {
  const auto plain = create(3);
  ASSERT_EQ(patch(plain, 0, "abc").status, 204u);
  const auto a = finished_partial("x");
  const auto terminated = finished_partial("y");
  ASSERT_EQ(del(terminated).status, 204u);
  auto uploads = infos->count();
  struct Case {
    const char* what;
    std::string value;
    const char* code;
  } cases[] = {
      {"not a partial", "final;" + url(a) + " " + url(plain), "ERR_NOT_A_PARTIAL_UPLOAD"},
      {"unknown", "final;" + url(a) + " " + url(kUnknownId), "ERR_PARTIAL_NOT_FOUND"},
      {"terminated", "final;" + url(terminated), "ERR_PARTIAL_NOT_FOUND"},
      {"junk id", "final;/files/../etc", "ERR_PARTIAL_NOT_FOUND"},
      {"outside the base path", "final;/other/" + a, "ERR_PARTIAL_NOT_FOUND"},
      {"a final", "final;" + url(final_of({a})), "ERR_NOT_A_PARTIAL_UPLOAD"},
  };
  ++uploads;  // the final made by the last case
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto r = post_concat(c.value);
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(code(r), c.code);
  }
  EXPECT_EQ(infos->count(), uploads);
}

TEST_F(Concat, CAT_18_PartialsOnAnotherHostAre400) {
  const auto a = finished_partial("x");
  for (const std::string& bad : std::vector<std::string>{"final;https://evil/files/" + a, "final;http://vidup.test.evil/files/" + a,
                                "final;https://vidup.test/files/" + a, "final;http://vidup.test:81/files/" + a,
                                "final;http://vidup.test"}) {
    SCOPED_TRACE(bad);
    auto r = post_concat(bad);
    EXPECT_EQ(r.status, 400u);
  }
  EXPECT_EQ(code(post_concat("final;https://evil/files/" + a)), "ERR_FOREIGN_PARTIAL_UPLOAD");
}

TEST_F(Concat, CAT_19_AnEmptyListAndAnOverlongListAre400) {
  const auto a = finished_partial("x");
  EXPECT_EQ(post_concat("final;").status, 400u);
  std::string many = "final;";
  for (int i = 0; i <= 10000; ++i) {
    many += url(a) + " ";
  }
  EXPECT_EQ(post_concat(many).status, 400u);
}

TEST_F(Concat, CAT_20_FinishedPartialsDoNotExpireSoAFinalCanAlwaysUseThem) {
  const auto a = finished_partial("hello");
  now_ms += 30 * kDayMs;
  ASSERT_TRUE(run(handler->sweep()));
  EXPECT_EQ(head(a).status, 200u);
  EXPECT_EQ(stored(final_of({a})), "hello");
}

TEST_F(Concat, CAT_21_DeletingAFinalKeepsItsPartials) {
  const auto a = finished_partial("hello");
  const auto f = final_of({a});
  EXPECT_EQ(del(f).status, 204u);
  EXPECT_EQ(head(f).status, 410u);
  EXPECT_EQ(head(a).status, 200u);
  EXPECT_EQ(stored(a), "hello");
  EXPECT_EQ(stored(final_of({a})), "hello");
}

TEST_F(Concat, CAT_22_APartialMayDeferItsLength) {
  auto r = post_concat("partial", {{"Upload-Defer-Length", "1"}});
  ASSERT_EQ(r.status, 201u);
  auto h = head(id_from_location(hdr(r, "Location")));
  EXPECT_EQ(hdr(h, "Upload-Defer-Length"), "1");
  EXPECT_EQ(hdr(h, "Upload-Concat"), "partial");
}

TEST_F(Concat, CAT_FinalOverTheMaxSizeIs413) {
  config.max_size = 8;
  rebuild();
  const auto a = finished_partial("hello");
  auto r = create_final({a, a});
  EXPECT_EQ(r.status, 413u);
}

// G-10: a final's length is a sum the protocol can carry. 2^62 + 2^62 = 2^63 is past 2^63-1,
// and (before the fix fuzz_request found) 4 partials of 2^62 wrapped to 0.
TEST_F(Concat, CAT_05_AFinalWhosePartialsSumPast2To63MinusOneIs413) {
  const std::uint64_t quarter = 1ULL << 62;
  const auto a = create_partial(quarter);
  const auto b = create_partial(quarter - 1);
  EXPECT_EQ(create_final({a, b}).status, 201u);  // 2^63-1: the largest length there is
  EXPECT_EQ(create_final({a, a}).status, 413u);
  EXPECT_EQ(create_final({a, a, a, a}).status, 413u);
}

TEST_F(Concat, CAT_14_AFinalOverDeferredPartialsSummingPast2To63MinusOneShowsNoLength) {
  const auto a = create_deferred({{"Upload-Concat", "partial"}});
  const auto f = final_of({a, a});
  ASSERT_EQ(patch(a, 0, "", {length_is(1ULL << 62)}).status, 204u);
  auto h = head(f);
  EXPECT_EQ(h.status, 200u);
  EXPECT_FALSE(h.headers.has("Upload-Length"));  // 2^63 is no Upload-Length
}

// --- concatenation-unfinished ---

TEST_F(Concat, CATU_02_AFinalOverUnfinishedPartialsCompletesWhenTheLastOneDoes) {
  const auto a = create_partial(5);
  const auto b = create_partial(6);
  const auto f = final_of({a, b});
  EXPECT_TRUE(hooks.finished.empty());
  ASSERT_EQ(patch(b, 0, " world").status, 204u);
  EXPECT_FALSE(head(f).headers.has("Upload-Offset"));
  ASSERT_EQ(patch(a, 0, "hel").status, 204u);
  EXPECT_FALSE(head(f).headers.has("Upload-Offset"));
  ASSERT_EQ(patch(a, 3, "lo").status, 204u);
  auto h = head(f);
  EXPECT_EQ(hdr(h, "Upload-Offset"), "11");
  EXPECT_EQ(hdr(h, "Upload-Length"), "11");
  EXPECT_EQ(stored(f), "hello world");
  EXPECT_EQ(hooks.finished, std::vector<std::string>{f});
}

// A client that follows CATU-02 has nothing to PATCH on the final, so it cannot keep it alive:
// while its partials make progress (each PATCH slides their expiry), the final must not expire.
TEST_F(Concat, CATU_02_AFinalWaitingOnPartialsThatProgressDoesNotExpire) {
  const auto a = create_partial(6);
  const auto f = final_of({a});
  for (std::uint64_t i = 0; i < 5; ++i) {
    now_ms += 20 * kHourMs;  // 100 h in all, each step within a's sliding expiry
    ASSERT_EQ(patch(a, i, "x").status, 204u) << "step " << i;
    ASSERT_TRUE(run(handler->sweep()));
  }
  EXPECT_EQ(head(f).status, 200u) << "the final expired although its partial is alive";
  ASSERT_EQ(patch(a, 5, "y").status, 204u);
  auto h = head(f);
  EXPECT_EQ(h.status, 200u);
  EXPECT_EQ(hdr(h, "Upload-Offset"), "6");
}

TEST_F(Concat, CATU_03_BeforeCompletionHeadHasNoOffsetAndTheLengthIfKnown) {
  const auto a = create_partial(5);
  const auto f = final_of({a});
  auto h = head(f);
  EXPECT_FALSE(h.headers.has("Upload-Offset"));
  EXPECT_EQ(hdr(h, "Upload-Length"), "5");
}

TEST_F(Concat, CATU_04_APartialOfAnUnfinishedFinalExpiresAndTheFinalFails) {
  const auto a = create_partial(5);
  const auto b = finished_partial("world");
  const auto f = final_of({a, b});
  now_ms += kDayMs;
  ASSERT_TRUE(run(handler->sweep()));
  EXPECT_EQ(head(a).status, 410u);
  EXPECT_EQ(head(f).status, 410u);
  EXPECT_EQ(head(b).status, 200u);
}

TEST_F(Concat, CATU_04_APartialOfAnUnfinishedFinalIsDeletedAndTheFinalFails) {
  const auto a = create_partial(5);
  const auto f = final_of({a});
  ASSERT_EQ(del(a).status, 204u);
  EXPECT_EQ(head(f).status, 410u);
}

}  // namespace
}  // namespace vidup::test
