// `vidup upload FILE… --endpoint URL`: resumable uploads to a tus server (Vidup or any other),
// on the client library. Exit codes are part of the contract (docs/client.md).

#include "commands/commands.hpp"

#include "auth/auth.hpp"
#include "client/client.hpp"
#include "client/fingerprint_store.hpp"
#include "client/formatting.hpp"
#include "client/retry.hpp"
#include "client/uploader.hpp"
#include "core/integers.hpp"

#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace vidup::app {

namespace {

namespace po = boost::program_options;
namespace json = boost::json;
using client::Failure;

constexpr int kExitOk = 0;
constexpr int kExitRefused = 1;
constexpr int kExitUsage = 2;
constexpr int kExitExhausted = 3;
constexpr int kExitInterrupted = 130;

constexpr std::string_view kUploadHelp =
    "usage: vidup upload FILE... --endpoint URL [options]\n"
    "\n"
    "Uploads files with tus 1.0.0, resuming where a previous run stopped. FILE may be `-` (stdin,\n"
    "sent with Upload-Defer-Length; never resumed across runs).\n"
    "\n"
    "Credentials (at most one way; none = anonymous creation):\n"
    "  --api-key K --parent-id P            create a video (POST <origin>/v1/videos), sign it, upload\n"
    "  --signature S --expiration E --video-id V   presigned headers handed out by a backend\n"
    "  --upload-url URL                     an upload that exists already (/v2/init): resume/PATCH only\n"
    "\n"
    "Exit codes:\n"
    "  0    every file uploaded\n"
    "  1    the server refused an upload (a 4xx other than 409/423), or a local error\n"
    "  2    usage error (bad flags, missing file)\n"
    "  3    retries exhausted (network errors, timeouts, stalls, 5xx, 423, 409)\n"
    "  130  interrupted by SIGINT/SIGTERM; the state is kept: run the same command to resume\n";

std::atomic<bool> g_cancel{false};

extern "C" void on_signal(int /*sig*/) {
  if (g_cancel.exchange(true)) {
    ::_exit(kExitInterrupted);  // second signal: stop now
  }
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read returns EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

struct UsageError {
  std::string message;
};

std::uint64_t parse_number(const po::variables_map& vm, const char* name, std::uint64_t fallback) {
  if (vm.count(name) == 0U) {
    return fallback;
  }
  const auto& text = vm[name].as<std::string>();
  auto n = core::parse_uint(text, core::Errc::bad_request);
  if (!n) {
    throw UsageError{std::string("--") + name + " must be a non-negative integer, not '" + text + "'"};
  }
  return *n;
}

// Redraws one line per file on stderr, at most 10 times a second.
class ProgressBar {
 public:
  ProgressBar(bool enabled, std::string name) : enabled_(enabled), name_(std::move(name)) {}

  void update(std::uint64_t done, std::optional<std::uint64_t> total) {
    if (!enabled_) {
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!started_) {
      started_ = true;
      first_ = now;
      last_ = now;
      last_bytes_ = done;
      base_ = done;
    }
    done_ = done;
    total_ = total;
    if (now - last_draw_ < std::chrono::milliseconds(100)) {
      return;
    }
    const double dt = std::chrono::duration<double>(now - last_).count();
    if (dt >= 0.5) {
      const double instant = static_cast<double>(done - std::min(done, last_bytes_)) / dt;
      rate_ = rate_ == 0 ? instant : 0.7 * rate_ + 0.3 * instant;
      last_ = now;
      last_bytes_ = done;
    } else if (rate_ == 0) {
      const double elapsed = std::chrono::duration<double>(now - first_).count();
      if (elapsed > 0.2) {
        rate_ = static_cast<double>(done - std::min(done, base_)) / elapsed;
      }
    }
    draw(false);
    last_draw_ = now;
  }

  void finish(bool ok) {
    if (!enabled_ || !started_) {
      return;
    }
    if (ok) {
      done_ = total_.value_or(done_);
    }
    draw(ok);
    std::cerr << "\n" << std::flush;
  }

 private:
  void draw(bool finished) {
    client::ProgressView view{name_, done_, total_, rate_, finished};
    std::cerr << "\r" << client::format_progress_line(view, 100) << "\x1b[K" << std::flush;
  }

  bool enabled_;
  std::string name_;
  bool started_ = false;
  std::chrono::steady_clock::time_point first_{}, last_{}, last_draw_{};
  std::uint64_t last_bytes_ = 0, base_ = 0, done_ = 0;
  std::optional<std::uint64_t> total_;
  double rate_ = 0;
};

int exit_code_for(const client::Error& e) {
  if (e.kind == Failure::cancelled) {
    return kExitInterrupted;
  }
  return e.retries_exhausted || e.kind == Failure::transport ? kExitExhausted : kExitRefused;
}

std::string json_line(const std::string& file, const client::Report& r) {
  json::object o;
  o["file"] = file;
  o["upload_url"] = r.upload_url.empty() ? json::value(nullptr) : json::value(r.upload_url);
  o["video_id"] = r.video_id ? json::value(*r.video_id) : json::value(nullptr);
  o["size"] = r.size;
  o["bytes_sent"] = r.bytes_sent;
  o["resumed_from"] = r.resumed_from;
  o["status"] = r.error ? "failed" : "uploaded";
  if (r.error) {
    const auto& e = *r.error;
    o["error"] = e.message.empty() ? "HTTP " + std::to_string(e.status) : e.message;
  } else {
    o["error"] = nullptr;
  }
  return json::serialize(o);
}

struct Args {
  std::vector<std::string> files;
  std::string endpoint;
  std::optional<std::string> upload_url;
  std::optional<std::string> api_key, parent_id;
  std::optional<std::string> signature, expiration, video_id;
  bool quiet = false;
  bool json_output = false;
};

// The --api-key way: a video per creation, signed for an hour.
client::Authorizer api_key_authorizer(const client::Client& http, const client::RetryPolicy& retry,
                                      const std::string& origin, std::string key, std::string parent,
                                      std::string title, std::optional<std::uint64_t> size) {
  return [&http, &retry, origin, key = std::move(key), parent = std::move(parent), title = std::move(title),
          size]() -> client::Result<client::Grant> {
    json::object body;
    body["parent_id"] = parent;
    body["title"] = title;
    body["filename"] = title;
    body["size"] = size ? json::value(*size) : json::value(nullptr);
    const std::string text = json::serialize(body);
    client::Result<std::string> answer = client::make_local_error("not sent");
    for (std::size_t attempt = 0;; ++attempt) {
      answer = http.post_json(origin + "/v1/videos", text, {"Authorization: Bearer " + key}, g_cancel);
      if (answer || !client::RetryPolicy::is_retryable(answer.error(), client::Call::create)) {
        break;
      }
      const auto d = retry.delay(attempt);
      if (!d) {
        auto e = answer.error();
        e.retries_exhausted = true;
        answer = e;
        break;
      }
      for (auto until = std::chrono::steady_clock::now() + *d; std::chrono::steady_clock::now() < until;) {
        if (g_cancel.load()) {
          return client::Error{Failure::cancelled, 0, core::Errc::interrupted, "interrupted"};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (!answer) {
      auto e = answer.error();
      e.message = "creating the video: " + e.message;
      return e;
    }
    boost::system::error_code ec;
    const auto v = json::parse(*answer, ec);
    const json::value* id = nullptr;
    if (!ec && v.is_object()) {
      if (const auto* data = v.as_object().if_contains("data"); data != nullptr && data->is_object()) {
        id = data->as_object().if_contains("id");
      }
    }
    if (id == nullptr || !id->is_string()) {
      return client::make_local_error("the server's answer to POST /v1/videos has no data.id");
    }
    const std::string video_id(id->as_string());
    const auto expiration = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count() +
                            3600;
    client::Grant grant;
    grant.video_id = video_id;
    grant.headers = {"Signature: " + auth::presign_signature(key, expiration, video_id),
                     "Expiration: " + std::to_string(expiration), "Video-Id: " + video_id};
    return grant;
  };
}

int run(int argc, const char* const* argv) {
  po::options_description desc("Options");
  desc.add_options()("endpoint", po::value<std::string>(), "tus creation URL (e.g. http://127.0.0.1:8080/tusupload)")(
      "api-key", po::value<std::string>(), "API key: create the video and sign the upload")(
      "parent-id", po::value<std::string>(), "project or folder of the new video (with --api-key)")(
      "signature", po::value<std::string>(), "presigned Signature header")(
      "expiration", po::value<std::string>(), "presigned Expiration header (unix seconds)")(
      "video-id", po::value<std::string>(), "presigned Video-Id header")(
      "upload-url", po::value<std::string>(), "an existing upload URL (one FILE): no creation")(
      "state-dir", po::value<std::string>(), "resume state (default $XDG_STATE_HOME/vidup or ~/.local/state/vidup)")(
      "no-resume", "start over, ignoring (and replacing) the stored upload")(
      "retry-delays", po::value<std::string>()->default_value("0,1,3,10,30"),
      "seconds before each retry; the count is the number of retries (\"\" = none)")(
      "stall-timeout", po::value<std::string>()->default_value("30"), "abort and retry a transfer idle this many seconds")(
      "chunk-size", po::value<std::string>(), "bytes per PATCH (default: the rest of the file; 64 MiB with --checksum; 8 MiB for stdin)")(
      "parallel", po::value<std::string>()->default_value("1"), "split into N partial uploads sent concurrently (concatenation)")(
      "checksum", po::value<std::string>(), "Upload-Checksum per PATCH: sha1 | sha256 (also md5, crc32)")(
      "metadata", po::value<std::vector<std::string>>()->composing(), "key=value, repeatable (filename, filetype added by default)")(
      "defer-length", "stdin: Upload-Defer-Length: 1, length declared with the last PATCH (implied by `-`)")(
      "header", po::value<std::vector<std::string>>()->composing(), "\"Name: value\" sent on every request, repeatable")(
      "quiet,q", "print nothing but errors")("json", "one JSON object per file on stdout")(
      "help,h", "print this help and exit");
  po::options_description hidden;
  hidden.add_options()("file", po::value<std::vector<std::string>>(), "files");
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description positional;
  positional.add("file", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError{e.what()};
  }
  if (vm.count("help") != 0U) {
    std::cout << kUploadHelp << "\n" << desc << "\n";
    return kExitOk;
  }
  auto get = [&](const char* name) -> std::optional<std::string> {
    if (vm.count(name) == 0U) {
      return std::nullopt;
    }
    return vm[name].as<std::string>();
  };
  Args a;
  if (vm.count("file") != 0U) {
    a.files = vm["file"].as<std::vector<std::string>>();
  }
  if (a.files.empty()) {
    throw UsageError{"which file? usage: vidup upload FILE... --endpoint URL"};
  }
  a.upload_url = get("upload-url");
  a.api_key = get("api-key");
  a.parent_id = get("parent-id");
  a.signature = get("signature");
  a.expiration = get("expiration");
  a.video_id = get("video-id");
  a.quiet = vm.count("quiet") != 0U;
  a.json_output = vm.count("json") != 0U;
  a.endpoint = get("endpoint").value_or("");
  if (a.endpoint.empty() && !a.upload_url) {
    throw UsageError{"--endpoint URL is required (the tus creation URL, e.g. http://127.0.0.1:8080/tusupload)"};
  }
  if (!a.endpoint.empty() && !client::origin_of(a.endpoint)) {
    throw UsageError{"--endpoint must be an absolute http(s) URL, not '" + a.endpoint + "'"};
  }
  if (a.upload_url && !client::origin_of(*a.upload_url)) {
    throw UsageError{"--upload-url must be an absolute http(s) URL"};
  }
  const bool by_key = a.api_key || a.parent_id;
  const bool by_signature = a.signature || a.expiration || a.video_id;
  if (by_key && (!a.api_key || !a.parent_id)) {
    throw UsageError{"--api-key and --parent-id go together"};
  }
  if (by_signature && (!a.signature || !a.expiration || !a.video_id)) {
    throw UsageError{"--signature, --expiration and --video-id go together"};
  }
  if (int(by_key) + int(by_signature) + int(a.upload_url.has_value()) > 1) {
    throw UsageError{"use one way in: --api-key/--parent-id, --signature/--expiration/--video-id, or --upload-url"};
  }
  if (by_key && a.endpoint.empty()) {
    throw UsageError{"--api-key needs --endpoint (its origin serves POST /v1/videos)"};
  }

  client::UploadOptions base;
  base.endpoint = a.endpoint;
  base.upload_url = a.upload_url;
  base.resume = vm.count("no-resume") == 0U;
  auto delays = client::parse_retry_delays(vm["retry-delays"].as<std::string>());
  if (!delays) {
    throw UsageError{"--retry-delays must be comma-separated seconds, e.g. 0,1,3,10,30"};
  }
  base.retry.delays = *delays;
  const auto stall = parse_number(vm, "stall-timeout", 30);
  if (stall == 0 || stall > 86400) {
    throw UsageError{"--stall-timeout must be between 1 and 86400 seconds"};
  }
  base.chunk_size = parse_number(vm, "chunk-size", 0);
  if (vm.count("chunk-size") != 0U && base.chunk_size == 0) {
    throw UsageError{"--chunk-size must be at least 1 byte"};
  }
  const auto parallel = parse_number(vm, "parallel", 1);
  if (parallel == 0 || parallel > 64) {
    throw UsageError{"--parallel must be between 1 and 64"};
  }
  base.parallel = static_cast<unsigned>(parallel);
  if (parallel > 1 && (by_key || by_signature)) {
    throw UsageError{"--parallel cannot be used with --api-key or --signature: a presigned video takes exactly one "
                     "upload, and concatenation needs one per part (use --header for other credentials)"};
  }
  if (a.upload_url && (a.files.size() != 1 || parallel > 1)) {
    throw UsageError{"--upload-url names one upload: give exactly one FILE and no --parallel"};
  }
  if (auto name = get("checksum")) {
    base.checksum = client::parse_checksum_name(*name);
    if (!base.checksum) {
      throw UsageError{"--checksum must be sha1 or sha256 (or md5, crc32), not '" + *name + "'"};
    }
  }
  client::MetadataPairs metadata;
  if (vm.count("metadata") != 0U) {
    for (const auto& m : vm["metadata"].as<std::vector<std::string>>()) {
      auto pair = client::parse_metadata_arg(m);
      if (!pair) {
        throw UsageError{"--metadata must be key=value with a key of visible ASCII and no ',', not '" + m + "'"};
      }
      metadata.push_back(std::move(*pair));
    }
  }
  client::ClientOptions client_options;
  client_options.stall_timeout_s = static_cast<long>(stall);
  if (vm.count("header") != 0U) {
    for (const auto& h : vm["header"].as<std::vector<std::string>>()) {
      if (!client::is_header_arg(h)) {
        throw UsageError{"--header must be \"Name: value\", not '" + h + "'"};
      }
      client_options.headers.push_back(h);
    }
  }
  int stdin_count = 0;
  for (const auto& f : a.files) {
    if (f == "-") {
      ++stdin_count;
      continue;
    }
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) {
      throw UsageError{"no such file: " + f};
    }
    if (!S_ISREG(st.st_mode)) {
      throw UsageError{"not a regular file: " + f};
    }
  }
  if (stdin_count > 1) {
    throw UsageError{"`-` (stdin) may be given once"};
  }
  const std::filesystem::path state_dir =
      get("state-dir") ? std::filesystem::path(*get("state-dir")) : client::default_state_dir();
  client::FingerprintStore store(state_dir);
  base.store = &store;
  base.warn = [&a](std::string_view text) {
    if (!a.quiet) {
      std::cerr << "\nvidup upload: " << text << "\n";
    }
  };

  install_signal_handlers();
  const client::Client http(client_options);
  const bool tty = ::isatty(2) != 0 && !a.quiet;
  int worst = kExitOk;
  for (const auto& file : a.files) {
    const bool from_stdin = file == "-";
    const std::string name = from_stdin ? std::string() : std::filesystem::path(file).filename().string();
    client::UploadOptions options = base;
    options.metadata = client::with_default_metadata(metadata, name);
    std::optional<std::uint64_t> size;
    if (!from_stdin) {
      size = std::filesystem::file_size(file);
    }
    if (a.api_key) {
      std::string title = name;
      for (const auto& [k, v] : options.metadata) {
        if (k == "filename" && title.empty()) {
          title = v;
        }
      }
      options.authorize = api_key_authorizer(http, base.retry, *client::origin_of(a.endpoint), *a.api_key,
                                             *a.parent_id, title.empty() ? "stdin" : title, size);
    } else if (by_signature) {
      options.authorize = [&a]() -> client::Result<client::Grant> {
        return client::Grant{{"Signature: " + *a.signature, "Expiration: " + *a.expiration, "Video-Id: " + *a.video_id},
                             *a.video_id};
      };
    }
    ProgressBar bar(tty, from_stdin ? "stdin" : name);
    const client::ProgressFn progress = [&bar](std::uint64_t done, std::optional<std::uint64_t> total) {
      bar.update(done, total);
    };
    client::Uploader uploader(http, options);
    auto report = from_stdin ? uploader.upload_stream(STDIN_FILENO, progress, g_cancel)
                             : uploader.upload_file(file, progress, g_cancel);
    if (by_signature && !report.video_id) {
      report.video_id = a.video_id;
    }
    bar.finish(!report.error);
    if (a.json_output) {
      std::cout << json_line(file, report) << "\n" << std::flush;
    }
    if (report.error) {
      const int code = exit_code_for(*report.error);
      if (code == kExitInterrupted) {
        std::cerr << "vidup upload: " << file << ": interrupted; run the same command again to resume\n";
        return kExitInterrupted;
      }
      std::cerr << "vidup upload: " << file << ": " << report.error->describe()
                << (code == kExitExhausted ? " (retries exhausted)" : "") << "\n";
      worst = std::max(worst, code);
      continue;
    }
    if (!a.quiet && !a.json_output) {
      std::cerr << "vidup upload: " << file << " uploaded (" << client::format_bytes(report.size)
                << (report.resumed_from > 0 ? ", resumed from " + client::format_bytes(report.resumed_from) : "")
                << ") to " << report.upload_url << "\n";
    }
  }
  return worst;
}

}  // namespace

int upload_command(int argc, const char* const* argv) {
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "vidup upload: " << e.message << " (see vidup upload --help)\n";
    return kExitUsage;
  }
}

}  // namespace vidup::app
