#pragma once
// DataStore: the conformance suite every DataStore backend passes. A backend's test file defines a
// factory struct (static make(const std::filesystem::path& dir, net::thread_pool& pool) returning
// std::unique_ptr<DataStore>, or of a type derived from DataStore, Concater and ContentServer; `using Store = ...;` names it) and instantiates the suite:
//   INSTANTIATE_TYPED_TEST_SUITE_P(MyBackend, DataStoreConformance, ::testing::Types<MyFactory>);
//
// A backend whose upload record is the truth for the offset (S3, docs/decisions/0003-s3-layout.md)
// differs from file/memory within the data_store.hpp contract; its factory says how with traits
// (absent, a trait has the file/memory value):
//   static constexpr bool kRecoverKeepsUncommittedBytes = false;  // recover(info) returns what the
//       record says, so bytes a writer wrote but never committed are not counted (the contract
//       allows the size at open); the suite then passes each upload's last committed size, as the
//       handler's record would, to recover() and open_reader().
//   static constexpr bool kReadsUnfinishedUploads = false;  // open_reader() needs a finished record
//       (offset == size) and finishes the upload for good; checks midway compare recovered sizes.

#include "store/data_store.hpp"
#include "store_test_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vidup::store {
namespace conformance {

using core::ConcatKind;
using core::Errc;
using core::UploadState;
using test::bytes_of;

inline UploadInfo upload(const std::string& id, std::uint64_t offset = 0) {
  UploadInfo info;
  info.id = id;
  info.offset = offset;
  return info;
}

template <class Backend>
constexpr bool recover_keeps_uncommitted_bytes() {
  if constexpr (requires { Backend::kRecoverKeepsUncommittedBytes; }) {
    return Backend::kRecoverKeepsUncommittedBytes;
  } else {
    return true;
  }
}

template <class Backend>
constexpr bool reads_unfinished_uploads() {
  if constexpr (requires { Backend::kReadsUnfinishedUploads; }) {
    return Backend::kReadsUnfinishedUploads;
  } else {
    return true;
  }
}

// Passes every call through and remembers the size each successful commit() returns, as the
// handler saves it in the upload's record.
class RecordingWriter final : public UploadWriter {
 public:
  RecordingWriter(std::unique_ptr<UploadWriter> inner, std::uint64_t& recorded)
      : inner_(std::move(inner)), recorded_(recorded) {}
  net::awaitable<Result<void>> write(std::span<const std::byte> data) override { co_return co_await inner_->write(data); }
  [[nodiscard]] std::uint64_t written() const override { return inner_->written(); }
  net::awaitable<Result<std::uint64_t>> commit() override {
    auto size = co_await inner_->commit();
    if (size) {
      recorded_ = *size;
    }
    co_return size;
  }
  net::awaitable<Result<void>> discard() override { co_return co_await inner_->discard(); }

 private:
  std::unique_ptr<UploadWriter> inner_;
  std::uint64_t& recorded_;
};

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
    return w ? std::make_unique<RecordingWriter>(std::move(*w), recorded_[id]) : nullptr;
  }

  // The upload as its record would say after the last commit; finished when reads need it.
  UploadInfo record(const std::string& id) {
    UploadInfo info = upload(id, recorded_[id]);
    if constexpr (!reads_unfinished_uploads<Backend>()) {
      info.size = info.offset;
      info.state = UploadState::finished;
    }
    return info;
  }

  // Writes `text` at `offset` through a fresh writer and commits; returns the new size.
  std::uint64_t append(const std::string& id, std::uint64_t offset, std::string_view text, bool staged = false) {
    auto w = writer(id, offset, staged);
    if (!w) {
      return 0;  // writer() failed the test already
    }
    EXPECT_TRUE(run(w->write(bytes_of(text))));
    auto size = run(w->commit());
    EXPECT_TRUE(size);
    return size ? *size : 0;
  }

  std::string read(const std::string& id, std::uint64_t start, std::uint64_t length, std::size_t chunk = 3) {
    auto src = run(store_->open_reader(reads_unfinished_uploads<Backend>() ? upload(id) : record(id), start, length));
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
    auto size = run(store_->recover(recover_keeps_uncommitted_bytes<Backend>() ? upload(id) : record(id)));
    EXPECT_TRUE(size);
    return read(id, 0, size ? *size : 0, 4096);
  }

  // stored(id) == expected, for an upload that gets more bytes afterwards: where reading would
  // finish the upload, only the recovered size is compared.
  void expect_stored_midway(const std::string& id, std::string_view expected) {
    if constexpr (reads_unfinished_uploads<Backend>()) {
      EXPECT_EQ(stored(id), expected);
    } else {
      auto size = run(store_->recover(record(id)));
      ASSERT_TRUE(size);
      EXPECT_EQ(*size, expected.size());
    }
  }

  test::TempDir dir_;
  net::io_context io_;
  net::thread_pool pool_{2};
  std::unique_ptr<typename Backend::Store> store_;
  std::map<std::string, std::uint64_t> recorded_;  // id -> size of the last commit
};

TYPED_TEST_SUITE_P(DataStoreConformance);

TYPED_TEST_P(DataStoreConformance, CreateWriteCommitReportsTheNewSize) {
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

TYPED_TEST_P(DataStoreConformance, EmptyWriteAndEmptyCommitChangeNothing) {
  this->create("u1");
  auto w = this->writer("u1", 0, true);
  ASSERT_TRUE(this->run(w->write({})));
  auto size = this->run(w->commit());
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 0u);
  EXPECT_EQ(this->stored("u1"), "");
}

TYPED_TEST_P(DataStoreConformance, CreateTwiceFails) {
  this->create("u1");
  auto again = this->run(this->store_->create(upload("u1")));
  EXPECT_FALSE(again);
}

TYPED_TEST_P(DataStoreConformance, OpenWriterOfUnknownUploadIsNotFound) {
  auto w = this->run(this->store_->open_writer(upload("nope"), false));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), Errc::not_found);
}

TYPED_TEST_P(DataStoreConformance, StagedCommitKeepsTheBytes) {
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

TYPED_TEST_P(DataStoreConformance, StagedDiscardRestoresTheSizeAtOpen) {
  this->create("u1");
  ASSERT_EQ(this->append("u1", 0, "abc"), 3u);
  auto w = this->writer("u1", 3, true);
  ASSERT_TRUE(this->run(w->write(bytes_of("def"))));
  ASSERT_TRUE(this->run(w->discard()));
  EXPECT_EQ(w->written(), 0u);
  w.reset();
  this->expect_stored_midway("u1", "abc");
  EXPECT_EQ(this->append("u1", 3, "xyz"), 6u);
  EXPECT_EQ(this->stored("u1"), "abcxyz");
}

TYPED_TEST_P(DataStoreConformance, WriterDropsBytesBeyondTheAcknowledgedOffset) {
  this->create("u1");
  ASSERT_EQ(this->append("u1", 0, "hello world"), 11u);
  EXPECT_EQ(this->append("u1", 5, "!"), 6u);
  EXPECT_EQ(this->stored("u1"), "hello!");
}

TYPED_TEST_P(DataStoreConformance, WriterRefusesAnOffsetBeyondTheStoredBytes) {
  this->create("u1");
  ASSERT_EQ(this->append("u1", 0, "abc"), 3u);
  auto w = this->run(this->store_->open_writer(upload("u1", 4), false));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), Errc::storage_error);
}

TYPED_TEST_P(DataStoreConformance, RecoverKeepsEverythingAnAbandonedWriterWrote) {
  this->create("u1");
  {
    auto w = this->writer("u1", 0, false);
    ASSERT_TRUE(this->run(w->write(bytes_of("abc"))));
    ASSERT_TRUE(this->run(w->write(bytes_of("def"))));
  }  // dropped without commit: a crash after the bytes reached the store
  auto size = this->run(this->store_->recover(upload("u1", 0)));
  ASSERT_TRUE(size);
  if constexpr (recover_keeps_uncommitted_bytes<TypeParam>()) {
    EXPECT_EQ(*size, 6u);
    EXPECT_EQ(this->stored("u1"), "abcdef");
  } else {
    EXPECT_EQ(*size, 0u);  // the size at open: nothing was committed
    EXPECT_EQ(this->stored("u1"), "");
  }
}

TYPED_TEST_P(DataStoreConformance, RecoverDropsWhatAnAbandonedStagedWriterWrote) {
  this->create("u1");
  ASSERT_EQ(this->append("u1", 0, "abc"), 3u);
  {
    auto w = this->writer("u1", 3, true);
    ASSERT_TRUE(this->run(w->write(bytes_of("unverified"))));
  }
  auto size = this->run(this->store_->recover(upload("u1", 3)));
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 3u);
  this->expect_stored_midway("u1", "abc");
  // Recovery repaired for good: a later non-staged append survives another recovery.
  EXPECT_EQ(this->append("u1", 3, "def"), 6u);
  auto again = this->run(this->store_->recover(upload("u1", 6)));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 6u);
  if constexpr (!reads_unfinished_uploads<TypeParam>()) {
    EXPECT_EQ(this->stored("u1"), "abcdef");
  }
}

TYPED_TEST_P(DataStoreConformance, AnAbandonedStagedWriterDoesNotHauntTheNextWriter) {
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

TYPED_TEST_P(DataStoreConformance, RecoverOfUnknownUploadIsNotFound) {
  auto size = this->run(this->store_->recover(upload("nope")));
  ASSERT_FALSE(size);
  EXPECT_EQ(size.error(), Errc::not_found);
}

TYPED_TEST_P(DataStoreConformance, RemoveForgetsTheBytesAndToleratesUnknownIds) {
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

TYPED_TEST_P(DataStoreConformance, ConcatenateJoinsPartialsInOrderEvenRepeated) {
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

TYPED_TEST_P(DataStoreConformance, ConcatenateOfNoPartialsIsEmpty) {
  this->create("f");
  ASSERT_TRUE(this->run(this->store_->concatenate(upload("f"), {})));
  EXPECT_EQ(this->stored("f"), "");
}

TYPED_TEST_P(DataStoreConformance, ConcatenateFailsOnAMissingPartial) {
  this->create("f");
  EXPECT_FALSE(this->run(this->store_->concatenate(upload("f"), {upload("ghost", 3)})));
}

TYPED_TEST_P(DataStoreConformance, ConcatenateCopiesLargePartials) {
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

TYPED_TEST_P(DataStoreConformance, ReaderServesTheRequestedRange) {
  this->create("u1");
  ASSERT_EQ(this->append("u1", 0, "0123456789"), 10u);
  EXPECT_EQ(this->read("u1", 0, 10), "0123456789");
  EXPECT_EQ(this->read("u1", 2, 5), "23456");
  EXPECT_EQ(this->read("u1", 9, 1, 64), "9");
  EXPECT_EQ(this->read("u1", 10, 0), "");
  EXPECT_EQ(this->read("u1", 0, 0), "");
}

TYPED_TEST_P(DataStoreConformance, ReaderRefusesRangesPastTheEnd) {
  this->create("u1");
  ASSERT_EQ(this->append("u1", 0, "0123456789"), 10u);
  EXPECT_FALSE(this->run(this->store_->open_reader(upload("u1"), 0, 11)));
  EXPECT_FALSE(this->run(this->store_->open_reader(upload("u1"), 11, 0)));
  auto missing = this->run(this->store_->open_reader(upload("nope"), 0, 0));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), Errc::not_found);
}

REGISTER_TYPED_TEST_SUITE_P(DataStoreConformance,
    CreateWriteCommitReportsTheNewSize,
    EmptyWriteAndEmptyCommitChangeNothing,
    CreateTwiceFails,
    OpenWriterOfUnknownUploadIsNotFound,
    StagedCommitKeepsTheBytes,
    StagedDiscardRestoresTheSizeAtOpen,
    WriterDropsBytesBeyondTheAcknowledgedOffset,
    WriterRefusesAnOffsetBeyondTheStoredBytes,
    RecoverKeepsEverythingAnAbandonedWriterWrote,
    RecoverDropsWhatAnAbandonedStagedWriterWrote,
    AnAbandonedStagedWriterDoesNotHauntTheNextWriter,
    RecoverOfUnknownUploadIsNotFound,
    RemoveForgetsTheBytesAndToleratesUnknownIds,
    ConcatenateJoinsPartialsInOrderEvenRepeated,
    ConcatenateOfNoPartialsIsEmpty,
    ConcatenateFailsOnAMissingPartial,
    ConcatenateCopiesLargePartials,
    ReaderServesTheRequestedRange,
    ReaderRefusesRangesPastTheEnd);

}  // namespace conformance
}  // namespace vidup::store
