#include "core/errc.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace vidup::core {
namespace {

constexpr int kFirstError = static_cast<int>(Errc::bad_request);
constexpr int kLastError = static_cast<int>(Errc::invalid_field);

TEST(Describe, EveryErrorHasAnErrCodeAndOneLineMessage) {
  for (int i = kFirstError; i <= kLastError; ++i) {
    const auto e = static_cast<Errc>(i);
    const ErrorDescription d = describe(e);
    SCOPED_TRACE("Errc value " + std::to_string(i) + " code " + std::string(d.code));
    EXPECT_TRUE(d.code.starts_with("ERR_"));
    EXPECT_GT(d.code.size(), 4U);
    EXPECT_FALSE(d.message.empty());
    EXPECT_EQ(d.message.find_first_of("\r\n"), std::string_view::npos);
    EXPECT_NE(d.message.back(), ' ');
    EXPECT_GE(d.status, 400U);
    EXPECT_LE(d.status, 599U);
  }
}

TEST(Describe, OkIs200) {
  const ErrorDescription d = describe(Errc::ok);
  EXPECT_EQ(d.status, 200U);
  EXPECT_EQ(d.message, "OK");
}

struct Row {
  Errc errc;
  unsigned status;
  std::string_view code;
};

// tusd's codes and statuses where tusd has them; ours otherwise.
constexpr Row kTable[] = {
    {Errc::unsupported_version, 412, "ERR_UNSUPPORTED_VERSION"},
    {Errc::invalid_offset, 400, "ERR_INVALID_OFFSET"},
    {Errc::invalid_length, 400, "ERR_INVALID_UPLOAD_LENGTH"},
    {Errc::invalid_defer_length, 400, "ERR_INVALID_UPLOAD_LENGTH_DEFER"},
    {Errc::ambiguous_length, 400, "ERR_AMBIGUOUS_UPLOAD_LENGTH"},
    {Errc::missing_length, 400, "ERR_INVALID_UPLOAD_LENGTH"},
    {Errc::invalid_metadata, 400, "ERR_INVALID_METADATA"},
    {Errc::invalid_concat, 400, "ERR_INVALID_CONCAT"},
    {Errc::concat_unfinished, 400, "ERR_UPLOAD_NOT_FINISHED"},
    {Errc::offset_mismatch, 409, "ERR_MISMATCHED_OFFSET"},
    {Errc::modify_final, 403, "ERR_MODIFY_FINAL"},
    {Errc::not_found, 404, "ERR_UPLOAD_NOT_FOUND"},
    {Errc::gone, 410, "ERR_UPLOAD_GONE"},
    {Errc::max_size_exceeded, 413, "ERR_MAX_SIZE_EXCEEDED"},
    {Errc::size_exceeded, 413, "ERR_UPLOAD_SIZE_EXCEEDED"},
    {Errc::locked, 423, "ERR_UPLOAD_LOCKED"},
    {Errc::interrupted, 400, "ERR_UPLOAD_INTERRUPTED"},
    {Errc::checksum_mismatch, 460, "ERR_CHECKSUM_MISMATCH"},
    {Errc::invalid_checksum, 400, "ERR_INVALID_CHECKSUM"},
    {Errc::unsupported_checksum_algorithm, 400, "ERR_UNSUPPORTED_CHECKSUM_ALGORITHM"},
    {Errc::invalid_content_type, 415, "ERR_INVALID_CONTENT_TYPE"},
    {Errc::read_timeout, 500, "ERR_READ_TIMEOUT"},
    {Errc::connection_reset, 500, "ERR_CONNECTION_RESET"},
    {Errc::storage_full, 507, "ERR_STORAGE_FULL"},
    {Errc::storage_error, 500, "ERR_STORAGE"},
    {Errc::internal, 500, "ERR_INTERNAL"},
    {Errc::shutting_down, 503, "ERR_SHUTTING_DOWN"},
    {Errc::too_many_connections, 503, "ERR_TOO_MANY_CONNECTIONS"},
    {Errc::missing_credentials, 401, "ERR_MISSING_CREDENTIALS"},
    {Errc::signature_expired, 403, "ERR_SIGNATURE_EXPIRED"},
    {Errc::video_has_upload, 409, "ERR_VIDEO_HAS_UPLOAD"},
    {Errc::header_too_large, 431, "ERR_HEADER_TOO_LARGE"},
    {Errc::range_not_satisfiable, 416, "ERR_RANGE_NOT_SATISFIABLE"},
    {Errc::method_not_allowed, 405, "ERR_METHOD_NOT_ALLOWED"},
    {Errc::unauthorized, 401, "ERR_UNAUTHORIZED"},
    {Errc::forbidden, 403, "ERR_FORBIDDEN"},
    {Errc::upload_incomplete, 409, "ERR_UPLOAD_INCOMPLETE"},
    {Errc::body_too_large, 413, "ERR_BODY_TOO_LARGE"},
    {Errc::duplicate_header, 400, "ERR_DUPLICATE_HEADER"},
    {Errc::invalid_upload_id, 404, "ERR_INVALID_UPLOAD_ID"},
};

TEST(Describe, MapsToTusdStatusesAndCodes) {
  for (const Row& row : kTable) {
    const ErrorDescription d = describe(row.errc);
    EXPECT_EQ(d.status, row.status) << row.code;
    EXPECT_EQ(d.code, row.code);
  }
}

TEST(Describe, RemainingClientErrorsAre400) {
  for (const Errc e : {Errc::bad_request, Errc::length_already_set, Errc::length_below_offset,
                       Errc::concat_with_length, Errc::partial_not_found, Errc::not_a_partial,
                       Errc::foreign_partial, Errc::ambiguous_checksum, Errc::missing_trailer}) {
    EXPECT_EQ(describe(e).status, 400U) << describe(e).code;
  }
}

TEST(Describe, MissingLengthSaysWhichHeadersAreRequired) {
  EXPECT_EQ(describe(Errc::missing_length).message, "Upload-Length or Upload-Defer-Length: 1 is required");
}

TEST(Describe, OffsetMismatchMessage) {
  EXPECT_EQ(describe(Errc::offset_mismatch).message, "Upload-Offset does not match the upload's current offset");
}

TEST(TusCategory, IsNamedVidupTusAndUsesDescribeMessages) {
  EXPECT_STREQ(tus_category().name(), "vidup.tus");
  const boost::system::error_code ec = make_error_code(Errc::offset_mismatch);
  EXPECT_EQ(&ec.category(), &tus_category());
  EXPECT_EQ(ec.value(), static_cast<int>(Errc::offset_mismatch));
  EXPECT_EQ(ec.message(), describe(Errc::offset_mismatch).message);
  EXPECT_TRUE(ec.failed());
}

TEST(TusCategory, OkIsNotAFailure) {
  const boost::system::error_code ec = make_error_code(Errc::ok);
  EXPECT_FALSE(ec.failed());
  EXPECT_FALSE(ec);
}

TEST(TusCategory, ErrcConvertsImplicitlyToErrorCodeAndResult) {
  const boost::system::error_code ec = Errc::gone;
  EXPECT_EQ(ec, make_error_code(Errc::gone));
  const Result<int> r = make_error_code(Errc::locked);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(to_errc(r.error()), Errc::locked);
}

TEST(ToErrc, OurCategoryPassesThrough) {
  for (int i = kFirstError; i <= kLastError; ++i) {
    const auto e = static_cast<Errc>(i);
    EXPECT_EQ(to_errc(make_error_code(e)), e);
  }
}

TEST(ToErrc, NoErrorIsOk) { EXPECT_EQ(to_errc(boost::system::error_code{}), Errc::ok); }

TEST(ToErrc, OutOfSpaceIsStorageFull) {
  EXPECT_EQ(to_errc(boost::system::errc::make_error_code(boost::system::errc::no_space_on_device)),
            Errc::storage_full);
  EXPECT_EQ(to_errc(boost::system::error_code(ENOSPC, boost::system::system_category())), Errc::storage_full);
  EXPECT_EQ(to_errc(boost::system::error_code(EDQUOT, boost::system::system_category())), Errc::storage_full);
  EXPECT_EQ(to_errc(boost::system::error_code(EDQUOT, boost::system::generic_category())), Errc::storage_full);
  EXPECT_EQ(to_errc(boost::system::error_code(std::make_error_code(std::errc::no_space_on_device))),
            Errc::storage_full);
}

TEST(ToErrc, AnythingElseIsStorageError) {
  EXPECT_EQ(to_errc(boost::system::error_code(EIO, boost::system::system_category())), Errc::storage_error);
  EXPECT_EQ(to_errc(boost::system::errc::make_error_code(boost::system::errc::permission_denied)),
            Errc::storage_error);
  EXPECT_EQ(to_errc(boost::system::error_code(std::make_error_code(std::errc::io_error))), Errc::storage_error);
}

}  // namespace
}  // namespace vidup::core
