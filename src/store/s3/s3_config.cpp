#include "store/s3/s3_config.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace vidup::store {

namespace {

constexpr unsigned long long kS3ConfigCategoryId = 0x7669647570733363ULL;  // "vidups3c"

class S3ConfigCategory final : public boost::system::error_category {
 public:
  constexpr S3ConfigCategory() noexcept : boost::system::error_category(kS3ConfigCategoryId) {}
  const char* name() const noexcept override { return "vidup.s3config"; }
  std::string message(int ev) const override {
    switch (static_cast<S3ConfigError>(ev)) {
      case S3ConfigError::not_s3_url:
        return "the S3 store must be given as s3://BUCKET[/PREFIX]";
      case S3ConfigError::invalid_bucket:
        return "the S3 bucket name must be 3 to 63 characters of a-z, 0-9, '.', '-'";
      case S3ConfigError::invalid_prefix:
        return "the S3 key prefix must not contain control characters, spaces or empty segments";
      case S3ConfigError::invalid_option:
        return "the S3 store URL accepts only ?part_size=BYTES, parts_in_flight=N and path_style=true|false";
      case S3ConfigError::invalid_part_size:
        return "the S3 part size must be between 5 MiB (5242880) and 5 GiB";
      case S3ConfigError::missing_credentials:
        return "S3 credentials missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
      case S3ConfigError::invalid_endpoint:
        return "AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL must be http://HOST[:PORT] or https://HOST[:PORT]";
      case S3ConfigError::invalid_parts_in_flight:
        return "the S3 parts_in_flight must be a number from 0 to 64";
    }
    return "invalid S3 configuration";
  }
};

constexpr S3ConfigCategory kS3ConfigCategory;

using Getenv = std::function<std::optional<std::string>(const char*)>;

std::optional<std::string> first_set(const Getenv& getenv, const char* a, const char* b) {
  for (const char* name : {a, b}) {
    if (name == nullptr) {
      continue;
    }
    if (auto v = getenv(name); v && !v->empty()) {
      return v;
    }
  }
  return std::nullopt;
}

bool valid_bucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) {
    return false;
  }
  return std::all_of(b.begin(), b.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'; });
}

bool valid_prefix(std::string_view p) {
  if (p.find("//") != std::string_view::npos) {
    return false;
  }
  return std::all_of(p.begin(), p.end(), [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; });
}

// http(s)://host[:port], without a path; a trailing '/' is dropped.
std::optional<std::string> normalize_endpoint(std::string e) {
  while (!e.empty() && e.back() == '/') {
    e.pop_back();
  }
  const auto scheme_end = e.find("://");
  if (scheme_end == std::string::npos) {
    return std::nullopt;
  }
  const std::string_view scheme(e.data(), scheme_end);
  const std::string_view host = std::string_view(e).substr(scheme_end + 3);
  if ((scheme != "http" && scheme != "https") || host.empty() || host.find_first_of("/?#@ ") != std::string_view::npos) {
    return std::nullopt;
  }
  return e;
}

std::optional<std::uint64_t> whole_number(std::string_view value) {
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc{} || ptr != value.data() + value.size() || value.empty()) {
    return std::nullopt;
  }
  return v;
}

core::Result<void> apply_option(S3Config& c, std::string_view name, std::string_view value) {
  if (name == "part_size") {
    const auto v = whole_number(value);
    if (!v || *v < kS3MinPartSize || *v > kS3MaxPartSize) {
      return make_error_code(S3ConfigError::invalid_part_size);
    }
    c.part_size = static_cast<std::size_t>(*v);
    return {};
  }
  if (name == "parts_in_flight") {
    const auto v = whole_number(value);
    if (!v || *v > kS3MaxPartsInFlight) {
      return make_error_code(S3ConfigError::invalid_parts_in_flight);
    }
    c.parts_in_flight = static_cast<std::size_t>(*v);
    return {};
  }
  if (name == "path_style") {
    if (value != "true" && value != "false") {
      return make_error_code(S3ConfigError::invalid_option);
    }
    c.path_style = value == "true";
    return {};
  }
  return make_error_code(S3ConfigError::invalid_option);
}

}  // namespace

const boost::system::error_category& s3_config_category() noexcept { return kS3ConfigCategory; }

boost::system::error_code make_error_code(S3ConfigError e) noexcept {
  return boost::system::error_code(static_cast<int>(e), kS3ConfigCategory);
}

core::Result<S3Config> s3_config_from(std::string_view url, const Getenv& getenv) {
  constexpr std::string_view kScheme = "s3://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return make_error_code(S3ConfigError::not_s3_url);
  }
  std::string_view rest = url.substr(kScheme.size());
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  S3Config c;
  const auto slash = rest.find('/');
  c.bucket = std::string(rest.substr(0, slash));
  if (!valid_bucket(c.bucket)) {
    return make_error_code(S3ConfigError::invalid_bucket);
  }
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash + 1);
    while (!prefix.empty() && prefix.back() == '/') {
      prefix.remove_suffix(1);
    }
    if (!valid_prefix(prefix)) {
      return make_error_code(S3ConfigError::invalid_prefix);
    }
    c.prefix = std::string(prefix);
  }

  auto region = first_set(getenv, "AWS_REGION", "AWS_DEFAULT_REGION");
  if (region) {
    c.region = *region;
  }
  auto endpoint = first_set(getenv, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
  if (endpoint) {
    auto normalized = normalize_endpoint(*endpoint);
    if (!normalized) {
      return make_error_code(S3ConfigError::invalid_endpoint);
    }
    c.endpoint = *normalized;
    c.path_style = true;
  } else {
    c.endpoint = "https://s3." + c.region + ".amazonaws.com";
    c.path_style = c.bucket.find('.') != std::string::npos;
  }

  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) {
      return make_error_code(S3ConfigError::invalid_option);
    }
    if (auto r = apply_option(c, pair.substr(0, eq), pair.substr(eq + 1)); !r) {
      return r.error();
    }
  }

  auto key = first_set(getenv, "AWS_ACCESS_KEY_ID", nullptr);
  auto secret = first_set(getenv, "AWS_SECRET_ACCESS_KEY", nullptr);
  if (!key || !secret) {
    return make_error_code(S3ConfigError::missing_credentials);
  }
  c.access_key = *key;
  c.secret_key = *secret;
  c.session_token = first_set(getenv, "AWS_SESSION_TOKEN", nullptr).value_or("");
  return c;
}

}  // namespace vidup::store
