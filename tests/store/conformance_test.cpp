// The conformance suite: every DataStore and every InfoStore backend passes the same tests.
// A new backend adds one factory struct to the type lists below.

#include "store/file/file_data_store.hpp"
#include "store/memory/memory_data_store.hpp"
#include "store/memory/memory_info_store.hpp"
#include "store/sqlite/sqlite_info_store.hpp"
#include "store_test_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace vidup::store {
namespace {

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

UploadInfo upload(const std::string& id, std::uint64_t offset = 0) {
  UploadInfo info;
  info.id = id;
  info.offset = offset;
  return info;
}

template <class Backend>
class DataStoreConformance : public ::testing::Test {
 protected:
  DataStoreConformance() : store_(Backend::make(dir_.path(), pool_)) {}
  ~DataStoreConformance() override { pool_.join(); }

  template <class T>
  T run(net::awaitable<T> a) {
    return test::run(io_, std::move(a));
  }

  void create(const std::string& id) { ASSERT_TRUE(run(store_->create(upload(id)))); }

  std::unique_ptr<UploadWriter> writer(const std::string& id, std::uint64_t offset, bool staged) {
    auto w = run(store_->open_writer(upload(id, offset), staged));
    EXPECT_TRUE(w) << w.error().message();
    return w ? std::move(*w) : nullptr;
  }

  // Writes `text` at `offset` through a fresh writer and commits; returns the new size.
  std::uint64_t append(const std::string& id, std::uint64_t offset, std::string_view text, bool staged = false) {
    auto w = writer(id, offset, staged);
    EXPECT_TRUE(run(w->write(bytes_of(text))));
    auto size = run(w->commit());
    EXPECT_TRUE(size);
    return size ? *size : 0;
  }

  std::string read(const std::string& id, std::uint64_t start, std::uint64_t length, std::size_t chunk = 3) {
    auto src = run(store_->open_reader(upload(id), start, length));
    EXPECT_TRUE(src);
    if (!src) {
      return {};
    }
    EXPECT_EQ((*src)->size(), length);
    std::string out;
    std::vector<std::byte> buf(chunk);
    for (;;) {
      auto n = run((*src)->read(buf));
      EXPECT_TRUE(n);
      if (!n || *n == 0) {
        return out;
      }
      out.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
  }

  // Everything stored for `id` (recovers first, as the handler does after a restart).
  std::string stored(const std::string& id) {
    auto size = run(store_->recover(upload(id)));
    EXPECT_TRUE(size);
    return read(id, 0, size ? *size : 0, 4096);
  }

  test::TempDir dir_;
  net::io_context io_;
  net::thread_pool pool_{2};
  std::unique_ptr<typename Backend::Store> store_;
};

using DataBackends = ::testing::Types<MemoryDataBackend, FileDataBackend>;
TYPED_TEST_SUITE(DataStoreConformance, DataBackends);

TYPED_TEST(DataStoreConformance, CreateWriteCommitReportsTheNewSize) {
  this->create("u1");
  auto w = this->writer("u1", 0, false);
  ASSERT_TRUE(this->run(w->write(bytes_of("hello"))));
  ASSERT_TRUE(this->run(w->write(bytes_of(" world"))));
  EXPECT_EQ(w->written(), 11u);
  auto size = this->run(w->commit());
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 11u);
  w.reset();
  EXPECT_EQ(this->append("u1", 11, "!"), 12u);
  EXPECT_EQ(this->stored("u1"), "hello world!");
}

TYPED_TEST(DataStoreConformance, EmptyWriteAndEmptyCommitChangeNothing) {
  this->create("u1");
  auto w = this->writer("u1", 0, true);
  ASSERT_TRUE(this->run(w->write({})));
  auto size = this->run(w->commit());
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 0u);
  EXPECT_EQ(this->stored("u1"), "");
}

TYPED_TEST(DataStoreConformance, CreateTwiceFails) {
  this->create("u1");
  auto again = this->run(this->store_->create(upload("u1")));
  EXPECT_FALSE(again);
}

TYPED_TEST(DataStoreConformance, OpenWriterOfUnknownUploadIsNotFound) {
  auto w = this->run(this->store_->open_writer(upload("nope"), false));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), Errc::not_found);
}

TYPED_TEST(DataStoreConformance, StagedCommitKeepsTheBytes) {
  this->create("u1");
  ASSERT_EQ(this->append("u1", 0, "abc"), 3u);
  auto w = this->writer("u1", 3, true);
  ASSERT_TRUE(this->run(w->write(bytes_of("def"))));
  EXPECT_EQ(w->written(), 3u);
  auto size = this->run(w->commit());
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 6u);
  w.reset();
  EXPECT_EQ(this->stored("u1"), "abcdef");
}

TYPED_TEST(DataStoreConformance, StagedDiscardRestoresTheSizeAtOpen) {
  this->create("u1");
  ASSERT_EQ(this->append("u1", 0, "abc"), 3u);
  auto w = this->writer("u1", 3, true);
  ASSERT_TRUE(this->run(w->write(bytes_of("def"))));
  ASSERT_TRUE(this->run(w->discard()));
  EXPECT_EQ(w->written(), 0u);
  w.reset();
  EXPECT_EQ(this->stored("u1"), "abc");
  EXPECT_EQ(this->append("u1", 3, "xyz"), 6u);
  EXPECT_EQ(this->stored("u1"), "abcxyz");
}

TYPED_TEST(DataStoreConformance, WriterDropsBytesBeyondTheAcknowledgedOffset) {
  this->create("u1");
  ASSERT_EQ(this->append("u1", 0, "hello world"), 11u);
  EXPECT_EQ(this->append("u1", 5, "!"), 6u);
  EXPECT_EQ(this->stored("u1"), "hello!");
}

TYPED_TEST(DataStoreConformance, WriterRefusesAnOffsetBeyondTheStoredBytes) {
  this->create("u1");
  ASSERT_EQ(this->append("u1", 0, "abc"), 3u);
  auto w = this->run(this->store_->open_writer(upload("u1", 4), false));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), Errc::storage_error);
}

TYPED_TEST(DataStoreConformance, RecoverKeepsEverythingAnAbandonedWriterWrote) {
  this->create("u1");
  {
    auto w = this->writer("u1", 0, false);
    ASSERT_TRUE(this->run(w->write(bytes_of("abc"))));
    ASSERT_TRUE(this->run(w->write(bytes_of("def"))));
  }  // dropped without commit: a crash after the bytes reached the store
  auto size = this->run(this->store_->recover(upload("u1", 0)));
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 6u);
  EXPECT_EQ(this->stored("u1"), "abcdef");
}

TYPED_TEST(DataStoreConformance, RecoverDropsWhatAnAbandonedStagedWriterWrote) {
  this->create("u1");
  ASSERT_EQ(this->append("u1", 0, "abc"), 3u);
  {
    auto w = this->writer("u1", 3, true);
    ASSERT_TRUE(this->run(w->write(bytes_of("unverified"))));
  }
  auto size = this->run(this->store_->recover(upload("u1", 3)));
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 3u);
  EXPECT_EQ(this->stored("u1"), "abc");
  // Recovery repaired for good: a later non-staged append survives another recovery.
  EXPECT_EQ(this->append("u1", 3, "def"), 6u);
  auto again = this->run(this->store_->recover(upload("u1", 6)));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 6u);
}

TYPED_TEST(DataStoreConformance, AnAbandonedStagedWriterDoesNotHauntTheNextWriter) {
  this->create("u1");
  {
    auto w = this->writer("u1", 0, true);
    ASSERT_TRUE(this->run(w->write(bytes_of("unverified"))));
  }
  // No recover() in between: the next writer starts from the record's offset.
  EXPECT_EQ(this->append("u1", 0, "abc"), 3u);
  auto size = this->run(this->store_->recover(upload("u1", 3)));
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 3u);
  EXPECT_EQ(this->stored("u1"), "abc");
}

TYPED_TEST(DataStoreConformance, RecoverOfUnknownUploadIsNotFound) {
  auto size = this->run(this->store_->recover(upload("nope")));
  ASSERT_FALSE(size);
  EXPECT_EQ(size.error(), Errc::not_found);
}

TYPED_TEST(DataStoreConformance, RemoveForgetsTheBytesAndToleratesUnknownIds) {
  this->create("u1");
  ASSERT_EQ(this->append("u1", 0, "abc"), 3u);
  ASSERT_TRUE(this->run(this->store_->remove("u1")));
  auto size = this->run(this->store_->recover(upload("u1")));
  ASSERT_FALSE(size);
  EXPECT_EQ(size.error(), Errc::not_found);
  EXPECT_TRUE(this->run(this->store_->remove("u1")));
  EXPECT_TRUE(this->run(this->store_->remove("never")));
  this->create("u1");  // the id is free again
}

TYPED_TEST(DataStoreConformance, ConcatenateJoinsPartialsInOrderEvenRepeated) {
  this->create("a");
  this->create("b");
  this->create("f");
  ASSERT_EQ(this->append("a", 0, "abc"), 3u);
  ASSERT_EQ(this->append("b", 0, "de"), 2u);
  const std::vector<UploadInfo> parts{upload("b", 2), upload("a", 3), upload("b", 2)};
  const UploadInfo final_upload = upload("f");
  ASSERT_TRUE(this->run(this->store_->concatenate(final_upload, parts)));
  EXPECT_EQ(this->stored("f"), "deabcde");
  EXPECT_EQ(this->stored("a"), "abc");
  // Repeating it (a retry after a crash) gives the same bytes.
  ASSERT_TRUE(this->run(this->store_->concatenate(final_upload, parts)));
  EXPECT_EQ(this->stored("f"), "deabcde");
}

TYPED_TEST(DataStoreConformance, ConcatenateOfNoPartialsIsEmpty) {
  this->create("f");
  ASSERT_TRUE(this->run(this->store_->concatenate(upload("f"), {})));
  EXPECT_EQ(this->stored("f"), "");
}

TYPED_TEST(DataStoreConformance, ConcatenateFailsOnAMissingPartial) {
  this->create("f");
  EXPECT_FALSE(this->run(this->store_->concatenate(upload("f"), {upload("ghost", 3)})));
}

TYPED_TEST(DataStoreConformance, ConcatenateCopiesLargePartials) {
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>('a' + i % 23);
  }
  this->create("a");
  this->create("f");
  ASSERT_EQ(this->append("a", 0, big), big.size());
  ASSERT_TRUE(this->run(this->store_->concatenate(upload("f"), {upload("a", big.size()), upload("a", big.size())})));
  const std::string joined = this->stored("f");
  ASSERT_EQ(joined.size(), 2 * big.size());
  EXPECT_TRUE(joined == big + big);
}

TYPED_TEST(DataStoreConformance, ReaderServesTheRequestedRange) {
  this->create("u1");
  ASSERT_EQ(this->append("u1", 0, "0123456789"), 10u);
  EXPECT_EQ(this->read("u1", 0, 10), "0123456789");
  EXPECT_EQ(this->read("u1", 2, 5), "23456");
  EXPECT_EQ(this->read("u1", 9, 1, 64), "9");
  EXPECT_EQ(this->read("u1", 10, 0), "");
  EXPECT_EQ(this->read("u1", 0, 0), "");
}

TYPED_TEST(DataStoreConformance, ReaderRefusesRangesPastTheEnd) {
  this->create("u1");
  ASSERT_EQ(this->append("u1", 0, "0123456789"), 10u);
  EXPECT_FALSE(this->run(this->store_->open_reader(upload("u1"), 0, 11)));
  EXPECT_FALSE(this->run(this->store_->open_reader(upload("u1"), 11, 0)));
  auto missing = this->run(this->store_->open_reader(upload("nope"), 0, 0));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), Errc::not_found);
}

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

UploadInfo record(const std::string& id, UploadState state = UploadState::active, std::int64_t expires_at = 0) {
  UploadInfo info;
  info.id = id;
  info.size = 100;
  info.state = state;
  info.created_at = 1000;
  info.updated_at = 1000;
  info.expires_at = expires_at;
  return info;
}

std::vector<std::string> ids_of(const std::vector<UploadInfo>& v) {
  std::vector<std::string> out;
  for (const auto& i : v) {
    out.push_back(i.id);
  }
  return out;
}

template <class Backend>
class InfoStoreConformance : public ::testing::Test {
 protected:
  InfoStoreConformance() : store_(Backend::make(dir_.path(), pool_)) {}
  ~InfoStoreConformance() override {
    store_.reset();
    pool_.join();
  }

  template <class T>
  T run(net::awaitable<T> a) {
    return test::run(io_, std::move(a));
  }

  void insert(const UploadInfo& info) { ASSERT_TRUE(run(store_->insert(info))); }

  test::TempDir dir_;
  net::io_context io_;
  net::thread_pool pool_{2};
  std::unique_ptr<InfoStore> store_;
};

using InfoBackends = ::testing::Types<MemoryInfoBackend, SqliteInfoBackend>;
TYPED_TEST_SUITE(InfoStoreConformance, InfoBackends);

TYPED_TEST(InfoStoreConformance, InsertGetRoundTripsEveryField) {
  UploadInfo info;
  info.id = "final1";
  info.size = 12345678901234ULL;
  info.offset = 42;
  info.metadata_raw = "filename d29ybGQudHh0,is_confidential";
  info.metadata = core::parse_metadata(info.metadata_raw).value();
  info.concat = ConcatKind::final_upload;
  info.concat_raw = "final;/files/p3 /files/p1 /files/p2";
  info.partial_ids = {"p3", "p1", "p2"};
  info.state = UploadState::finished;
  info.created_at = 1700000000123;
  info.updated_at = 1700000000456;
  info.expires_at = 1700000999789;
  info.owner = "a23fe4e9-dc10-4f6b-bda5-afe93f8d5d4a";
  this->insert(info);

  auto got = this->run(this->store_->get("final1"));
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->id, info.id);
  EXPECT_EQ(got->size, info.size);
  EXPECT_EQ(got->offset, 42u);
  EXPECT_EQ(got->metadata_raw, info.metadata_raw);
  EXPECT_EQ(got->metadata.pairs, info.metadata.pairs);
  EXPECT_EQ(got->concat, ConcatKind::final_upload);
  EXPECT_EQ(got->concat_raw, info.concat_raw);
  EXPECT_EQ(got->partial_ids, info.partial_ids);
  EXPECT_EQ(got->state, UploadState::finished);
  EXPECT_EQ(got->created_at, info.created_at);
  EXPECT_EQ(got->updated_at, info.updated_at);
  EXPECT_EQ(got->expires_at, info.expires_at);
  EXPECT_EQ(got->owner, info.owner);
}

TYPED_TEST(InfoStoreConformance, OwnerIsKeptByUpdateAndReturnedByEveryList) {
  UploadInfo owned = record("o1", UploadState::active, 100);
  owned.owner = "video-1";
  this->insert(owned);
  this->insert(record("anonymous"));

  UploadInfo changed = owned;
  changed.offset = 10;
  changed.owner = "ignored: the owner is set once, at creation";
  ASSERT_TRUE(this->run(this->store_->update(changed)));
  auto got = this->run(this->store_->get("o1"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->owner, "video-1");
  auto anonymous = this->run(this->store_->get("anonymous"));
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->owner, "");

  auto active = this->run(this->store_->list_active());
  ASSERT_TRUE(active);
  for (const auto& info : *active) {
    EXPECT_EQ(info.owner, info.id == "o1" ? "video-1" : "") << info.id;
  }
  auto expired = this->run(this->store_->list_expired(1000, 10));
  ASSERT_TRUE(expired);
  ASSERT_EQ(expired->size(), 1u);
  EXPECT_EQ(expired->front().owner, "video-1");
}

TYPED_TEST(InfoStoreConformance, DeferredSizeRoundTripsAsNullopt) {
  UploadInfo info = record("d1");
  info.size = std::nullopt;
  info.concat = ConcatKind::partial;
  info.concat_raw = "partial";
  this->insert(info);
  auto got = this->run(this->store_->get("d1"));
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->size.has_value());
  EXPECT_EQ(got->concat, ConcatKind::partial);
  EXPECT_EQ(got->concat_raw, "partial");
  EXPECT_TRUE(got->partial_ids.empty());
  EXPECT_TRUE(got->metadata.empty());

  this->insert(record("z1"));
  auto z = record("z1");
  z.size = 0;
  ASSERT_TRUE(this->run(this->store_->update(z)));
  auto zero = this->run(this->store_->get("z1"));
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->size, std::optional<std::uint64_t>(0));
}

TYPED_TEST(InfoStoreConformance, InsertOfADuplicateIdFails) {
  this->insert(record("u1"));
  auto again = this->run(this->store_->insert(record("u1")));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), Errc::storage_error);
}

TYPED_TEST(InfoStoreConformance, UnknownIdsAreNotFound) {
  auto got = this->run(this->store_->get("nope"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), Errc::not_found);
  auto upd = this->run(this->store_->update(record("nope")));
  ASSERT_FALSE(upd);
  EXPECT_EQ(upd.error(), Errc::not_found);
  auto rem = this->run(this->store_->remove("nope"));
  ASSERT_FALSE(rem);
  EXPECT_EQ(rem.error(), Errc::not_found);
}

TYPED_TEST(InfoStoreConformance, UpdateStoresOnlyTheMutableFields) {
  UploadInfo info = record("u1");
  info.size = std::nullopt;
  info.metadata_raw = "a YQ==";
  info.concat = ConcatKind::partial;
  info.concat_raw = "partial";
  this->insert(info);

  UploadInfo changed = info;
  changed.size = 500;
  changed.offset = 200;
  changed.state = UploadState::finished;
  changed.updated_at = 2000;
  changed.expires_at = 0;
  changed.metadata_raw = "ignored aWdub3JlZA==";
  changed.concat_raw = "ignored";
  changed.created_at = 5;
  ASSERT_TRUE(this->run(this->store_->update(changed)));

  auto got = this->run(this->store_->get("u1"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size, std::optional<std::uint64_t>(500));
  EXPECT_EQ(got->offset, 200u);
  EXPECT_EQ(got->state, UploadState::finished);
  EXPECT_EQ(got->updated_at, 2000);
  EXPECT_EQ(got->expires_at, 0);
  EXPECT_EQ(got->metadata_raw, "a YQ==");
  EXPECT_EQ(got->concat_raw, "partial");
  EXPECT_EQ(got->created_at, 1000);
}

TYPED_TEST(InfoStoreConformance, RemoveForgetsTheRecordAndItsPartials) {
  UploadInfo f = record("f1");
  f.concat = ConcatKind::final_upload;
  f.partial_ids = {"p1"};
  this->insert(f);
  ASSERT_TRUE(this->run(this->store_->remove("f1")));
  auto got = this->run(this->store_->get("f1"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), Errc::not_found);
  auto waiting = this->run(this->store_->finals_waiting_on("p1"));
  ASSERT_TRUE(waiting);
  EXPECT_TRUE(waiting->empty());
  this->insert(f);  // the id can be used again
}

TYPED_TEST(InfoStoreConformance, ListExpiredReturnsActiveUploadsPastTheirExpiryOldestFirst) {
  this->insert(record("never", UploadState::active, 0));
  this->insert(record("e300", UploadState::active, 300));
  this->insert(record("e100", UploadState::active, 100));
  this->insert(record("e200", UploadState::active, 200));
  this->insert(record("e250", UploadState::active, 250));
  this->insert(record("done", UploadState::finished, 50));
  this->insert(record("gone", UploadState::terminated, 50));

  auto all = this->run(this->store_->list_expired(250, 10));
  ASSERT_TRUE(all);
  EXPECT_EQ(ids_of(*all), (std::vector<std::string>{"e100", "e200", "e250"}));
  auto first = this->run(this->store_->list_expired(250, 1));
  ASSERT_TRUE(first);
  EXPECT_EQ(ids_of(*first), std::vector<std::string>{"e100"});
  auto none = this->run(this->store_->list_expired(99, 10));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TYPED_TEST(InfoStoreConformance, ListActiveReturnsOnlyActiveUploads) {
  this->insert(record("a1"));
  this->insert(record("a2", UploadState::active, 10));
  this->insert(record("f1", UploadState::finished));
  this->insert(record("t1", UploadState::terminated));
  this->insert(record("x1", UploadState::expired));
  auto active = this->run(this->store_->list_active());
  ASSERT_TRUE(active);
  auto ids = ids_of(*active);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"a1", "a2"}));
}

TYPED_TEST(InfoStoreConformance, FinalsWaitingOnListsActiveFinalsOnceWithTheirPartials) {
  UploadInfo f1 = record("f1");
  f1.concat = ConcatKind::final_upload;
  f1.partial_ids = {"p1", "p2", "p1"};
  UploadInfo f2 = record("f2", UploadState::finished);
  f2.concat = ConcatKind::final_upload;
  f2.partial_ids = {"p1"};
  UploadInfo f3 = record("f3");
  f3.concat = ConcatKind::final_upload;
  f3.partial_ids = {"p3"};
  this->insert(f1);
  this->insert(f2);
  this->insert(f3);

  auto waiting = this->run(this->store_->finals_waiting_on("p1"));
  ASSERT_TRUE(waiting);
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ(waiting->front().id, "f1");
  EXPECT_EQ(waiting->front().partial_ids, (std::vector<std::string>{"p1", "p2", "p1"}));
  auto on_p3 = this->run(this->store_->finals_waiting_on("p3"));
  ASSERT_TRUE(on_p3);
  EXPECT_EQ(ids_of(*on_p3), std::vector<std::string>{"f3"});
  auto on_none = this->run(this->store_->finals_waiting_on("p9"));
  ASSERT_TRUE(on_none);
  EXPECT_TRUE(on_none->empty());
}

TYPED_TEST(InfoStoreConformance, PurgeTombstonesRemovesOnlyOldTombstones) {
  auto old_terminated = record("t_old", UploadState::terminated);
  old_terminated.updated_at = 100;
  auto old_expired = record("x_old", UploadState::expired);
  old_expired.updated_at = 120;
  auto new_terminated = record("t_new", UploadState::terminated);
  new_terminated.updated_at = 200;
  auto old_active = record("a_old");
  old_active.updated_at = 50;
  auto old_finished = record("f_old", UploadState::finished);
  old_finished.updated_at = 50;
  for (const auto& r : {old_terminated, old_expired, new_terminated, old_active, old_finished}) {
    this->insert(r);
  }
  auto purged = this->run(this->store_->purge_tombstones(150));
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 2u);
  for (const char* gone : {"t_old", "x_old"}) {
    auto got = this->run(this->store_->get(gone));
    ASSERT_FALSE(got) << gone;
    EXPECT_EQ(got.error(), Errc::not_found);
  }
  for (const char* kept : {"t_new", "a_old", "f_old"}) {
    EXPECT_TRUE(this->run(this->store_->get(kept))) << kept;
  }
  auto again = this->run(this->store_->purge_tombstones(150));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);
}

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

TEST(SqliteInfoStore, UnusablePathThrowsAtStartUp) {
  test::TempDir dir;
  net::thread_pool pool(1);
  EXPECT_ANY_THROW(SqliteInfoStore(dir.path() / "missing" / "dir" / "vidup.db", pool));
  pool.join();
}

}  // namespace
}  // namespace vidup::store
