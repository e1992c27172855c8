#include "core/upload_info.hpp"

namespace vidup::core {

std::string_view to_string(UploadState s) noexcept {
  switch (s) {
    case UploadState::active:
      return "active";
    case UploadState::finished:
      return "finished";
    case UploadState::terminated:
      return "terminated";
    case UploadState::expired:
      return "expired";
  }
  return "active";  // unreachable for values inside the enum
}

std::optional<UploadState> upload_state_from(std::string_view s) noexcept {
  for (const UploadState state :
       {UploadState::active, UploadState::finished, UploadState::terminated, UploadState::expired}) {
    if (to_string(state) == s) {
      return state;
    }
  }
  return std::nullopt;
}

}  // namespace vidup::core
