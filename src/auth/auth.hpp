#pragma once
// vidup::auth — API keys, presigned signatures and bearer tokens. Pure logic over std and
// OpenSSL: no I/O, no stores. Every comparison of a secret is constant-time.

#include "core/errc.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vidup::auth {

using core::Result;

// "ky_" + 20 lower-case hex digits (80 random bits from the OS CSPRNG), seed 000's format.
[[nodiscard]] std::string new_api_key();
[[nodiscard]] bool is_api_key_format(std::string_view key) noexcept;
// "key_" + 16 hex: the public handle of a key, for listing and revoking.
[[nodiscard]] std::string new_key_id();
// "ky_6cf8…3f03": enough to recognise a key, never enough to use it.
[[nodiscard]] std::string mask_api_key(std::string_view key);
// A random UUID v4 (videos, projects, folders).
[[nodiscard]] std::string new_uuid();
[[nodiscard]] bool is_uuid(std::string_view s) noexcept;

// Seed 000: lower-case hex of sha256(apiKey + expiration + videoId), expiration in decimal.
[[nodiscard]] std::string presign_signature(std::string_view api_key, std::int64_t expiration,
                                            std::string_view video_id);

// Constant-time equality (CRYPTO_memcmp; lengths compared first, they are not secret).
[[nodiscard]] bool constant_time_equals(std::string_view a, std::string_view b) noexcept;

// The three presign headers, parsed. Errc::signature_malformed when one is missing or bad:
// Signature 64 hex digits (either case, compared lower-cased), Expiration 1*DIGIT unix seconds,
// Video-Id a UUID.
struct PresignHeaders {
  std::string signature;
  std::int64_t expiration = 0;
  std::string video_id;
};
[[nodiscard]] Result<PresignHeaders> parse_presign(std::optional<std::string_view> signature,
                                                   std::optional<std::string_view> expiration,
                                                   std::optional<std::string_view> video_id);

// A key that may sign for a project: its secret and whether it is revoked.
struct SigningKey {
  std::string_view secret;
  bool revoked = false;
};
// Checks a presigned request: expired (now_s > expiration) → signature_expired; a match with a
// revoked key → signature_key_revoked; no match → signature_mismatch. Every candidate is
// compared, whatever matched, so the time taken does not depend on which key matched.
[[nodiscard]] Result<void> verify_presign(const PresignHeaders& h, std::int64_t now_s,
                                          const std::vector<SigningKey>& candidates);

// "Bearer <token>" (scheme case-insensitive, one space) → the token; nullopt otherwise.
[[nodiscard]] std::optional<std::string_view> bearer_token(std::optional<std::string_view> authorization);

}  // namespace vidup::auth
