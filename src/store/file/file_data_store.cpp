#include "store/file/file_data_store.hpp"

#include "store/run_blocking.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace vidup::store {

namespace {

namespace fs = std::filesystem;
using core::Errc;
using ErrorCode = boost::system::error_code;

constexpr std::string_view kStageSuffix = ".stage";
constexpr std::size_t kMaxIdBytes = 200;
constexpr std::size_t kCopyChunk = 1 << 20;

ErrorCode fail(Errc e) { return core::make_error_code(e); }

// ENOSPC and EDQUOT are the client-visible "storage full"; everything else is a storage error.
ErrorCode from_errno(int e) { return fail(e == ENOSPC || e == EDQUOT ? Errc::storage_full : Errc::storage_error); }

// Ids become file names: only [A-Za-z0-9_-], so no path tricks and no clash with markers. The
// handler validates ids already; this is the last line of defence.
bool safe_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = -1;
  }
  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

Fd open_file(const fs::path& p, int flags, mode_t mode = 0) {
  int fd = -1;
  do {
    fd = ::open(p.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return Fd(fd);
}

fs::path marker_of(const fs::path& data) {
  fs::path m = data;
  m += kStageSuffix;
  return m;
}

Result<void> sync(int fd, bool data_only) {
  const int rc = data_only ? ::fdatasync(fd) : ::fsync(fd);
  if (rc != 0) {
    return from_errno(errno);
  }
  return {};
}

// Makes creations and unlinks in `dir` durable.
Result<void> sync_dir(const fs::path& dir) {
  Fd fd = open_file(dir, O_RDONLY | O_DIRECTORY);
  if (!fd.valid()) {
    return from_errno(errno);
  }
  return sync(fd.get(), false);
}

Result<std::uint64_t> size_of(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return from_errno(errno);
  }
  return static_cast<std::uint64_t>(st.st_size);
}

Result<void> truncate_to(int fd, std::uint64_t size) {
  int rc = 0;
  do {
    rc = ::ftruncate(fd, static_cast<off_t>(size));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    return from_errno(errno);
  }
  return {};
}

// Moves all of `buf` at `offset` with `io` (::pread or ::pwrite), retrying EINTR and short
// transfers; `done` counts what moved. A transfer of nothing is a storage error: for a read, the
// file is shorter than the caller expects.
template <class Io, class Byte>
Result<void> transfer_all(Io io, int fd, std::span<Byte> buf, std::uint64_t offset, std::uint64_t& done) {
  std::size_t pos = 0;
  while (pos < buf.size()) {
    const ssize_t n = io(fd, buf.data() + pos, buf.size() - pos, static_cast<off_t>(offset + pos));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return from_errno(errno);
    }
    if (n == 0) {
      return fail(Errc::storage_error);
    }
    pos += static_cast<std::size_t>(n);
    done += static_cast<std::uint64_t>(n);
  }
  return {};
}

// Writes all of `data` at `offset`; `done` counts what landed.
Result<void> pwrite_all(int fd, std::span<const std::byte> data, std::uint64_t offset, std::uint64_t& done) {
  return transfer_all(::pwrite, fd, data, offset, done);
}

// Reads exactly buf.size() bytes at `offset`; a short file is a storage error.
Result<void> pread_all(int fd, std::span<std::byte> buf, std::uint64_t offset) {
  std::uint64_t done = 0;
  return transfer_all(::pread, fd, buf, offset, done);
}

Result<void> unlink_if_exists(const fs::path& p) {
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
    return from_errno(errno);
  }
  return {};
}

bool path_exists(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

// The marker holds the decimal size of the data file before the staged bytes. Written and made
// durable before the first staged byte, so a crash never leaves staged bytes without it.
Result<void> write_marker(const fs::path& marker, const fs::path& dir, std::uint64_t size) {
  Fd fd = open_file(marker, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!fd.valid()) {
    return from_errno(errno);
  }
  char text[24];
  const auto [end, ec] = std::to_chars(std::begin(text), std::end(text), size);
  assert(ec == std::errc{} && "24 chars hold any uint64");
  std::uint64_t done = 0;
  const auto bytes = std::as_bytes(std::span<const char>(text, static_cast<std::size_t>(end - text)));
  if (auto r = pwrite_all(fd.get(), bytes, 0, done); !r) {
    return r;
  }
  if (auto r = sync(fd.get(), false); !r) {
    return r;
  }
  return sync_dir(dir);
}

// The marker's size, or nullopt when there is none. A marker that does not parse was torn by a
// crash while it was being written, before any staged byte: it protects nothing.
Result<std::optional<std::uint64_t>> read_marker(const fs::path& marker) {
  Fd fd = open_file(marker, O_RDONLY);
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return std::optional<std::uint64_t>{};
    }
    return from_errno(errno);
  }
  char text[32];
  ssize_t n = 0;
  do {
    n = ::pread(fd.get(), text, sizeof text, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return from_errno(errno);
  }
  std::uint64_t size = 0;
  const char* end = text + n;
  const auto [ptr, ec] = std::from_chars(text, end, size);
  if (ec != std::errc{} || ptr != end) {
    return std::optional<std::uint64_t>{};
  }
  return std::optional<std::uint64_t>{size};
}

Result<void> copy_range(int in, int out, std::uint64_t length, std::uint64_t out_offset) {
  auto in_off = static_cast<off_t>(0);
  auto out_off = static_cast<off_t>(out_offset);
  std::uint64_t left = length;
  // copy_file_range first (reflinks / in-kernel copy); plain read/write when unsupported.
  while (left > 0) {
    const ssize_t n = ::copy_file_range(in, &in_off, out, &out_off,
                                        static_cast<std::size_t>(std::min<std::uint64_t>(left, kCopyChunk)), 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) {
        break;
      }
      return from_errno(errno);
    }
    if (n == 0) {
      return fail(Errc::storage_error);  // the partial is shorter than its record says
    }
    left -= static_cast<std::uint64_t>(n);
  }
  std::vector<std::byte> buf(static_cast<std::size_t>(std::min<std::uint64_t>(left, kCopyChunk)));
  while (left > 0) {
    const auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
    const auto slice = std::span<std::byte>(buf.data(), chunk);
    if (auto r = pread_all(in, slice, static_cast<std::uint64_t>(in_off)); !r) {
      return r;
    }
    std::uint64_t done = 0;
    if (auto r = pwrite_all(out, slice, static_cast<std::uint64_t>(out_off), done); !r) {
      return r;
    }
    in_off += static_cast<off_t>(chunk);
    out_off += static_cast<off_t>(chunk);
    left -= chunk;
  }
  return {};
}

// --- Blocking steps, run on the pool. Call sites pass them lambdas that capture only references
// and scalars: g++ 12 destroys the members of a closure temporary in a co_await expression
// twice, which is harmless only for trivially destructible captures. ---

// Makes the file's bytes durable; then, for a staged chunk, drops the marker so they count.
Result<void> make_durable(int fd, bool unmark, const fs::path& marker, const fs::path& dir) {
  if (auto s = sync(fd, true); !s) {
    return s;
  }
  if (!unmark) {
    return {};
  }
  if (auto s = unlink_if_exists(marker); !s) {
    return s;
  }
  return sync_dir(dir);
}

// Cuts the file back to `size` durably and forgets any marker.
Result<void> cut_back(int fd, std::uint64_t size, const fs::path& marker, const fs::path& dir) {
  if (auto s = truncate_to(fd, size); !s) {
    return s;
  }
  if (auto s = sync(fd, false); !s) {
    return s;
  }
  if (auto s = unlink_if_exists(marker); !s) {
    return s;
  }
  return sync_dir(dir);
}

Result<void> create_file(const fs::path& path, const fs::path& dir) {
  Fd fd = open_file(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (!fd.valid()) {
    return from_errno(errno);
  }
  return sync_dir(dir);
}

Result<std::uint64_t> recover_file(const fs::path& path, const fs::path& dir) {
  Fd fd = open_file(path, O_WRONLY);
  if (!fd.valid()) {
    return errno == ENOENT ? fail(Errc::not_found) : from_errno(errno);
  }
  const fs::path marker = marker_of(path);
  auto staged_from = read_marker(marker);
  if (!staged_from) {
    return staged_from.error();
  }
  auto size = size_of(fd.get());
  if (!size) {
    return size.error();
  }
  if (*staged_from && **staged_from < *size) {
    if (auto s = truncate_to(fd.get(), **staged_from); !s) {
      return s.error();
    }
    *size = **staged_from;
  }
  if (auto s = sync(fd.get(), false); !s) {
    return s.error();
  }
  if (path_exists(marker)) {
    if (auto s = unlink_if_exists(marker); !s) {
      return s.error();
    }
    if (auto s = sync_dir(dir); !s) {
      return s.error();
    }
  }
  return *size;
}

// The ids that have a data file in `dir` (stage markers and stray names are not ids).
Result<std::vector<std::string>> list_ids(const fs::path& dir) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (safe_id(name)) {
      ids.push_back(std::move(name));
    }
  }
  if (ec) {
    return from_errno(ec.value());
  }
  return ids;
}

Result<void> remove_file(const fs::path& path, const fs::path& dir) {
  if (auto s = unlink_if_exists(marker_of(path)); !s) {
    return s;
  }
  if (auto s = unlink_if_exists(path); !s) {
    return s;
  }
  return sync_dir(dir);
}

// Writes the parts' first `length` bytes, in order, as the whole of `out_path`, durably.
Result<void> concat_files(const fs::path& out_path, const std::vector<std::pair<fs::path, std::uint64_t>>& parts) {
  Fd out = open_file(out_path, O_WRONLY);
  if (!out.valid()) {
    return errno == ENOENT ? fail(Errc::not_found) : from_errno(errno);
  }
  // Idempotent: a retry after a crash mid-copy starts over.
  if (auto s = truncate_to(out.get(), 0); !s) {
    return s;
  }
  std::uint64_t at = 0;
  for (const auto& [path, length] : parts) {
    Fd in = open_file(path, O_RDONLY);
    if (!in.valid()) {
      return from_errno(errno);
    }
    if (auto s = copy_range(in.get(), out.get(), length, at); !s) {
      return s;
    }
    at += length;
  }
  return sync(out.get(), true);
}

// Appends at `start` with plain pwrite() calls: the page cache absorbs them, commit() makes
// them durable. A staged writer drops its marker before the first byte after open (or after a
// commit); discard() returns the file to the marker's size. The file is closed between writes
// while the store is over its open-file budget (fsync flushes the file, whichever descriptor
// wrote the bytes).
class FileUploadWriter final : public UploadWriter {
 public:
  FileUploadWriter(Fd fd, fs::path data, fs::path dir, net::thread_pool& blocking, std::uint64_t start, bool staged,
                   std::atomic<std::size_t>& open_files, std::size_t budget)
      : fd_(std::move(fd)),
        data_(std::move(data)),
        marker_(marker_of(data_)),
        dir_(std::move(dir)),
        blocking_(blocking),
        open_files_(open_files),
        budget_(budget),
        start_(start),
        staged_(staged) {
    ++open_files_;
  }
  FileUploadWriter(const FileUploadWriter&) = delete;
  FileUploadWriter& operator=(const FileUploadWriter&) = delete;
  ~FileUploadWriter() override { close_file(); }

  net::awaitable<Result<void>> write(std::span<const std::byte> data) override {
    if (data.empty()) {
      co_return Result<void>{};
    }
    if (staged_ && !marked_) {
      const std::uint64_t at = start_ + written_;
      auto r = co_await run_blocking(blocking_, [this, at] { return write_marker(marker_, dir_, at); });
      if (!r) {
        co_return r;
      }
      marked_ = true;
      mark_ = at;
    }
    if (auto opened = open_file_again(); !opened) {
      co_return opened;
    }
    auto r = pwrite_all(fd_.get(), data, start_ + written_, written_);
    start_writeback();
    close_if_over_budget();
    co_return r;
  }

  [[nodiscard]] std::uint64_t written() const override { return written_; }

  // Plain appends only: a staged writer's marker goes down in write(), before its first byte.
  std::optional<Result<FileTarget>> file_target() override {
    if (staged_) {
      return std::nullopt;
    }
    if (auto opened = open_file_again(); !opened) {
      return Result<FileTarget>(opened.error());
    }
    return Result<FileTarget>(FileTarget{fd_.get(), start_ + written_});
  }

  void advance(std::uint64_t n) override {
    written_ += n;
    start_writeback();
    close_if_over_budget();
  }

  net::awaitable<Result<std::uint64_t>> commit() override {
    if (auto opened = open_file_again(); !opened) {
      co_return opened.error();
    }
    auto r = co_await run_blocking(blocking_, [this] { return make_durable(fd_.get(), marked_, marker_, dir_); });
    close_if_over_budget();
    if (!r) {
      co_return r.error();
    }
    marked_ = false;
    co_return start_ + written_;
  }

  net::awaitable<Result<void>> discard() override {
    assert(staged_ && "discard() is for staged writers");
    if (!staged_) {
      co_return fail(Errc::internal);
    }
    if (!marked_) {
      co_return Result<void>{};
    }
    if (auto opened = open_file_again(); !opened) {
      co_return opened;
    }
    auto r = co_await run_blocking(blocking_, [this] { return cut_back(fd_.get(), mark_, marker_, dir_); });
    close_if_over_budget();
    if (!r) {
      co_return r;
    }
    marked_ = false;
    written_ = mark_ - start_;
    kicked_ = std::min(kicked_, written_);
    co_return Result<void>{};
  }

 private:
  Result<void> open_file_again() {
    if (fd_.valid()) {
      return {};
    }
    fd_ = open_file(data_, O_WRONLY);
    if (!fd_.valid()) {
      return from_errno(errno);  // the upload holds its lock: nobody removed the file
    }
    ++open_files_;
    return {};
  }
  void close_file() {
    if (fd_.valid()) {
      fd_.reset();
      --open_files_;
    }
  }
  void close_if_over_budget() {
    if (open_files_.load(std::memory_order_relaxed) > budget_) {
      close_file();
    }
  }
  // The page cache would hold a large body until commit()'s fdatasync, which then waits for all
  // of it to reach the disk. Every kWritebackEvery bytes the disk is asked to start on what came
  // so far (sync_file_range, which can block on a busy device for 100 ms and more: on the pool,
  // one at a time per writer, through a duplicate of the descriptor), so receiving and writing
  // overlap and commit() waits only for the tail.
  void start_writeback() {
    if (written_ - kicked_ < kWritebackEvery || writeback_->busy.exchange(true)) {
      return;
    }
    const int dup = ::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0);
    if (dup < 0) {
      writeback_->busy = false;
      return;  // only a head start is lost
    }
    const auto from = static_cast<off_t>(start_ + kicked_);
    const auto length = static_cast<off_t>(written_ - kicked_);
    kicked_ = written_;
    net::post(blocking_, [dup, from, length, writeback = writeback_] {
      ::sync_file_range(dup, from, length, SYNC_FILE_RANGE_WRITE);
      ::close(dup);
      writeback->busy = false;
    });
  }

  struct Writeback {
    std::atomic<bool> busy{false};  // a sync_file_range of this writer is queued or running
  };
  static constexpr std::uint64_t kWritebackEvery = 2 * 1024 * 1024;

  Fd fd_;
  fs::path data_;
  fs::path marker_;
  fs::path dir_;
  net::thread_pool& blocking_;
  std::atomic<std::size_t>& open_files_;
  std::size_t budget_;
  std::uint64_t start_;
  bool staged_;
  bool marked_ = false;     // a marker is on disk for the bytes since mark_
  std::uint64_t mark_ = 0;  // the stored size the marker records
  std::uint64_t written_ = 0;
  std::uint64_t kicked_ = 0;  // bytes of written_ handed to start_writeback()
  std::shared_ptr<Writeback> writeback_ = std::make_shared<Writeback>();
};

class FileContentSource final : public ContentSource {
 public:
  FileContentSource(Fd fd, std::uint64_t start, std::uint64_t length)
      : fd_(std::move(fd)), pos_(start), left_(length), size_(length) {}

  [[nodiscard]] std::uint64_t size() const override { return size_; }

  net::awaitable<Result<std::size_t>> read(std::span<std::byte> buf) override {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left_, buf.size()));
    if (want == 0) {
      co_return std::size_t{0};
    }
    for (;;) {
      const ssize_t n = ::pread(fd_.get(), buf.data(), want, static_cast<off_t>(pos_));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        co_return from_errno(errno);
      }
      if (n == 0) {
        co_return fail(Errc::storage_error);  // the file shrank under us
      }
      pos_ += static_cast<std::uint64_t>(n);
      left_ -= static_cast<std::uint64_t>(n);
      co_return static_cast<std::size_t>(n);
    }
  }

 private:
  Fd fd_;
  std::uint64_t pos_;
  std::uint64_t left_;
  std::uint64_t size_;
};

}  // namespace

FileDataStore::FileDataStore(std::filesystem::path root, net::thread_pool& blocking,
                             std::optional<std::size_t> open_file_budget)
    : dir_(std::move(root) / "uploads"), blocking_(blocking), open_file_budget_(open_file_budget.value_or(0)) {
  if (!open_file_budget) {
    rlimit limit{};
    const bool known = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY;
    open_file_budget_ = known ? std::max<std::size_t>(64, static_cast<std::size_t>(limit.rlim_cur) / 4) : 4096;
  }
  fs::create_directories(dir_);
  if (::access(dir_.c_str(), R_OK | W_OK | X_OK) != 0) {
    throw std::system_error(errno, std::generic_category(), "upload directory " + dir_.string() + " is not usable");
  }
}

std::filesystem::path FileDataStore::path_of(const std::string& id) const { return dir_ / id; }

net::awaitable<Result<void>> FileDataStore::create(const UploadInfo& info) {
  if (!safe_id(info.id)) {
    co_return fail(Errc::invalid_upload_id);
  }
  const fs::path path = path_of(info.id);
  co_return co_await run_blocking(blocking_, [this, &path] { return create_file(path, dir_); });
}

net::awaitable<Result<std::unique_ptr<UploadWriter>>> FileDataStore::open_writer(const UploadInfo& info, bool staged) {
  if (!safe_id(info.id)) {
    co_return fail(Errc::invalid_upload_id);
  }
  const fs::path path = path_of(info.id);
  Fd fd = open_file(path, O_WRONLY);
  if (!fd.valid()) {
    co_return errno == ENOENT ? fail(Errc::not_found) : from_errno(errno);
  }
  auto size = size_of(fd.get());
  if (!size) {
    co_return size.error();
  }
  if (*size < info.offset) {
    co_return fail(Errc::storage_error);  // recover() first: the record is ahead of the bytes
  }
  // Bytes past the acknowledged offset, and a stale marker from an abandoned staged writer, are
  // dropped durably before anything new is written, so recovery can never resurrect them.
  const fs::path marker = marker_of(path);
  if (*size > info.offset || path_exists(marker)) {
    const int raw = fd.get();
    const std::uint64_t offset = info.offset;
    auto r =
        co_await run_blocking(blocking_, [this, raw, offset, &marker] { return cut_back(raw, offset, marker, dir_); });
    if (!r) {
      co_return r.error();
    }
  }
  co_return std::unique_ptr<UploadWriter>(
      std::make_unique<FileUploadWriter>(std::move(fd), path, dir_, blocking_, info.offset, staged, open_files_,
                                         open_file_budget_));
}

net::awaitable<Result<std::uint64_t>> FileDataStore::recover(const UploadInfo& info) {
  if (!safe_id(info.id)) {
    co_return fail(Errc::invalid_upload_id);
  }
  const fs::path path = path_of(info.id);
  co_return co_await run_blocking(blocking_, [this, &path] { return recover_file(path, dir_); });
}

net::awaitable<Result<void>> FileDataStore::remove(const std::string& id) {
  if (!safe_id(id)) {
    co_return fail(Errc::invalid_upload_id);
  }
  const fs::path path = path_of(id);
  co_return co_await run_blocking(blocking_, [this, &path] { return remove_file(path, dir_); });
}

net::awaitable<Result<std::vector<std::string>>> FileDataStore::stored_ids() {
  co_return co_await run_blocking(blocking_, [this] { return list_ids(dir_); });
}

net::awaitable<Result<void>> FileDataStore::concatenate(const UploadInfo& final_upload,
                                                        const std::vector<UploadInfo>& partials) {
  if (!safe_id(final_upload.id)) {
    co_return fail(Errc::invalid_upload_id);
  }
  std::vector<std::pair<fs::path, std::uint64_t>> parts;
  parts.reserve(partials.size());
  for (const auto& p : partials) {
    if (!safe_id(p.id)) {
      co_return fail(Errc::invalid_upload_id);
    }
    parts.emplace_back(path_of(p.id), p.offset);
  }
  const fs::path out = path_of(final_upload.id);
  co_return co_await run_blocking(blocking_, [&out, &parts] { return concat_files(out, parts); });
}

net::awaitable<Result<std::unique_ptr<ContentSource>>> FileDataStore::open_reader(const UploadInfo& info,
                                                                                  std::uint64_t start,
                                                                                  std::uint64_t length) {
  if (!safe_id(info.id)) {
    co_return fail(Errc::invalid_upload_id);
  }
  Fd fd = open_file(path_of(info.id), O_RDONLY);
  if (!fd.valid()) {
    co_return errno == ENOENT ? fail(Errc::not_found) : from_errno(errno);
  }
  auto size = size_of(fd.get());
  if (!size) {
    co_return size.error();
  }
  if (start > *size || length > *size - start) {
    co_return fail(Errc::storage_error);  // the record promises more bytes than are stored
  }
  co_return std::unique_ptr<ContentSource>(std::make_unique<FileContentSource>(std::move(fd), start, length));
}

}  // namespace vidup::store
