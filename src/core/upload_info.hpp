#pragma once

#include "core/concat.hpp"
#include "core/metadata.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vidup::core {

enum class UploadState {
  active,      // accepting bytes (or, for a final, waiting for its partials)
  finished,    // offset == size, bytes complete
  terminated,  // DELETEd: tombstone, bytes gone (410)
  expired,     // swept: tombstone, bytes gone (410)
};

[[nodiscard]] std::string_view to_string(UploadState s) noexcept;
[[nodiscard]] std::optional<UploadState> upload_state_from(std::string_view s) noexcept;

// One upload's record. The InfoStore keeps it; the DataStore keeps the bytes.
struct UploadInfo {
  std::string id;
  std::optional<std::uint64_t> size;  // nullopt while the length is deferred
  std::uint64_t offset = 0;           // bytes durably stored and acknowledged
  std::string metadata_raw;           // Upload-Metadata exactly as received (H-MD-09)
  Metadata metadata;
  ConcatKind concat = ConcatKind::none;
  std::string concat_raw;                // Upload-Concat exactly as received (CAT-10)
  std::vector<std::string> partial_ids;  // final uploads: the partials, in order
  UploadState state = UploadState::active;
  std::int64_t created_at = 0;  // unix ms
  std::int64_t updated_at = 0;  // unix ms
  std::int64_t expires_at = 0;  // unix ms; 0 = never (finished uploads do not expire)
  std::string owner;            // opaque tag set by the UploadPolicy (the platform's video id)

  [[nodiscard]] bool size_known() const { return size.has_value(); }
  [[nodiscard]] bool is_final() const { return concat == ConcatKind::final_upload; }
  [[nodiscard]] bool is_partial() const { return concat == ConcatKind::partial; }
  [[nodiscard]] bool is_finished() const { return state == UploadState::finished; }
  [[nodiscard]] bool is_tombstone() const {
    return state == UploadState::terminated || state == UploadState::expired;
  }
};

}  // namespace vidup::core
