// Upload-Checksum (core::parse_checksum) and the incremental hashers behind the checksum
// extension. The input is a header line, then a body cut into chunks where the input says.
// Properties:
//  - a parsed header names a supported algorithm (exact lower-case name before the single
//    space), its digest has that algorithm's length, and `name base64(digest)` parses back to it;
//    an unknown algorithm is unsupported_checksum_algorithm, everything else invalid_checksum.
//  - every hasher fed the body in arbitrary chunks gives the digest of a one-shot reference
//    (OpenSSL EVP_Digest for sha1/md5/sha256, a bitwise CRC-32 for crc32), and finish() resets it.
#include "core/base64.hpp"
#include "core/checksum.hpp"
#include "support/check.hpp"

#include <fuzzer/FuzzedDataProvider.h>
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

using vidup::core::ChecksumAlgorithm;
using vidup::core::Errc;

struct Known {
  ChecksumAlgorithm algorithm;
  std::string_view name;
  std::size_t bytes;
};
constexpr std::array<Known, 4> kKnown{{
    {ChecksumAlgorithm::sha1, "sha1", 20},
    {ChecksumAlgorithm::md5, "md5", 16},
    {ChecksumAlgorithm::sha256, "sha256", 32},
    {ChecksumAlgorithm::crc32, "crc32", 4},
}};

std::string crc32_reference(std::string_view data) {
  std::uint32_t crc = 0xffffffffU;
  for (const char c : data) {
    crc ^= static_cast<unsigned char>(c);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1U) != 0 ? (crc >> 1) ^ 0xedb88320U : crc >> 1;
    }
  }
  crc ^= 0xffffffffU;
  return std::string{static_cast<char>((crc >> 24) & 0xffU), static_cast<char>((crc >> 16) & 0xffU),
                     static_cast<char>((crc >> 8) & 0xffU), static_cast<char>(crc & 0xffU)};
}

std::string reference_digest(ChecksumAlgorithm a, std::string_view data) {
  const EVP_MD* md = nullptr;
  switch (a) {
    case ChecksumAlgorithm::sha1:
      md = EVP_sha1();
      break;
    case ChecksumAlgorithm::md5:
      md = EVP_md5();
      break;
    case ChecksumAlgorithm::sha256:
      md = EVP_sha256();
      break;
    case ChecksumAlgorithm::crc32:
      return crc32_reference(data);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  FUZZ_CHECK(EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) == 1, "EVP_Digest");
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

void check_header(std::string_view header) {
  const auto parsed = vidup::core::parse_checksum(header);
  const auto space = header.find(' ');
  const std::string_view name = header.substr(0, space);
  const Known* known = nullptr;
  for (const auto& k : kKnown) {
    if (k.name == name) {
      known = &k;
    }
  }
  if (!parsed) {
    const bool unsupported = parsed.error() == vidup::core::make_error_code(Errc::unsupported_checksum_algorithm);
    const bool invalid = parsed.error() == vidup::core::make_error_code(Errc::invalid_checksum);
    FUZZ_CHECK(unsupported || invalid, "failures are unsupported_checksum_algorithm or invalid_checksum");
    if (unsupported) {
      FUZZ_CHECK(known == nullptr && space != std::string_view::npos && space != 0,
                 "unsupported means a well-placed name that is not one of ours");
    }
    return;
  }
  FUZZ_CHECK(space != std::string_view::npos && known != nullptr, "accepted: a known name before the space");
  FUZZ_CHECK(parsed->algorithm == known->algorithm, "the algorithm is the one named");
  FUZZ_CHECK(parsed->digest.size() == known->bytes, "the digest has the algorithm's length");
  const std::string encoded = vidup::core::base64_encode(parsed->digest);
  FUZZ_CHECK(vidup::core::base64_decode(header.substr(space + 1)) == parsed->digest, "digest is the base64 value");
  const auto again = vidup::core::parse_checksum(std::string(name) + " " + encoded);
  FUZZ_CHECK(again && again->algorithm == parsed->algorithm && again->digest == parsed->digest,
             "a re-encoded header parses to the same checksum");
}

void check_hashers(FuzzedDataProvider& fdp) {
  std::vector<std::size_t> cuts;
  const auto n_cuts = fdp.ConsumeIntegralInRange<std::size_t>(0, 8);
  for (std::size_t i = 0; i < n_cuts; ++i) {
    cuts.push_back(fdp.ConsumeIntegralInRange<std::size_t>(0, 4096));
  }
  const std::string body = fdp.ConsumeRemainingBytesAsString();
  for (const auto& k : kKnown) {
    const auto hasher = vidup::core::make_hasher(k.algorithm);
    const std::string expected = reference_digest(k.algorithm, body);
    for (int round = 0; round < 2; ++round) {  // the second round checks that finish() resets
      std::size_t pos = 0;
      for (const std::size_t cut : cuts) {
        const std::size_t n = std::min(cut, body.size() - pos);
        hasher->update(std::as_bytes(std::span(body.data() + pos, n)));
        pos += n;
      }
      hasher->update(std::as_bytes(std::span(body.data() + pos, body.size() - pos)));
      FUZZ_CHECK(hasher->finish() == expected, "chunked digest == one-shot reference digest");
    }
    FUZZ_CHECK(vidup::core::digest(k.algorithm, body) == expected, "digest() == reference");
    FUZZ_CHECK(expected.size() == k.bytes, "digest length");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  const std::string header = fdp.ConsumeRandomLengthString(256);
  check_header(header);
  check_hashers(fdp);
  return 0;
}
