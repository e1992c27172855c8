// §12 termination (DEL-02..10). DEL-01 is in options_test.cpp, DEL-07 (DELETE during a PATCH) in
// concurrency_test.cpp, DEL-09 in global_test.cpp (G-06).
#include "fixture.hpp"

namespace vidup::test {
namespace {

class Termination : public HandlerFixture {};

TEST_F(Termination, DEL_02_DeletingAnUnfinishedOrCompletedUploadIs204) {
  const auto unfinished = create(10);
  ASSERT_EQ(patch(unfinished, 0, "abc").status, 204u);
  const auto completed = create(3);
  ASSERT_EQ(patch(completed, 0, "abc").status, 204u);
  const auto deferred = create_deferred();
  for (const std::string& id : {unfinished, completed, deferred}) {
    SCOPED_TRACE(id);
    auto r = del(id);
    EXPECT_EQ(r.status, 204u);
    EXPECT_EQ(hdr(r, "Tus-Resumable"), "1.0.0");
    EXPECT_TRUE(r.body.empty());
  }
}

TEST_F(Termination, DEL_03_TheBytesAreFreed) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "secret").status, 204u);
  ASSERT_EQ(del(id).status, 204u);
  EXPECT_EQ(stored(id), std::nullopt);
  EXPECT_EQ(data->count(), 0u);
}

TEST_F(Termination, DEL_04_LaterRequestsAreGone) {
  const auto id = create(10);
  ASSERT_EQ(del(id).status, 204u);
  EXPECT_EQ(head(id).status, 410u);
  EXPECT_EQ(patch(id, 0, "abc").status, 410u);
  EXPECT_EQ(del(id).status, 410u);
  EXPECT_EQ(get(id).status, 410u);
  EXPECT_EQ(stored(id), std::nullopt);  // the PATCH did not bring it back
}

TEST_F(Termination, EDGE_12_PatchAfterDeleteIsGoneNever5xxNoResurrection) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "abc").status, 204u);
  ASSERT_EQ(del(id).status, 204u);
  for (std::uint64_t offset : {0, 3}) {
    auto r = patch(id, offset, "def");
    EXPECT_EQ(r.status, 410u);
  }
  FakeBodyOptions chunked;
  chunked.chunked = true;
  EXPECT_EQ(patch(id, 3, "def", {}, chunked).status, 410u);
  EXPECT_EQ(stored(id), std::nullopt);
  EXPECT_EQ(record(id)->state, core::UploadState::terminated);
}

TEST_F(Termination, DEL_05_DeletingAnUnknownUploadIs404) {
  auto r = del(std::string(kUnknownId));
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(code(r), "ERR_UPLOAD_NOT_FOUND");
}

TEST_F(Termination, DEL_06_DeleteRequiresTusResumable) {
  const auto id = create(5);
  auto r = send("DELETE", url(id), {});
  EXPECT_EQ(r.status, 412u);
  EXPECT_EQ(head(id).status, 200u);
}

// DEL-08, decision recorded: a finished final owns a copy of its partials' bytes, so deleting a
// partial never touches it; a final still waiting for the partial can no longer complete and is
// terminated with it.
TEST_F(Termination, DEL_08_DeletingAPartialKeepsAFinishedFinalAndTerminatesAWaitingOne) {
  const auto a = finished_partial("hello");
  const auto b = finished_partial(" world");
  auto r = create_final({a, b});
  ASSERT_EQ(r.status, 201u);
  const auto done = id_from_location(hdr(r, "Location"));
  const auto c = create_partial(3);
  r = create_final({a, c});
  ASSERT_EQ(r.status, 201u);
  const auto waiting = id_from_location(hdr(r, "Location"));

  EXPECT_EQ(del(a).status, 204u);
  r = head(done);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(hdr(r, "Upload-Offset"), "11");
  auto g = get(done);
  EXPECT_EQ(drain(g), "hello world");

  // `waiting` needs a's bytes when c finishes: it can never complete now.
  EXPECT_EQ(head(waiting).status, 410u);
  EXPECT_EQ(head(c).status, 200u);
  EXPECT_EQ(head(b).status, 200u);
}

TEST_F(Termination, DEL_09_DeleteThroughMethodOverrideOnPost) {
  const auto id = create(5);
  auto r = send("POST", url(id), {kTR, {"X-HTTP-Method-Override", "DELETE"}});
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(head(id).status, 410u);
  EXPECT_EQ(stored(id), std::nullopt);
}

TEST_F(Termination, DEL_10_ATerminatedEventIsEmitted) {
  const auto id = create(5);
  ASSERT_EQ(del(id).status, 204u);
  EXPECT_EQ(hooks.terminated, std::vector<std::string>{id});
  EXPECT_EQ(handler->counters().uploads_terminated.load(), 1u);
  EXPECT_EQ(del(id).status, 410u);
  EXPECT_EQ(hooks.terminated.size(), 1u);
}

}  // namespace
}  // namespace vidup::test
