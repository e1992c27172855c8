#include "store/catalog.hpp"

#include <array>
#include <utility>

namespace vidup::store {

namespace {

// The spelling is part of the API and of the stored schema: never change an entry.
constexpr std::array<std::pair<VideoStatus, std::string_view>, 5> kStatusNames = {{
    {VideoStatus::created, "created"},
    {VideoStatus::uploading, "uploading"},
    {VideoStatus::uploaded, "uploaded"},
    {VideoStatus::aborted, "aborted"},
    {VideoStatus::expired, "expired"},
}};

}  // namespace

std::string_view to_string(VideoStatus s) noexcept {
  for (const auto& [status, name] : kStatusNames) {
    if (status == s) {
      return name;
    }
  }
  return "created";
}

std::optional<VideoStatus> video_status_from(std::string_view s) noexcept {
  for (const auto& [status, name] : kStatusNames) {
    if (name == s) {
      return status;
    }
  }
  return std::nullopt;
}

}  // namespace vidup::store
