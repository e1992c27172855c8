// The Catalog port on SQLite: the shared conformance suite (catalog_conformance.hpp) and what is
// SQLite's own (the database is a file).

#include "store/catalog.hpp"
#include "catalog_conformance.hpp"
#include "store/sqlite/sqlite_catalog.hpp"
#include "store/sqlite/sqlite_info_store.hpp"
#include "store_test_support.hpp"

#include <gtest/gtest.h>
#include <boost/asio/thread_pool.hpp>

#include <memory>

namespace vidup::store {
namespace {

using namespace catalog_conformance;  // NOLINT(google-build-using-namespace): the suite and its helpers

TEST(VideoStatusNames, RoundTripAndRejectUnknownNames) {
  for (auto s : {VideoStatus::created, VideoStatus::uploading, VideoStatus::uploaded, VideoStatus::aborted,
                 VideoStatus::expired}) {
    EXPECT_EQ(video_status_from(to_string(s)), s) << to_string(s);
  }
  EXPECT_EQ(to_string(VideoStatus::uploaded), "uploaded");
  EXPECT_EQ(video_status_from("Uploaded"), std::nullopt);
  EXPECT_EQ(video_status_from(""), std::nullopt);
}

// One database file in a temporary directory; the catalog and the upload records share it.
struct SqliteCatalogBackend {
  test::TempDir dir;
  [[nodiscard]] std::filesystem::path db() const { return dir.path() / "vidup.db"; }
  std::unique_ptr<Catalog> open(net::thread_pool& pool) { return std::make_unique<SqliteCatalog>(db(), pool); }
  std::unique_ptr<InfoStore> open_uploads(net::thread_pool& pool) {
    return std::make_unique<SqliteInfoStore>(db(), pool);
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, CatalogConformance, ::testing::Types<SqliteCatalogBackend>);

TEST(SqliteCatalog, UnusablePathThrowsAtStartUp) {
  test::TempDir dir;
  net::thread_pool pool(1);
  EXPECT_ANY_THROW(SqliteCatalog(dir.path() / "missing" / "dir" / "vidup.db", pool));
  pool.join();
}

}  // namespace
}  // namespace vidup::store
