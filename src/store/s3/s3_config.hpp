#pragma once
// Where the S3 DataStore keeps bytes: endpoint, bucket, key prefix, credentials, part size.

#include "core/errc.hpp"

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace vidup::store {

struct S3Config {
  std::string endpoint;            // "http://127.0.0.1:7480" or "https://s3.eu-west-1.amazonaws.com"
  std::string region = "us-east-1";
  std::string bucket;
  std::string prefix;              // key prefix, "" or ending without '/': keys are prefix + "/" + ...
  std::string access_key, secret_key, session_token;
  bool path_style = true;          // false: virtual-hosted (bucket.host)
  std::size_t part_size = 8 << 20; // >= 5 MiB
  // Full parts a writer uploads in the background (on the blocking pool) while it receives the
  // next one; write() waits only when this many are still in flight. Memory per active writer
  // is about (parts_in_flight + 1) parts. 0: each part uploads inside write(), nothing overlaps.
  std::size_t parts_in_flight = 2;
};

inline constexpr std::size_t kS3MaxPartsInFlight = 64;

// S3's limits on multipart uploads.
inline constexpr std::size_t kS3MinPartSize = 5 << 20;
inline constexpr std::uint64_t kS3MaxPartSize = 5ULL << 30;
inline constexpr std::uint64_t kS3MaxParts = 10000;

// Why an S3 store URL or its environment was refused; message() says what to fix.
enum class S3ConfigError {
  not_s3_url = 1,       // does not start with s3://
  invalid_bucket,       // empty, or not a bucket name
  invalid_prefix,       // control characters, or an empty path segment
  invalid_option,       // an unknown or malformed ?option
  invalid_part_size,    // outside [5 MiB, 5 GiB]
  missing_credentials,  // AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY unset
  invalid_endpoint,     // not http:// or https://, or with a path
  invalid_parts_in_flight,  // not a number in [0, 64]
};
const boost::system::error_category& s3_config_category() noexcept;
boost::system::error_code make_error_code(S3ConfigError e) noexcept;

// "s3://bucket/some/prefix[?part_size=BYTES&parts_in_flight=N&path_style=true|false]" plus AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION / AWS_DEFAULT_REGION (default us-east-1),
// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (default https://s3.REGION.amazonaws.com) from `getenv`.
// Path-style addressing unless the endpoint is AWS's default one (virtual-hosted there, except
// for bucket names with dots, which TLS wildcard certificates do not cover).
core::Result<S3Config> s3_config_from(std::string_view url,
                                      const std::function<std::optional<std::string>(const char*)>& getenv);

}  // namespace vidup::store

template <>
struct boost::system::is_error_code_enum<vidup::store::S3ConfigError> : std::true_type {};
