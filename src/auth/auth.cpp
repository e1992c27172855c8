#include "auth/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <stdexcept>

namespace vidup::auth {

namespace {

using core::Errc;

constexpr std::string_view kKeyPrefix = "ky_";
constexpr std::size_t kKeyHexDigits = 20;  // 80 random bits
constexpr std::string_view kKeyIdPrefix = "key_";
constexpr std::size_t kKeyIdHexDigits = 16;
constexpr std::size_t kSignatureHexDigits = 64;
constexpr std::size_t kMaxExpirationDigits = 18;  // always fits an int64
constexpr std::string_view kBearer = "bearer";
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // "…"
constexpr std::size_t kMaskShownPrefix = 7;             // "ky_" + 4 hex
constexpr std::size_t kMaskShownSuffix = 4;
constexpr std::size_t kMaskMinHidden = 12;  // 48 bits of a key stay hidden

boost::system::error_code fail(Errc e) { return core::make_error_code(e); }

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool is_hex(char c) { return is_lower_hex(c) || (c >= 'A' && c <= 'F'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

std::string hex(const unsigned char* data, std::size_t n) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4U]);
    out.push_back(kDigits[data[i] & 0x0FU]);
  }
  return out;
}

// `n` random bytes from the OS CSPRNG. A failing CSPRNG is an environment failure: it throws.
template <std::size_t N>
std::array<unsigned char, N> random_bytes() {
  std::array<unsigned char, N> out{};
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed: no randomness available");
  }
  return out;
}

std::string random_hex_digits(std::size_t digits) {
  auto bytes = random_bytes<16>();
  std::string out = hex(bytes.data(), bytes.size());
  out.resize(digits);
  return out;
}

}  // namespace

std::string new_api_key() {
  static_assert(kKeyHexDigits <= 32);
  return std::string(kKeyPrefix) + random_hex_digits(kKeyHexDigits);
}

bool is_api_key_format(std::string_view key) noexcept {
  if (key.size() != kKeyPrefix.size() + kKeyHexDigits || !key.starts_with(kKeyPrefix)) {
    return false;
  }
  const auto digits = key.substr(kKeyPrefix.size());
  return std::all_of(digits.begin(), digits.end(), is_lower_hex);
}

std::string new_key_id() {
  static_assert(kKeyIdHexDigits <= 32);
  return std::string(kKeyIdPrefix) + random_hex_digits(kKeyIdHexDigits);
}

std::string mask_api_key(std::string_view key) {
  // Anything too short to keep most of it hidden is hidden entirely.
  if (key.size() < kMaskShownPrefix + kMaskMinHidden + kMaskShownSuffix) {
    return std::string(kEllipsis);
  }
  return std::string(key.substr(0, kMaskShownPrefix)) + std::string(kEllipsis) +
         std::string(key.substr(key.size() - kMaskShownSuffix));
}

std::string new_uuid() {
  auto b = random_bytes<16>();
  b[6] = static_cast<unsigned char>((b[6] & 0x0FU) | 0x40U);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3FU) | 0x80U);  // variant 10xx (RFC 4122)
  const std::string h = hex(b.data(), b.size());
  return h.substr(0, 8) + '-' + h.substr(8, 4) + '-' + h.substr(12, 4) + '-' + h.substr(16, 4) + '-' + h.substr(20);
}

bool is_uuid(std::string_view s) noexcept {
  if (s.size() != 36) {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? s[i] != '-' : !is_lower_hex(s[i])) {
      return false;
    }
  }
  return true;
}

std::string presign_signature(std::string_view api_key, std::int64_t expiration, std::string_view video_id) {
  const std::string message = std::string(api_key) + std::to_string(expiration) + std::string(video_id);
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data());
  return hex(digest.data(), digest.size());
}

bool constant_time_equals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<PresignHeaders> parse_presign(std::optional<std::string_view> signature,
                                     std::optional<std::string_view> expiration,
                                     std::optional<std::string_view> video_id) {
  if (!signature || !expiration || !video_id) {
    return fail(Errc::signature_malformed);
  }
  if (signature->size() != kSignatureHexDigits || !std::all_of(signature->begin(), signature->end(), is_hex)) {
    return fail(Errc::signature_malformed);
  }
  if (expiration->empty() || expiration->size() > kMaxExpirationDigits ||
      !std::all_of(expiration->begin(), expiration->end(), is_digit)) {
    return fail(Errc::signature_malformed);
  }
  PresignHeaders h;
  h.video_id = lowered(*video_id);
  if (!is_uuid(h.video_id)) {
    return fail(Errc::signature_malformed);
  }
  h.signature = lowered(*signature);
  for (const char c : *expiration) {
    h.expiration = h.expiration * 10 + (c - '0');
  }
  return h;
}

Result<void> verify_presign(const PresignHeaders& h, std::int64_t now_s, const std::vector<SigningKey>& candidates) {
  // Every candidate is hashed and compared, so timing says nothing about which key (if any)
  // matched. The signature is judged before the expiry: without a valid signature a caller
  // learns nothing but "mismatch".
  bool active_match = false;
  bool revoked_match = false;
  for (const auto& key : candidates) {
    const bool match = constant_time_equals(presign_signature(key.secret, h.expiration, h.video_id), h.signature);
    active_match = active_match || (match && !key.revoked);
    revoked_match = revoked_match || (match && key.revoked);
  }
  if (!active_match && !revoked_match) {
    return fail(Errc::signature_mismatch);
  }
  if (!active_match) {
    return fail(Errc::signature_key_revoked);
  }
  if (h.expiration < now_s) {
    return fail(Errc::signature_expired);
  }
  return {};
}

std::optional<std::string_view> bearer_token(std::optional<std::string_view> authorization) {
  if (!authorization || authorization->size() <= kBearer.size() + 1) {
    return std::nullopt;
  }
  const std::string_view scheme = authorization->substr(0, kBearer.size());
  if (lowered(scheme) != kBearer || (*authorization)[kBearer.size()] != ' ') {
    return std::nullopt;
  }
  const std::string_view token = authorization->substr(kBearer.size() + 1);
  if (token.find_first_of(" \t") != std::string_view::npos) {
    return std::nullopt;
  }
  return token;
}

}  // namespace vidup::auth
