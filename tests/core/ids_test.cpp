#include "core/ids.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace vidup::core {
namespace {

TEST(NewUploadId, H_LOC_03_Is32LowerCaseHexDigits) {
  const std::string id = new_upload_id();
  ASSERT_EQ(id.size(), 32U);
  for (const char c : id) {
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
  }
  EXPECT_TRUE(is_valid_upload_id(id));
}

TEST(NewUploadId, H_LOC_03_IdsDiffer) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    ids.insert(new_upload_id());
  }
  EXPECT_EQ(ids.size(), 1000U);
}

TEST(NewUploadId, H_LOC_03_EveryHexDigitOccurs) {
  std::set<char> seen;
  for (int i = 0; i < 100; ++i) {
    for (const char c : new_upload_id()) {
      seen.insert(c);
    }
  }
  EXPECT_EQ(seen.size(), 16U);  // 3200 random digits: a missing one means a broken encoder
}

TEST(IsValidUploadId, AcceptsExactly32LowerCaseHexDigits) {
  EXPECT_TRUE(is_valid_upload_id("0123456789abcdef0123456789abcdef"));
  EXPECT_TRUE(is_valid_upload_id(std::string(32, 'f')));
}

TEST(IsValidUploadId, EDGE_17_RejectsPathTraversal) {
  EXPECT_FALSE(is_valid_upload_id("../x"));
  EXPECT_FALSE(is_valid_upload_id("%2e%2e"));
  EXPECT_FALSE(is_valid_upload_id("..%2F" + std::string(27, 'a')));
  EXPECT_FALSE(is_valid_upload_id("0123456789abcdef0123456789abcd/."));
}

TEST(IsValidUploadId, RejectsWrongLengths) {
  EXPECT_FALSE(is_valid_upload_id(""));
  EXPECT_FALSE(is_valid_upload_id(std::string(31, 'a')));
  EXPECT_FALSE(is_valid_upload_id(std::string(33, 'a')));
}

TEST(IsValidUploadId, RejectsUpperCaseAndNonHex) {
  EXPECT_FALSE(is_valid_upload_id("0123456789ABCDEF0123456789abcdef"));
  EXPECT_FALSE(is_valid_upload_id("0123456789abcdeg0123456789abcdef"));
  EXPECT_FALSE(is_valid_upload_id("0123456789abcdef0123456789abcde "));
}

TEST(IsValidUploadId, RejectsEmbeddedNul) {
  std::string id(32, 'a');
  id[10] = '\0';
  EXPECT_FALSE(is_valid_upload_id(id));
  EXPECT_FALSE(is_valid_upload_id(std::string(32, 'a') + '\0'));
}

}  // namespace
}  // namespace vidup::core
