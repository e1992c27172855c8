#include "server/backends.hpp"

#include "store/file/file_data_store.hpp"
#include "store/memory/local_locker.hpp"
#include "store/postgres/pg_catalog.hpp"
#include "store/postgres/pg_info_store.hpp"
#include "store/postgres/pg_locker.hpp"
#include "store/postgres/pg_pool.hpp"
#include "store/s3/s3_data_store.hpp"
#include "store/sqlite/sqlite_catalog.hpp"
#include "store/sqlite/sqlite_info_store.hpp"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>

namespace vidup::server {

namespace {

std::unique_ptr<store::PgPool> open_postgres(const BackendConfig& config) {
  auto pool = std::make_unique<store::PgPool>(config.db, config.db_pool);
  store::pg_migrate(*pool);
  return pool;
}

std::unique_ptr<store::Catalog> open_catalog(const BackendConfig& config, store::PgPool* pg,
                                             net::thread_pool& blocking) {
  if (pg != nullptr) {
    return std::make_unique<store::PgCatalog>(*pg, blocking);
  }
  std::filesystem::create_directories(config.data_dir);
  return std::make_unique<store::SqliteCatalog>(config.data_dir / "vidup.db", blocking);
}

// The first line of --s3-secret-access-key-file, without surrounding blanks. Throws with the
// path and the reason, never the content.
std::string read_secret_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::invalid_argument("--s3-secret-access-key-file " + path.string() + ": cannot be read (" +
                                std::error_code(errno, std::generic_category()).message() + ")");
  }
  std::string line;
  std::getline(in, line);
  const auto first = line.find_first_not_of(" \t\r");
  const auto last = line.find_last_not_of(" \t\r");
  if (first == std::string::npos) {
    throw std::invalid_argument("--s3-secret-access-key-file " + path.string() + ": its first line is empty");
  }
  return line.substr(first, last - first + 1);
}

store::S3Config s3_config(const BackendConfig& config) {
  // --s3-endpoint, --s3-region and the credential flags win over the AWS_* variables, each on
  // its own; s3_config_from derives the rest (addressing style) from whichever it gets.
  std::optional<std::string> secret;
  if (!config.s3_secret_access_key_file.empty()) {
    secret = read_secret_file(config.s3_secret_access_key_file);
  }
  auto parsed = store::s3_config_from(config.store, [&config, &secret](const char* name) -> std::optional<std::string> {
    const std::string_view n(name);
    if (n == "AWS_ACCESS_KEY_ID" && !config.s3_access_key_id.empty()) {
      return config.s3_access_key_id;
    }
    if (n == "AWS_SECRET_ACCESS_KEY" && secret) {
      return secret;
    }
    if ((n == "AWS_ENDPOINT_URL_S3" || n == "AWS_ENDPOINT_URL") && !config.s3_endpoint.empty()) {
      return config.s3_endpoint;
    }
    if ((n == "AWS_REGION" || n == "AWS_DEFAULT_REGION") && !config.s3_region.empty()) {
      return config.s3_region;
    }
    const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read once at start-up
    return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
  });
  if (!parsed) {
    throw std::invalid_argument("--store " + redact_url(config.store) + ": " + parsed.error().message());
  }
  store::S3Config s3 = *parsed;
  if (config.s3_part_size != 0) {
    s3.part_size = config.s3_part_size;
  }
  if (config.s3_virtual_hosted) {
    s3.path_style = false;
  }
  return s3;
}

}  // namespace

void validate(const BackendConfig& config) {
  if (config.store != "file" && !(config.uses_s3() && config.store.size() > 5)) {
    throw std::invalid_argument("--store must be 'file' or s3://BUCKET[/PREFIX], not '" + redact_url(config.store) + "'");
  }
  if (config.db != "sqlite" && !config.uses_postgres()) {
    throw std::invalid_argument("--db must be 'sqlite' or a postgres:// URL, not '" + redact_url(config.db) + "'");
  }
  if (config.s3_part_size != 0 && config.s3_part_size < (5U << 20)) {
    throw std::invalid_argument("--s3-part-size must be at least 5 MiB (5242880): S3's smallest part");
  }
  if (config.db_pool == 0 || config.db_pool > 1000) {
    throw std::invalid_argument("--db-pool must be between 1 and 1000");
  }
  if (config.lock_lease < std::chrono::seconds(1)) {
    throw std::invalid_argument("--lock-lease must be at least 1 second");
  }
}

std::string redact_url(const std::string& url) {
  std::string out = url.substr(0, url.find('?'));
  const auto scheme = out.find("://");
  if (scheme == std::string::npos) {
    return out;
  }
  const auto authority = scheme + 3;
  const auto path = out.find('/', authority);
  const auto at = out.rfind('@', path == std::string::npos ? std::string::npos : path);
  if (at == std::string::npos || at < authority) {
    return out;
  }
  const auto colon = out.find(':', authority);
  if (colon != std::string::npos && colon < at) {
    out.replace(colon, at - colon, ":***");
  }
  return out;
}

Backends::Backends(const BackendConfig& config, net::thread_pool& blocking) {
  validate(config);
  std::unique_ptr<store::DataStore> data;
  store::Concater* concater = nullptr;
  store::ContentServer* content = nullptr;
  std::string bytes;
  if (config.uses_s3()) {
    auto s3 = s3_config(config);
    bytes = "s3 " + redact_url(s3.endpoint) + " bucket " + s3.bucket + (s3.prefix.empty() ? "" : " prefix " + s3.prefix);
    auto store = std::make_unique<store::S3DataStore>(std::move(s3), blocking);
    max_upload_size_ = store->max_upload_size();
    s3_ = store.get();
    concater = store.get();
    content = store.get();
    data = std::move(store);
  } else {
    std::filesystem::create_directories(config.data_dir);
    bytes = "file " + (config.data_dir / "uploads").string();
    auto store = std::make_unique<store::FileDataStore>(config.data_dir, blocking);
    concater = store.get();
    content = store.get();
    data = std::move(store);
  }

  std::unique_ptr<store::InfoStore> info;
  std::unique_ptr<store::Locker> locker;
  std::string records;
  if (config.uses_postgres()) {
    pg_ = open_postgres(config);
    info = std::make_unique<store::PgInfoStore>(*pg_, blocking);
    store::PgLockerOptions options;
    options.lease = config.lock_lease;
    locker = std::make_unique<store::PgLocker>(config.db, *pg_, blocking, options);
    records = "postgres " + redact_url(config.db);
  } else {
    std::filesystem::create_directories(config.data_dir);
    // The file store restores offsets from the bytes after a crash (docs/decisions/0001), so
    // progress updates need not wait for the disk; with S3 the record is the offset's truth.
    info = std::make_unique<store::SqliteInfoStore>(config.data_dir / "vidup.db", blocking, !config.uses_s3());
    locker = std::make_unique<store::LocalLocker>();
    records = "sqlite " + (config.data_dir / "vidup.db").string();
  }
  catalog_ = open_catalog(config, pg_.get(), blocking);

  stores_ = std::make_unique<store::Composer>(std::move(data), std::move(info), std::move(locker));
  stores_->use_concater(concater);
  stores_->use_content_server(content);
  stores_->use_length_deferrer(true);
  stores_->use_terminater(true);
  description_ = "bytes: " + bytes + "; records: " + records;
}

void Backends::cancel_outbound() {
  if (s3_ != nullptr) {
    s3_->cancel_requests();
  }
}

Backends::~Backends() {
  // The stores use the pool's connections: they go first.
  catalog_.reset();
  stores_.reset();
  pg_.reset();
}

CatalogOnly::CatalogOnly(const BackendConfig& config, net::thread_pool& blocking) {
  validate(config);
  if (config.uses_postgres()) {
    pg_ = open_postgres(config);
  }
  catalog_ = open_catalog(config, pg_.get(), blocking);
}

CatalogOnly::~CatalogOnly() {
  catalog_.reset();
  pg_.reset();
}

}  // namespace vidup::server
