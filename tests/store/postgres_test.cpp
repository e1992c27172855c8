// The PostgreSQL backends against a real server (CTest fixture service_pg): the InfoStore and
// Catalog conformance suites, and what is PostgreSQL's own: migrations (repeated, concurrent),
// records surviving a new pool, connections the server closed, unreachable servers. Every test
// works in its own schema, so tests run in parallel on one server.

#include "catalog_conformance.hpp"
#include "info_store_conformance.hpp"
#include "pg_test_support.hpp"
#include "store/postgres/pg_catalog.hpp"
#include "store/postgres/pg_info_store.hpp"
#include "store/postgres/pg_pool.hpp"
#include "store_test_support.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace vidup::store {
namespace {

using namespace conformance;          // NOLINT(google-build-using-namespace): the suites and their helpers
using namespace catalog_conformance;  // NOLINT(google-build-using-namespace)
using core::Errc;
using test::TestSchema;

// A fresh schema, migrated, and the pools opened on it (each open is a new pool: a restarted node).
class PgDatabase {
 public:
  PgPool& new_pool(std::size_t size = 2) {
    pools_.push_back(std::make_unique<PgPool>(schema_.conninfo(), size));
    pg_migrate(*pools_.back());
    return *pools_.back();
  }
  TestSchema& schema() { return schema_; }

 private:
  TestSchema schema_;                           // dropped last
  std::vector<std::unique_ptr<PgPool>> pools_;  // closed before the schema goes
};

// ---------------------------------------------------------------------------------------------
// The conformance suites

// The InfoStore suite makes one store per test: this one owns its database and forwards to a
// PgInfoStore on it.
class OwningPgInfoStore final : public InfoStore {
 public:
  explicit OwningPgInfoStore(net::thread_pool& blocking) : store_(db_.new_pool(), blocking) {}
  net::awaitable<Result<void>> insert(const UploadInfo& info) override { return store_.insert(info); }
  net::awaitable<Result<UploadInfo>> get(const std::string& id) override { return store_.get(id); }
  net::awaitable<Result<void>> update(const UploadInfo& info) override { return store_.update(info); }
  net::awaitable<Result<void>> remove(const std::string& id) override { return store_.remove(id); }
  net::awaitable<Result<std::vector<UploadInfo>>> list_expired(std::int64_t now_ms, std::size_t limit) override {
    return store_.list_expired(now_ms, limit);
  }
  net::awaitable<Result<std::vector<UploadInfo>>> list_active() override { return store_.list_active(); }
  net::awaitable<Result<std::vector<UploadInfo>>> finals_waiting_on(const std::string& partial_id) override {
    return store_.finals_waiting_on(partial_id);
  }
  net::awaitable<Result<std::size_t>> purge_tombstones(std::int64_t before_ms) override {
    return store_.purge_tombstones(before_ms);
  }

 private:
  PgDatabase db_;
  PgInfoStore store_;
};

struct PgInfoBackend {
  static std::unique_ptr<InfoStore> make(const std::filesystem::path& /*dir*/, net::thread_pool& pool) {
    return std::make_unique<OwningPgInfoStore>(pool);
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, InfoStoreConformance, ::testing::Types<PgInfoBackend>);

struct PgCatalogBackend {
  PgDatabase db;
  std::unique_ptr<Catalog> open(net::thread_pool& pool) { return std::make_unique<PgCatalog>(db.new_pool(), pool); }
  std::unique_ptr<InfoStore> open_uploads(net::thread_pool& pool) {
    return std::make_unique<PgInfoStore>(db.new_pool(), pool);
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, CatalogConformance, ::testing::Types<PgCatalogBackend>);

// ---------------------------------------------------------------------------------------------
// PostgreSQL's own

class PgStoreTest : public ::testing::Test {
 protected:
  ~PgStoreTest() override { blocking_.join(); }

  template <class T>
  T run(net::awaitable<T> a) {
    return test::run(io_, std::move(a));
  }

  PgDatabase db_;
  net::io_context io_;
  net::thread_pool blocking_{2};
};

TEST_F(PgStoreTest, MigrationsAreIdempotent) {
  PgPool& pool = db_.new_pool();  // migrated once
  pg_migrate(pool);
  pg_migrate(pool);
  auto& admin = db_.schema().admin();
  const std::string schema = db_.schema().name();
  EXPECT_EQ(admin.query("SELECT version FROM " + schema + ".vidup_schema_version"), std::vector<std::string>{"1"});
  EXPECT_EQ(admin.query("SELECT count(*) FROM " + schema + ".vidup_schema_version"), std::vector<std::string>{"1"});
  const auto tables = admin.query(
      "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", {schema});
  EXPECT_EQ(tables, (std::vector<std::string>{"concat_parts", "folders", "keys", "projects", "upload_locks", "uploads",
                                              "videos", "vidup_schema_version"}));
  PgInfoStore store(pool, blocking_);
  EXPECT_TRUE(run(store.insert(record("u1"))));
}

// Several nodes starting at once on an empty schema: every one migrates without error and the
// schema is created once.
TEST_F(PgStoreTest, ConcurrentMigrationsFromSeveralPoolsAllSucceed) {
  constexpr int kNodes = 4;
  std::vector<std::unique_ptr<PgPool>> pools;
  for (int i = 0; i < kNodes; ++i) {
    pools.push_back(std::make_unique<PgPool>(db_.schema().conninfo(), 1));
  }
  std::atomic<int> ready{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> nodes;
  for (auto& pool : pools) {
    nodes.emplace_back([&ready, &failed, p = pool.get()] {
      ready.fetch_add(1);
      while (ready.load() < kNodes) {
        std::this_thread::yield();
      }
      try {
        pg_migrate(*p);
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        failed.fetch_add(1);
      }
    });
  }
  for (auto& t : nodes) {
    t.join();
  }
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(db_.schema().admin().query("SELECT version FROM " + db_.schema().name() + ".vidup_schema_version"),
            std::vector<std::string>{"1"});
  PgInfoStore store(*pools.front(), blocking_);
  EXPECT_TRUE(run(store.insert(record("u1"))));
}

TEST_F(PgStoreTest, RecordsSurviveAPoolReopen) {
  UploadInfo f = record("f1");
  f.concat = core::ConcatKind::final_upload;
  f.partial_ids = {"p2", "p1"};
  f.metadata_raw = "k dg==";
  {
    PgInfoStore store(db_.new_pool(), blocking_);
    ASSERT_TRUE(run(store.insert(f)));
    f.offset = 7;
    ASSERT_TRUE(run(store.update(f)));
  }
  PgInfoStore reopened(db_.new_pool(), blocking_);  // migrations already applied: nothing to do
  auto got = run(reopened.get("f1"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->offset, 7u);
  EXPECT_EQ(got->partial_ids, (std::vector<std::string>{"p2", "p1"}));
  EXPECT_EQ(got->metadata.get("k"), std::optional<std::string_view>("v"));
}

// The server closes every pooled connection (a restart, pg_terminate_backend): the next calls
// reconnect and succeed, reads and writes alike.
TEST_F(PgStoreTest, ConnectionsTheServerClosedAreReconnected) {
  PgPool& pool = db_.new_pool(2);
  PgInfoStore store(pool, blocking_);
  PgCatalog catalog(pool, blocking_);
  ASSERT_TRUE(run(store.insert(record("u0"))));
  for (int round = 1; round <= 3; ++round) {
    db_.schema().terminate_connections();
    auto got = run(store.get("u0"));
    ASSERT_TRUE(got) << "round " << round << ": " << got.error().message();
    const std::string id = "u" + std::to_string(round);
    ASSERT_TRUE(run(store.insert(record(id)))) << "round " << round;
    ASSERT_TRUE(run(catalog.insert_project(Project{"p" + std::to_string(round), "P", round}))) << "round " << round;
  }
  auto active = run(store.list_active());
  ASSERT_TRUE(active);
  EXPECT_EQ(active->size(), 4u);
  auto projects = run(catalog.list_projects());
  ASSERT_TRUE(projects);
  EXPECT_EQ(projects->size(), 3u);
}

// A connection killed without waiting for it to close: the first statement on it may meet the
// server's "terminating connection" error. A read is retried on a fresh connection.
TEST_F(PgStoreTest, AReadOnAConnectionKilledUnderItIsRetried) {
  PgPool& pool = db_.new_pool(1);
  PgInfoStore store(pool, blocking_);
  ASSERT_TRUE(run(store.insert(record("u1"))));
  for (int round = 0; round < 5; ++round) {
    db_.schema().admin().query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                               {db_.schema().name()});
    auto got = run(store.get("u1"));
    ASSERT_TRUE(got) << "round " << round << ": " << got.error().message();
    EXPECT_EQ(got->id, "u1");
  }
}

// Two nodes attach different uploads to one video at the same moment: exactly one wins.
TEST_F(PgStoreTest, AttachUploadIsAtomicAcrossNodes) {
  PgCatalog node_a(db_.new_pool(4), blocking_);
  PgCatalog node_b(db_.new_pool(4), blocking_);
  constexpr int kVideos = 20;
  for (int v = 0; v < kVideos; ++v) {
    ASSERT_TRUE(run(node_a.insert_video(video("v" + std::to_string(v), v))));
  }
  net::thread_pool callers(4);
  std::vector<std::future<Result<void>>> results;
  for (int v = 0; v < kVideos; ++v) {
    const std::string video = "v" + std::to_string(v);
    for (int attempt = 0; attempt < 4; ++attempt) {
      PgCatalog& node = attempt % 2 == 0 ? node_a : node_b;
      const std::string upload = video + "-up" + std::to_string(attempt);
      results.push_back(net::co_spawn(
          callers,
          [](PgCatalog& c, std::string vid, std::string up) -> net::awaitable<Result<void>> {
            co_return co_await c.attach_upload(vid, up, 5);
          }(node, video, upload),
          net::use_future));
    }
  }
  int wins = 0;
  int refused = 0;
  for (auto& f : results) {
    auto r = f.get();
    if (r) {
      ++wins;
    } else if (r.error() == Errc::video_has_upload) {
      ++refused;
    }
  }
  callers.join();
  EXPECT_EQ(wins, kVideos);
  EXPECT_EQ(refused, kVideos * 3);
  for (int v = 0; v < kVideos; ++v) {
    auto got = run(node_b.get_video("v" + std::to_string(v)));
    ASSERT_TRUE(got);
    EXPECT_TRUE(got->upload_id.starts_with(got->id + "-up")) << got->upload_id;
  }
}

TEST(PgPool, AnUnreachableServerThrowsAtStartUpWithoutThePassword) {
  try {
    PgPool pool("postgres://vidup:s3cret-pw@127.0.0.1:1/vidup_test?connect_timeout=5", 1);
    ADD_FAILURE() << "connected to port 1";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("127.0.0.1:1/vidup_test"), std::string::npos) << what;
    EXPECT_EQ(what.find("s3cret-pw"), std::string::npos) << what;
  }
}

TEST(PgPool, AServerThatRefusesTheConnectionIsReportedWithoutThePassword) {
  // Trust auth on the test server accepts any password: ask for a database that does not exist,
  // with a password in the URL; the message names the database and never the password.
  std::string url = test::pg_test_url();
  const auto at = url.find('@');
  ASSERT_NE(at, std::string::npos) << url;
  url.insert(at, ":s3cret-pw");
  url = url.substr(0, url.rfind('/')) + "/no_such_database";
  try {
    PgPool pool(url, 1);
    ADD_FAILURE() << "connected to a database that does not exist";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("no_such_database"), std::string::npos) << what;
    EXPECT_NE(what.find("does not exist"), std::string::npos) << what;
    EXPECT_EQ(what.find("s3cret-pw"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace vidup::store
