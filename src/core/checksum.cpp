#include "core/checksum.hpp"

#include "core/base64.hpp"

#include <boost/crc.hpp>
#include <openssl/evp.h>

#include <cstdint>
#include <new>
#include <optional>
#include <stdexcept>

namespace vidup::core {
namespace {

struct AlgorithmSpec {
  ChecksumAlgorithm algorithm;
  std::string_view name;
  std::size_t digest_bytes;
};

// The order is the order OPTIONS advertises (sha1 first: it is the one every client knows).
constexpr AlgorithmSpec kAlgorithms[] = {
    {ChecksumAlgorithm::sha1, "sha1", 20},
    {ChecksumAlgorithm::md5, "md5", 16},
    {ChecksumAlgorithm::sha256, "sha256", 32},
    {ChecksumAlgorithm::crc32, "crc32", 4},
};

// Exact, case-sensitive match against the lower-case names (CK-11).
std::optional<AlgorithmSpec> find_algorithm(std::string_view name) {
  for (const AlgorithmSpec& spec : kAlgorithms) {
    if (spec.name == name) {
      return spec;
    }
  }
  return std::nullopt;
}

struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

class EvpHasher final : public Hasher {
 public:
  explicit EvpHasher(const EVP_MD* md) : md_(md), ctx_(EVP_MD_CTX_new()) {
    if (!ctx_) {
      throw std::bad_alloc();
    }
    init();
  }

  void update(std::span<const std::byte> data) override {
    if (data.empty()) {
      return;
    }
    if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) {
      throw std::runtime_error("EVP_DigestUpdate failed");
    }
  }

  // Returns the digest and resets the hasher, so it can be reused for a new stream.
  std::string finish() override {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), out, &len) != 1) {
      throw std::runtime_error("EVP_DigestFinal_ex failed");
    }
    init();
    return std::string(reinterpret_cast<const char*>(out), len);
  }

 private:
  void init() {
    if (EVP_DigestInit_ex(ctx_.get(), md_, nullptr) != 1) {
      throw std::runtime_error("EVP_DigestInit_ex failed");
    }
  }

  const EVP_MD* md_;
  std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter> ctx_;
};

class Crc32Hasher final : public Hasher {
 public:
  void update(std::span<const std::byte> data) override { crc_.process_bytes(data.data(), data.size()); }

  // Big-endian, as the base64 digest on the wire expects. Resets the hasher.
  std::string finish() override {
    const std::uint32_t value = crc_.checksum();
    crc_.reset();
    return std::string{
        static_cast<char>((value >> 24) & 0xffU),
        static_cast<char>((value >> 16) & 0xffU),
        static_cast<char>((value >> 8) & 0xffU),
        static_cast<char>(value & 0xffU),
    };
  }

 private:
  boost::crc_32_type crc_;
};

}  // namespace

const std::vector<std::string_view>& checksum_algorithm_names() {
  static const std::vector<std::string_view> kNames = [] {
    std::vector<std::string_view> names;
    for (const AlgorithmSpec& spec : kAlgorithms) {
      names.push_back(spec.name);
    }
    return names;
  }();
  return kNames;
}

std::string checksum_algorithm_list() {
  std::string list;
  for (const std::string_view name : checksum_algorithm_names()) {
    if (!list.empty()) {
      list.push_back(',');
    }
    list.append(name);
  }
  return list;
}

Result<ChecksumHeader> parse_checksum(std::string_view header) {
  // H-CK-01: `<algorithm> <base64 digest>` with exactly one space.
  const std::size_t space = header.find(' ');
  if (space == std::string_view::npos || space == 0) {
    return make_error_code(Errc::invalid_checksum);
  }
  const std::string_view name = header.substr(0, space);
  const std::string_view encoded = header.substr(space + 1);
  const std::optional<AlgorithmSpec> spec = find_algorithm(name);
  if (!spec) {
    return make_error_code(Errc::unsupported_checksum_algorithm);  // CK-04, CK-11
  }
  std::optional<std::string> raw = base64_decode(encoded);  // a second space is not base64
  if (!raw || raw->size() != spec->digest_bytes) {
    return make_error_code(Errc::invalid_checksum);  // H-CK-02
  }
  return ChecksumHeader{spec->algorithm, std::move(*raw)};
}

std::unique_ptr<Hasher> make_hasher(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::sha1:
      return std::make_unique<EvpHasher>(EVP_sha1());
    case ChecksumAlgorithm::md5:
      return std::make_unique<EvpHasher>(EVP_md5());
    case ChecksumAlgorithm::sha256:
      return std::make_unique<EvpHasher>(EVP_sha256());
    case ChecksumAlgorithm::crc32:
      return std::make_unique<Crc32Hasher>();
  }
  throw std::invalid_argument("make_hasher: unknown ChecksumAlgorithm");
}

std::string digest(ChecksumAlgorithm algorithm, std::string_view data) {
  const std::unique_ptr<Hasher> hasher = make_hasher(algorithm);
  hasher->update(std::as_bytes(std::span(data.data(), data.size())));
  return hasher->finish();
}

}  // namespace vidup::core
