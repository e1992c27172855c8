#pragma once
// Pure helpers of the client and the CLI: header values, progress lines, presign output.

#include "core/checksum.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vidup::client {

using MetadataPairs = std::vector<std::pair<std::string, std::string>>;

// Upload-Metadata: "key base64(value)" joined by ',' in order; an empty value is the bare key.
[[nodiscard]] std::string build_metadata_header(const MetadataPairs& pairs);
// A key the server accepts: non-empty visible ASCII without ',' or space.
[[nodiscard]] bool is_metadata_key(std::string_view key) noexcept;
// "--metadata key=value" → the pair; nullopt without '=' or with a bad key.
[[nodiscard]] std::optional<std::pair<std::string, std::string>> parse_metadata_arg(std::string_view arg);
// `pairs` plus filename (the path's last component) and filetype (from its extension, when
// known), unless already there. An empty `file_name` adds neither (stdin).
[[nodiscard]] MetadataPairs with_default_metadata(MetadataPairs pairs, std::string_view file_name);
// ".mp4" → "video/mp4" (case-insensitive); nullopt for an unknown extension.
[[nodiscard]] std::optional<std::string> filetype_for(std::string_view file_name);

// "--header 'Name: value'" → true when it has a valid token name and a colon.
[[nodiscard]] bool is_header_arg(std::string_view arg) noexcept;

// "sha1" | "sha256" | "md5" | "crc32" → the algorithm.
[[nodiscard]] std::optional<core::ChecksumAlgorithm> parse_checksum_name(std::string_view name) noexcept;
// Upload-Checksum value: "<name> <base64 digest>".
[[nodiscard]] std::string checksum_header(core::ChecksumAlgorithm algorithm, std::string_view raw_digest);

// 1536 → "1.5 KiB", 0 → "0 B".
[[nodiscard]] std::string format_bytes(std::uint64_t bytes);
// 75 s → "1:15", 3725 s → "1:02:05".
[[nodiscard]] std::string format_duration(std::chrono::seconds d);

struct ProgressView {
  std::string_view name;
  std::uint64_t done = 0;
  std::optional<std::uint64_t> total;  // nullopt for a stream of unknown length
  double rate = 0;                     // bytes per second, smoothed
  bool finished = false;
};
// "clip.mp4  [#######-----]  12.0 MiB / 50.0 MiB  24%  8.1 MiB/s  ETA 0:05", at most `width` columns.
[[nodiscard]] std::string format_progress_line(const ProgressView& p, std::size_t width = 100);

// `vidup sign` output: three "Name: value" lines, or one JSON object with the same names.
[[nodiscard]] std::string format_presign(std::string_view signature, std::int64_t expiration,
                                         std::string_view video_id, bool json);

}  // namespace vidup::client
