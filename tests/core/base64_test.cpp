#include "core/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vidup::core {
namespace {

TEST(Base64Encode, MatchesRfc4648TestVectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Encode, UsesStandardAlphabetForHighBytes) { EXPECT_EQ(base64_encode("\xfb\xff\xbf"), "+/+/"); }

TEST(Base64Decode, DecodesRfc4648TestVectors) {
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode("Zm9v"), "foo");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
}

TEST(Base64Decode, AcceptsMissingPadding) {
  EXPECT_EQ(base64_decode("Zg"), "f");
  EXPECT_EQ(base64_decode("Zm8"), "fo");
  EXPECT_EQ(base64_decode("Zm9vYg"), "foob");
}

TEST(Base64Decode, RejectsWrongPadding) {
  EXPECT_EQ(base64_decode("Zg="), std::nullopt);
  EXPECT_EQ(base64_decode("Zg==="), std::nullopt);
  EXPECT_EQ(base64_decode("Zm8=="), std::nullopt);
  EXPECT_EQ(base64_decode("Zm9v="), std::nullopt);
  EXPECT_EQ(base64_decode("Zm9v===="), std::nullopt);
  EXPECT_EQ(base64_decode("="), std::nullopt);
  EXPECT_EQ(base64_decode("=="), std::nullopt);
  EXPECT_EQ(base64_decode("===="), std::nullopt);
}

TEST(Base64Decode, RejectsMisplacedPadding) {
  EXPECT_EQ(base64_decode("Zg==Zg=="), std::nullopt);
  EXPECT_EQ(base64_decode("Z=g="), std::nullopt);
  EXPECT_EQ(base64_decode("=Zm9"), std::nullopt);
}

TEST(Base64Decode, RejectsALoneTrailingCharacter) {
  EXPECT_EQ(base64_decode("Z"), std::nullopt);
  EXPECT_EQ(base64_decode("Zm9vY"), std::nullopt);
}

TEST(Base64Decode, RejectsCharactersOutsideTheAlphabet) {
  EXPECT_EQ(base64_decode("!!!"), std::nullopt);
  EXPECT_EQ(base64_decode("Zm9v YmFy"), std::nullopt);
  EXPECT_EQ(base64_decode("Zm9v\nYmFy"), std::nullopt);
  EXPECT_EQ(base64_decode("-_-_"), std::nullopt);  // URL-safe alphabet is not accepted
  EXPECT_EQ(base64_decode(std::string_view("Zm9v\0", 5)), std::nullopt);
  EXPECT_EQ(base64_decode("Zm9v\xc3\xa9"), std::nullopt);
}

TEST(Base64Decode, RejectsNonZeroTrailingBits) {
  EXPECT_EQ(base64_decode("Zh=="), std::nullopt);  // "Zg==" with a stray low bit
  EXPECT_EQ(base64_decode("Zh"), std::nullopt);
  EXPECT_EQ(base64_decode("Zm9="), std::nullopt);  // "Zm8=" with a stray low bit
}

TEST(Base64, RoundTripsEveryByteValueAndLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<char>(i));
  }
  for (std::size_t n = 0; n <= all.size(); ++n) {
    const std::string_view in(all.data(), n);
    EXPECT_EQ(base64_decode(base64_encode(in)), in) << "length " << n;
  }
}

}  // namespace
}  // namespace vidup::core
