// Handler::recover(): at start-up the stored bytes are the truth (docs/decisions/0001-offset-truth.md).
// A crash is played by opening a writer on the DataStore directly and dropping it without commit().
#include "fixture.hpp"

namespace vidup::test {
namespace {

class Recover : public HandlerFixture {
 protected:
  // Appends `bytes` behind the handler's back and abandons the writer, like a crash mid-PATCH.
  void abandoned_write(const std::string& id, std::string_view bytes, bool staged) {
    auto info = record(id);
    ASSERT_TRUE(info);
    auto writer = run(data->open_writer(*info, staged));
    ASSERT_TRUE(writer);
    auto wrote = run((*writer)->write(std::as_bytes(std::span(bytes.data(), bytes.size()))));
    ASSERT_TRUE(wrote);
  }
  std::size_t recover() {
    auto n = run(handler->recover());
    EXPECT_TRUE(n);
    return n ? *n : 0;
  }
};

TEST_F(Recover, AnAbandonedNonStagedWriteBecomesTheOffset) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "abc").status, 204u);
  abandoned_write(id, "defg", false);
  EXPECT_EQ(record(id)->offset, 3u);  // never acknowledged
  EXPECT_EQ(recover(), 1u);
  EXPECT_EQ(record(id)->offset, 7u);
  EXPECT_EQ(offset_of(id), 7u);
  EXPECT_EQ(stored(id), "abcdefg");
  auto r = patch(id, 7, "hij");
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_EQ(stored(id), "abcdefghij");
}

TEST_F(Recover, AnAbandonedStagedWriteIsForgotten) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "abc").status, 204u);
  abandoned_write(id, "defg", true);
  EXPECT_EQ(recover(), 0u);
  EXPECT_EQ(offset_of(id), 3u);
  EXPECT_EQ(stored(id), "abc");
}

TEST_F(Recover, StoredBytesReachingTheLengthFinishTheUpload) {
  const auto id = create(5);
  abandoned_write(id, "hello", false);
  EXPECT_EQ(recover(), 1u);
  auto h = head(id);
  EXPECT_EQ(hdr(h, "Upload-Offset"), "5");
  EXPECT_FALSE(h.headers.has("Upload-Expires"));
  EXPECT_TRUE(record(id)->is_finished());
  EXPECT_EQ(hooks.finished, std::vector<std::string>{id});
}

TEST_F(Recover, ARecordWhoseBytesAreMissingIsBuried) {
  const auto id = create(5);
  ASSERT_TRUE(run(data->remove(id)));
  EXPECT_EQ(recover(), 1u);
  EXPECT_EQ(head(id).status, 410u);
}

TEST_F(Recover, ConsistentUploadsAreLeftAloneAndRecoveryIsIdempotent) {
  const auto a = create(10);
  ASSERT_EQ(patch(a, 0, "abc").status, 204u);
  const auto b = create_deferred();
  ASSERT_EQ(patch(b, 0, "xyz").status, 204u);
  const auto done = create(1);
  ASSERT_EQ(patch(done, 0, "!").status, 204u);
  EXPECT_EQ(recover(), 0u);
  abandoned_write(b, "w", false);
  EXPECT_EQ(recover(), 1u);
  EXPECT_EQ(recover(), 0u);
  EXPECT_EQ(offset_of(a), 3u);
  EXPECT_EQ(offset_of(b), 4u);
  EXPECT_EQ(hdr(head(b), "Upload-Defer-Length"), "1");
}

TEST_F(Recover, AFinalWaitingOnAPartialRecoveredToCompletionIsConcatenated) {
  const auto a = create_partial(5);
  auto f = create_final({a});
  ASSERT_EQ(f.status, 201u);
  const auto final_id = id_from_location(hdr(f, "Location"));
  abandoned_write(a, "hello", false);
  recover();
  auto h = head(final_id);
  EXPECT_EQ(hdr(h, "Upload-Offset"), "5");
  EXPECT_EQ(stored(final_id), "hello");
}

}  // namespace
}  // namespace vidup::test
