#include "core/metadata.hpp"

#include "core/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vidup::core {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs parse_ok(std::string_view header, const MetadataLimits& limits = {}) {
  const Result<Metadata> r = parse_metadata(header, limits);
  EXPECT_TRUE(r.has_value()) << "rejected: '" << header << "'";
  if (!r) {
    return {};
  }
  return r->pairs;
}

bool rejects(std::string_view header, const MetadataLimits& limits = {}) {
  const Result<Metadata> r = parse_metadata(header, limits);
  if (r) {
    return false;
  }
  EXPECT_EQ(to_errc(r.error()), Errc::invalid_metadata);
  return true;
}

TEST(ParseMetadata, H_MD_01_ParsesKeyValuePairsInOrder) {
  EXPECT_EQ(parse_ok("k1 djE=,k2 djI="), (Pairs{{"k1", "v1"}, {"k2", "v2"}}));
  EXPECT_EQ(parse_ok("b YQ==,a Yg=="), (Pairs{{"b", "a"}, {"a", "b"}}));
  EXPECT_EQ(parse_ok("filename d29ybGQ="), (Pairs{{"filename", "world"}}));
}

TEST(ParseMetadata, H_MD_02_KeyWithoutValueHasEmptyValue) {
  EXPECT_EQ(parse_ok("filename d29ybGQ=,is_confidential"), (Pairs{{"filename", "world"}, {"is_confidential", ""}}));
  EXPECT_EQ(parse_ok("is_confidential"), (Pairs{{"is_confidential", ""}}));
}

TEST(ParseMetadata, H_MD_03_KeyWithSpaceAndEmptyValueHasEmptyValue) {
  EXPECT_EQ(parse_ok("is_confidential "), (Pairs{{"is_confidential", ""}}));
  EXPECT_EQ(parse_ok("is_confidential ,a YQ=="), (Pairs{{"is_confidential", ""}, {"a", "a"}}));
}

TEST(ParseMetadata, H_MD_04_RejectsEmptyKeys) {
  EXPECT_TRUE(rejects(",a YQ=="));
  EXPECT_TRUE(rejects("a YQ==,,b Yg=="));
  EXPECT_TRUE(rejects(",,"));
  EXPECT_TRUE(rejects(","));
  EXPECT_TRUE(rejects(" djE="));
  EXPECT_TRUE(rejects(" "));
}

TEST(ParseMetadata, H_MD_04_RejectsTrailingComma) {
  EXPECT_TRUE(rejects("a YQ==,"));
  EXPECT_TRUE(rejects("a YQ==, "));
}

TEST(ParseMetadata, H_MD_05_RejectsDuplicateKeys) {
  EXPECT_TRUE(rejects("a YQ==,a Yg=="));
  EXPECT_TRUE(rejects("a,a"));
  EXPECT_TRUE(rejects("a YQ==,b,a"));
}

TEST(ParseMetadata, H_MD_05_KeysAreCaseSensitive) {
  EXPECT_EQ(parse_ok("a YQ==,A Yg=="), (Pairs{{"a", "a"}, {"A", "b"}}));
}

TEST(ParseMetadata, H_MD_06_RejectsInvalidBase64Values) {
  EXPECT_TRUE(rejects("name !!!"));
  EXPECT_TRUE(rejects("name YQ="));
  EXPECT_TRUE(rejects("name Y"));
  EXPECT_TRUE(rejects("name Y=Q="));
  EXPECT_TRUE(rejects("ok YQ==,name @@@@"));
}

TEST(ParseMetadata, H_MD_06_AcceptsUnpaddedBase64) {
  EXPECT_EQ(parse_ok("name YQ"), (Pairs{{"name", "a"}}));
  EXPECT_EQ(parse_ok("name d29ybGQ"), (Pairs{{"name", "world"}}));
}

TEST(ParseMetadata, H_MD_07_RejectsMoreThanOneSpaceInAPair) {
  EXPECT_TRUE(rejects("a b c"));
  EXPECT_TRUE(rejects("a  YQ=="));
  EXPECT_TRUE(rejects("a YQ== Yg=="));
}

TEST(ParseMetadata, H_MD_07_RejectsTabAsSeparator) { EXPECT_TRUE(rejects("a\tYQ==")); }

TEST(ParseMetadata, H_MD_08_RejectsNonAsciiAndControlBytesInKeys) {
  EXPECT_TRUE(rejects("caf\xc3\xa9 YQ=="));
  EXPECT_TRUE(rejects("a\x01 YQ=="));
  EXPECT_TRUE(rejects("a\x7f YQ=="));
  EXPECT_TRUE(rejects(std::string_view("a\0b YQ==", 8)));
}

TEST(ParseMetadata, H_MD_08_AcceptsVisibleAsciiPunctuationInKeys) {
  EXPECT_EQ(parse_ok("x-file.name_1;=:! YQ=="), (Pairs{{"x-file.name_1;=:!", "a"}}));
}

TEST(ParseMetadata, H_MD_10_EmptyHeaderIsAbsent) {
  const Result<Metadata> r = parse_metadata("");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
}

TEST(ParseMetadata, H_MD_11_DecodedValuesMayHoldControlCharacters) {
  const std::string evil = "a\r\nSet-Cookie: x";
  const Pairs pairs = parse_ok("filename " + base64_encode(evil));
  ASSERT_EQ(pairs.size(), 1U);
  EXPECT_EQ(pairs[0].second, evil);
  EXPECT_FALSE(is_header_safe(pairs[0].second));
}

TEST(ParseMetadata, H_MD_13_ToleratesWhitespaceAroundCommas) {
  const Pairs expected{{"a", "a"}, {"b", "b"}};
  EXPECT_EQ(parse_ok("a YQ==, b Yg=="), expected);
  EXPECT_EQ(parse_ok("a YQ== ,b Yg=="), expected);
  EXPECT_EQ(parse_ok("a YQ==  ,\t b Yg=="), expected);
  EXPECT_EQ(parse_ok("a, b"), (Pairs{{"a", ""}, {"b", ""}}));
}

TEST(ParseMetadata, H_MD_14_RejectsHeaderOverTheSizeLimit) {
  const std::string big = "a " + base64_encode(std::string(10 * 1024, 'x'));
  EXPECT_TRUE(rejects(big));
  MetadataLimits limits;
  limits.max_header_bytes = 8;
  EXPECT_EQ(parse_ok("a YWJj", limits), (Pairs{{"a", "abc"}}));
  EXPECT_TRUE(rejects("a YWJjZA==", limits));
}

TEST(ParseMetadata, H_MD_14_RejectsTooManyPairs) {
  std::string header;
  for (int i = 0; i < 32; ++i) {
    header += (i == 0 ? "k" : ",k") + std::to_string(i);
  }
  EXPECT_EQ(parse_ok(header).size(), 32U);
  EXPECT_TRUE(rejects(header + ",k32"));
}

TEST(ParseMetadata, H_MD_14_RejectsKeysOverTheLengthLimit) {
  EXPECT_EQ(parse_ok(std::string(128, 'k') + " YQ==").size(), 1U);
  EXPECT_TRUE(rejects(std::string(129, 'k') + " YQ=="));
}

TEST(MetadataGet, FindsValueByExactKey) {
  const Result<Metadata> r = parse_metadata("filename d29ybGQ=,is_confidential");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get("filename"), "world");
  EXPECT_EQ(r->get("is_confidential"), "");
  EXPECT_EQ(r->get("Filename"), std::nullopt);
  EXPECT_EQ(r->get("missing"), std::nullopt);
}

TEST(IsHeaderSafe, H_MD_11_RejectsControlCharacters) {
  EXPECT_FALSE(is_header_safe("a\r\nb"));
  EXPECT_FALSE(is_header_safe("a\nb"));
  EXPECT_FALSE(is_header_safe("a\tb"));
  EXPECT_FALSE(is_header_safe(std::string_view("a\0b", 3)));
  EXPECT_FALSE(is_header_safe("a\x1f"));
  EXPECT_FALSE(is_header_safe("a\x7f"));
}

TEST(IsHeaderSafe, H_MD_11_AcceptsPrintableAndNonAsciiText) {
  EXPECT_TRUE(is_header_safe(""));
  EXPECT_TRUE(is_header_safe("my video (final).mp4"));
  EXPECT_TRUE(is_header_safe("caf\xc3\xa9.mp4"));
}

}  // namespace
}  // namespace vidup::core
