// The conformance suite: every DataStore and every InfoStore backend passes the same tests.
// A new backend adds one factory struct to the type lists below.

#include "store/file/file_data_store.hpp"
#include "store/memory/memory_data_store.hpp"
#include "store/memory/memory_info_store.hpp"
#include "store/sqlite/sqlite_info_store.hpp"
#include "data_store_conformance.hpp"
#include "info_store_conformance.hpp"
#include "store_test_support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace vidup::store {
namespace {

using namespace conformance;  // NOLINT(google-build-using-namespace): the suites and their helpers
using core::ConcatKind;
using core::Errc;
using core::UploadState;
using test::bytes_of;

// ---------------------------------------------------------------------------------------------
// DataStore

struct MemoryDataBackend {
  using Store = MemoryDataStore;
  static std::unique_ptr<Store> make(const std::filesystem::path& /*dir*/, net::thread_pool& /*pool*/) {
    return std::make_unique<MemoryDataStore>();
  }
};

struct FileDataBackend {
  using Store = FileDataStore;
  static std::unique_ptr<Store> make(const std::filesystem::path& dir, net::thread_pool& pool) {
    return std::make_unique<FileDataStore>(dir, pool);
  }
};

// Over its open-file budget: every writer closes its file after each step and opens it again.
struct FileDataBackendClosingFiles {
  using Store = FileDataStore;
  static std::unique_ptr<Store> make(const std::filesystem::path& dir, net::thread_pool& pool) {
    return std::make_unique<FileDataStore>(dir, pool, 0);
  }
};

using DataBackends = ::testing::Types<MemoryDataBackend, FileDataBackend, FileDataBackendClosingFiles>;
INSTANTIATE_TYPED_TEST_SUITE_P(Local, DataStoreConformance, DataBackends);

// ---------------------------------------------------------------------------------------------
// Backend-specific DataStore behaviour

TEST(MemoryDataStore, FailAfterWritesThePrefixThatFitsThenReportsStorageFull) {
  net::io_context io;
  MemoryDataStore store;
  ASSERT_TRUE(test::run(io, store.create(upload("u1"))));
  store.fail_after(4);
  auto w = test::run(io, store.open_writer(upload("u1"), false));
  ASSERT_TRUE(w);
  ASSERT_TRUE(test::run(io, (*w)->write(bytes_of("ab"))));
  auto r = test::run(io, (*w)->write(bytes_of("cdef")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::storage_full);
  EXPECT_EQ((*w)->written(), 4u);
  auto again = test::run(io, (*w)->write(bytes_of("g")));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), Errc::storage_full);
  auto size = test::run(io, (*w)->commit());
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 4u);
  EXPECT_EQ(store.bytes("u1"), "abcd");
  store.fail_after(std::nullopt);
  ASSERT_TRUE(test::run(io, (*w)->write(bytes_of("e"))));
  EXPECT_EQ(store.bytes("u1"), "abcde");
}

TEST(MemoryDataStore, StagedBytesAreInvisibleUntilCommit) {
  net::io_context io;
  MemoryDataStore store;
  ASSERT_TRUE(test::run(io, store.create(upload("u1"))));
  EXPECT_EQ(store.count(), 1u);
  auto w = test::run(io, store.open_writer(upload("u1"), true));
  ASSERT_TRUE(w);
  ASSERT_TRUE(test::run(io, (*w)->write(bytes_of("abc"))));
  EXPECT_EQ(store.bytes("u1"), "");
  ASSERT_TRUE(test::run(io, (*w)->commit()));
  EXPECT_EQ(store.bytes("u1"), "abc");
  EXPECT_EQ(store.bytes("nope"), std::nullopt);
}

TEST(FileDataStore, KeepsOneFilePerUploadAndNoMarkerAfterCommit) {
  test::TempDir dir;
  net::io_context io;
  net::thread_pool pool(1);
  FileDataStore store(dir.path(), pool);
  ASSERT_TRUE(test::run(io, store.create(upload("u1"))));
  EXPECT_EQ(store.path_of("u1"), dir.path() / "uploads" / "u1");
  EXPECT_TRUE(std::filesystem::exists(store.path_of("u1")));
  auto w = test::run(io, store.open_writer(upload("u1"), true));
  ASSERT_TRUE(w);
  ASSERT_TRUE(test::run(io, (*w)->write(bytes_of("abc"))));
  auto marker = store.path_of("u1");
  marker += ".stage";
  EXPECT_TRUE(std::filesystem::exists(marker));
  ASSERT_TRUE(test::run(io, (*w)->commit()));
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_EQ(std::filesystem::file_size(store.path_of("u1")), 3u);
  pool.join();
}

std::size_t open_fds() {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                                std::filesystem::directory_iterator{}));
}

TEST(FileDataStore, OverItsOpenFileBudgetAWriterHoldsNoFileBetweenWrites) {
  test::TempDir dir;
  net::io_context io;
  net::thread_pool pool(1);
  FileDataStore store(dir.path(), pool, 1);
  ASSERT_TRUE(test::run(io, store.create(upload("u1"))));
  ASSERT_TRUE(test::run(io, store.create(upload("u2"))));
  const auto before = open_fds();
  auto w1 = test::run(io, store.open_writer(upload("u1"), false));
  ASSERT_TRUE(w1);
  EXPECT_EQ(open_fds(), before + 1);
  ASSERT_TRUE(test::run(io, (*w1)->write(bytes_of("ab"))));
  EXPECT_EQ(open_fds(), before + 1) << "within the budget the file stays open";
  auto w2 = test::run(io, store.open_writer(upload("u2"), true));
  ASSERT_TRUE(w2);
  ASSERT_TRUE(test::run(io, (*w2)->write(bytes_of("xyz"))));
  EXPECT_EQ(open_fds(), before + 1) << "the second file is over the budget: closed after the write";
  ASSERT_TRUE(test::run(io, (*w1)->write(bytes_of("cd"))));
  auto size1 = test::run(io, (*w1)->commit());
  ASSERT_TRUE(size1);
  EXPECT_EQ(*size1, 4u);
  ASSERT_TRUE(test::run(io, (*w2)->write(bytes_of("!"))));  // opens the file again, then closes it
  EXPECT_EQ(open_fds(), before + 1);
  ASSERT_TRUE(test::run(io, (*w2)->discard()));
  EXPECT_EQ(open_fds(), before + 1);
  EXPECT_EQ(std::filesystem::file_size(store.path_of("u1")), 4u);
  EXPECT_EQ(std::filesystem::file_size(store.path_of("u2")), 0u);
  w1->reset();
  w2->reset();
  EXPECT_EQ(open_fds(), before);
  pool.join();
}

// The splice path of PATCH: the caller puts bytes at file_target() and advance() counts them.
TEST(FileDataStore, APlainWriterCountsBytesPutAtItsFileTargetAndStagedOnesOfferNone) {
  for (const std::size_t budget : {std::size_t{64}, std::size_t{0}}) {  // 0: the file is reopened
    SCOPED_TRACE(budget);
    test::TempDir dir;
    net::io_context io;
    net::thread_pool pool(1);
    FileDataStore store(dir.path(), pool, budget);
    ASSERT_TRUE(test::run(io, store.create(upload("u1"))));
    auto w = test::run(io, store.open_writer(upload("u1"), false));
    ASSERT_TRUE(w);
    ASSERT_TRUE(test::run(io, (*w)->write(bytes_of("ab"))));
    auto target = (*w)->file_target();
    ASSERT_TRUE(target.has_value());
    ASSERT_TRUE(*target);
    EXPECT_EQ((*target)->offset, 2u);
    ASSERT_EQ(::pwrite((*target)->fd, "cd", 2, static_cast<off_t>((*target)->offset)), 2);
    (*w)->advance(2);
    EXPECT_EQ((*w)->written(), 4u);
    ASSERT_TRUE(test::run(io, (*w)->write(bytes_of("ef"))));  // after the target's bytes
    auto size = test::run(io, (*w)->commit());
    ASSERT_TRUE(size);
    EXPECT_EQ(*size, 6u);
    w->reset();
    std::ifstream in(store.path_of("u1"), std::ios::binary);
    const std::string stored((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(stored, "abcdef");

    auto staged = test::run(io, store.open_writer(upload("u1", 6), true));
    ASSERT_TRUE(staged);
    EXPECT_FALSE((*staged)->file_target().has_value()) << "a staged chunk needs its marker: write() only";
    pool.join();
  }
  MemoryDataStore memory;
  net::io_context io;
  ASSERT_TRUE(test::run(io, memory.create(upload("m1"))));
  auto w = test::run(io, memory.open_writer(upload("m1"), false));
  ASSERT_TRUE(w);
  EXPECT_FALSE((*w)->file_target().has_value());
}

TEST(FileDataStore, RejectsIdsThatAreNotPlainNames) {
  test::TempDir dir;
  net::io_context io;
  net::thread_pool pool(1);
  FileDataStore store(dir.path(), pool);
  for (const char* id : {"", "..", "a/b", "../x", "a.stage"}) {
    auto r = test::run(io, store.create(upload(id)));
    ASSERT_FALSE(r) << id;
    EXPECT_EQ(r.error(), Errc::invalid_upload_id) << id;
  }
  pool.join();
}

// ---------------------------------------------------------------------------------------------
// InfoStore

struct MemoryInfoBackend {
  static std::unique_ptr<InfoStore> make(const std::filesystem::path& /*dir*/, net::thread_pool& /*pool*/) {
    return std::make_unique<MemoryInfoStore>();
  }
};

struct SqliteInfoBackend {
  static std::unique_ptr<InfoStore> make(const std::filesystem::path& dir, net::thread_pool& pool) {
    return std::make_unique<SqliteInfoStore>(dir / "vidup.db", pool);
  }
};

using InfoBackends = ::testing::Types<MemoryInfoBackend, SqliteInfoBackend>;
INSTANTIATE_TYPED_TEST_SUITE_P(Local, InfoStoreConformance, InfoBackends);

// ---------------------------------------------------------------------------------------------
// Backend-specific InfoStore behaviour

TEST(SqliteInfoStore, RecordsSurviveAReopen) {
  test::TempDir dir;
  net::io_context io;
  net::thread_pool pool(1);
  const auto db = dir.path() / "vidup.db";
  UploadInfo f = record("f1");
  f.concat = ConcatKind::final_upload;
  f.partial_ids = {"p2", "p1"};
  f.metadata_raw = "k dg==";
  {
    SqliteInfoStore store(db, pool);
    ASSERT_TRUE(test::run(io, store.insert(f)));
    f.offset = 7;
    ASSERT_TRUE(test::run(io, store.update(f)));
  }
  SqliteInfoStore reopened(db, pool);  // migrations already applied: nothing to do
  auto got = test::run(io, reopened.get("f1"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->offset, 7u);
  EXPECT_EQ(got->partial_ids, (std::vector<std::string>{"p2", "p1"}));
  EXPECT_EQ(got->metadata.get("k"), std::optional<std::string_view>("v"));
  pool.join();
}

TEST(SqliteInfoStore, UpgradesAVersion1DatabaseGivingOldRecordsAnEmptyOwner) {
  test::TempDir dir;
  const auto db_file = dir.path() / "vidup.db";
  {  // the schema as release v1 left it, with one record
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_file.c_str(), &db), SQLITE_OK);
    const char* v1 =
        "CREATE TABLE schema_version (version INTEGER NOT NULL);"
        "INSERT INTO schema_version(version) VALUES (1);"
        "CREATE TABLE uploads (id TEXT PRIMARY KEY, size INTEGER NULL, \"offset\" INTEGER NOT NULL,"
        " metadata_raw TEXT NOT NULL, concat INTEGER NOT NULL, concat_raw TEXT NOT NULL, state TEXT NOT NULL,"
        " created_at INTEGER, updated_at INTEGER, expires_at INTEGER);"
        "CREATE INDEX uploads_state_expires ON uploads(state, expires_at);"
        "CREATE TABLE concat_parts (final_id TEXT NOT NULL, idx INTEGER NOT NULL, partial_id TEXT NOT NULL,"
        " PRIMARY KEY (final_id, idx));"
        "CREATE INDEX concat_parts_partial ON concat_parts(partial_id);"
        "INSERT INTO uploads VALUES ('old', 10, 3, '', 0, '', 'active', 1, 2, 0);";
    EXPECT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  net::io_context io;
  net::thread_pool pool(1);
  {
    SqliteInfoStore store(db_file, pool);
    auto old = test::run(io, store.get("old"));
    ASSERT_TRUE(old) << old.error().message();
    EXPECT_EQ(old->offset, 3u);
    EXPECT_EQ(old->owner, "");
    UploadInfo fresh = record("new");
    fresh.owner = "video-2";
    ASSERT_TRUE(test::run(io, store.insert(fresh)));
  }
  SqliteInfoStore reopened(db_file, pool);
  auto fresh = test::run(io, reopened.get("new"));
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->owner, "video-2");
  pool.join();
}

// Every HEAD and PATCH reads a record: one this store wrote or read is answered from memory,
// without a trip to the blocking pool (here: a pool whose threads are gone), and stays current.
TEST(SqliteInfoStore, AKnownRecordIsReadWithoutThePoolAndStaysCurrent) {
  test::TempDir dir;
  net::io_context io;
  net::thread_pool pool(1);
  SqliteInfoStore store(dir.path() / "vidup.db", pool);
  UploadInfo a = record("a1");
  a.metadata_raw = "k dg==";
  ASSERT_TRUE(test::run(io, store.insert(a)));
  a.offset = 5;
  a.expires_at = 99;
  ASSERT_TRUE(test::run(io, store.update(a)));
  ASSERT_TRUE(test::run(io, store.insert(record("b1"))));
  ASSERT_TRUE(test::run(io, store.remove("b1")));
  pool.stop();
  pool.join();
  auto got = test::run(io, store.get("a1"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->offset, 5u);
  EXPECT_EQ(got->expires_at, 99);
  EXPECT_EQ(got->metadata.get("k"), std::optional<std::string_view>("v"));
}

net::awaitable<void> insert_into(SqliteInfoStore* store, UploadInfo info, core::Result<void>* out) {
  *out = co_await store->insert(info);
}

// Group commit: writes that queue up while the pool is busy are committed together, and one
// that fails (a duplicate id) undoes only itself.
TEST(SqliteInfoStore, QueuedWritesCommitTogetherAndAFailedOneUndoesOnlyItself) {
  test::TempDir dir;
  net::io_context io;
  net::thread_pool pool(1);
  const auto db = dir.path() / "vidup.db";
  std::vector<core::Result<void>> results(11);
  {
    SqliteInfoStore store(db, pool);
    ASSERT_TRUE(test::run(io, store.insert(record("dup"))));
    std::promise<void> go;
    net::post(pool, [gate = go.get_future().share()] { gate.wait(); });  // the pool's thread is busy
    for (int i = 0; i < 10; ++i) {
      net::co_spawn(io, insert_into(&store, record("r" + std::to_string(i)), &results[static_cast<std::size_t>(i)]),
                    net::detached);
    }
    net::co_spawn(io, insert_into(&store, record("dup"), &results[10]), net::detached);
    io.restart();  // test::run ran the context out of work
    io.poll();     // every insert is queued now
    const auto commits = store.group_commits();
    go.set_value();
    io.restart();
    io.run();
    EXPECT_EQ(store.group_commits(), commits + 1) << "eleven writes, one commit";
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(results[static_cast<std::size_t>(i)]) << i;
  }
  ASSERT_FALSE(results[10]);
  EXPECT_EQ(results[10].error(), Errc::storage_error);
  SqliteInfoStore reopened(db, pool);  // no cache: what the database holds
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(test::run(io, reopened.get("r" + std::to_string(i)))) << i;
  }
  EXPECT_TRUE(test::run(io, reopened.get("dup")));
  pool.join();
}

// With offsets recoverable from the data store, an update that only moves an active upload
// forward commits without a WAL sync; a new length, a state other than finished, a record not
// known yet, and every write of a store without the option keep the sync.
TEST(SqliteInfoStore, OnlyForwardProgressCommitsWithoutSyncAndOnlyWhenOffsetsAreRecoverable) {
  test::TempDir dir;
  net::io_context io;
  net::thread_pool pool(1);
  const auto db = dir.path() / "vidup.db";
  {
    SqliteInfoStore store(db, pool, true);
    UploadInfo a = record("a1");
    a.size = 10;
    ASSERT_TRUE(test::run(io, store.insert(a)));
    EXPECT_EQ(store.unsynced_commits(), 0u);
    a.offset = 4;
    ASSERT_TRUE(test::run(io, store.update(a)));
    EXPECT_EQ(store.unsynced_commits(), 1u) << "forward progress";
    a.offset = 10;
    a.state = UploadState::finished;
    ASSERT_TRUE(test::run(io, store.update(a)));
    EXPECT_EQ(store.unsynced_commits(), 2u) << "finishing is progress too";
    a.state = UploadState::terminated;
    ASSERT_TRUE(test::run(io, store.update(a)));
    EXPECT_EQ(store.unsynced_commits(), 2u) << "a tombstone is synced";
    UploadInfo d = record("d1");
    ASSERT_TRUE(test::run(io, store.insert(d)));
    d.size = 20;
    ASSERT_TRUE(test::run(io, store.update(d)));
    EXPECT_EQ(store.unsynced_commits(), 2u) << "a length declared later is synced";
  }
  {
    SqliteInfoStore reopened(db, pool, true);
    UploadInfo d = record("d1");
    d.size = 20;
    d.offset = 5;
    ASSERT_TRUE(test::run(io, reopened.update(d)));
    EXPECT_EQ(reopened.unsynced_commits(), 0u) << "a record not read since the start is synced";
    auto a = test::run(io, reopened.get("a1"));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->offset, 10u);
    EXPECT_EQ(a->state, UploadState::terminated);
  }
  SqliteInfoStore plain(db, pool);
  auto d = test::run(io, plain.get("d1"));
  ASSERT_TRUE(d);
  d->offset = 6;
  ASSERT_TRUE(test::run(io, plain.update(*d)));
  EXPECT_EQ(plain.unsynced_commits(), 0u) << "without the option every commit is synced";
  pool.join();
}

TEST(SqliteInfoStore, UnusablePathThrowsAtStartUp) {
  test::TempDir dir;
  net::thread_pool pool(1);
  EXPECT_ANY_THROW(SqliteInfoStore(dir.path() / "missing" / "dir" / "vidup.db", pool));
  pool.join();
}

}  // namespace
}  // namespace vidup::store
