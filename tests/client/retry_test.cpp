#include "client/retry.hpp"

#include <gtest/gtest.h>

namespace vidup::client {
namespace {

using std::chrono::milliseconds;

TEST(ParseRetryDelays, SecondsSeparatedByCommasOneEntryPerRetry) {
  const auto d = parse_retry_delays("0,1,3,10,30");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, (std::vector<milliseconds>{milliseconds(0), milliseconds(1000), milliseconds(3000),
                                           milliseconds(10000), milliseconds(30000)}));
}

TEST(ParseRetryDelays, AcceptsFractionsAndEmptyMeansNoRetries) {
  EXPECT_EQ(*parse_retry_delays("0.5,0.25"), (std::vector<milliseconds>{milliseconds(500), milliseconds(250)}));
  EXPECT_TRUE(parse_retry_delays("")->empty());
}

TEST(ParseRetryDelays, RejectsNegativesGarbageAndEmptyItems) {
  for (const char* bad : {"-1", "1,,2", "a", "1,", ",1", "1 ,2", "+1", "1e9", "nan", "inf"}) {
    EXPECT_FALSE(parse_retry_delays(bad)) << bad;
  }
}

TEST(RetryPolicy, DelayPerAttemptThenExhausted) {
  RetryPolicy p;
  p.delays = {milliseconds(0), milliseconds(5)};
  EXPECT_EQ(p.delay(0), milliseconds(0));
  EXPECT_EQ(p.delay(1), milliseconds(5));
  EXPECT_FALSE(p.delay(2));
}

TEST(RetryPolicy, RetriesNetworkErrors5xxAnd423) {
  EXPECT_TRUE(RetryPolicy::is_retryable(Error{Failure::transport, 0, core::Errc::connection_reset, "reset"}, Call::patch));
  for (const long s : {500L, 502L, 503L, 504L, 423L}) {
    EXPECT_TRUE(RetryPolicy::is_retryable(make_status_error(s, ""), Call::patch)) << s;
    EXPECT_TRUE(RetryPolicy::is_retryable(make_status_error(s, ""), Call::create)) << s;
  }
}

TEST(RetryPolicy, RetriesA409OnlyForAPatch) {
  EXPECT_TRUE(RetryPolicy::is_retryable(make_status_error(409, "ERR_MISMATCHED_OFFSET"), Call::patch));
  EXPECT_FALSE(RetryPolicy::is_retryable(make_status_error(409, "ERR_VIDEO_HAS_UPLOAD"), Call::create));
}

TEST(RetryPolicy, NeverRetriesOther4xxLocalErrorsOrCancellation) {
  for (const long s : {400L, 401L, 403L, 404L, 410L, 412L, 413L, 415L, 460L}) {
    EXPECT_FALSE(RetryPolicy::is_retryable(make_status_error(s, ""), Call::patch)) << s;
  }
  EXPECT_FALSE(RetryPolicy::is_retryable(make_local_error("file changed"), Call::patch));
  EXPECT_FALSE(RetryPolicy::is_retryable(Error{Failure::cancelled, 0, core::Errc::interrupted, ""}, Call::patch));
}

TEST(StatusError, CarriesTheServersFirstLine) {
  const auto e = make_status_error(403, "ERR_SIGNATURE_EXPIRED: the signature expired\nmore\n");
  EXPECT_EQ(e.status, 403);
  EXPECT_EQ(e.errc, core::Errc::forbidden);
  EXPECT_EQ(e.message, "ERR_SIGNATURE_EXPIRED: the signature expired");
  EXPECT_EQ(e.describe(), "403: ERR_SIGNATURE_EXPIRED: the signature expired");
}

TEST(StatusError, PlatformJsonErrorsBecomeCodeAndMessage) {
  const auto e = make_status_error(404, R"({"error":{"code":"ERR_PARENT_NOT_FOUND","message":"no such parent"}})");
  EXPECT_EQ(e.message, "ERR_PARENT_NOT_FOUND: no such parent");
  EXPECT_EQ(make_status_error(409, "").errc, core::Errc::offset_mismatch);
  EXPECT_EQ(make_status_error(410, "").errc, core::Errc::gone);
}

TEST(RetryPolicy, NeverRetriesA501BecauseTheServerLacksTheFeature) {
  EXPECT_FALSE(RetryPolicy::is_retryable_status(501, Call::create));
  EXPECT_FALSE(RetryPolicy::is_retryable_status(501, Call::patch));
  EXPECT_TRUE(RetryPolicy::is_retryable_status(503, Call::patch));
}

}  // namespace
}  // namespace vidup::client
