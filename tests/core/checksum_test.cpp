#include "core/checksum.hpp"

#include "core/base64.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace vidup::core {
namespace {

std::string hex(std::string_view raw) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  for (const char c : raw) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0fU]);
  }
  return out;
}

std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

Errc parse_error(std::string_view header) {
  const Result<ChecksumHeader> r = parse_checksum(header);
  if (r) {
    return Errc::ok;
  }
  return to_errc(r.error());
}

TEST(ChecksumAlgorithms, H_CKA_01_ListIsCommaSeparatedInAdvertisedOrder) {
  EXPECT_EQ(checksum_algorithm_list(), "sha1,md5,sha256,crc32");
  const std::vector<std::string_view> expected{"sha1", "md5", "sha256", "crc32"};
  EXPECT_EQ(checksum_algorithm_names(), expected);
}

TEST(ChecksumAlgorithms, H_CKA_03_Sha1IsSupported) {
  const auto& names = checksum_algorithm_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "sha1"), names.end());
}

TEST(ChecksumAlgorithms, H_CKA_04_NamesAreVisibleAsciiWithoutUppercase) {
  for (const std::string_view name : checksum_algorithm_names()) {
    for (const char c : name) {
      EXPECT_TRUE(c >= 0x21 && c <= 0x7e) << name;
      EXPECT_FALSE(c >= 'A' && c <= 'Z') << name;
    }
  }
}

TEST(ParseChecksum, H_CK_01_ParsesAlgorithmAndDecodesDigest) {
  const Result<ChecksumHeader> r = parse_checksum("sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->algorithm, ChecksumAlgorithm::sha1);
  EXPECT_EQ(r->digest, digest(ChecksumAlgorithm::sha1, "hello world"));
}

TEST(ParseChecksum, H_CK_01_AcceptsEverySupportedAlgorithm) {
  for (const ChecksumAlgorithm a :
       {ChecksumAlgorithm::sha1, ChecksumAlgorithm::md5, ChecksumAlgorithm::sha256, ChecksumAlgorithm::crc32}) {
    const std::string d = digest(a, "hello world");
    const std::string name(checksum_algorithm_names()[static_cast<std::size_t>(a)]);
    const Result<ChecksumHeader> r = parse_checksum(name + " " + base64_encode(d));
    ASSERT_TRUE(r) << name;
    EXPECT_EQ(r->algorithm, a);
    EXPECT_EQ(r->digest, d);
  }
}

TEST(ParseChecksum, H_CK_02_RejectsMissingSpaceOrDigest) {
  EXPECT_EQ(parse_error("sha1"), Errc::invalid_checksum);
  EXPECT_EQ(parse_error("sha1 "), Errc::invalid_checksum);
  EXPECT_EQ(parse_error(""), Errc::invalid_checksum);
  EXPECT_EQ(parse_error(" Kq5sNclPz7QV2+lfQIuc6R7oRu0="), Errc::invalid_checksum);
}

TEST(ParseChecksum, H_CK_02_RejectsBadBase64) {
  EXPECT_EQ(parse_error("sha1 ###"), Errc::invalid_checksum);
  EXPECT_EQ(parse_error("sha1 Kq5sNclPz7QV2-lfQIuc6R7oRu0="), Errc::invalid_checksum);
}

TEST(ParseChecksum, H_CK_02_RejectsWrongDigestLength) {
  EXPECT_EQ(parse_error("sha1 " + base64_encode(std::string(19, 'x'))), Errc::invalid_checksum);
  EXPECT_EQ(parse_error("sha1 " + base64_encode(std::string(21, 'x'))), Errc::invalid_checksum);
  EXPECT_EQ(parse_error("md5 Kq5sNclPz7QV2+lfQIuc6R7oRu0="), Errc::invalid_checksum);
  EXPECT_EQ(parse_error("sha256 Kq5sNclPz7QV2+lfQIuc6R7oRu0="), Errc::invalid_checksum);
  EXPECT_EQ(parse_error("crc32 Kq5sNclPz7QV2+lfQIuc6R7oRu0="), Errc::invalid_checksum);
}

TEST(ParseChecksum, H_CK_01_RejectsMoreThanOneSpace) {
  EXPECT_EQ(parse_error("sha1  Kq5sNclPz7QV2+lfQIuc6R7oRu0="), Errc::invalid_checksum);
  EXPECT_EQ(parse_error("sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0= "), Errc::invalid_checksum);
  EXPECT_EQ(parse_error("sha1\tKq5sNclPz7QV2+lfQIuc6R7oRu0="), Errc::invalid_checksum);
}

TEST(ParseChecksum, CK_04_UnknownAlgorithmIsUnsupported) {
  EXPECT_EQ(parse_error("whirlpool Kq5sNclPz7QV2+lfQIuc6R7oRu0="), Errc::unsupported_checksum_algorithm);
  EXPECT_EQ(parse_error("crc32c AAAAAA=="), Errc::unsupported_checksum_algorithm);
}

TEST(ParseChecksum, CK_11_AlgorithmNamesAreCaseSensitive) {
  EXPECT_EQ(parse_error("SHA1 Kq5sNclPz7QV2+lfQIuc6R7oRu0="), Errc::unsupported_checksum_algorithm);
  EXPECT_EQ(parse_error("Sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0="), Errc::unsupported_checksum_algorithm);
  EXPECT_EQ(parse_error("MD5 XrY7u+Ae7tCTyyK7j1rNww=="), Errc::unsupported_checksum_algorithm);
}

TEST(Digest, Sha1OfHelloWorldMatchesTheChecklistExample) {
  EXPECT_EQ(base64_encode(digest(ChecksumAlgorithm::sha1, "hello world")), "Kq5sNclPz7QV2+lfQIuc6R7oRu0=");
}

TEST(Digest, KnownDigests) {
  EXPECT_EQ(hex(digest(ChecksumAlgorithm::md5, "hello world")), "5eb63bbbe01eeed093cb22bb8f5acdc3");
  EXPECT_EQ(hex(digest(ChecksumAlgorithm::sha256, "hello world")),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
  EXPECT_EQ(hex(digest(ChecksumAlgorithm::sha1, "")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex(digest(ChecksumAlgorithm::crc32, "")), "00000000");
}

TEST(Digest, Crc32IsFourBytesBigEndian) {
  EXPECT_EQ(hex(digest(ChecksumAlgorithm::crc32, "hello world")), "0d4a1185");
  EXPECT_EQ(hex(digest(ChecksumAlgorithm::crc32, "123456789")), "cbf43926");
}

TEST(Hasher, IncrementalEqualsOneShot) {
  std::string data;
  for (int i = 0; i < 100000; ++i) {
    data.push_back(static_cast<char>(i * 31 + 7));
  }
  for (const ChecksumAlgorithm a :
       {ChecksumAlgorithm::sha1, ChecksumAlgorithm::md5, ChecksumAlgorithm::sha256, ChecksumAlgorithm::crc32}) {
    const std::unique_ptr<Hasher> h = make_hasher(a);
    const std::string_view all(data);
    std::size_t pos = 0;
    for (std::size_t chunk = 1; pos < all.size(); chunk = chunk * 3 + 1) {
      const std::size_t n = std::min(chunk, all.size() - pos);
      h->update(bytes(all.substr(pos, n)));
      pos += n;
    }
    h->update({});
    EXPECT_EQ(h->finish(), digest(a, data)) << static_cast<int>(a);
  }
}

TEST(Hasher, FinishResetsForReuse) {
  for (const ChecksumAlgorithm a :
       {ChecksumAlgorithm::sha1, ChecksumAlgorithm::md5, ChecksumAlgorithm::sha256, ChecksumAlgorithm::crc32}) {
    const std::unique_ptr<Hasher> h = make_hasher(a);
    h->update(bytes("something else"));
    (void)h->finish();
    h->update(bytes("hello world"));
    EXPECT_EQ(h->finish(), digest(a, "hello world")) << static_cast<int>(a);
  }
}

}  // namespace
}  // namespace vidup::core
