#include "core/errc.hpp"

#include <cerrno>
#include <string>
#include <system_error>

namespace vidup::core {
namespace {

// Arbitrary but fixed, so that two copies of the category (e.g. across shared objects) compare equal.
constexpr unsigned long long kTusCategoryId = 0x7669647570747573ULL;  // "viduptus"

class TusCategory final : public boost::system::error_category {
 public:
  constexpr TusCategory() noexcept : boost::system::error_category(kTusCategoryId) {}

  const char* name() const noexcept override { return "vidup.tus"; }

  std::string message(int ev) const override { return std::string(describe(static_cast<Errc>(ev)).message); }
};

constexpr TusCategory kTusCategory;

bool is_out_of_space_errno(int value) noexcept { return value == ENOSPC || value == EDQUOT; }

// ENOSPC / EDQUOT, whatever category carried them: Boost's system or generic category, or a
// std::error_code wrapped in a Boost one (its condition is only visible through std).
bool is_out_of_space(const boost::system::error_code& ec) noexcept {
  const boost::system::error_condition cond = ec.default_error_condition();
  if (cond.category() == boost::system::generic_category()) {
    return is_out_of_space_errno(cond.value());
  }
  const std::error_condition std_cond = static_cast<std::error_code>(ec).default_error_condition();
  return std_cond.category() == std::generic_category() && is_out_of_space_errno(std_cond.value());
}

}  // namespace

// The ONE table. Every enumerator is listed and there is no default, so -Wswitch flags a new
// Errc that has no row yet. Codes follow tusd's ERR_* names where tusd has one.
ErrorDescription describe(Errc e) noexcept {
  switch (e) {
    case Errc::ok:
      return {200, "", "OK"};
    case Errc::bad_request:
      return {400, "ERR_BAD_REQUEST", "The request is malformed"};
    case Errc::invalid_offset:
      return {400, "ERR_INVALID_OFFSET", "Upload-Offset is missing or is not a non-negative decimal integer"};
    case Errc::invalid_length:
      return {400, "ERR_INVALID_UPLOAD_LENGTH", "Upload-Length is not a non-negative decimal integer"};
    case Errc::invalid_defer_length:
      return {400, "ERR_INVALID_UPLOAD_LENGTH_DEFER", "Upload-Defer-Length must be 1"};
    case Errc::ambiguous_length:
      return {400, "ERR_AMBIGUOUS_UPLOAD_LENGTH", "Send either Upload-Length or Upload-Defer-Length, not both"};
    case Errc::missing_length:
      return {400, "ERR_INVALID_UPLOAD_LENGTH", "Upload-Length or Upload-Defer-Length: 1 is required"};
    case Errc::length_already_set:
      return {400, "ERR_UPLOAD_LENGTH_ALREADY_SET", "The upload's length is already set and cannot be changed"};
    case Errc::length_below_offset:
      return {400, "ERR_UPLOAD_LENGTH_BELOW_OFFSET", "Upload-Length is smaller than the bytes already uploaded"};
    case Errc::invalid_metadata:
      return {400, "ERR_INVALID_METADATA",
              "Upload-Metadata must be comma-separated 'key base64value' pairs with unique, non-empty keys"};
    case Errc::invalid_concat:
      return {400, "ERR_INVALID_CONCAT", "Upload-Concat must be 'partial' or 'final;' followed by partial upload URLs"};
    case Errc::concat_with_length:
      return {400, "ERR_CONCAT_WITH_LENGTH",
              "A final upload's length comes from its partial uploads; do not send Upload-Length"};
    case Errc::concat_unfinished:
      return {400, "ERR_UPLOAD_NOT_FINISHED", "One of the partial uploads is not finished"};
    case Errc::partial_not_found:
      return {400, "ERR_PARTIAL_NOT_FOUND", "One of the partial uploads in Upload-Concat does not exist"};
    case Errc::not_a_partial:
      return {400, "ERR_NOT_A_PARTIAL_UPLOAD", "One of the uploads in Upload-Concat was not created as partial"};
    case Errc::foreign_partial:
      return {400, "ERR_FOREIGN_PARTIAL_UPLOAD", "One of the partial uploads in Upload-Concat belongs to someone else"};
    case Errc::invalid_checksum:
      return {400, "ERR_INVALID_CHECKSUM",
              "Upload-Checksum must be '<algorithm> <base64 digest>' with a digest of the algorithm's length"};
    case Errc::unsupported_checksum_algorithm:
      return {400, "ERR_UNSUPPORTED_CHECKSUM_ALGORITHM",
              "The checksum algorithm is not supported; see Tus-Checksum-Algorithm"};
    case Errc::ambiguous_checksum:
      return {400, "ERR_AMBIGUOUS_CHECKSUM", "Send Upload-Checksum either as a header or as a trailer, not both"};
    case Errc::missing_trailer:
      return {400, "ERR_MISSING_CHECKSUM_TRAILER", "The announced Upload-Checksum trailer was not received"};
    case Errc::duplicate_header:
      return {400, "ERR_DUPLICATE_HEADER", "A tus header appears more than once"};
    case Errc::invalid_upload_id:
      return {404, "ERR_INVALID_UPLOAD_ID", "The upload URL does not name a valid upload"};
    case Errc::interrupted:
      return {400, "ERR_UPLOAD_INTERRUPTED",
              "The upload request was interrupted; check Upload-Offset with HEAD and resume"};
    case Errc::unauthorized:
      return {401, "ERR_UNAUTHORIZED", "Authentication is required"};
    case Errc::forbidden:
      return {403, "ERR_FORBIDDEN", "The credentials do not allow this operation"};
    case Errc::modify_final:
      return {403, "ERR_MODIFY_FINAL", "A final upload cannot be modified"};
    case Errc::not_found:
      return {404, "ERR_UPLOAD_NOT_FOUND", "The upload does not exist"};
    case Errc::method_not_allowed:
      return {405, "ERR_METHOD_NOT_ALLOWED", "The method is not allowed on this URL; see Allow"};
    case Errc::offset_mismatch:
      return {409, "ERR_MISMATCHED_OFFSET", "Upload-Offset does not match the upload's current offset"};
    case Errc::upload_incomplete:
      return {409, "ERR_UPLOAD_INCOMPLETE", "The upload is not finished yet"};
    case Errc::gone:
      return {410, "ERR_UPLOAD_GONE", "The upload was terminated or has expired"};
    case Errc::unsupported_version:
      return {412, "ERR_UNSUPPORTED_VERSION", "Tus-Resumable is missing or names an unsupported version; see Tus-Version"};
    case Errc::max_size_exceeded:
      return {413, "ERR_MAX_SIZE_EXCEEDED", "The upload is larger than Tus-Max-Size"};
    case Errc::size_exceeded:
      return {413, "ERR_UPLOAD_SIZE_EXCEEDED", "The request body goes past the upload's length"};
    case Errc::body_too_large:
      return {413, "ERR_BODY_TOO_LARGE", "The request body is too large"};
    case Errc::invalid_content_type:
      return {415, "ERR_INVALID_CONTENT_TYPE", "Content-Type must be application/offset+octet-stream"};
    case Errc::range_not_satisfiable:
      return {416, "ERR_RANGE_NOT_SATISFIABLE", "The requested range is outside the upload"};
    case Errc::locked:
      return {423, "ERR_UPLOAD_LOCKED", "Another request is writing to this upload; retry later"};
    case Errc::header_too_large:
      return {431, "ERR_HEADER_TOO_LARGE", "The request headers are too large"};
    case Errc::checksum_mismatch:
      return {460, "ERR_CHECKSUM_MISMATCH", "The body does not match Upload-Checksum; the chunk was discarded"};
    case Errc::read_timeout:
      return {500, "ERR_READ_TIMEOUT", "Timed out reading the request body"};
    case Errc::connection_reset:
      return {500, "ERR_CONNECTION_RESET", "The connection was reset while reading the request body"};
    case Errc::storage_full:
      return {507, "ERR_STORAGE_FULL", "The server has no storage space left"};
    case Errc::storage_error:
      return {500, "ERR_STORAGE", "The storage backend failed"};
    case Errc::internal:
      return {500, "ERR_INTERNAL", "Internal server error"};
    case Errc::shutting_down:
      return {503, "ERR_SHUTTING_DOWN", "The server is shutting down; retry later"};
    case Errc::too_many_connections:
      return {503, "ERR_TOO_MANY_CONNECTIONS", "The server has too many connections; retry later"};
    case Errc::missing_credentials:
      return {401, "ERR_MISSING_CREDENTIALS",
              "Send the Signature, Expiration and Video-Id headers, or Authorization: Bearer <api key>"};
    case Errc::invalid_api_key:
      return {401, "ERR_INVALID_API_KEY", "The API key is unknown or has been revoked"};
    case Errc::signature_malformed:
      return {400, "ERR_SIGNATURE_MALFORMED",
              "Signature must be 64 hex digits, Expiration unix seconds and Video-Id a video id"};
    case Errc::signature_expired:
      return {403, "ERR_SIGNATURE_EXPIRED", "The signature's Expiration is in the past; ask for a new one"};
    case Errc::signature_mismatch:
      return {403, "ERR_SIGNATURE_MISMATCH", "No active API key of the video's project produces this signature"};
    case Errc::signature_key_revoked:
      return {403, "ERR_SIGNATURE_KEY_REVOKED", "The API key that signed this upload has been revoked"};
    case Errc::video_not_found:
      return {404, "ERR_VIDEO_NOT_FOUND", "No video has this id"};
    case Errc::video_has_upload:
      return {409, "ERR_VIDEO_HAS_UPLOAD", "This video already has an upload; resume it or create a new video"};
    case Errc::project_not_found:
      return {404, "ERR_PARENT_NOT_FOUND", "parent_id names no project or folder this key may use"};
    case Errc::invalid_json:
      return {400, "ERR_INVALID_JSON", "The request body must be a JSON object"};
    case Errc::invalid_field:
      return {400, "ERR_INVALID_FIELD", "A field is missing or has a wrong type or value"};
  }
  // Only reachable with a value outside the enum (e.g. a foreign int cast to Errc).
  return {500, "ERR_INTERNAL", "Internal server error"};
}

const boost::system::error_category& tus_category() noexcept { return kTusCategory; }

boost::system::error_code make_error_code(Errc e) noexcept {
  return boost::system::error_code(static_cast<int>(e), tus_category());
}

Errc to_errc(const boost::system::error_code& ec) noexcept {
  if (!ec) {
    return Errc::ok;
  }
  if (ec.category() == tus_category()) {
    return static_cast<Errc>(ec.value());
  }
  if (is_out_of_space(ec)) {
    return Errc::storage_full;
  }
  return Errc::storage_error;
}

}  // namespace vidup::core
