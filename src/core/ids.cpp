#include "core/ids.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace vidup::core {
namespace {

constexpr std::size_t kIdBytes = 16;  // 128 bits (H-LOC-03)
constexpr std::size_t kIdChars = kIdBytes * 2;
constexpr std::string_view kHexDigits = "0123456789abcdef";

}  // namespace

std::string new_upload_id() {
  std::array<unsigned char, kIdBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed: the OS random number generator is unavailable");
  }
  std::string id;
  id.reserve(kIdChars);
  for (const unsigned char b : bytes) {
    id.push_back(kHexDigits[b >> 4]);
    id.push_back(kHexDigits[b & 0x0fU]);
  }
  return id;
}

bool is_valid_upload_id(std::string_view id) noexcept {
  if (id.size() != kIdChars) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace vidup::core
