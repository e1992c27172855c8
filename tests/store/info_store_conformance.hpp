#pragma once
// InfoStore: the conformance suite every InfoStore backend passes. A backend's test file defines a
// factory struct (static make(const std::filesystem::path& dir, net::thread_pool& pool) returning
// std::unique_ptr<InfoStore>) and instantiates the suite:
//   INSTANTIATE_TYPED_TEST_SUITE_P(MyBackend, InfoStoreConformance, ::testing::Types<MyFactory>);

#include "store/info_store.hpp"
#include "store_test_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace vidup::store {
namespace conformance {

using core::ConcatKind;
using core::Errc;
using core::UploadState;
using test::bytes_of;

inline UploadInfo record(const std::string& id, UploadState state = UploadState::active, std::int64_t expires_at = 0) {
  UploadInfo info;
  info.id = id;
  info.size = 100;
  info.state = state;
  info.created_at = 1000;
  info.updated_at = 1000;
  info.expires_at = expires_at;
  return info;
}

inline std::vector<std::string> ids_of(const std::vector<UploadInfo>& v) {
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

TYPED_TEST_SUITE_P(InfoStoreConformance);

TYPED_TEST_P(InfoStoreConformance, InsertGetRoundTripsEveryField) {
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

TYPED_TEST_P(InfoStoreConformance, OwnerIsKeptByUpdateAndReturnedByEveryList) {
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

TYPED_TEST_P(InfoStoreConformance, DeferredSizeRoundTripsAsNullopt) {
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

TYPED_TEST_P(InfoStoreConformance, InsertOfADuplicateIdFails) {
  this->insert(record("u1"));
  auto again = this->run(this->store_->insert(record("u1")));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), Errc::storage_error);
}

TYPED_TEST_P(InfoStoreConformance, UnknownIdsAreNotFound) {
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

TYPED_TEST_P(InfoStoreConformance, UpdateStoresOnlyTheMutableFields) {
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

TYPED_TEST_P(InfoStoreConformance, RemoveForgetsTheRecordAndItsPartials) {
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

TYPED_TEST_P(InfoStoreConformance, ListExpiredReturnsActiveUploadsPastTheirExpiryOldestFirst) {
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

TYPED_TEST_P(InfoStoreConformance, ListActiveReturnsOnlyActiveUploads) {
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

TYPED_TEST_P(InfoStoreConformance, FinalsWaitingOnListsActiveFinalsOnceWithTheirPartials) {
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

TYPED_TEST_P(InfoStoreConformance, PurgeTombstonesRemovesOnlyOldTombstones) {
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

REGISTER_TYPED_TEST_SUITE_P(InfoStoreConformance,
    InsertGetRoundTripsEveryField,
    OwnerIsKeptByUpdateAndReturnedByEveryList,
    DeferredSizeRoundTripsAsNullopt,
    InsertOfADuplicateIdFails,
    UnknownIdsAreNotFound,
    UpdateStoresOnlyTheMutableFields,
    RemoveForgetsTheRecordAndItsPartials,
    ListExpiredReturnsActiveUploadsPastTheirExpiryOldestFirst,
    ListActiveReturnsOnlyActiveUploads,
    FinalsWaitingOnListsActiveFinalsOnceWithTheirPartials,
    PurgeTombstonesRemovesOnlyOldTombstones);

}  // namespace conformance
}  // namespace vidup::store
