#include "client/formatting.hpp"

#include "auth/auth.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace vidup::client {
namespace {

TEST(BuildMetadataHeader, KeysWithBase64ValuesInOrder) {
  EXPECT_EQ(build_metadata_header({{"filename", "clip.mp4"}, {"filetype", "video/mp4"}}),
            "filename Y2xpcC5tcDQ=,filetype dmlkZW8vbXA0");
  EXPECT_EQ(build_metadata_header({{"flag", ""}, {"a", "b"}}), "flag,a Yg==");
  EXPECT_EQ(build_metadata_header({}), "");
}

TEST(ParseMetadataArg, SplitsAtTheFirstEquals) {
  EXPECT_EQ(parse_metadata_arg("title=a=b"), (std::pair<std::string, std::string>{"title", "a=b"}));
  EXPECT_EQ(parse_metadata_arg("empty="), (std::pair<std::string, std::string>{"empty", ""}));
  EXPECT_FALSE(parse_metadata_arg("novalue"));
  EXPECT_FALSE(parse_metadata_arg("=v"));
  EXPECT_FALSE(parse_metadata_arg("a b=v"));
  EXPECT_FALSE(parse_metadata_arg("a,b=v"));
}

TEST(WithDefaultMetadata, AddsFilenameAndFiletypeUnlessGiven) {
  EXPECT_EQ(with_default_metadata({}, "Clip.MP4"),
            (MetadataPairs{{"filename", "Clip.MP4"}, {"filetype", "video/mp4"}}));
  EXPECT_EQ(with_default_metadata({{"filename", "x"}}, "clip.mov"),
            (MetadataPairs{{"filename", "x"}, {"filetype", "video/quicktime"}}));
  EXPECT_EQ(with_default_metadata({{"filetype", "a/b"}}, "clip.mp4"),
            (MetadataPairs{{"filetype", "a/b"}, {"filename", "clip.mp4"}}));
  EXPECT_EQ(with_default_metadata({}, "data.unknownext"), (MetadataPairs{{"filename", "data.unknownext"}}));
  EXPECT_TRUE(with_default_metadata({}, "").empty());  // stdin
}

TEST(IsHeaderArg, NameColonValueWithoutLineBreaks) {
  EXPECT_TRUE(is_header_arg("X-Trace: 1"));
  EXPECT_TRUE(is_header_arg("Authorization: Bearer ky_1"));
  EXPECT_FALSE(is_header_arg("no colon"));
  EXPECT_FALSE(is_header_arg(": v"));
  EXPECT_FALSE(is_header_arg("Bad Name: v"));
  EXPECT_FALSE(is_header_arg("X: a\r\nInjected: 1"));
}

TEST(Checksum, NamesAndHeaderValue) {
  EXPECT_EQ(parse_checksum_name("sha1"), core::ChecksumAlgorithm::sha1);
  EXPECT_EQ(parse_checksum_name("sha256"), core::ChecksumAlgorithm::sha256);
  EXPECT_FALSE(parse_checksum_name("SHA256"));
  EXPECT_FALSE(parse_checksum_name("sha512"));
  const auto sum = core::digest(core::ChecksumAlgorithm::sha1, "hello");
  EXPECT_EQ(checksum_header(core::ChecksumAlgorithm::sha1, sum), "sha1 qvTGHdzF6KLavt4PO0gs2a6pQ00=");
}

TEST(FormatBytes, BinaryUnitsOneDecimal) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(50ULL << 20U), "50.0 MiB");
  EXPECT_EQ(format_bytes(3ULL << 30U), "3.0 GiB");
}

TEST(FormatDuration, MinutesSecondsAndHours) {
  EXPECT_EQ(format_duration(std::chrono::seconds(0)), "0:00");
  EXPECT_EQ(format_duration(std::chrono::seconds(75)), "1:15");
  EXPECT_EQ(format_duration(std::chrono::seconds(3725)), "1:02:05");
  EXPECT_EQ(format_duration(std::chrono::seconds(-5)), "0:00");
}

TEST(FormatProgressLine, BytesPercentRateAndEta) {
  const auto line = format_progress_line({"clip.mp4", 25ULL << 20U, 50ULL << 20U, 5.0 * (1 << 20), false});
  EXPECT_NE(line.find("clip.mp4"), std::string::npos);
  EXPECT_NE(line.find("25.0 MiB / 50.0 MiB"), std::string::npos);
  EXPECT_NE(line.find("50%"), std::string::npos);
  EXPECT_NE(line.find("5.0 MiB/s"), std::string::npos);
  EXPECT_NE(line.find("ETA 0:05"), std::string::npos);
  EXPECT_NE(line.find("[##########----------]"), std::string::npos);
}

TEST(FormatProgressLine, UnknownTotalEmptyFileAndDone) {
  const auto stream = format_progress_line({"stdin", 2048, std::nullopt, 0, false});
  EXPECT_EQ(stream.find('%'), std::string::npos);
  EXPECT_NE(stream.find("2.0 KiB"), std::string::npos);
  EXPECT_NE(format_progress_line({"empty", 0, 0, 0, true}).find("100%"), std::string::npos);
  EXPECT_NE(format_progress_line({"f", 10, 10, 1, true}).find("done"), std::string::npos);
}

TEST(FormatProgressLine, FitsTheWidthByShorteningTheName) {
  const std::string name(300, 'n');
  EXPECT_LE(format_progress_line({name, 1, 2, 1, false}, 100).size(), 100U);
}

TEST(FormatPresign, ThreeHeaderLines) {
  const std::string sig = auth::presign_signature("ky_6cf8213c7badf0b3c03f", 1714568400,
                                                  "a23fe4e9-dc10-4f6b-bda5-afe93f8d5d4a");
  EXPECT_EQ(format_presign(sig, 1714568400, "a23fe4e9-dc10-4f6b-bda5-afe93f8d5d4a", false),
            "Signature: " + sig + "\nExpiration: 1714568400\nVideo-Id: a23fe4e9-dc10-4f6b-bda5-afe93f8d5d4a\n");
  EXPECT_EQ(sig.size(), 64U);
}

TEST(FormatPresign, JsonIsOneObjectWithTheHeaderNames) {
  const auto text = format_presign("abc", 42, "vid", true);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  const auto v = boost::json::parse(text);
  EXPECT_EQ(v.at("Signature").as_string(), "abc");
  EXPECT_EQ(v.at("Expiration").as_string(), "42");
  EXPECT_EQ(v.at("Video-Id").as_string(), "vid");
}

}  // namespace
}  // namespace vidup::client
