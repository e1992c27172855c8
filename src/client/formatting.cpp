#include "client/formatting.hpp"

#include "core/base64.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include <boost/json.hpp>

namespace vidup::client {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool has_key(const MetadataPairs& pairs, std::string_view key) {
  return std::any_of(pairs.begin(), pairs.end(), [&](const auto& p) { return p.first == key; });
}

struct TypeEntry {
  std::string_view ext;
  std::string_view type;
};
constexpr std::array kTypes = {
    TypeEntry{".mp4", "video/mp4"},        TypeEntry{".m4v", "video/x-m4v"},       TypeEntry{".mov", "video/quicktime"},
    TypeEntry{".webm", "video/webm"},      TypeEntry{".mkv", "video/x-matroska"},  TypeEntry{".avi", "video/x-msvideo"},
    TypeEntry{".mpeg", "video/mpeg"},      TypeEntry{".mpg", "video/mpeg"},        TypeEntry{".ts", "video/mp2t"},
    TypeEntry{".3gp", "video/3gpp"},       TypeEntry{".ogv", "video/ogg"},         TypeEntry{".flv", "video/x-flv"},
    TypeEntry{".wmv", "video/x-ms-wmv"},   TypeEntry{".mp3", "audio/mpeg"},       TypeEntry{".m4a", "audio/mp4"},
    TypeEntry{".wav", "audio/wav"},        TypeEntry{".jpg", "image/jpeg"},        TypeEntry{".jpeg", "image/jpeg"},
    TypeEntry{".png", "image/png"},        TypeEntry{".gif", "image/gif"},         TypeEntry{".txt", "text/plain"},
    TypeEntry{".json", "application/json"}, TypeEntry{".pdf", "application/pdf"}, TypeEntry{".zip", "application/zip"},
};

}  // namespace

bool is_metadata_key(std::string_view key) noexcept {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f && c != ','; });
}

std::string build_metadata_header(const MetadataPairs& pairs) {
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (!out.empty()) {
      out += ',';
    }
    out += key;
    if (!value.empty()) {
      out += ' ';
      out += core::base64_encode(value);
    }
  }
  return out;
}

std::optional<std::pair<std::string, std::string>> parse_metadata_arg(std::string_view arg) {
  const auto eq = arg.find('=');
  if (eq == std::string_view::npos || !is_metadata_key(arg.substr(0, eq))) {
    return std::nullopt;
  }
  return std::pair{std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1))};
}

std::optional<std::string> filetype_for(std::string_view file_name) {
  const auto dot = file_name.rfind('.');
  if (dot == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string ext = lower(file_name.substr(dot));
  for (const auto& t : kTypes) {
    if (t.ext == ext) {
      return std::string(t.type);
    }
  }
  return std::nullopt;
}

MetadataPairs with_default_metadata(MetadataPairs pairs, std::string_view file_name) {
  if (file_name.empty()) {
    return pairs;
  }
  if (!has_key(pairs, "filename")) {
    pairs.emplace_back("filename", std::string(file_name));
  }
  if (!has_key(pairs, "filetype")) {
    if (auto type = filetype_for(file_name)) {
      pairs.emplace_back("filetype", std::move(*type));
    }
  }
  return pairs;
}

bool is_header_arg(std::string_view arg) noexcept {
  const auto colon = arg.find(':');
  if (colon == 0 || colon == std::string_view::npos) {
    return false;
  }
  const auto name = arg.substr(0, colon);
  const bool token = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
  const auto value = arg.substr(colon + 1);
  const bool clean = std::none_of(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
  return token && clean;
}

std::optional<core::ChecksumAlgorithm> parse_checksum_name(std::string_view name) noexcept {
  if (name == "sha1") {
    return core::ChecksumAlgorithm::sha1;
  }
  if (name == "sha256") {
    return core::ChecksumAlgorithm::sha256;
  }
  if (name == "md5") {
    return core::ChecksumAlgorithm::md5;
  }
  if (name == "crc32") {
    return core::ChecksumAlgorithm::crc32;
  }
  return std::nullopt;
}

std::string checksum_header(core::ChecksumAlgorithm algorithm, std::string_view raw_digest) {
  const auto& names = core::checksum_algorithm_names();
  std::string_view name;
  for (const auto n : names) {
    if (parse_checksum_name(n) == algorithm) {
      name = n;
    }
  }
  return std::string(name) + " " + core::base64_encode(raw_digest);
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1024) {
    return std::to_string(bytes) + " B";
  }
  constexpr std::array<const char*, 5> kUnits = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (v >= 1024.0 && unit + 1 < kUnits.size()) {
    v /= 1024.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

std::string format_duration(std::chrono::seconds d) {
  const auto total = std::max<std::int64_t>(0, d.count());
  const auto h = total / 3600;
  const auto m = (total % 3600) / 60;
  const auto s = total % 60;
  char buf[32];
  if (h > 0) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(h), static_cast<long long>(m),
                  static_cast<long long>(s));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(m), static_cast<long long>(s));
  }
  return buf;
}

std::string format_progress_line(const ProgressView& p, std::size_t width) {
  std::string tail = format_bytes(p.done);
  std::string bar;
  if (p.total) {
    const double fraction = *p.total == 0 ? 1.0 : std::min(1.0, static_cast<double>(p.done) / static_cast<double>(*p.total));
    constexpr std::size_t kBar = 20;
    const auto filled = static_cast<std::size_t>(fraction * kBar);
    bar = "[" + std::string(filled, '#') + std::string(kBar - filled, '-') + "]";
    tail += " / " + format_bytes(*p.total);
    tail += "  " + std::to_string(static_cast<int>(fraction * 100)) + "%";
  }
  if (p.rate > 0) {
    tail += "  " + format_bytes(static_cast<std::uint64_t>(p.rate)) + "/s";
  }
  if (p.finished) {
    tail += "  done";
  } else if (p.total && p.rate > 0) {
    const auto left = static_cast<double>(*p.total - std::min(*p.total, p.done)) / p.rate;
    tail += "  ETA " + format_duration(std::chrono::seconds(static_cast<std::int64_t>(left + 0.5)));
  }
  std::string right = bar.empty() ? tail : bar + "  " + tail;
  // The name gets what is left, cut with "…" from the left end kept.
  const std::size_t room = width > right.size() + 2 ? width - right.size() - 2 : 8;
  std::string name(p.name);
  if (name.size() > room) {
    name = name.substr(0, room > 3 ? room - 3 : 0) + "...";
  }
  return name + "  " + right;
}

std::string format_presign(std::string_view signature, std::int64_t expiration, std::string_view video_id, bool json) {
  if (json) {
    boost::json::object o;
    o["Signature"] = signature;
    o["Expiration"] = std::to_string(expiration);
    o["Video-Id"] = video_id;
    return boost::json::serialize(o) + "\n";
  }
  return "Signature: " + std::string(signature) + "\nExpiration: " + std::to_string(expiration) +
         "\nVideo-Id: " + std::string(video_id) + "\n";
}

}  // namespace vidup::client
