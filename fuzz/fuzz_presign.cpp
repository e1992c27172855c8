// Presigned creation headers (seed 000): auth::parse_presign and auth::verify_presign.
// The input picks the three header values (each may be absent), the clock, which candidate keys
// exist (active or revoked), and whether the harness signs the values itself.
// Properties (the contract of auth.hpp and docs/api.md):
//  - parse: accepted only for Signature = 64 hex digits, Expiration = 1..18 digits, Video-Id a
//    UUID in either case; it keeps the lower-cased values and the decimal value of Expiration.
//  - soundness: verify never accepts unless an ACTIVE candidate's secret gives
//    Signature == hex(sha256(secret + decimal(Expiration) + lower(Video-Id))), and
//    Expiration >= now. A match with a revoked key only is signature_key_revoked.
//  - completeness: a correct signature by an active key, not expired, is accepted.
#include "auth/auth.hpp"
#include "support/check.hpp"

#include <fuzzer/FuzzedDataProvider.h>
#include <openssl/sha.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using vidup::core::Errc;
namespace auth = vidup::auth;

constexpr std::array<std::string_view, 3> kSecrets = {"ky_0123456789abcdef0123", "ky_fedcba9876543210fedc",
                                                       "ky_00000000000000000000"};
constexpr std::string_view kVideo = "0f8fad5b-d9cb-469f-a165-70867728950e";

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

std::string sha256_hex(std::string_view message) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> d{};
  SHA256(reinterpret_cast<const unsigned char*>(message.data()), message.size(), d.data());
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : d) {
    out.push_back(kHex[b >> 4U]);
    out.push_back(kHex[b & 0x0fU]);
  }
  return out;
}

bool all_of(std::string_view s, bool (*pred)(char)) {
  for (const char c : s) {
    if (!pred(c)) {
      return false;
    }
  }
  return true;
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool uuid_any_case(std::string_view s) { return auth::is_uuid(lower(s)); }

std::int64_t decimal(std::string_view s) {
  std::int64_t v = 0;
  for (const char c : s) {
    v = v * 10 + (c - '0');
  }
  return v;
}

// What the fuzzer chooses for one header: absent, its own bytes, or a well-formed value.
std::optional<std::string> header(FuzzedDataProvider& fdp, std::string_view good) {
  switch (fdp.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      return std::nullopt;
    case 1:
      return fdp.ConsumeRandomLengthString(80);
    default:
      return std::string(good);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  const auto now_s = fdp.ConsumeIntegralInRange<std::int64_t>(0, 4'000'000'000);

  std::vector<auth::SigningKey> candidates;
  const auto n_keys = fdp.ConsumeIntegralInRange<std::size_t>(0, kSecrets.size());
  for (std::size_t i = 0; i < n_keys; ++i) {
    candidates.push_back({kSecrets[i], fdp.ConsumeBool()});
  }

  const std::string good_exp = std::to_string(fdp.ConsumeIntegralInRange<std::int64_t>(0, 5'000'000'000));
  const bool upper_video = fdp.ConsumeBool();
  std::string good_video(kVideo);
  if (upper_video) {
    for (auto& c : good_video) {
      c = static_cast<char>(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c);
    }
  }
  const auto expiration = header(fdp, good_exp);
  const auto video_id = header(fdp, good_video);
  // The signature: the fuzzer's bytes, or the harness signs (maybe wrongly) with one of the keys.
  std::optional<std::string> signature;
  const int sig_mode = fdp.ConsumeIntegralInRange<int>(0, 3);
  if (sig_mode == 1) {
    signature = fdp.ConsumeRandomLengthString(80);
  } else if (sig_mode >= 2 && expiration && video_id) {
    const auto key = kSecrets[fdp.ConsumeIntegralInRange<std::size_t>(0, kSecrets.size() - 1)];
    std::string exp_text = *expiration;
    if (all_of(exp_text, is_digit) && !exp_text.empty() && exp_text.size() <= 18) {
      exp_text = std::to_string(decimal(exp_text));  // the canonical decimal, as a client would write it
    }
    signature = sha256_hex(std::string(key) + exp_text + lower(*video_id));
    if (sig_mode == 3) {
      signature = lower(*signature);
      (*signature)[fdp.ConsumeIntegralInRange<std::size_t>(0, 63)] ^= fdp.ConsumeIntegralInRange<char>(0, 15);
    }
  }

  const auto parsed = auth::parse_presign(signature, expiration, video_id);
  const bool well_formed = signature && expiration && video_id && signature->size() == 64 &&
                           all_of(*signature, is_hex) && !expiration->empty() && expiration->size() <= 18 &&
                           all_of(*expiration, is_digit) && uuid_any_case(*video_id);
  FUZZ_CHECK(parsed.has_value() == well_formed, "parse_presign accepts exactly the well-formed headers");
  if (!parsed) {
    FUZZ_CHECK(parsed.error() == vidup::core::make_error_code(Errc::signature_malformed), "malformed");
    return 0;
  }
  FUZZ_CHECK(parsed->signature == lower(*signature), "signature kept lower-cased");
  FUZZ_CHECK(parsed->video_id == lower(*video_id), "video id kept lower-cased");
  FUZZ_CHECK(parsed->expiration == decimal(*expiration), "expiration is the decimal value");

  bool active_match = false;
  bool revoked_match = false;
  for (const auto& k : candidates) {
    const bool match =
        sha256_hex(std::string(k.secret) + std::to_string(parsed->expiration) + parsed->video_id) == parsed->signature;
    FUZZ_CHECK(match == (auth::presign_signature(k.secret, parsed->expiration, parsed->video_id) == parsed->signature),
               "presign_signature is hex(sha256(key + expiration + video id))");
    active_match = active_match || (match && !k.revoked);
    revoked_match = revoked_match || (match && k.revoked);
  }

  const auto verified = auth::verify_presign(*parsed, now_s, candidates);
  if (verified) {
    FUZZ_CHECK(active_match, "accepted only with an active key's hex(sha256(key + exp + id))");
    FUZZ_CHECK(parsed->expiration >= now_s, "accepted only before Expiration");
    return 0;
  }
  const auto is = [&](Errc e) { return verified.error() == vidup::core::make_error_code(e); };
  if (active_match) {
    FUZZ_CHECK(parsed->expiration < now_s && is(Errc::signature_expired), "a valid active signature fails only by expiry");
  } else if (revoked_match) {
    FUZZ_CHECK(is(Errc::signature_key_revoked), "a revoked key's signature is signature_key_revoked");
  } else {
    FUZZ_CHECK(is(Errc::signature_mismatch), "no key signs these values: signature_mismatch");
  }
  return 0;
}
