#pragma once
// Fingerprint → upload URL, so that running the same upload again resumes it.
//
// One JSON file, <dir>/uploads.json: {"version":1,"uploads":{"<key>":{...}}}. Every change
// re-reads the file, edits it and replaces it atomically (write uploads.json.tmp.<pid>, fsync,
// rename) under an flock on <dir>/uploads.lock, so a crash never leaves a torn file and two
// processes do not lose each other's entries. A file that does not parse counts as empty.
// Thread-safe.

#include "client/client.hpp"

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace vidup::client {

// What identifies "the same upload": the file (absolute path, size, mtime) and where it goes.
struct Fingerprint {
  std::string path;  // absolute
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::string endpoint;

  [[nodiscard]] std::string key() const;  // hex sha256 of the four fields
};

// The fingerprint of a regular file (absolute path, stat) for `endpoint`.
[[nodiscard]] Result<Fingerprint> fingerprint_file(const std::filesystem::path& file, std::string_view endpoint);

struct StoredUpload {
  std::string upload_url;              // the upload (empty while --parallel parts are pending)
  std::vector<std::string> parts;      // --parallel: the partial uploads' URLs, "" if not created yet
  std::optional<std::string> video_id;  // the platform video, when known
  std::int64_t created_at = 0;          // unix seconds
};

class FingerprintStore {
 public:
  explicit FingerprintStore(std::filesystem::path dir);

  [[nodiscard]] std::optional<StoredUpload> find(const Fingerprint& fp) const;
  // Creates the directory on first use. Failure::local when it cannot be written.
  [[nodiscard]] Result<void> put(const Fingerprint& fp, const StoredUpload& upload);
  [[nodiscard]] Result<void> remove(const Fingerprint& fp);

  [[nodiscard]] const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path file_;
  mutable std::mutex mutex_;
};

// $XDG_STATE_HOME/vidup when set and absolute, else $HOME/.local/state/vidup.
[[nodiscard]] std::filesystem::path default_state_dir();

}  // namespace vidup::client
