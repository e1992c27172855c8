#include "client/fingerprint_store.hpp"

#include "core/checksum.hpp"

#include <boost/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vidup::client {
namespace {

namespace json = boost::json;

std::string hex(std::string_view raw) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (const char c : raw) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4U];
    out += kDigits[b & 0xFU];
  }
  return out;
}

std::string errno_text(std::string_view what, const std::filesystem::path& p) {
  return std::string(what) + " " + p.string() + ": " + std::strerror(errno);
}

// Holds an exclusive flock for as long as it lives (released when the fd closes).
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& p) : fd_(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0) {
      while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }

 private:
  int fd_;
};

json::object load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return {};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  auto v = json::parse(ss.str(), ec);
  if (ec || !v.is_object()) {
    return {};
  }
  auto* uploads = v.as_object().if_contains("uploads");
  if (uploads == nullptr || !uploads->is_object()) {
    return {};
  }
  return uploads->as_object();
}

Result<void> save(const std::filesystem::path& file, const json::object& uploads) {
  json::object root;
  root["version"] = 1;
  root["uploads"] = uploads;
  const std::string text = json::serialize(root) + "\n";
  auto tmp = file;
  tmp += ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_local_error(errno_text("cannot write", tmp));
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      auto e = make_local_error(errno_text("cannot write", tmp));
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    auto e = make_local_error(errno_text("cannot write", tmp));
    ::unlink(tmp.c_str());
    return e;
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    auto e = make_local_error(errno_text("cannot replace", file));
    ::unlink(tmp.c_str());
    return e;
  }
  return {};
}

std::optional<std::string> opt_string(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    return std::nullopt;
  }
  return std::string(v->as_string());
}

}  // namespace

std::string Fingerprint::key() const {
  std::string text = "vidup-upload-v1\n" + path + "\n" + std::to_string(size) + "\n" + std::to_string(mtime_ns) + "\n" + endpoint;
  return hex(core::digest(core::ChecksumAlgorithm::sha256, text));
}

Result<Fingerprint> fingerprint_file(const std::filesystem::path& file, std::string_view endpoint) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(file, ec);
  if (ec) {
    return make_local_error("cannot resolve " + file.string() + ": " + ec.message());
  }
  abs = abs.lexically_normal();
  struct stat st {};
  if (::stat(abs.c_str(), &st) != 0) {
    return make_local_error(errno_text("cannot stat", abs));
  }
  Fingerprint fp;
  fp.path = abs.string();
  fp.size = static_cast<std::uint64_t>(st.st_size);
  fp.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  fp.endpoint = std::string(endpoint);
  return fp;
}

FingerprintStore::FingerprintStore(std::filesystem::path dir) : dir_(std::move(dir)), file_(dir_ / "uploads.json") {}

std::optional<StoredUpload> FingerprintStore::find(const Fingerprint& fp) const {
  const std::lock_guard lock(mutex_);
  const auto uploads = load(file_);
  const auto* v = uploads.if_contains(fp.key());
  if (v == nullptr || !v->is_object()) {
    return std::nullopt;
  }
  const auto& o = v->as_object();
  StoredUpload s;
  s.upload_url = opt_string(o, "upload_url").value_or("");
  s.video_id = opt_string(o, "video_id");
  if (const auto* parts = o.if_contains("parts"); parts != nullptr && parts->is_array()) {
    for (const auto& p : parts->as_array()) {
      s.parts.push_back(p.is_string() ? std::string(p.as_string()) : std::string());
    }
  }
  if (const auto* c = o.if_contains("created_at"); c != nullptr && c->is_int64()) {
    s.created_at = c->as_int64();
  }
  if (s.upload_url.empty() && s.parts.empty()) {
    return std::nullopt;
  }
  return s;
}

Result<void> FingerprintStore::put(const Fingerprint& fp, const StoredUpload& upload) {
  const std::lock_guard lock(mutex_);
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    return make_local_error("cannot create " + dir_.string() + ": " + ec.message());
  }
  const FileLock file_lock(dir_ / "uploads.lock");
  auto uploads = load(file_);
  json::object o;
  o["path"] = fp.path;
  o["size"] = fp.size;
  o["mtime_ns"] = fp.mtime_ns;
  o["endpoint"] = fp.endpoint;
  o["upload_url"] = upload.upload_url;
  json::array parts;
  for (const auto& p : upload.parts) {
    parts.emplace_back(p);
  }
  o["parts"] = std::move(parts);
  o["video_id"] = upload.video_id ? json::value(*upload.video_id) : json::value(nullptr);
  o["created_at"] = upload.created_at;
  uploads[fp.key()] = std::move(o);
  return save(file_, uploads);
}

Result<void> FingerprintStore::remove(const Fingerprint& fp) {
  const std::lock_guard lock(mutex_);
  if (!std::filesystem::exists(file_)) {
    return {};
  }
  const FileLock file_lock(dir_ / "uploads.lock");
  auto uploads = load(file_);
  if (uploads.erase(fp.key()) == 0) {
    return {};
  }
  return save(file_, uploads);
}

std::filesystem::path default_state_dir() {
  const char* xdg = std::getenv("XDG_STATE_HOME");
  if (xdg != nullptr && xdg[0] == '/') {
    return std::filesystem::path(xdg) / "vidup";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr && home[0] != '\0' ? home : ".") / ".local" / "state" / "vidup";
}

}  // namespace vidup::client
