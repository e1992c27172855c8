#include "core/integers.hpp"

#include <gtest/gtest.h>

namespace vidup::core {
namespace {

std::optional<std::uint64_t> parse(std::string_view text) {
  const Result<std::uint64_t> r = parse_uint(text, Errc::invalid_length);
  if (!r) {
    EXPECT_EQ(to_errc(r.error()), Errc::invalid_length) << "failures carry the caller's Errc";
    return std::nullopt;
  }
  return *r;
}

TEST(ParseUint, G_10_AcceptsPlainDigits) {
  EXPECT_EQ(parse("0"), 0U);
  EXPECT_EQ(parse("5"), 5U);
  EXPECT_EQ(parse("1234567890"), 1234567890U);
}

TEST(ParseUint, G_10_AcceptsLeadingZeros) {
  EXPECT_EQ(parse("007"), 7U);
  EXPECT_EQ(parse("000"), 0U);
  EXPECT_EQ(parse("00000000000000000000000000000042"), 42U);
}

TEST(ParseUint, G_10_AcceptsInt64Max) { EXPECT_EQ(parse("9223372036854775807"), 9223372036854775807U); }

TEST(ParseUint, G_10_RejectsValuesAboveInt64Max) {
  EXPECT_EQ(parse("9223372036854775808"), std::nullopt);
  EXPECT_EQ(parse("18446744073709551615"), std::nullopt);
  EXPECT_EQ(parse("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parse("99999999999999999999"), std::nullopt);
}

TEST(ParseUint, G_10_RejectsSigns) {
  EXPECT_EQ(parse("-1"), std::nullopt);
  EXPECT_EQ(parse("+5"), std::nullopt);
  EXPECT_EQ(parse("-0"), std::nullopt);
}

TEST(ParseUint, G_10_RejectsEmpty) { EXPECT_EQ(parse(""), std::nullopt); }

TEST(ParseUint, G_10_RejectsSurroundingAndInnerWhitespace) {
  EXPECT_EQ(parse(" 5"), std::nullopt);
  EXPECT_EQ(parse("5 "), std::nullopt);
  EXPECT_EQ(parse("1 0"), std::nullopt);
  EXPECT_EQ(parse("\t5"), std::nullopt);
  EXPECT_EQ(parse(" "), std::nullopt);
}

TEST(ParseUint, G_10_RejectsExponentHexAndGarbage) {
  EXPECT_EQ(parse("1e3"), std::nullopt);
  EXPECT_EQ(parse("0x10"), std::nullopt);
  EXPECT_EQ(parse("1.0"), std::nullopt);
  EXPECT_EQ(parse("abc"), std::nullopt);
  EXPECT_EQ(parse("5,6"), std::nullopt);
  EXPECT_EQ(parse(std::string_view("5\0", 2)), std::nullopt);
  EXPECT_EQ(parse("\xd9\xa3"), std::nullopt);  // ARABIC-INDIC DIGIT THREE
}

TEST(ParseUint, G_10_FailsWithTheCallersErrc) {
  const Result<std::uint64_t> r = parse_uint("x", Errc::invalid_offset);
  ASSERT_FALSE(r);
  EXPECT_EQ(to_errc(r.error()), Errc::invalid_offset);
}

}  // namespace
}  // namespace vidup::core
