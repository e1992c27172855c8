#pragma once
// vidup::core — protocol rules of tus 1.0.0: header codecs, Upload-Metadata, Upload-Concat,
// checksums, upload state, and the error enum with the ONE table that maps an error to its
// HTTP status, tus error code and message. std + Boost.System (+ OpenSSL for digests) only.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string_view>
#include <type_traits>

namespace vidup::core {

// Protocol and domain failures. They are values, never exceptions.
enum class Errc {
  ok = 0,
  // 400
  bad_request,
  invalid_offset,
  invalid_length,
  invalid_defer_length,
  ambiguous_length,
  missing_length,
  length_already_set,
  length_below_offset,
  invalid_metadata,
  invalid_concat,
  concat_with_length,
  concat_unfinished,
  partial_not_found,
  not_a_partial,
  foreign_partial,
  invalid_checksum,
  unsupported_checksum_algorithm,
  ambiguous_checksum,
  missing_trailer,
  duplicate_header,
  invalid_upload_id,
  interrupted,
  // 401 / 403
  unauthorized,
  forbidden,
  modify_final,
  // 404 / 405 / 409 / 410
  not_found,
  method_not_allowed,
  offset_mismatch,
  upload_incomplete,
  gone,
  // 412 / 413 / 415 / 416
  unsupported_version,
  max_size_exceeded,
  size_exceeded,
  body_too_large,
  invalid_content_type,
  range_not_satisfiable,
  // 423 / 431 / 460
  locked,
  header_too_large,
  checksum_mismatch,
  // 5xx and transport outcomes
  read_timeout,
  connection_reset,
  storage_full,
  storage_error,
  internal,
  shutting_down,
  too_many_connections,
  // Platform: credentials, presigned signatures, the REST API (appended: values are stable)
  missing_credentials,    // 401 no Signature headers, no Bearer key
  invalid_api_key,        // 401 unknown or revoked Bearer key
  signature_malformed,    // 400 Signature/Expiration/Video-Id missing or not well-formed
  signature_expired,      // 403 Expiration is in the past
  signature_mismatch,     // 403 no active key on the video's project signs these values
  signature_key_revoked,  // 403 the signing key was revoked
  video_not_found,        // 404
  video_has_upload,       // 409 the video already has an upload
  project_not_found,      // 404 parent_id names no project or folder
  invalid_json,           // 400 body is not the JSON object the call expects
  invalid_field,          // 400 a field is missing or has the wrong type/value
};

// The single place where an error becomes a response.
struct ErrorDescription {
  unsigned status;
  std::string_view code;     // tus-style code, e.g. "ERR_MISMATCHED_OFFSET"
  std::string_view message;  // one line a person can act on
};
[[nodiscard]] ErrorDescription describe(Errc e) noexcept;

const boost::system::error_category& tus_category() noexcept;
boost::system::error_code make_error_code(Errc e) noexcept;

// Maps any error_code to an Errc: ours pass through, others become storage/internal errors.
[[nodiscard]] Errc to_errc(const boost::system::error_code& ec) noexcept;

template <class T>
using Result = boost::system::result<T>;

}  // namespace vidup::core

template <>
struct boost::system::is_error_code_enum<vidup::core::Errc> : std::true_type {};
