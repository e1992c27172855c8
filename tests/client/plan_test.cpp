#include "client/plan.hpp"

#include <gtest/gtest.h>

namespace vidup::client {
namespace {

// The parts are in order, contiguous, and cover [0, size) exactly.
void expect_exact_cover(const std::vector<Part>& parts, std::uint64_t size) {
  ASSERT_FALSE(parts.empty());
  std::uint64_t next = 0;
  for (const auto& p : parts) {
    EXPECT_EQ(p.offset, next) << "gap or overlap";
    next = p.offset + p.length;
  }
  EXPECT_EQ(next, size);
}

TEST(PlanParts, CoverTheFileExactlyWithoutGapsOrOverlaps) {
  for (const std::uint64_t size : {2ULL, 3ULL, 7ULL, 100ULL, 1000003ULL, 50ULL << 20U}) {
    for (const unsigned n : {1U, 2U, 3U, 4U, 7U, 16U}) {
      const auto parts = plan_parts(size, n);
      expect_exact_cover(parts, size);
      EXPECT_EQ(parts.size(), std::min<std::uint64_t>(n, size));
    }
  }
}

TEST(PlanParts, LengthsDifferByAtMostOneByte) {
  const auto parts = plan_parts(10, 4);  // 3 3 2 2
  ASSERT_EQ(parts.size(), 4U);
  EXPECT_EQ(parts[0].length, 3U);
  EXPECT_EQ(parts[1].length, 3U);
  EXPECT_EQ(parts[2].length, 2U);
  EXPECT_EQ(parts[3].length, 2U);
}

TEST(PlanParts, EmptyFileIsOneEmptyPart) {
  const auto parts = plan_parts(0, 4);
  ASSERT_EQ(parts.size(), 1U);
  EXPECT_EQ(parts[0].offset, 0U);
  EXPECT_EQ(parts[0].length, 0U);
}

TEST(PlanParts, OneByteFileIsOnePart) {
  const auto parts = plan_parts(1, 4);
  ASSERT_EQ(parts.size(), 1U);
  EXPECT_EQ(parts[0].length, 1U);
}

TEST(PlanParts, ZeroPartsCountsAsOne) {
  const auto parts = plan_parts(5, 0);
  ASSERT_EQ(parts.size(), 1U);
  EXPECT_EQ(parts[0].length, 5U);
}

TEST(NextChunk, ZeroChunkSizeSendsTheRest) {
  EXPECT_EQ(next_chunk(10, 100, 0), 90U);
  EXPECT_EQ(next_chunk(10, 100, 32), 32U);
  EXPECT_EQ(next_chunk(90, 100, 32), 10U);
  EXPECT_EQ(next_chunk(100, 100, 32), 0U);
}

}  // namespace
}  // namespace vidup::client
