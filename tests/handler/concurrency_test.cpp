// Requests that overlap on one upload, on one io_context: HEAD-14, PATCH-16, DEL-07, EXP-09,
// EDGE-11. A "stalled" PATCH has a body that delivers some bytes and then waits, like a client
// whose connection died without the server noticing; it only ends when a newcomer pre-empts it
// through the Locker (the body's canceller).
#include "fixture.hpp"

namespace vidup::test {
namespace {

class Concurrency : public HandlerFixture {
 protected:
  // Starts a PATCH at `offset` whose body stalls after `after` bytes, and runs until it does.
  std::shared_ptr<InFlight> stalled_patch(const std::string& id, std::uint64_t offset, std::string body,
                                          std::size_t after, HeaderList extra = {}, FakeBodyOptions opts = {}) {
    opts.block_after = after;
    HeaderList headers{kTR, kOOS, offset_is(offset)};
    headers.insert(headers.end(), extra.begin(), extra.end());
    auto flight = start("PATCH", url(id), std::move(headers), std::move(body), std::move(opts));
    run_until([&] { return flight->body->blocked() || flight->done(); });
    EXPECT_TRUE(flight->body->blocked()) << "the PATCH did not stall";
    return flight;
  }
  void finish(const std::vector<std::shared_ptr<InFlight>>& flights) {
    run_until([&] { return std::all_of(flights.begin(), flights.end(), [](const auto& f) { return f->done(); }); });
    for (const auto& f : flights) {
      ASSERT_TRUE(f->done()) << "a request never finished";
    }
  }
};

TEST_F(Concurrency, HEAD_14_AHeadPreemptsAStalledPatchAndReportsExactlyWhatWasStored) {
  const auto id = create(10);
  auto a = stalled_patch(id, 0, "abcdefghij", 4);
  auto h = start("HEAD", url(id), {kTR});
  finish({a, h});

  EXPECT_TRUE(a->body->cancel_requested());
  EXPECT_EQ(a->response->status, 400u);
  EXPECT_EQ(code(*a->response), "ERR_UPLOAD_INTERRUPTED");
  EXPECT_EQ(hdr(*a->response, "Upload-Offset"), "4");  // where the retry resumes
  EXPECT_EQ(h->response->status, 200u);
  EXPECT_EQ(hdr(*h->response, "Upload-Offset"), "4");
  EXPECT_EQ(stored(id), "abcd");
  EXPECT_EQ(locker->held(), 0u);

  // A PATCH at the offset HEAD gave is accepted.
  auto r = patch(id, 4, "efghij");
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_EQ(stored(id), "abcdefghij");
}

TEST_F(Concurrency, HEAD_14_HeadDuringAStalledChecksummedPatchReportsTheOffsetBeforeIt) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "ab").status, 204u);
  auto a = stalled_patch(id, 2, "cdefgh", 3, {{"Upload-Checksum", checksum_header(core::ChecksumAlgorithm::sha1, "sha1", "cdefgh")}});
  auto h = start("HEAD", url(id), {kTR});
  finish({a, h});
  EXPECT_EQ(a->response->status, 400u);
  EXPECT_EQ(hdr(*h->response, "Upload-Offset"), "2");
  EXPECT_EQ(stored(id), "ab");
  EXPECT_EQ(patch(id, 2, "cdefgh").status, 204u);
}

TEST_F(Concurrency, PATCH_16_ANewPatchAtTheSameOffsetPreemptsAStalledOneWithoutInterleaving) {
  const auto id = create(6);
  auto a = stalled_patch(id, 0, "AAAAAA", 0);
  auto b = start("PATCH", url(id), {kTR, kOOS, offset_is(0)}, "BBBBBB");
  finish({a, b});
  EXPECT_EQ(a->response->status, 400u);
  EXPECT_EQ(code(*a->response), "ERR_UPLOAD_INTERRUPTED");
  EXPECT_EQ(b->response->status, 204u) << b->response->body;
  EXPECT_EQ(hdr(*b->response, "Upload-Offset"), "6");
  EXPECT_EQ(stored(id), "BBBBBB");
}

TEST_F(Concurrency, PATCH_16_TheStalledPatchKeepsItsBytesAndTheNewcomerResumesAfterThem) {
  const auto id = create(10);
  auto a = stalled_patch(id, 0, "AAAAAAAAAA", 4);
  auto b = start("PATCH", url(id), {kTR, kOOS, offset_is(4)}, "BBBBBB");
  finish({a, b});
  EXPECT_EQ(a->response->status, 400u);
  EXPECT_EQ(a->response->bytes_received, 4u);
  EXPECT_EQ(b->response->status, 204u) << b->response->body;
  EXPECT_EQ(stored(id), "AAAABBBBBB");
}

TEST_F(Concurrency, PATCH_16_ANewcomerAtAStaleOffsetGets409WithTheRealOne) {
  const auto id = create(10);
  auto a = stalled_patch(id, 0, "AAAAAAAAAA", 4);
  auto b = start("PATCH", url(id), {kTR, kOOS, offset_is(0)}, "BBBBBB");
  finish({a, b});
  EXPECT_EQ(b->response->status, 409u);
  EXPECT_EQ(hdr(*b->response, "Upload-Offset"), "4");
  EXPECT_EQ(stored(id), "AAAA");
}

TEST_F(Concurrency, PATCH_16_AWriterThatDoesNotLetGoMakesTheNewcomerWaitThen423) {
  config.lock_wait = std::chrono::milliseconds(30);
  rebuild();
  const auto id = create(10);
  FakeBodyOptions deaf;
  deaf.ignore_cancel = true;
  auto a = stalled_patch(id, 0, "AAAAAAAAAA", 4, {}, deaf);
  auto b = start("PATCH", url(id), {kTR, kOOS, offset_is(4)}, "BBBBBB");
  run_until([&] { return b->done(); });
  ASSERT_TRUE(b->done());
  EXPECT_EQ(b->response->status, 423u);
  EXPECT_EQ(code(*b->response), "ERR_UPLOAD_LOCKED");
  EXPECT_TRUE(a->body->cancel_requested());
  a->body->resume();
  finish({a});
  EXPECT_EQ(a->response->status, 204u);
  EXPECT_EQ(stored(id), "AAAAAAAAAA");
}

TEST_F(Concurrency, EDGE_11_TwoPatchesRacingAtTheSameOffsetNeverInterleave) {
  const auto id = create(20);
  FakeBodyOptions slow;
  slow.piece = 4;
  slow.yield_each_read = true;
  auto a = start("PATCH", url(id), {kTR, kOOS, offset_is(0)}, std::string(20, 'A'), slow);
  auto b = start("PATCH", url(id), {kTR, kOOS, offset_is(0)}, std::string(20, 'B'), slow);
  finish({a, b});
  const auto sa = a->response->status;
  const auto sb = b->response->status;
  EXPECT_FALSE(sa == 204u && sb == 204u);
  for (auto s : {sa, sb}) {
    EXPECT_TRUE(s == 204u || s == 400u || s == 409u || s == 423u) << s;
  }
  const auto content = stored(id).value_or("?");
  EXPECT_TRUE(content.find_first_not_of('A') == std::string::npos ||
              content.find_first_not_of('B') == std::string::npos)
      << content;
  EXPECT_EQ(offset_of(id), content.size());
  // The newcomer wins: the first writer is pre-empted at its next read.
  EXPECT_EQ(sa, 400u);
  EXPECT_EQ(sb, 204u);
  EXPECT_EQ(content, std::string(20, 'B'));
}

TEST_F(Concurrency, DEL_07_DeleteDuringAStalledPatchAbortsItAndNothingIsResurrected) {
  const auto id = create(10);
  auto a = stalled_patch(id, 0, "AAAAAAAAAA", 4);
  auto d = start("DELETE", url(id), {kTR});
  finish({a, d});
  EXPECT_EQ(d->response->status, 204u);
  EXPECT_EQ(a->response->status, 400u);
  EXPECT_EQ(code(*a->response), "ERR_UPLOAD_INTERRUPTED");
  EXPECT_EQ(head(id).status, 410u);
  EXPECT_EQ(stored(id), std::nullopt);
  EXPECT_EQ(patch(id, 4, "AAAAAA").status, 410u);
  EXPECT_EQ(stored(id), std::nullopt);
}

TEST_F(Concurrency, EXP_09_ASweepRacingAStalledPatchLeavesATombstoneAndNo5xx) {
  const auto id = create(10);
  auto a = stalled_patch(id, 0, "AAAAAAAAAA", 0);
  now_ms += 25 * kHourMs;
  std::optional<core::Result<std::size_t>> swept;
  net::co_spawn(io, handler->sweep(), [&](std::exception_ptr, core::Result<std::size_t> n) { swept = n; });
  run_until([&] { return a->done() && swept.has_value(); });
  ASSERT_TRUE(a->done());
  ASSERT_TRUE(swept.has_value());
  EXPECT_LT(a->response->status, 500u);
  ASSERT_TRUE(*swept);
  EXPECT_EQ(**swept, 1u);
  EXPECT_EQ(head(id).status, 410u);
  EXPECT_EQ(stored(id), std::nullopt);
  auto r = patch(id, 0, "late");
  EXPECT_EQ(r.status, 410u);
  EXPECT_EQ(locker->held(), 0u);
}

TEST_F(Concurrency, PATCH_16_LocksAreReleasedAfterEveryKindOfEnding) {
  const auto id = create(10);
  ASSERT_EQ(patch(id, 0, "ab").status, 204u);
  ASSERT_EQ(patch(id, 9, "ab").status, 409u);
  FakeBodyOptions cut;
  cut.fail_after = 1;
  ASSERT_EQ(patch(id, 2, "cd", {}, cut).status, 500u);
  ASSERT_EQ(patch(id, 3, "XYZ", {{"Upload-Checksum", "sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0="}}).status, 460u);
  ASSERT_EQ(head(id).status, 200u);
  EXPECT_EQ(locker->held(), 0u);
  EXPECT_EQ(handler->counters().active_writes.load(), 0);
}

}  // namespace
}  // namespace vidup::test
