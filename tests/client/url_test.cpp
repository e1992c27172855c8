#include "client/client.hpp"

#include <gtest/gtest.h>

namespace vidup::client {
namespace {

TEST(OriginOf, SchemeHostAndPortOnly) {
  EXPECT_EQ(origin_of("http://127.0.0.1:8080/tusupload"), "http://127.0.0.1:8080");
  EXPECT_EQ(origin_of("https://api.example.com/files/?x=1"), "https://api.example.com");
  EXPECT_EQ(origin_of("http://h"), "http://h");
  EXPECT_FALSE(origin_of("/files/"));
  EXPECT_FALSE(origin_of("ftp://h/x"));
  EXPECT_FALSE(origin_of("http:///x"));
}

TEST(ResolveLocation, AbsoluteOriginRelativeAndPathRelative) {
  EXPECT_EQ(resolve_location("http://h:1/files/", "http://other/files/abc"), "http://other/files/abc");
  EXPECT_EQ(resolve_location("http://h:1/tusupload", "/files/abc"), "http://h:1/files/abc");
  EXPECT_EQ(resolve_location("http://h:1/files/", "abc"), "http://h:1/files/abc");
  EXPECT_EQ(resolve_location("https://h/files/", "//cdn/x"), "https://cdn/x");
}

TEST(MemorySource, ReadsWithinItsChunkOnly) {
  const std::string bytes = "hello";
  MemorySource src(100, std::as_bytes(std::span(bytes.data(), bytes.size())));
  std::array<std::byte, 8> out{};
  auto n = src.read_at(102, out);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 3U);
  EXPECT_EQ(static_cast<char>(out[0]), 'l');
  EXPECT_EQ(*src.read_at(105, out), 0U);
  EXPECT_FALSE(src.read_at(99, out));
}

}  // namespace
}  // namespace vidup::client
