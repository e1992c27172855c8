#pragma once

#include "core/errc.hpp"

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vidup::core {

enum class ChecksumAlgorithm { sha1, md5, sha256, crc32 };

// Lower-case names in the order OPTIONS advertises them (H-CKA-01/04, CK-12).
[[nodiscard]] const std::vector<std::string_view>& checksum_algorithm_names();
[[nodiscard]] std::string checksum_algorithm_list();  // "sha1,md5,sha256,crc32"

struct ChecksumHeader {
  ChecksumAlgorithm algorithm;
  std::string digest;  // raw bytes
};

// H-CK-01/02, CK-04, CK-11: `<algorithm> <base64 digest>`. Unknown (or upper-case) algorithm →
// Errc::unsupported_checksum_algorithm; anything else malformed, including a digest of the wrong
// length → Errc::invalid_checksum.
[[nodiscard]] Result<ChecksumHeader> parse_checksum(std::string_view header);

// Incremental digest. crc32 is emitted big-endian (4 bytes), as its base64 on the wire expects.
class Hasher {
 public:
  virtual ~Hasher() = default;
  virtual void update(std::span<const std::byte> data) = 0;
  [[nodiscard]] virtual std::string finish() = 0;  // raw digest bytes
};
[[nodiscard]] std::unique_ptr<Hasher> make_hasher(ChecksumAlgorithm algorithm);

// Convenience for tests and small inputs.
[[nodiscard]] std::string digest(ChecksumAlgorithm algorithm, std::string_view data);

}  // namespace vidup::core
