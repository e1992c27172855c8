#include "core/http_date.hpp"

#include <gtest/gtest.h>

namespace vidup::core {
namespace {

constexpr std::int64_t kExampleMs = 1403712000000;  // Wed, 25 Jun 2014 16:00:00 GMT

TEST(FormatHttpDate, H_EXP_01_ProducesImfFixdate) {
  EXPECT_EQ(format_http_date(kExampleMs), "Wed, 25 Jun 2014 16:00:00 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(784111777000), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110's example
}

TEST(FormatHttpDate, H_EXP_01_TruncatesMillisecondsTowardsThePast) {
  EXPECT_EQ(format_http_date(kExampleMs + 999), "Wed, 25 Jun 2014 16:00:00 GMT");
  EXPECT_EQ(format_http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST(FormatHttpDate, H_EXP_01_HandlesLeapDaysAndYearEnds) {
  EXPECT_EQ(format_http_date(951782400000), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(format_http_date(4102444799000), "Thu, 31 Dec 2099 23:59:59 GMT");
}

TEST(ParseHttpDate, H_EXP_01_ParsesImfFixdate) {
  EXPECT_EQ(parse_http_date("Wed, 25 Jun 2014 16:00:00 GMT"), kExampleMs);
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777000);
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"), 951782400000);
}

TEST(HttpDate, H_EXP_01_RoundTrips) {
  for (const std::int64_t ms : {std::int64_t{0}, kExampleMs, std::int64_t{951782400000}, std::int64_t{1700000000000},
                                std::int64_t{253402300799000}}) {
    const std::string text = format_http_date(ms);
    EXPECT_EQ(parse_http_date(text), ms) << text;
  }
}

TEST(ParseHttpDate, H_EXP_01_RejectsObsoleteFormats) {
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), std::nullopt);  // RFC 850
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), std::nullopt);        // asctime
}

TEST(ParseHttpDate, H_EXP_01_RejectsOtherZonesAndSpacing) {
  EXPECT_EQ(parse_http_date("Wed, 25 Jun 2014 16:00:00 UTC"), std::nullopt);
  EXPECT_EQ(parse_http_date("Wed, 25 Jun 2014 16:00:00 +0000"), std::nullopt);
  EXPECT_EQ(parse_http_date("Wed, 25 Jun 2014 16:00:00 gmt"), std::nullopt);
  EXPECT_EQ(parse_http_date("Wed, 25 Jun 2014 16:00:00 GMT "), std::nullopt);
  EXPECT_EQ(parse_http_date(" Wed, 25 Jun 2014 16:00:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Wed,  25 Jun 2014 16:00:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Wed, 5 Jun 2014 16:00:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date(""), std::nullopt);
}

TEST(ParseHttpDate, H_EXP_01_RejectsWrongCaseNames) {
  EXPECT_EQ(parse_http_date("wed, 25 Jun 2014 16:00:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Wed, 25 JUN 2014 16:00:00 GMT"), std::nullopt);
}

TEST(ParseHttpDate, H_EXP_01_RejectsOutOfRangeFields) {
  EXPECT_EQ(parse_http_date("Thu, 29 Feb 2001 00:00:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Tue, 31 Apr 2014 00:00:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Sun, 00 Jun 2014 16:00:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Wed, 25 Jun 2014 24:00:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Wed, 25 Jun 2014 16:60:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Wed, 25 Jun 2014 16:00:61 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Wed, 25 Jun 20x4 16:00:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Wed, 25 Jun 2014 1a:00:00 GMT"), std::nullopt);
}

TEST(ParseHttpDate, H_EXP_01_RejectsADayNameThatDoesNotMatchTheDate) {
  EXPECT_EQ(parse_http_date("Thu, 25 Jun 2014 16:00:00 GMT"), std::nullopt);
}

}  // namespace
}  // namespace vidup::core
