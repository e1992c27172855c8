#pragma once
// Catalog: the conformance suite every Catalog backend passes (keys, projects, folders and videos,
// with pagination and the atomic attach_upload). A backend's test file defines a backend struct
// and instantiates the suite:
//
//   struct MyCatalogBackend {
//     MyCatalogBackend();  // a fresh, empty database, dropped by the destructor
//     // Opens a catalog (and an upload-record store) on that database; called again, it opens
//     // the same database, as a restarted server would.
//     std::unique_ptr<Catalog> open(net::thread_pool& pool);
//     std::unique_ptr<InfoStore> open_uploads(net::thread_pool& pool);
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(MyBackend, CatalogConformance, ::testing::Types<MyCatalogBackend>);

#include "store/catalog.hpp"
#include "store/info_store.hpp"
#include "store_test_support.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vidup::store {
namespace catalog_conformance {

using core::Errc;

inline ApiKey key(const std::string& id, const std::string& secret, std::int64_t created_at,
                  std::optional<std::string> project = std::nullopt) {
  ApiKey k;
  k.id = id;
  k.secret = secret;
  k.name = "name of " + id;
  k.project_id = std::move(project);
  k.created_at = created_at;
  return k;
}

inline Video video(const std::string& id, std::int64_t created_at, const std::string& project = "p1",
                   const std::string& parent = "p1", VideoStatus status = VideoStatus::created) {
  Video v;
  v.id = id;
  v.project_id = project;
  v.parent_id = parent;
  v.title = "title " + id;
  v.filename = id + ".mp4";
  v.filetype = "video/mp4";
  v.status = status;
  v.created_at = created_at;
  v.updated_at = created_at;
  return v;
}

inline std::vector<std::string> ids_of(const std::vector<Video>& v) {
  std::vector<std::string> out;
  for (const auto& x : v) {
    out.push_back(x.id);
  }
  return out;
}

template <class Backend>
class CatalogConformance : public ::testing::Test {
 protected:
  CatalogConformance() { open(); }
  ~CatalogConformance() override {
    catalog_.reset();
    pool_.join();
  }

  // (Re)opens the catalog on the same database.
  void open() {
    catalog_.reset();
    catalog_ = backend_.open(pool_);
  }

  template <class T>
  T run(net::awaitable<T> a) {
    return test::run(io_, std::move(a));
  }

  void add(const Video& v) { ASSERT_TRUE(run(catalog_->insert_video(v))) << v.id; }
  std::vector<std::string> list(const VideoQuery& q) {
    auto r = run(catalog_->list_videos(q));
    EXPECT_TRUE(r) << r.error().message();
    return r ? ids_of(*r) : std::vector<std::string>{};
  }

  Backend backend_;  // first: the database outlives the stores opened on it
  net::io_context io_;
  net::thread_pool pool_{2};
  std::unique_ptr<Catalog> catalog_;
};

TYPED_TEST_SUITE_P(CatalogConformance);

// ---------------------------------------------------------------------------------------------
// Keys

TYPED_TEST_P(CatalogConformance, KeysRoundTripEveryFieldInCreationOrder) {
  ASSERT_TRUE(this->run(this->catalog_->insert_key(key("key_b", "ky_bbbbbbbbbbbbbbbbbbbb", 20, "proj-1"))));
  ApiKey revoked = key("key_a", "ky_aaaaaaaaaaaaaaaaaaaa", 10);
  revoked.revoked = true;
  revoked.revoked_at = 15;
  ASSERT_TRUE(this->run(this->catalog_->insert_key(revoked)));

  auto keys = this->run(this->catalog_->list_keys());
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 2u);
  const ApiKey& a = (*keys)[0];
  EXPECT_EQ(a.id, "key_a");
  EXPECT_EQ(a.secret, "ky_aaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(a.name, "name of key_a");
  EXPECT_EQ(a.project_id, std::nullopt);
  EXPECT_TRUE(a.revoked);
  EXPECT_EQ(a.created_at, 10);
  EXPECT_EQ(a.revoked_at, 15);
  const ApiKey& b = (*keys)[1];
  EXPECT_EQ(b.id, "key_b");
  EXPECT_EQ(b.project_id, std::optional<std::string>("proj-1"));
  EXPECT_FALSE(b.revoked);
  EXPECT_EQ(b.revoked_at, 0);
}

TYPED_TEST_P(CatalogConformance, AKeyIdOrSecretCanBeStoredOnlyOnce) {
  ASSERT_TRUE(this->run(this->catalog_->insert_key(key("key_a", "ky_aaaaaaaaaaaaaaaaaaaa", 1))));
  auto same_id = this->run(this->catalog_->insert_key(key("key_a", "ky_cccccccccccccccccccc", 2)));
  ASSERT_FALSE(same_id);
  EXPECT_EQ(same_id.error(), Errc::storage_error);
  auto same_secret = this->run(this->catalog_->insert_key(key("key_c", "ky_aaaaaaaaaaaaaaaaaaaa", 2)));
  ASSERT_FALSE(same_secret);
  EXPECT_EQ(same_secret.error(), Errc::storage_error);
}

TYPED_TEST_P(CatalogConformance, RevokeByIdTakesEffectAtOnceAndKeepsTheFirstRevocationTime) {
  ASSERT_TRUE(this->run(this->catalog_->insert_key(key("key_a", "ky_aaaaaaaaaaaaaaaaaaaa", 1))));
  ASSERT_TRUE(this->run(this->catalog_->insert_key(key("key_b", "ky_bbbbbbbbbbbbbbbbbbbb", 2))));
  ASSERT_TRUE(this->run(this->catalog_->revoke_key("key_a", 100)));
  ASSERT_TRUE(this->run(this->catalog_->revoke_key("key_a", 200)));  // idempotent
  auto keys = this->run(this->catalog_->list_keys());
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_TRUE((*keys)[0].revoked);
  EXPECT_EQ((*keys)[0].revoked_at, 100);
  EXPECT_FALSE((*keys)[1].revoked);
}

TYPED_TEST_P(CatalogConformance, RevokeBySecretRevokesThatKeyOnly) {
  ASSERT_TRUE(this->run(this->catalog_->insert_key(key("key_a", "ky_aaaaaaaaaaaaaaaaaaaa", 1))));
  ASSERT_TRUE(this->run(this->catalog_->insert_key(key("key_b", "ky_bbbbbbbbbbbbbbbbbbbb", 2))));
  ASSERT_TRUE(this->run(this->catalog_->revoke_key("ky_bbbbbbbbbbbbbbbbbbbb", 50)));
  auto keys = this->run(this->catalog_->list_keys());
  ASSERT_TRUE(keys);
  EXPECT_FALSE((*keys)[0].revoked);
  EXPECT_TRUE((*keys)[1].revoked);
  EXPECT_EQ((*keys)[1].revoked_at, 50);
}

TYPED_TEST_P(CatalogConformance, RevokeOfAnUnknownKeyIsNotFound) {
  auto r = this->run(this->catalog_->revoke_key("key_nope", 1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::not_found);
}

// ---------------------------------------------------------------------------------------------
// Projects and folders

TYPED_TEST_P(CatalogConformance, ProjectsRoundTripAndListInCreationOrder) {
  ASSERT_TRUE(this->run(this->catalog_->insert_project(Project{"p2", "Second", 20})));
  ASSERT_TRUE(this->run(this->catalog_->insert_project(Project{"p1", "First", 10})));
  auto p = this->run(this->catalog_->get_project("p2"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id, "p2");
  EXPECT_EQ(p->name, "Second");
  EXPECT_EQ(p->created_at, 20);
  auto all = this->run(this->catalog_->list_projects());
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "p1");
  EXPECT_EQ((*all)[1].id, "p2");
  auto missing = this->run(this->catalog_->get_project("p9"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), Errc::not_found);
  auto again = this->run(this->catalog_->insert_project(Project{"p1", "Again", 30}));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), Errc::storage_error);
}

TYPED_TEST_P(CatalogConformance, FoldersRoundTripAndListOnlyTheirProject) {
  ASSERT_TRUE(this->run(this->catalog_->insert_folder(Folder{"f2", "p1", "f1", "Nested", 20})));
  ASSERT_TRUE(this->run(this->catalog_->insert_folder(Folder{"f1", "p1", "p1", "Top", 10})));
  ASSERT_TRUE(this->run(this->catalog_->insert_folder(Folder{"g1", "p2", "p2", "Other", 5})));
  auto f = this->run(this->catalog_->get_folder("f2"));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->project_id, "p1");
  EXPECT_EQ(f->parent_id, "f1");
  EXPECT_EQ(f->name, "Nested");
  EXPECT_EQ(f->created_at, 20);
  auto in_p1 = this->run(this->catalog_->list_folders("p1"));
  ASSERT_TRUE(in_p1);
  ASSERT_EQ(in_p1->size(), 2u);
  EXPECT_EQ((*in_p1)[0].id, "f1");
  EXPECT_EQ((*in_p1)[1].id, "f2");
  auto in_p3 = this->run(this->catalog_->list_folders("p3"));
  ASSERT_TRUE(in_p3);
  EXPECT_TRUE(in_p3->empty());
  auto missing = this->run(this->catalog_->get_folder("nope"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), Errc::not_found);
}

// ---------------------------------------------------------------------------------------------
// Videos

TYPED_TEST_P(CatalogConformance, VideosRoundTripEveryField) {
  Video v = video("v1", 1700000000123, "p1", "f1", VideoStatus::uploading);
  v.size = 12345678901234ULL;
  v.bytes_received = 42;
  v.updated_at = 1700000000456;
  this->add(v);
  this->add(video("v2", 5));  // no size, no upload

  auto got = this->run(this->catalog_->get_video("v1"));
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->id, "v1");
  EXPECT_EQ(got->project_id, "p1");
  EXPECT_EQ(got->parent_id, "f1");
  EXPECT_EQ(got->title, "title v1");
  EXPECT_EQ(got->filename, "v1.mp4");
  EXPECT_EQ(got->filetype, "video/mp4");
  EXPECT_EQ(got->size, v.size);
  EXPECT_EQ(got->status, VideoStatus::uploading);
  EXPECT_EQ(got->bytes_received, 42u);
  EXPECT_EQ(got->upload_id, "");
  EXPECT_EQ(got->created_at, 1700000000123);
  EXPECT_EQ(got->updated_at, 1700000000456);

  auto bare = this->run(this->catalog_->get_video("v2"));
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->size, std::nullopt);
  EXPECT_EQ(bare->upload_id, "");
}

TYPED_TEST_P(CatalogConformance, UnknownVideosAreNotFound) {
  auto got = this->run(this->catalog_->get_video("nope"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), Errc::not_found);
  auto upd = this->run(this->catalog_->update_video(video("nope", 1)));
  ASSERT_FALSE(upd);
  EXPECT_EQ(upd.error(), Errc::not_found);
  auto del = this->run(this->catalog_->delete_video("nope"));
  ASSERT_FALSE(del);
  EXPECT_EQ(del.error(), Errc::not_found);
  auto att = this->run(this->catalog_->attach_upload("nope", "u1", 1));
  ASSERT_FALSE(att);
  EXPECT_EQ(att.error(), Errc::not_found);
}

TYPED_TEST_P(CatalogConformance, UpdateVideoWritesTheMutableFieldsButNeverTheUploadIdOrCreation) {
  this->add(video("v1", 10));
  ASSERT_TRUE(this->run(this->catalog_->attach_upload("v1", "up1", 11)));

  Video changed = video("v1", 999, "p2", "f9", VideoStatus::uploaded);  // a stale copy: no upload_id
  changed.title = "New title";
  changed.filename = "new.mov";
  changed.filetype = "video/quicktime";
  changed.size = 300;
  changed.bytes_received = 300;
  changed.updated_at = 50;
  ASSERT_TRUE(this->run(this->catalog_->update_video(changed)));

  auto got = this->run(this->catalog_->get_video("v1"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->project_id, "p2");
  EXPECT_EQ(got->parent_id, "f9");
  EXPECT_EQ(got->title, "New title");
  EXPECT_EQ(got->filename, "new.mov");
  EXPECT_EQ(got->filetype, "video/quicktime");
  EXPECT_EQ(got->size, std::optional<std::uint64_t>(300));
  EXPECT_EQ(got->bytes_received, 300u);
  EXPECT_EQ(got->status, VideoStatus::uploaded);
  EXPECT_EQ(got->updated_at, 50);
  EXPECT_EQ(got->created_at, 10);
  EXPECT_EQ(got->upload_id, "up1");
}

TYPED_TEST_P(CatalogConformance, AttachUploadSucceedsOnceThenReportsVideoHasUpload) {
  this->add(video("v1", 10));
  ASSERT_TRUE(this->run(this->catalog_->attach_upload("v1", "up1", 20)));
  auto got = this->run(this->catalog_->get_video("v1"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->upload_id, "up1");
  EXPECT_EQ(got->updated_at, 20);

  for (const char* upload : {"up2", "up1"}) {
    auto again = this->run(this->catalog_->attach_upload("v1", upload, 30));
    ASSERT_FALSE(again) << upload;
    EXPECT_EQ(again.error(), Errc::video_has_upload) << upload;
  }
  auto still = this->run(this->catalog_->get_video("v1"));
  ASSERT_TRUE(still);
  EXPECT_EQ(still->upload_id, "up1");
  EXPECT_EQ(still->updated_at, 20);
}

TYPED_TEST_P(CatalogConformance, AnUploadBelongsToOneVideoOnly) {
  this->add(video("v1", 10));
  this->add(video("v2", 11));
  ASSERT_TRUE(this->run(this->catalog_->attach_upload("v1", "up1", 20)));
  auto second = this->run(this->catalog_->attach_upload("v2", "up1", 21));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), Errc::storage_error);
}

TYPED_TEST_P(CatalogConformance, DeleteVideoForgetsItAndFreesItsUpload) {
  this->add(video("v1", 10));
  ASSERT_TRUE(this->run(this->catalog_->attach_upload("v1", "up1", 20)));
  ASSERT_TRUE(this->run(this->catalog_->delete_video("v1")));
  auto got = this->run(this->catalog_->get_video("v1"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), Errc::not_found);
  this->add(video("v2", 30));
  EXPECT_TRUE(this->run(this->catalog_->attach_upload("v2", "up1", 40)));
}

TYPED_TEST_P(CatalogConformance, ListVideosIsNewestFirstWithTiesBrokenByIdDescending) {
  this->add(video("b", 10));
  this->add(video("a", 20));
  this->add(video("c", 10));
  this->add(video("d", 5));
  EXPECT_EQ(this->list(VideoQuery{}), (std::vector<std::string>{"a", "c", "b", "d"}));
}

TYPED_TEST_P(CatalogConformance, ListVideosPagesWithTheLastIdOfThePreviousPage) {
  for (const auto& [id, at] : std::vector<std::pair<std::string, std::int64_t>>{
           {"v1", 1}, {"v2", 2}, {"v3", 3}, {"v4a", 4}, {"v4b", 4}, {"v5", 5}, {"v6", 6}}) {
    this->add(video(id, at));
  }
  VideoQuery q;
  q.limit = 3;
  std::vector<std::string> pages;
  std::vector<std::size_t> sizes;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = this->list(q);
    sizes.push_back(page.size());
    if (page.empty()) {
      break;
    }
    pages.insert(pages.end(), page.begin(), page.end());
    q.after = page.back();
  }
  EXPECT_EQ(pages, (std::vector<std::string>{"v6", "v5", "v4b", "v4a", "v3", "v2", "v1"}));
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 1, 0}));
}

TYPED_TEST_P(CatalogConformance, ListVideosAfterAnUnknownIdIsNotFound) {
  this->add(video("v1", 1));
  VideoQuery q;
  q.after = "gone";
  auto r = this->run(this->catalog_->list_videos(q));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::not_found);
}

TYPED_TEST_P(CatalogConformance, ListVideosFiltersByProjectParentAndStatusTogether) {
  this->add(video("p1-root-created", 1, "p1", "p1"));
  this->add(video("p1-folder-created", 2, "p1", "f1"));
  this->add(video("p1-folder-uploaded", 3, "p1", "f1", VideoStatus::uploaded));
  this->add(video("p2-root-uploaded", 4, "p2", "p2", VideoStatus::uploaded));
  this->add(video("p2-folder-created", 5, "p2", "f1"));  // same parent id in another project

  VideoQuery by_project;
  by_project.project_id = "p1";
  EXPECT_EQ(this->list(by_project),
            (std::vector<std::string>{"p1-folder-uploaded", "p1-folder-created", "p1-root-created"}));

  VideoQuery by_parent;
  by_parent.parent_id = "f1";
  EXPECT_EQ(this->list(by_parent),
            (std::vector<std::string>{"p2-folder-created", "p1-folder-uploaded", "p1-folder-created"}));

  VideoQuery by_status;
  by_status.status = VideoStatus::uploaded;
  EXPECT_EQ(this->list(by_status), (std::vector<std::string>{"p2-root-uploaded", "p1-folder-uploaded"}));

  VideoQuery all_three;
  all_three.project_id = "p1";
  all_three.parent_id = "f1";
  all_three.status = VideoStatus::created;
  EXPECT_EQ(this->list(all_three), (std::vector<std::string>{"p1-folder-created"}));

  VideoQuery paged = by_project;
  paged.limit = 1;
  paged.after = "p1-folder-uploaded";
  EXPECT_EQ(this->list(paged), (std::vector<std::string>{"p1-folder-created"}));

  VideoQuery nothing;
  nothing.project_id = "p9";
  EXPECT_TRUE(this->list(nothing).empty());
}

TYPED_TEST_P(CatalogConformance, ListVideosClampsTheLimitToOneThroughTwoHundred) {
  for (int i = 0; i < 205; ++i) {
    this->add(video("v" + std::to_string(1000 + i), i));
  }
  VideoQuery zero;
  zero.limit = 0;
  EXPECT_EQ(this->list(zero).size(), 1u);
  VideoQuery huge;
  huge.limit = 1'000'000;
  EXPECT_EQ(this->list(huge).size(), 200u);
}

// ---------------------------------------------------------------------------------------------
// The database

TYPED_TEST_P(CatalogConformance, RecordsSurviveAReopen) {
  ASSERT_TRUE(this->run(this->catalog_->insert_key(key("key_a", "ky_aaaaaaaaaaaaaaaaaaaa", 1, "p1"))));
  ASSERT_TRUE(this->run(this->catalog_->insert_project(Project{"p1", "One", 2})));
  ASSERT_TRUE(this->run(this->catalog_->insert_folder(Folder{"f1", "p1", "p1", "Top", 3})));
  this->add(video("v1", 4, "p1", "f1"));
  ASSERT_TRUE(this->run(this->catalog_->attach_upload("v1", "up1", 5)));
  ASSERT_TRUE(this->run(this->catalog_->revoke_key("key_a", 6)));

  this->open();  // migrations already applied: nothing to do

  auto keys = this->run(this->catalog_->list_keys());
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_TRUE(keys->front().revoked);
  EXPECT_EQ(keys->front().project_id, std::optional<std::string>("p1"));
  EXPECT_TRUE(this->run(this->catalog_->get_project("p1")));
  EXPECT_TRUE(this->run(this->catalog_->get_folder("f1")));
  auto v = this->run(this->catalog_->get_video("v1"));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->upload_id, "up1");
  EXPECT_EQ(v->parent_id, "f1");
}

TYPED_TEST_P(CatalogConformance, SharesOneDatabaseWithTheUploadRecords) {
  auto uploads = this->backend_.open_uploads(this->pool_);
  core::UploadInfo info;
  info.id = "up1";
  info.size = 10;
  info.owner = "v1";
  ASSERT_TRUE(this->run(uploads->insert(info)));
  this->add(video("v1", 1));
  ASSERT_TRUE(this->run(this->catalog_->attach_upload("v1", "up1", 2)));

  this->catalog_.reset();
  auto uploads_again = this->backend_.open_uploads(this->pool_);  // opened first this time
  this->open();
  auto u = this->run(uploads_again->get("up1"));
  ASSERT_TRUE(u);
  EXPECT_EQ(u->owner, "v1");
  auto v = this->run(this->catalog_->get_video("v1"));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->upload_id, "up1");
}

REGISTER_TYPED_TEST_SUITE_P(CatalogConformance, KeysRoundTripEveryFieldInCreationOrder,
                            AKeyIdOrSecretCanBeStoredOnlyOnce,
                            RevokeByIdTakesEffectAtOnceAndKeepsTheFirstRevocationTime, RevokeBySecretRevokesThatKeyOnly,
                            RevokeOfAnUnknownKeyIsNotFound, ProjectsRoundTripAndListInCreationOrder,
                            FoldersRoundTripAndListOnlyTheirProject, VideosRoundTripEveryField,
                            UnknownVideosAreNotFound, UpdateVideoWritesTheMutableFieldsButNeverTheUploadIdOrCreation,
                            AttachUploadSucceedsOnceThenReportsVideoHasUpload, AnUploadBelongsToOneVideoOnly,
                            DeleteVideoForgetsItAndFreesItsUpload, ListVideosIsNewestFirstWithTiesBrokenByIdDescending,
                            ListVideosPagesWithTheLastIdOfThePreviousPage, ListVideosAfterAnUnknownIdIsNotFound,
                            ListVideosFiltersByProjectParentAndStatusTogether,
                            ListVideosClampsTheLimitToOneThroughTwoHundred, RecordsSurviveAReopen,
                            SharesOneDatabaseWithTheUploadRecords);

}  // namespace catalog_conformance
}  // namespace vidup::store
