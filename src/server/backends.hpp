#pragma once
// vidup::server — which backends hold the bytes and the records, chosen by --store and --db.
// The only place (with app.cpp) that names concrete stores.
//
//   --store file               bytes under <data>/uploads (default; one node)
//   --store s3://bucket/prefix bytes in S3-compatible object storage (many nodes)
//   --db sqlite                records in <data>/vidup.db (default; one node)
//   --db postgres://...        records and cross-node locks in PostgreSQL (many nodes)

#include "store/catalog.hpp"
#include "store/composer.hpp"

#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace vidup::store {
class PgPool;
class S3DataStore;
}  // namespace vidup::store

namespace vidup::server {

namespace net = boost::asio;

struct BackendConfig {
  std::filesystem::path data_dir = "./data";
  std::string store = "file";  // "file" or "s3://bucket[/prefix]"
  std::string db = "sqlite";   // "sqlite" or "postgres://..." / "postgresql://..."
  // S3 settings beyond the URL; empty or zero: from AWS_* variables, else the defaults.
  std::string s3_endpoint;
  std::string s3_region;
  std::string s3_access_key_id;                     // wins over AWS_ACCESS_KEY_ID
  std::filesystem::path s3_secret_access_key_file;  // its first line wins over AWS_SECRET_ACCESS_KEY
  std::uint64_t s3_part_size = 0;
  bool s3_virtual_hosted = false;
  std::size_t db_pool = 8;                       // PostgreSQL connections per node
  std::chrono::milliseconds lock_lease{15'000};  // how long a dead node's locks outlive it

  [[nodiscard]] bool uses_s3() const { return store.starts_with("s3://"); }
  [[nodiscard]] bool uses_postgres() const { return db.starts_with("postgres://") || db.starts_with("postgresql://"); }
};

// Throws std::invalid_argument with a one-line reason for an unknown --store or --db.
void validate(const BackendConfig& config);

// A connection URL with its password and query string removed, fit for a log line.
[[nodiscard]] std::string redact_url(const std::string& url);

// The stores a server runs on. Constructing connects (PostgreSQL, S3) and migrates schemas;
// throws std::runtime_error with a one-line reason (never a secret) when it cannot.
class Backends {
 public:
  Backends(const BackendConfig& config, net::thread_pool& blocking);
  Backends(const Backends&) = delete;
  Backends& operator=(const Backends&) = delete;
  ~Backends();

  [[nodiscard]] store::Composer& stores() { return *stores_; }
  [[nodiscard]] store::Catalog& catalog() { return *catalog_; }
  // The largest upload the byte store can hold (S3: 10,000 parts), 0 = no limit of its own.
  [[nodiscard]] std::uint64_t max_upload_size() const { return max_upload_size_; }
  // The server is stopping and its requests are done: outbound calls still running (S3) give up
  // within about a second, so the blocking pool can be joined even when S3 hangs.
  void cancel_outbound();
  // "bytes: file ./data/uploads; records: sqlite ./data/vidup.db", secrets removed.
  [[nodiscard]] const std::string& describe() const { return description_; }

 private:
  std::unique_ptr<store::PgPool> pg_;
  store::S3DataStore* s3_ = nullptr;  // owned by stores_, when the bytes are in S3
  std::unique_ptr<store::Composer> stores_;
  std::unique_ptr<store::Catalog> catalog_;
  std::string description_;
  std::uint64_t max_upload_size_ = 0;
};

// Only the catalog (for `vidup keys` and `vidup projects`), on the same --db and --data.
class CatalogOnly {
 public:
  CatalogOnly(const BackendConfig& config, net::thread_pool& blocking);
  CatalogOnly(const CatalogOnly&) = delete;
  CatalogOnly& operator=(const CatalogOnly&) = delete;
  ~CatalogOnly();
  [[nodiscard]] store::Catalog& catalog() { return *catalog_; }

 private:
  std::unique_ptr<store::PgPool> pg_;
  std::unique_ptr<store::Catalog> catalog_;
};

}  // namespace vidup::server
