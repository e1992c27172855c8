#include "client/fingerprint_store.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace vidup::client {
namespace {

namespace fs = std::filesystem;

class FingerprintStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vidup-client-test-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Fingerprint fp(std::string path, std::uint64_t size = 10) {
    return Fingerprint{std::move(path), size, 123456789, "http://127.0.0.1:8080/files/"};
  }
  std::string read(const fs::path& p) const {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  fs::path dir_;
};

TEST_F(FingerprintStoreTest, RoundTripsAnUploadAndItsParts) {
  FingerprintStore store(dir_ / "state");
  EXPECT_FALSE(store.find(fp("/a")));
  ASSERT_TRUE(store.put(fp("/a"), StoredUpload{"http://h/files/1", {}, std::string("vid-1"), 42}));
  ASSERT_TRUE(store.put(fp("/b"), StoredUpload{"", {"http://h/files/p1", ""}, std::nullopt, 43}));

  FingerprintStore reopened(dir_ / "state");  // a new process
  const auto a = reopened.find(fp("/a"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->upload_url, "http://h/files/1");
  EXPECT_EQ(a->video_id, "vid-1");
  EXPECT_EQ(a->created_at, 42);
  const auto b = reopened.find(fp("/b"));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->parts, (std::vector<std::string>{"http://h/files/p1", ""}));
  EXPECT_FALSE(b->video_id);
}

TEST_F(FingerprintStoreTest, EveryFieldOfTheFingerprintCounts) {
  FingerprintStore store(dir_);
  ASSERT_TRUE(store.put(fp("/a"), StoredUpload{"u", {}, std::nullopt, 0}));
  EXPECT_FALSE(store.find(fp("/a", 11)));  // size
  auto other_mtime = fp("/a");
  other_mtime.mtime_ns += 1;
  EXPECT_FALSE(store.find(other_mtime));
  auto other_endpoint = fp("/a");
  other_endpoint.endpoint = "http://other/files/";
  EXPECT_FALSE(store.find(other_endpoint));
  EXPECT_TRUE(store.find(fp("/a")));
}

TEST_F(FingerprintStoreTest, RemoveForgetsOnlyThatUpload) {
  FingerprintStore store(dir_);
  ASSERT_TRUE(store.put(fp("/a"), StoredUpload{"ua", {}, std::nullopt, 0}));
  ASSERT_TRUE(store.put(fp("/b"), StoredUpload{"ub", {}, std::nullopt, 0}));
  ASSERT_TRUE(store.remove(fp("/a")));
  EXPECT_FALSE(store.find(fp("/a")));
  EXPECT_TRUE(store.find(fp("/b")));
  ASSERT_TRUE(store.remove(fp("/a")));  // twice is fine
  EXPECT_TRUE(FingerprintStore(dir_ / "never-created").remove(fp("/a")));
}

TEST_F(FingerprintStoreTest, WritesAtomicallyLeavingNoTempFileAndValidJson) {
  FingerprintStore store(dir_);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(store.put(fp("/f" + std::to_string(i)), StoredUpload{"u" + std::to_string(i), {}, std::nullopt, i}));
  }
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }
  const auto root = boost::json::parse(read(store.file()));
  EXPECT_EQ(root.at("version").as_int64(), 1);
  EXPECT_EQ(root.at("uploads").as_object().size(), 20U);
}

TEST_F(FingerprintStoreTest, ConcurrentWritersLoseNothing) {
  FingerprintStore one(dir_);
  FingerprintStore two(dir_);  // as two processes would
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto& s = (t % 2 == 0) ? one : two;
        EXPECT_TRUE(s.put(fp("/t" + std::to_string(t) + "-" + std::to_string(i)), StoredUpload{"u", {}, std::nullopt, 0}));
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(boost::json::parse(read(one.file())).at("uploads").as_object().size(), 40U);
}

TEST_F(FingerprintStoreTest, AFileThatDoesNotParseCountsAsEmpty) {
  { std::ofstream(dir_ / "uploads.json") << "{not json"; }
  FingerprintStore store(dir_);
  EXPECT_FALSE(store.find(fp("/a")));
  ASSERT_TRUE(store.put(fp("/a"), StoredUpload{"u", {}, std::nullopt, 0}));
  EXPECT_TRUE(store.find(fp("/a")));
}

TEST_F(FingerprintStoreTest, FingerprintOfARealFileIsAbsoluteWithSize) {
  const auto file = dir_ / "clip.mp4";
  { std::ofstream(file) << "12345"; }
  const auto here = fs::current_path();
  fs::current_path(dir_);
  auto f = fingerprint_file("clip.mp4", "http://h/files/");
  fs::current_path(here);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->path, file.string());
  EXPECT_EQ(f->size, 5U);
  EXPECT_GT(f->mtime_ns, 0);
  EXPECT_EQ(f->key().size(), 64U);
  EXPECT_FALSE(fingerprint_file(dir_ / "missing", "http://h/"));
}

TEST(DefaultStateDir, XdgStateHomeElseHomeLocalState) {
  ::setenv("XDG_STATE_HOME", "/xdg", 1);
  EXPECT_EQ(default_state_dir(), fs::path("/xdg/vidup"));
  ::setenv("XDG_STATE_HOME", "relative", 1);  // ignored, as the XDG spec says
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(default_state_dir(), fs::path("/home/u/.local/state/vidup"));
  ::unsetenv("XDG_STATE_HOME");
  EXPECT_EQ(default_state_dir(), fs::path("/home/u/.local/state/vidup"));
}

}  // namespace
}  // namespace vidup::client
