// vidup::auth as a specification: key formats, masking, seed 000's presigned signature and the
// Bearer scheme.

#include "auth/auth.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>
#include <vector>

namespace vidup::auth {
namespace {

using core::Errc;

constexpr std::string_view kSeedKey = "ky_6cf8213c7badf0b3c03f";
constexpr std::string_view kSeedVideo = "a23fe4e9-dc10-4f6b-bda5-afe93f8d5d4a";
constexpr std::int64_t kSeedExpiration = 1700000000;
// printf '%s' 'ky_6cf8213c7badf0b3c03f1700000000a23fe4e9-dc10-4f6b-bda5-afe93f8d5d4a' | sha256sum
constexpr std::string_view kSeedSignature = "74e9727681072eff8e08c30fe22bc354407285440c5661c021e650f603413f13";

std::string upper(std::string s) {
  for (auto& c : s) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Keys and ids

TEST(NewApiKey, IsKyAndTwentyLowerHexDigitsAndNeverRepeats) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto k = new_api_key();
    ASSERT_EQ(k.size(), 23u) << k;
    EXPECT_TRUE(k.starts_with("ky_")) << k;
    EXPECT_TRUE(is_api_key_format(k)) << k;
    EXPECT_EQ(k.find_first_not_of("0123456789abcdef", 3), std::string::npos) << k;
    seen.insert(k);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(NewApiKey, UsesEveryHexDigitInEveryPosition) {
  // 80 random bits: over 2000 keys, each of the 20 positions sees all 16 digits.
  std::vector<std::set<char>> digits(20);
  for (int i = 0; i < 2000; ++i) {
    const auto k = new_api_key();
    for (std::size_t p = 0; p < 20; ++p) {
      digits[p].insert(k[3 + p]);
    }
  }
  for (std::size_t p = 0; p < 20; ++p) {
    EXPECT_EQ(digits[p].size(), 16u) << "position " << p;
  }
}

TEST(IsApiKeyFormat, AcceptsTheSeedKeyOnly) {
  EXPECT_TRUE(is_api_key_format(kSeedKey));
  for (std::string_view bad :
       {"", "ky_", "ky_6cf8213c7badf0b3c03", "ky_6cf8213c7badf0b3c03f0", "KY_6cf8213c7badf0b3c03f",
        "ky-6cf8213c7badf0b3c03f", "ky_6CF8213C7BADF0B3C03F", "ky_6cf8213c7badf0b3c03g", "key_6cf8213c7badf0b3c0"}) {
    EXPECT_FALSE(is_api_key_format(bad)) << bad;
  }
}

TEST(NewKeyId, IsKeyAndSixteenHexDigitsAndNeverRepeats) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = new_key_id();
    ASSERT_EQ(id.size(), 20u) << id;
    EXPECT_TRUE(id.starts_with("key_")) << id;
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef", 4), std::string::npos) << id;
    EXPECT_FALSE(is_api_key_format(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(MaskApiKey, ShowsOnlyThePrefixAndTheLastFourDigits) {
  EXPECT_EQ(mask_api_key(kSeedKey),
            "ky_6cf8\xE2\x80\xA6"
            "c03f");
  const auto k = new_api_key();
  const auto masked = mask_api_key(k);
  EXPECT_EQ(masked.substr(0, 7), k.substr(0, 7));
  EXPECT_EQ(masked.substr(masked.size() - 4), k.substr(k.size() - 4));
  // The twelve middle digits are nowhere in the mask.
  EXPECT_EQ(masked.find(k.substr(7, 12)), std::string::npos);
}

TEST(MaskApiKey, HidesShortStringsEntirely) {
  for (std::string_view s : {"", "ky_", "ky_1234567890", "secret-value-1234567"}) {
    const auto masked = mask_api_key(s);
    EXPECT_EQ(masked, "\xE2\x80\xA6") << s;
  }
}

TEST(NewUuid, IsLowerCaseCanonicalVersion4AndNeverRepeats) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto u = new_uuid();
    ASSERT_TRUE(is_uuid(u)) << u;
    EXPECT_EQ(u[14], '4') << u;
    EXPECT_NE(std::string_view("89ab").find(u[19]), std::string_view::npos) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(IsUuid, AcceptsOnlyTheLowerCaseCanonicalForm) {
  EXPECT_TRUE(is_uuid(kSeedVideo));
  EXPECT_TRUE(is_uuid("00000000-0000-0000-0000-000000000000"));
  for (std::string_view bad : {"", "a23fe4e9dc104f6bbda5afe93f8d5d4a", "a23fe4e9-dc10-4f6b-bda5-afe93f8d5d4",
                               "a23fe4e9-dc10-4f6b-bda5-afe93f8d5d4aa", "A23FE4E9-DC10-4F6B-BDA5-AFE93F8D5D4A",
                               "{a23fe4e9-dc10-4f6b-bda5-afe93f8d5d4a}", "a23fe4e9-dc10-4f6b-bda5_afe93f8d5d4a",
                               "g23fe4e9-dc10-4f6b-bda5-afe93f8d5d4a", "a23fe4e9-dc10-4f6b-bda5-afe93f8d5d4 "}) {
    EXPECT_FALSE(is_uuid(bad)) << bad;
  }
}

TEST(ConstantTimeEquals, ComparesLengthThenEveryByte) {
  EXPECT_TRUE(constant_time_equals("", ""));
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abc", "abd"));
  EXPECT_FALSE(constant_time_equals("abc", "abcd"));
  EXPECT_FALSE(constant_time_equals("", "a"));
}

// ---------------------------------------------------------------------------------------------
// Presigned signatures (seed 000)

TEST(PresignSignature, MatchesSha256OfKeyExpirationAndVideoId) {
  EXPECT_EQ(presign_signature(kSeedKey, kSeedExpiration, kSeedVideo), kSeedSignature);
}

TEST(PresignSignature, DependsOnEveryInput) {
  EXPECT_NE(presign_signature(kSeedKey, kSeedExpiration + 1, kSeedVideo), kSeedSignature);
  EXPECT_NE(presign_signature("ky_6cf8213c7badf0b3c03e", kSeedExpiration, kSeedVideo), kSeedSignature);
  EXPECT_NE(presign_signature(kSeedKey, kSeedExpiration, "a23fe4e9-dc10-4f6b-bda5-afe93f8d5d4b"), kSeedSignature);
}

struct PresignCase {
  const char* name;
  std::optional<std::string> signature;
  std::optional<std::string> expiration;
  std::optional<std::string> video_id;
  std::int64_t now_s;
  Errc expected;  // Errc::ok: accepted
};

std::vector<SigningKey> seed_keys(bool revoked) {
  static const std::string other = "ky_00000000000000000000";
  return {SigningKey{other, false}, SigningKey{kSeedKey, revoked}};
}

Errc check(const PresignCase& c, const std::vector<SigningKey>& keys) {
  auto parsed = parse_presign(c.signature, c.expiration, c.video_id);
  if (!parsed) {
    return static_cast<Errc>(parsed.error().value());
  }
  auto verified = verify_presign(*parsed, c.now_s, keys);
  return verified ? Errc::ok : static_cast<Errc>(verified.error().value());
}

TEST(VerifyPresign, FollowsTheTable) {
  const std::string sig(kSeedSignature);
  const std::string exp = std::to_string(kSeedExpiration);
  const std::string vid(kSeedVideo);
  const std::string other_vid = "b23fe4e9-dc10-4f6b-bda5-afe93f8d5d4a";
  std::string tampered = sig;
  tampered[10] = tampered[10] == '0' ? '1' : '0';
  const std::int64_t before = kSeedExpiration - 60;

  const std::vector<PresignCase> cases = {
      {"valid", sig, exp, vid, before, Errc::ok},
      {"valid up to the expiration second", sig, exp, vid, kSeedExpiration, Errc::ok},
      {"expired", sig, exp, vid, kSeedExpiration + 1, Errc::signature_expired},
      {"tampered signature", tampered, exp, vid, before, Errc::signature_mismatch},
      {"tampered and expired says only mismatch", tampered, exp, vid, kSeedExpiration + 1, Errc::signature_mismatch},
      {"replayed across videos", sig, exp, other_vid, before, Errc::signature_mismatch},
      {"expiration moved later", sig, std::to_string(kSeedExpiration + 3600), vid, before, Errc::signature_mismatch},
      {"upper-case hex accepted", upper(sig), exp, vid, before, Errc::ok},
      {"upper-case video id accepted", sig, exp, upper(vid), before, Errc::ok},
      {"leading zeros in expiration are the same number", sig, "00" + exp, vid, before, Errc::ok},
      {"missing signature", std::nullopt, exp, vid, before, Errc::signature_malformed},
      {"missing expiration", sig, std::nullopt, vid, before, Errc::signature_malformed},
      {"missing video id", sig, exp, std::nullopt, before, Errc::signature_malformed},
      {"63 hex digits", sig.substr(0, 63), exp, vid, before, Errc::signature_malformed},
      {"65 hex digits", sig + "0", exp, vid, before, Errc::signature_malformed},
      {"non-hex signature", "z" + sig.substr(1), exp, vid, before, Errc::signature_malformed},
      {"empty signature", "", exp, vid, before, Errc::signature_malformed},
      {"negative expiration", sig, "-1700000000", vid, before, Errc::signature_malformed},
      {"plus sign", sig, "+1700000000", vid, before, Errc::signature_malformed},
      {"19-digit expiration", sig, "1234567890123456789", vid, before, Errc::signature_malformed},
      {"empty expiration", sig, "", vid, before, Errc::signature_malformed},
      {"fractional expiration", sig, exp + ".5", vid, before, Errc::signature_malformed},
      {"spaces in expiration", sig, " " + exp, vid, before, Errc::signature_malformed},
      {"bad uuid", sig, exp, "a23fe4e9dc104f6bbda5afe93f8d5d4a", before, Errc::signature_malformed},
      {"uuid with braces", sig, exp, "{" + vid + "}", before, Errc::signature_malformed},
      {"empty video id", sig, exp, "", before, Errc::signature_malformed},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(check(c, seed_keys(false)), c.expected) << c.name;
  }
}

TEST(VerifyPresign, ASignatureByARevokedKeyIsRefusedAsRevoked) {
  const PresignCase valid{"revoked",
                          std::string(kSeedSignature),
                          std::to_string(kSeedExpiration),
                          std::string(kSeedVideo),
                          kSeedExpiration - 60,
                          Errc::signature_key_revoked};
  EXPECT_EQ(check(valid, seed_keys(true)), Errc::signature_key_revoked);
  PresignCase expired = valid;
  expired.now_s = kSeedExpiration + 1;
  EXPECT_EQ(check(expired, seed_keys(true)), Errc::signature_key_revoked);
}

TEST(VerifyPresign, AnActiveKeyWinsOverARevokedCopyOfTheSameSecret) {
  auto h = parse_presign(kSeedSignature, std::to_string(kSeedExpiration), kSeedVideo);
  ASSERT_TRUE(h);
  const std::vector<SigningKey> keys = {SigningKey{kSeedKey, true}, SigningKey{kSeedKey, false}};
  EXPECT_TRUE(verify_presign(*h, kSeedExpiration, keys));
}

TEST(VerifyPresign, NoCandidatesIsAMismatch) {
  auto h = parse_presign(kSeedSignature, std::to_string(kSeedExpiration), kSeedVideo);
  ASSERT_TRUE(h);
  auto r = verify_presign(*h, 0, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::signature_mismatch);
}

TEST(ParsePresign, StoresLowerCaseValuesAndTheExpirationAsANumber) {
  auto h = parse_presign(upper(std::string(kSeedSignature)), "0001700000000", upper(std::string(kSeedVideo)));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->signature, kSeedSignature);
  EXPECT_EQ(h->expiration, kSeedExpiration);
  EXPECT_EQ(h->video_id, kSeedVideo);
  auto largest = parse_presign(kSeedSignature, "999999999999999999", kSeedVideo);
  ASSERT_TRUE(largest);
  EXPECT_EQ(largest->expiration, 999'999'999'999'999'999);
}

// ---------------------------------------------------------------------------------------------
// Bearer

TEST(BearerToken, ExtractsTheTokenOfTheBearerScheme) {
  EXPECT_EQ(bearer_token("Bearer ky_6cf8213c7badf0b3c03f"), std::optional<std::string_view>(kSeedKey));
  EXPECT_EQ(bearer_token("bearer abc"), std::optional<std::string_view>("abc"));
  EXPECT_EQ(bearer_token("BEARER abc"), std::optional<std::string_view>("abc"));
  EXPECT_EQ(bearer_token("bEaReR abc"), std::optional<std::string_view>("abc"));
}

TEST(BearerToken, RejectsOtherSchemesSpacingAndEmptyTokens) {
  EXPECT_EQ(bearer_token(std::nullopt), std::nullopt);
  for (std::string_view bad : {"", "Bearer", "Bearer ", "Bearer  abc", "Bearer\tabc", "Bearerabc", "Basic abc",
                               "Bearer abc def", "Bearer abc ", " Bearer abc", "Token abc", "Bearer: abc"}) {
    EXPECT_EQ(bearer_token(bad), std::nullopt) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace vidup::auth
