#include "client/uploader.hpp"

#include "client/plan.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace vidup::client {
namespace {

using namespace std::chrono_literals;

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Error cancelled_error() { return Error{Failure::cancelled, 0, core::Errc::interrupted, "interrupted"}; }

// Sleeps `d`, waking early when `cancel` is raised. False when cancelled.
bool sleep_for(std::chrono::milliseconds d, const std::atomic<bool>& cancel) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (cancel.load()) {
      return false;
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(50ms, until - std::chrono::steady_clock::now()));
  }
  return !cancel.load();
}

bool is_gone(const Error& e) {
  return e.kind == Failure::status && (e.status == 404 || e.status == 410 || e.status == 403);
}

// Runs `call` until it succeeds, fails for good, or the delays run out.
template <class F>
auto with_retries(const RetryPolicy& policy, Call kind, const std::atomic<bool>& cancel, F call) -> decltype(call()) {
  for (std::size_t attempt = 0;; ++attempt) {
    auto r = call();
    if (r || !RetryPolicy::is_retryable(r.error(), kind)) {
      return r;
    }
    const auto d = policy.delay(attempt);
    if (!d) {
      Error exhausted = r.error();
      exhausted.retries_exhausted = true;
      return exhausted;
    }
    if (!sleep_for(*d, cancel)) {
      return cancelled_error();
    }
  }
}

// Progress of one upload made of `n` ranges (one per --parallel part), reported as one number.
class Progress {
 public:
  Progress(const ProgressFn& fn, std::size_t n, std::optional<std::uint64_t> total)
      : fn_(fn), done_(std::make_unique<std::atomic<std::uint64_t>[]>(n)), n_(n), total_(total) {}

  void set(std::size_t part, std::uint64_t done) {
    done_[part].store(done);
    report();
  }
  void set_total(std::uint64_t total) {
    const std::lock_guard lock(mutex_);
    total_ = total;
  }
  void report() {
    if (!fn_) {
      return;
    }
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      sum += done_[i].load();
    }
    const std::lock_guard lock(mutex_);
    fn_(sum, total_);
  }

 private:
  const ProgressFn& fn_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> done_;
  std::size_t n_;
  std::optional<std::uint64_t> total_;
  std::mutex mutex_;
};

// One range of one upload URL: [start, end) of the source, the server at `offset`.
struct Range {
  std::string url;
  std::uint64_t start = 0;   // the source's first byte that belongs to this upload
  std::uint64_t offset = 0;  // absolute position in the source the server has reached
  std::uint64_t end = 0;
  std::optional<std::uint64_t> declare_length;  // Upload-Length to send with the PATCH reaching `end`
  std::uint64_t sent = 0;                       // acknowledged advance in this run
};

class Sender {
 public:
  Sender(const Client& client, const UploadOptions& options, const std::atomic<bool>& cancel)
      : client_(client), options_(options), cancel_(cancel) {}

  // PATCHes range.offset..range.end; `part` names the progress slot. `floor` is the lowest
  // absolute offset the source can still produce (a stream's buffered chunk).
  Result<void> send(Range& range, Source& source, Progress& progress, std::size_t part, std::uint64_t floor) {
    const std::uint64_t chunk =
        options_.chunk_size != 0 ? options_.chunk_size : (options_.checksum ? kDefaultChecksumChunk : 0);
    bool declared = !range.declare_length.has_value();
    bool need_sync = false;
    std::size_t attempt = 0;
    auto retry = [&](const Error& e) -> std::optional<Error> {
      if (!RetryPolicy::is_retryable(e, Call::patch)) {
        return e;
      }
      const auto d = options_.retry.delay(attempt++);
      if (!d) {
        Error exhausted = e;
        exhausted.retries_exhausted = true;
        return exhausted;
      }
      if (!sleep_for(*d, cancel_)) {
        return cancelled_error();
      }
      need_sync = true;
      return std::nullopt;
    };
    while (range.offset < range.end || !declared) {
      if (cancel_.load()) {
        return cancelled_error();
      }
      if (need_sync) {
        auto h = client_.head(range.url, cancel_);
        if (!h) {
          if (auto fatal = retry(h.error()); fatal) {
            return *fatal;
          }
          continue;
        }
        need_sync = false;
        const std::uint64_t server = range.start + h->offset;
        if (server < floor || server > range.end) {
          return make_local_error("after a retry the server is at offset " + std::to_string(h->offset) +
                                  ", which this upload cannot continue from");
        }
        if (server > range.offset) {
          range.sent += server - range.offset;
        }
        range.offset = server;
        declared = declared || h->length.has_value();
        progress.set(part, range.offset - range.start);
        continue;
      }
      const std::uint64_t length = next_chunk(range.offset, range.end, chunk);
      PatchRequest req;
      req.url = range.url;
      req.offset = range.offset - range.start;
      req.length = length;
      if (!declared && range.offset + length == range.end) {
        req.declare_length = range.declare_length;
      }
      if (options_.checksum) {
        auto sum = digest_of(source, range.offset, length);
        if (!sum) {
          return sum.error();
        }
        req.checksum = checksum_header(*options_.checksum, *sum);
      }
      const std::uint64_t base = range.offset;
      const SentFn on_sent = [&progress, part, base, &range](std::uint64_t sent) {
        progress.set(part, base - range.start + sent);
      };
      OffsetSource shifted(source, range.start);
      auto r = client_.patch(req, shifted, on_sent, cancel_);
      if (!r) {
        progress.set(part, range.offset - range.start);
        if (auto fatal = retry(r.error()); fatal) {
          return *fatal;
        }
        continue;
      }
      const std::uint64_t server = range.start + *r;
      if (server > range.end || server < range.offset) {
        return make_local_error("the server answered Upload-Offset " + std::to_string(*r) +
                                " after a PATCH from " + std::to_string(req.offset));
      }
      if (server > range.offset) {
        attempt = 0;  // progress: the retry budget starts again
      }
      range.sent += server - range.offset;
      range.offset = server;
      if (req.declare_length) {
        declared = true;
      }
      progress.set(part, range.offset - range.start);
    }
    return {};
  }

 private:
  // The source seen from the upload's first byte (a --parallel part starts mid-file).
  class OffsetSource final : public Source {
   public:
    OffsetSource(Source& inner, std::uint64_t start) : inner_(inner), start_(start) {}
    Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) override {
      return inner_.read_at(start_ + offset, out);
    }

   private:
    Source& inner_;
    std::uint64_t start_;
  };

  Result<std::string> digest_of(Source& source, std::uint64_t offset, std::uint64_t length) {
    auto hasher = core::make_hasher(*options_.checksum);
    std::vector<std::byte> buf(1U << 20U);
    while (length > 0) {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length, buf.size()));
      auto got = source.read_at(offset, std::span(buf.data(), want));
      if (!got) {
        return got.error();
      }
      if (*got == 0) {
        return make_local_error("the file ended early (was it truncated during the upload?)");
      }
      hasher->update(std::span(buf.data(), *got));
      offset += *got;
      length -= *got;
    }
    return hasher->finish();
  }

  const Client& client_;
  const UploadOptions& options_;
  const std::atomic<bool>& cancel_;
};

class FileUpload {
 public:
  FileUpload(const Client& client, const UploadOptions& options, const std::atomic<bool>& cancel, Report& report)
      : client_(client), options_(options), cancel_(cancel), report_(report) {}

  void run(const std::filesystem::path& file, const ProgressFn& progress_fn) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      report_.error = make_local_error("cannot open " + file.string() + ": " + std::strerror(errno));
      return;
    }
    const std::unique_ptr<int, void (*)(int*)> closer(new int(fd), [](int* p) {
      ::close(*p);
      delete p;
    });
    const std::string key_endpoint = options_.upload_url.value_or(options_.endpoint);
    auto fp = fingerprint_file(file, key_endpoint);
    if (!fp) {
      report_.error = fp.error();
      return;
    }
    fp_ = *fp;
    report_.size = fp_.size;
    FileSource source(fd);
    std::optional<StoredUpload> stored;
    if (options_.store != nullptr && options_.resume && !options_.upload_url) {
      stored = options_.store->find(fp_);
    }
    if (stored && !stored->parts.empty()) {
      run_parallel(source, progress_fn, stored);
      return;
    }
    if (!stored && !options_.upload_url && options_.parallel > 1) {
      run_parallel(source, progress_fn, std::nullopt);
      return;
    }
    run_single(source, progress_fn, stored);
  }

 private:
  void warn(const std::string& text) const {
    if (options_.warn) {
      options_.warn(text);
    }
  }

  void remember(const StoredUpload& s) {
    if (options_.store == nullptr || options_.upload_url) {
      return;
    }
    if (auto r = options_.store->put(fp_, s); !r) {
      warn("cannot save resume state (" + r.error().message + "); a rerun will start over");
    }
  }

  void forget() {
    if (options_.store == nullptr || options_.upload_url) {
      return;
    }
    if (auto r = options_.store->remove(fp_); !r) {
      warn("cannot update resume state: " + r.error().message);
    }
  }

  Result<Grant> authorize() const {
    if (!options_.authorize) {
      return Grant{};
    }
    return options_.authorize();
  }

  // HEAD a stored or given URL: its offset, or nullopt when it is gone (start over).
  Result<std::optional<UploadStatus>> probe(const std::string& url) {
    auto h = with_retries(options_.retry, Call::head, cancel_, [&] { return client_.head(url, cancel_); });
    if (!h) {
      if (is_gone(h.error())) {
        return std::optional<UploadStatus>();
      }
      return h.error();
    }
    return std::optional<UploadStatus>(*h);
  }

  Result<std::string> create(const CreateRequest& req) {
    return with_retries(options_.retry, Call::create, cancel_, [&] { return client_.create(req, cancel_); });
  }

  void run_single(Source& source, const ProgressFn& progress_fn, const std::optional<StoredUpload>& stored) {
    Range range;
    range.end = fp_.size;
    std::optional<std::uint64_t> server_length = fp_.size;
    if (options_.upload_url || stored) {
      const std::string url = options_.upload_url.value_or(stored ? stored->upload_url : std::string());
      auto status = probe(url);
      if (!status) {
        report_.upload_url = url;
        report_.error = status.error();
        return;
      }
      if (*status && (*status)->length && *(*status)->length != fp_.size) {
        if (options_.upload_url) {
          report_.upload_url = url;
          report_.error = make_local_error("the upload's length (" + std::to_string(*(*status)->length) +
                                           ") is not the file's size (" + std::to_string(fp_.size) + ")");
          return;
        }
        warn("the stored upload has another length; starting over");
      } else if (*status) {
        range.url = url;
        range.offset = (*status)->offset;
        server_length = (*status)->length;
        report_.video_id = stored ? stored->video_id : std::nullopt;
      } else if (options_.upload_url) {
        report_.upload_url = url;
        report_.error = make_status_error(404, "the upload URL is gone (404/410/403 on HEAD)");
        return;
      } else {
        warn("the stored upload is gone on the server; starting over");
      }
      if (range.url.empty()) {
        forget();
      }
    }
    if (range.url.empty()) {
      auto grant = authorize();
      if (!grant) {
        report_.error = grant.error();
        return;
      }
      report_.video_id = grant->video_id;
      CreateRequest req{options_.endpoint, fp_.size, build_metadata_header(options_.metadata), std::nullopt,
                        grant->headers};
      auto url = create(req);
      if (!url) {
        report_.error = url.error();
        return;
      }
      range.url = *url;
      remember(StoredUpload{range.url, {}, report_.video_id, now_s()});
    }
    report_.upload_url = range.url;
    if (range.offset > range.end) {
      report_.error = make_local_error("the server has more bytes than the file");
      return;
    }
    report_.resumed_from = range.offset;
    if (!server_length) {
      range.declare_length = fp_.size;
    }
    Progress progress(progress_fn, 1, fp_.size);
    progress.set(0, range.offset);
    Sender sender(client_, options_, cancel_);
    auto sent = sender.send(range, source, progress, 0, 0);
    report_.bytes_sent = range.sent;
    if (!sent) {
      report_.error = sent.error();
      if (is_gone(sent.error())) {
        forget();
      }
      return;
    }
    forget();
  }

  void run_parallel(Source& source, const ProgressFn& progress_fn, std::optional<StoredUpload> stored) {
    const unsigned n = stored ? static_cast<unsigned>(stored->parts.size()) : options_.parallel;
    const auto plan = plan_parts(fp_.size, n);
    StoredUpload state;
    state.created_at = now_s();
    state.parts.assign(plan.size(), std::string());
    if (stored && stored->parts.size() == plan.size()) {
      state = *stored;
    }
    std::vector<Range> ranges(plan.size());
    std::vector<std::optional<Error>> errors(plan.size());
    Progress progress(progress_fn, plan.size(), fp_.size);
    std::mutex state_mutex;
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> running{plan.size()};
    auto worker = [&](std::size_t i) {
      Range& range = ranges[i];
      range.start = plan[i].offset;
      range.offset = plan[i].offset;
      range.end = plan[i].offset + plan[i].length;
      std::string url;
      {
        const std::lock_guard lock(state_mutex);
        url = state.parts[i];
      }
      Sender sender(client_, options_, stop);
      auto fail = [&](Error e) {
        errors[i] = std::move(e);
        stop.store(true);
      };
      if (!url.empty()) {
        auto h = with_retries(options_.retry, Call::head, stop, [&] { return client_.head(url, stop); });
        if (!h && !is_gone(h.error())) {
          return fail(h.error());
        }
        if (h && (!h->length || *h->length == plan[i].length) && h->offset <= plan[i].length) {
          range.offset = plan[i].offset + h->offset;
          range.url = url;
        }
      }
      if (range.url.empty()) {
        CreateRequest req{options_.endpoint, plan[i].length, std::string(), std::string("partial"), {}};
        auto created = with_retries(options_.retry, Call::create, stop, [&] { return client_.create(req, stop); });
        if (!created) {
          return fail(created.error());
        }
        range.url = *created;
        const std::lock_guard lock(state_mutex);
        state.parts[i] = range.url;
        remember(state);
      }
      progress.set(i, range.offset - range.start);
      auto sent = sender.send(range, source, progress, i, range.start);
      if (!sent) {
        fail(sent.error());
      }
    };
    std::vector<std::thread> threads;
    threads.reserve(plan.size());
    for (std::size_t i = 0; i < plan.size(); ++i) {
      threads.emplace_back([&, i] {
        worker(i);
        running.fetch_sub(1);
      });
    }
    while (running.load() > 0) {
      if (cancel_.load()) {
        stop.store(true);
      }
      std::this_thread::sleep_for(20ms);
    }
    for (auto& t : threads) {
      t.join();
    }
    for (std::size_t i = 0; i < plan.size(); ++i) {
      report_.resumed_from += ranges[i].offset - ranges[i].sent - plan[i].offset;
      report_.bytes_sent += ranges[i].sent;
    }
    if (cancel_.load()) {
      report_.error = cancelled_error();
      return;
    }
    for (auto& e : errors) {
      if (e && e->kind != Failure::cancelled) {
        report_.error = *e;
        return;
      }
    }
    std::string concat = "final;";
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      concat += (i == 0 ? "" : " ") + ranges[i].url;
    }
    auto grant = authorize();
    if (!grant) {
      report_.error = grant.error();
      return;
    }
    report_.video_id = grant->video_id;
    CreateRequest req{options_.endpoint, std::nullopt, build_metadata_header(options_.metadata), concat, grant->headers};
    auto final_url = create(req);
    if (!final_url) {
      report_.error = final_url.error();
      return;
    }
    report_.upload_url = *final_url;
    forget();
  }

  const Client& client_;
  const UploadOptions& options_;
  const std::atomic<bool>& cancel_;
  Report& report_;
  Fingerprint fp_;
};

// Reads until `out` is full or the stream ends; the number of bytes read.
Result<std::size_t> read_full(int fd, std::span<std::byte> out) {
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n == 0) {
      break;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return make_local_error(std::string("cannot read the input: ") + std::strerror(errno));
    }
    got += static_cast<std::size_t>(n);
  }
  return got;
}

}  // namespace

Report Uploader::upload_file(const std::filesystem::path& file, const ProgressFn& progress,
                             const std::atomic<bool>& cancel) {
  Report report;
  FileUpload(client_, options_, cancel, report).run(file, progress);
  return report;
}

Report Uploader::upload_stream(int fd, const ProgressFn& progress_fn, const std::atomic<bool>& cancel) {
  Report report;
  const std::uint64_t chunk = options_.chunk_size != 0 ? options_.chunk_size : kDefaultStreamChunk;
  Range range;
  if (options_.upload_url) {
    range.url = *options_.upload_url;
    auto h = with_retries(options_.retry, Call::head, cancel, [&] { return client_.head(range.url, cancel); });
    if (!h) {
      report.upload_url = range.url;
      report.error = h.error();
      return report;
    }
    range.offset = h->offset;
    report.resumed_from = h->offset;
  } else {
    Grant grant;
    if (options_.authorize) {
      auto g = options_.authorize();
      if (!g) {
        report.error = g.error();
        return report;
      }
      grant = *g;
    }
    report.video_id = grant.video_id;
    CreateRequest req{options_.endpoint, std::nullopt, build_metadata_header(options_.metadata), std::nullopt,
                      grant.headers};
    auto url = with_retries(options_.retry, Call::create, cancel, [&] { return client_.create(req, cancel); });
    if (!url) {
      report.error = url.error();
      return report;
    }
    range.url = *url;
  }
  report.upload_url = range.url;
  std::vector<std::byte> buf(static_cast<std::size_t>(chunk));
  // Skip what the server already has (an --upload-url resumed from a stream).
  for (std::uint64_t skip = range.offset; skip > 0;) {
    auto got = read_full(fd, std::span(buf.data(), static_cast<std::size_t>(std::min<std::uint64_t>(skip, chunk))));
    if (!got || *got == 0) {
      report.error = got ? make_local_error("the input is shorter than the upload's offset") : got.error();
      return report;
    }
    skip -= *got;
  }
  Progress progress(progress_fn, 1, std::nullopt);
  Sender sender(client_, options_, cancel);
  std::optional<std::byte> carry;
  for (;;) {
    std::size_t have = 0;
    if (carry) {
      buf[0] = *carry;
      have = 1;
      carry.reset();
    }
    auto got = read_full(fd, std::span(buf.data() + have, buf.size() - have));
    if (!got) {
      report.error = got.error();
      return report;
    }
    have += *got;
    bool eof = have < buf.size();
    if (!eof) {
      std::byte peek{};
      auto more = read_full(fd, std::span(&peek, 1));
      if (!more) {
        report.error = more.error();
        return report;
      }
      eof = *more == 0;
      if (!eof) {
        carry = peek;
      }
    }
    MemorySource source(range.offset, std::span<const std::byte>(buf.data(), have));
    range.end = range.offset + have;
    range.declare_length = eof ? std::optional<std::uint64_t>(range.end) : std::nullopt;
    if (eof) {
      progress.set_total(range.end);
    }
    const std::uint64_t floor = range.offset;
    auto sent = sender.send(range, source, progress, 0, floor);
    report.bytes_sent = range.sent;
    report.size = range.offset;
    if (!sent) {
      report.error = sent.error();
      return report;
    }
    if (eof) {
      return report;
    }
  }
}

}  // namespace vidup::client
