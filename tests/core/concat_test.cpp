#include "core/concat.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vidup::core {
namespace {

using Urls = std::vector<std::string>;

bool rejects(std::string_view header) {
  const Result<ConcatHeader> r = parse_concat(header);
  if (r) {
    return false;
  }
  EXPECT_EQ(to_errc(r.error()), Errc::invalid_concat);
  return true;
}

Urls final_urls(std::string_view header) {
  const Result<ConcatHeader> r = parse_concat(header);
  EXPECT_TRUE(r.has_value()) << "rejected: '" << header << "'";
  if (!r) {
    return {};
  }
  EXPECT_EQ(r->kind, ConcatKind::final_upload);
  return r->urls;
}

TEST(ParseConcat, H_CC_01_Partial) {
  const Result<ConcatHeader> r = parse_concat("partial");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, ConcatKind::partial);
  EXPECT_TRUE(r->urls.empty());
}

TEST(ParseConcat, H_CC_01_FinalWithSpaceSeparatedUrlsInOrder) {
  EXPECT_EQ(final_urls("final;/files/a /files/b"), (Urls{"/files/a", "/files/b"}));
  EXPECT_EQ(final_urls("final;/files/b /files/a /files/c"), (Urls{"/files/b", "/files/a", "/files/c"}));
  EXPECT_EQ(final_urls("final;/files/a"), (Urls{"/files/a"}));
}

TEST(ParseConcat, H_CC_02_AbsoluteAndRelativeUrlsKeptAsWritten) {
  EXPECT_EQ(final_urls("final;/files/a https://host/files/b"), (Urls{"/files/a", "https://host/files/b"}));
  EXPECT_EQ(final_urls("final;https://host:8080/files/a?x=1%20"), (Urls{"https://host:8080/files/a?x=1%20"}));
}

TEST(ParseConcat, H_CC_01_ToleratesExtraSpacesBetweenAndAroundUrls) {
  const Urls expected{"/files/a", "/files/b"};
  EXPECT_EQ(final_urls("final; /files/a /files/b"), expected);
  EXPECT_EQ(final_urls("final;/files/a   /files/b"), expected);
  EXPECT_EQ(final_urls("final;   /files/a /files/b  "), expected);
}

TEST(ParseConcat, H_CC_03_RejectsPartialWithSuffix) {
  EXPECT_TRUE(rejects("partial;x"));
  EXPECT_TRUE(rejects("partial;"));
  EXPECT_TRUE(rejects("partial "));
  EXPECT_TRUE(rejects("partials"));
}

TEST(ParseConcat, H_CC_03_RejectsFinalWithoutSemicolon) {
  EXPECT_TRUE(rejects("final"));
  EXPECT_TRUE(rejects("final /files/a"));
  EXPECT_TRUE(rejects("final:/files/a"));
}

TEST(ParseConcat, H_CC_03_RejectsUnknownTokensAndWrongCase) {
  EXPECT_TRUE(rejects("foo"));
  EXPECT_TRUE(rejects("Partial"));
  EXPECT_TRUE(rejects("FINAL;/files/a"));
  EXPECT_TRUE(rejects(" partial"));
}

TEST(ParseConcat, H_CC_03_RejectsControlAndNonAsciiBytesInUrls) {
  EXPECT_TRUE(rejects("final;/files/a\t/files/b"));
  EXPECT_TRUE(rejects("final;/files/a\r\n/files/b"));
  EXPECT_TRUE(rejects(std::string_view("final;/files/a\0", 15)));
  EXPECT_TRUE(rejects("final;/files/\xc3\xa9"));
}

TEST(ParseConcat, CAT_19_RejectsFinalWithNoUrls) {
  EXPECT_TRUE(rejects("final;"));
  EXPECT_TRUE(rejects("final; "));
  EXPECT_TRUE(rejects("final;   "));
}

TEST(ParseConcat, CAT_19_CapsTheNumberOfParts) {
  std::string header = "final;";
  for (std::size_t i = 0; i < kMaxConcatParts; ++i) {
    header += " /f/" + std::to_string(i);
  }
  EXPECT_EQ(final_urls(header).size(), kMaxConcatParts);
  EXPECT_TRUE(rejects(header + " /f/extra"));
}

TEST(ParseConcat, EmptyHeaderIsAbsent) {
  const Result<ConcatHeader> r = parse_concat("");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, ConcatKind::none);
  EXPECT_TRUE(r->urls.empty());
}

}  // namespace
}  // namespace vidup::core
