#include "core/upload_info.hpp"

#include <gtest/gtest.h>

namespace vidup::core {
namespace {

TEST(UploadState, NamesAreStableStrings) {
  EXPECT_EQ(to_string(UploadState::active), "active");
  EXPECT_EQ(to_string(UploadState::finished), "finished");
  EXPECT_EQ(to_string(UploadState::terminated), "terminated");
  EXPECT_EQ(to_string(UploadState::expired), "expired");
}

TEST(UploadState, RoundTripsThroughItsName) {
  for (const UploadState s :
       {UploadState::active, UploadState::finished, UploadState::terminated, UploadState::expired}) {
    EXPECT_EQ(upload_state_from(to_string(s)), s);
  }
}

TEST(UploadState, UnknownNamesAreRejected) {
  EXPECT_EQ(upload_state_from(""), std::nullopt);
  EXPECT_EQ(upload_state_from("Active"), std::nullopt);
  EXPECT_EQ(upload_state_from("active "), std::nullopt);
  EXPECT_EQ(upload_state_from("deleted"), std::nullopt);
}

TEST(UploadInfo, TombstonesAreTerminatedOrExpired) {
  UploadInfo info;
  EXPECT_FALSE(info.is_tombstone());
  info.state = UploadState::terminated;
  EXPECT_TRUE(info.is_tombstone());
  info.state = UploadState::expired;
  EXPECT_TRUE(info.is_tombstone());
  info.state = UploadState::finished;
  EXPECT_FALSE(info.is_tombstone());
  EXPECT_TRUE(info.is_finished());
}

TEST(UploadInfo, DeferredLengthMeansSizeUnknown) {
  UploadInfo info;
  EXPECT_FALSE(info.size_known());
  info.size = 0;
  EXPECT_TRUE(info.size_known());
}

}  // namespace
}  // namespace vidup::core
