// §9 expiration (EXP-02..08), Upload-Expires (H-EXP-01..04) and the orphan of EDGE-10. The clock
// is the fixture's now_ms; handler.sweep() is the sweeper. EXP-09 (a sweep racing a PATCH) is in
// concurrency_test.cpp; EXP-06 is a client rule.
#include "fixture.hpp"

#include <regex>

namespace vidup::test {
namespace {

class Expiration : public HandlerFixture {
 protected:
  std::size_t sweep() {
    auto n = run(handler->sweep());
    EXPECT_TRUE(n);
    return n ? *n : 0;
  }
};

TEST_F(Expiration, H_EXP_01_UploadExpiresIsAnImfFixdate) {
  auto r = send("POST", "/files/", {kTR, length_is(5)});
  const auto value = hdr(r, "Upload-Expires");
  static const std::regex kImfFixdate(
      R"(^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$)");
  EXPECT_TRUE(std::regex_match(value, kImfFixdate)) << value;
  // now_ms is 2025-06-15T15:06:40Z and the expiry 24 h.
  EXPECT_EQ(value, "Mon, 16 Jun 2025 15:06:40 GMT");
  EXPECT_EQ(core::parse_http_date(value), now_ms + kDayMs);
}

TEST_F(Expiration, H_EXP_02_EveryPatchResponseOfAnExpiringUploadHasUploadExpires) {
  const auto id = create(10);
  for (std::uint64_t at : {0, 2, 4}) {
    auto r = patch(id, at, "ab");
    EXPECT_EQ(r.status, 204u);
    EXPECT_EQ(hdr(r, "Upload-Expires"), expires_in(kDayMs));
  }
  auto r = patch(id, 6, "");  // empty: no progress, same expiry
  EXPECT_TRUE(r.headers.has("Upload-Expires"));
  r = patch(id, 6, std::string(5, 'X'));  // 413 (past the length): the upload still expires
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(hdr(r, "Upload-Expires"), expires_in(kDayMs));
}

TEST_F(Expiration, EXP_02_UploadExpiresOnEveryPatchResponse) {
  const auto id = create(4);
  now_ms += kHourMs;
  EXPECT_EQ(hdr(patch(id, 0, "a"), "Upload-Expires"), expires_in(kDayMs));
}

TEST_F(Expiration, H_EXP_03_The201HasUploadExpires) {
  auto r = send("POST", "/files/", {kTR, {"Upload-Defer-Length", "1"}});
  EXPECT_EQ(hdr(r, "Upload-Expires"), expires_in(kDayMs));
}

TEST_F(Expiration, EXP_03_UploadExpiresOnThePostResponse) {
  config.expiry = std::chrono::hours(1);
  rebuild();
  auto r = send("POST", "/files/", {kTR, length_is(5)});
  EXPECT_EQ(hdr(r, "Upload-Expires"), expires_in(kHourMs));
}

TEST_F(Expiration, EXP_04_UploadExpiresIsAnHttpDate) {
  auto r = send("POST", "/files/", {kTR, length_is(5)});
  EXPECT_TRUE(core::parse_http_date(hdr(r, "Upload-Expires")).has_value()) << hdr(r, "Upload-Expires");
}

TEST_F(Expiration, H_EXP_04_TheExpirySlidesWithProgress) {
  const auto id = create(10);
  const auto first = core::parse_http_date(hdr(patch(id, 0, "ab"), "Upload-Expires"));
  now_ms += 20 * kHourMs;
  const auto second = core::parse_http_date(hdr(patch(id, 2, "cd"), "Upload-Expires"));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*second - *first, 20 * kHourMs);
  now_ms += 20 * kHourMs;  // 40 h after creation, 20 h after the last PATCH: still alive
  EXPECT_EQ(sweep(), 0u);
  EXPECT_EQ(head(id).status, 200u);
}

TEST_F(Expiration, ExpirationOffMeansNoUploadExpiresAndNothingExpires) {
  config.expiration = false;
  rebuild();
  auto r = send("POST", "/files/", {kTR, length_is(5)});
  EXPECT_FALSE(r.headers.has("Upload-Expires"));
  const auto id = id_from_location(hdr(r, "Location"));
  EXPECT_FALSE(patch(id, 0, "ab").headers.has("Upload-Expires"));
  now_ms += 365 * kDayMs;
  EXPECT_EQ(sweep(), 0u);
  EXPECT_EQ(head(id).status, 200u);
}

TEST_F(Expiration, EXP_05_AfterTheSweepAnExpiredUploadIs410ThenForgottenIs404) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "abc").status, 204u);
  now_ms += kDayMs;  // exactly at Upload-Expires
  EXPECT_EQ(sweep(), 1u);
  EXPECT_EQ(handler->counters().uploads_expired.load(), 1u);
  EXPECT_EQ(head(id).status, 410u);
  auto r = patch(id, 3, "def");
  EXPECT_EQ(r.status, 410u);
  EXPECT_EQ(code(r), "ERR_UPLOAD_GONE");
  EXPECT_EQ(get(id).status, 410u);
  EXPECT_EQ(del(id).status, 410u);
  EXPECT_EQ(stored(id), std::nullopt);  // the bytes are gone, the tombstone stays

  now_ms += 6 * kDayMs;  // tombstones are kept for tombstone_ttl (7 days)
  sweep();
  EXPECT_EQ(head(id).status, 410u);
  now_ms += 2 * kDayMs;
  sweep();
  EXPECT_EQ(head(id).status, 404u);
  EXPECT_FALSE(record(id));
}

TEST_F(Expiration, EXP_05_UploadsBeforeTheirExpiryAreNotSwept) {
  const auto id = create(10);
  now_ms += kDayMs - 1;
  EXPECT_EQ(sweep(), 0u);
  EXPECT_EQ(head(id).status, 200u);
}

TEST_F(Expiration, EXP_07_FinishedUploadsSurviveTheSweep) {
  const auto done = create(3);
  ASSERT_EQ(patch(done, 0, "abc").status, 204u);
  const auto empty = create(0);
  const auto unfinished = create(3);
  now_ms += 30 * kDayMs;
  EXPECT_EQ(sweep(), 1u);
  EXPECT_EQ(head(done).status, 200u);
  EXPECT_EQ(head(empty).status, 200u);
  EXPECT_EQ(stored(done), "abc");
  EXPECT_EQ(head(unfinished).status, 410u);
  auto r = get(done);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(drain(r), "abc");
}

TEST_F(Expiration, EXP_08_ExpiryIsEnforcedAtRequestTimeBeforeTheSweep) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "abc").status, 204u);
  now_ms += kDayMs;
  auto r = patch(id, 3, "def");
  EXPECT_EQ(r.status, 410u);
  EXPECT_EQ(head(id).status, 410u);
  EXPECT_EQ(stored(id), "abc");  // nothing was appended
}

TEST_F(Expiration, EDGE_10_AnOrphanFromACutCreationWithUploadIsReapedByTheTtl) {
  FakeBodyOptions cut;
  cut.fail_after = 4;
  auto r = send("POST", "/files/", {kTR, kOOS, length_is(100)}, std::string(100, 'x'), cut);
  EXPECT_EQ(r.status, 500u);
  const auto orphan = id_from_location(hdr(r, "Location"));
  ASSERT_FALSE(orphan.empty());
  EXPECT_EQ(offset_of(orphan), 4u);
  now_ms += kDayMs;
  EXPECT_EQ(sweep(), 1u);
  EXPECT_EQ(stored(orphan), std::nullopt);
  EXPECT_EQ(head(orphan).status, 410u);
}

}  // namespace
}  // namespace vidup::test
