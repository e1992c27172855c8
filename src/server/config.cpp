#include "server/config.hpp"

#include <boost/program_options.hpp>

#include <cctype>
#include <filesystem>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <thread>

namespace vidup::server {

namespace po = boost::program_options;

namespace {

std::chrono::milliseconds seconds(double s, const char* what) {
  if (s < 0) {
    throw std::invalid_argument(std::string("--") + what + " must not be negative");
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000.0));
}

// "--max-size" ← "VIDUP_MAX_SIZE".
std::string env_to_option(const std::string& env, const po::options_description& desc) {
  constexpr std::string_view kPrefix = "VIDUP_";
  if (!env.starts_with(kPrefix)) {
    return {};
  }
  std::string name = env.substr(kPrefix.size());
  for (auto& c : name) {
    c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return desc.find_nothrow(name, false) != nullptr ? name : std::string{};
}

void split_listen(const std::string& listen, http::Options& o) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw std::invalid_argument("--listen must be HOST:PORT, e.g. 127.0.0.1:8080");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const auto port = std::strtoul(listen.c_str() + colon + 1, nullptr, 10);
  if (port > 65535 || listen.substr(colon + 1).find_first_not_of("0123456789") != std::string::npos) {
    throw std::invalid_argument("--listen has a bad port: " + listen);
  }
  o.host = host;
  o.port = static_cast<unsigned short>(port);
}

}  // namespace

std::optional<ServeConfig> parse_serve_args(int argc, const char* const* argv) {
  ServeConfig c;
  std::string listen;
  std::string base_path;
  std::string data_dir;
  std::string port_file;
  std::string cors;
  double expiry = 86400, read_timeout = 30, idle_timeout = 60, lock_wait = 5, shutdown_timeout = 10,
         sweep_interval = 60;
  // Signed on purpose: program_options wraps "-1" into a huge unsigned value.
  std::int64_t max_size = 0, header_limit = 16384, max_connections = 16384, threads = 0, blocking_threads = 0,
               s3_part_size = 0, db_pool = 8;
  double lock_lease = 15;
  std::string store_url, db_url, s3_endpoint, s3_region, s3_access_key_id, s3_secret_access_key_file;
  bool s3_virtual_hosted = false;
  bool behind_proxy = false, quiet = false, no_auth = false, demo = false;
  std::string web_dir;

  po::options_description desc(
      "vidup serve: a tus 1.0.0 upload server (by default bytes under --data/uploads, records in --data/vidup.db;\n"
      "with --store s3://... and --db postgres://... many nodes share one S3 bucket and one PostgreSQL).\n"
      "Every option can also be set as VIDUP_<NAME> (e.g. VIDUP_MAX_SIZE=1073741824); flags win.\n\n"
      "Options");
  desc.add_options()("help,h", "print this help and exit")  //
      ("listen", po::value(&listen)->default_value("127.0.0.1:8080"), "address to listen on, HOST:PORT (port 0: any free port)")
      ("data", po::value(&data_dir)->default_value("./data"), "data directory (created if missing)")
      ("base-path", po::value(&base_path)->default_value("/files/"), "URL path of the tus endpoint")
      ("max-size", po::value(&max_size)->default_value(0), "largest upload in bytes (413 beyond; 0 = no limit)")
      ("expiry", po::value(&expiry)->default_value(86400), "seconds an unfinished upload lives after its last PATCH (0 = never)")
      ("sweep-interval", po::value(&sweep_interval)->default_value(60), "seconds between expiry sweeps")
      ("read-timeout", po::value(&read_timeout)->default_value(30), "seconds a body read or a response write may stall")
      ("idle-timeout", po::value(&idle_timeout)->default_value(60), "seconds to wait for a complete request header (keep-alive idle included)")
      ("lock-wait", po::value(&lock_wait)->default_value(5), "seconds a request waits for a busy upload before 423")
      ("shutdown-timeout", po::value(&shutdown_timeout)->default_value(10), "seconds in-flight requests get on SIGTERM/SIGINT")
      ("header-limit", po::value(&header_limit)->default_value(16384), "largest request header block in bytes (431 beyond)")
      ("max-connections", po::value(&max_connections)->default_value(16384), "open connections at most; more are closed at once")
      ("store", po::value(&store_url)->default_value("file"),
       "where bytes go: 'file' (under --data/uploads) or s3://BUCKET[/PREFIX] (credentials from the --s3-* flags or "
       "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; region from AWS_REGION; endpoint from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)")
      ("s3-endpoint", po::value(&s3_endpoint), "S3 endpoint URL, e.g. http://127.0.0.1:7480 (default: the AWS_* variables, else AWS)")
      ("s3-region", po::value(&s3_region), "S3 region for request signing (default: AWS_REGION, else us-east-1)")
      ("s3-access-key-id", po::value(&s3_access_key_id), "S3 access key id (default: AWS_ACCESS_KEY_ID)")
      ("s3-secret-access-key-file", po::value(&s3_secret_access_key_file),
       "file holding the S3 secret access key, e.g. a mounted secret (default: AWS_SECRET_ACCESS_KEY); "
       "a file, not a flag, so the secret never shows in the process list")
      ("s3-part-size", po::value(&s3_part_size)->default_value(0), "bytes per multipart part, at least 5 MiB (0 = 8 MiB); memory per active upload is about 3 parts (2 uploading while the next fills)")
      ("s3-virtual-hosted", po::bool_switch(&s3_virtual_hosted), "address the bucket as BUCKET.host instead of host/BUCKET")
      ("db", po::value(&db_url)->default_value("sqlite"),
       "where records go: 'sqlite' (--data/vidup.db) or a postgres:// URL (records and cross-node locks; "
       "the password may also come from PGPASSWORD)")
      ("db-pool", po::value(&db_pool)->default_value(8), "PostgreSQL connections per node")
      ("lock-lease", po::value(&lock_lease)->default_value(15), "seconds an upload lock held by a dead node lasts (PostgreSQL)")
      ("threads", po::value(&threads)->default_value(0), "I/O threads (0 = one per core)")
      ("blocking-threads", po::value(&blocking_threads)->default_value(0),
       "threads for blocking store calls (0 = 4, or 32 with --store s3://)")
      ("behind-proxy", po::bool_switch(&behind_proxy), "trust Forwarded / X-Forwarded-Host / X-Forwarded-Proto for Location")
      ("cors-origins", po::value(&cors)->default_value("*"), "comma-separated browser origins allowed by CORS (* = any)")
      ("port-file", po::value(&port_file), "write the bound port to this file once listening")
      ("quiet", po::bool_switch(&quiet), "no per-request log lines")
      ("no-auth", po::bool_switch(&no_auth), "let anyone create uploads at the tus endpoint, without credentials (local experiments only)")
      ("demo", po::bool_switch(&demo), "serve /demo/grant and /demo/videos for the demo page (a demo project and key are created)")
      ("web-dir", po::value(&web_dir), "directory of the demo page (default: web/ beside the build directory)");

  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
  po::store(po::parse_environment(desc, [&](const std::string& env) { return env_to_option(env, desc); }), vm);
  if (vm.count("help") != 0U) {
    std::cout << desc << "\n";
    return std::nullopt;
  }
  po::notify(vm);

  split_listen(listen, c.http);
  c.data_dir = data_dir;
  c.backends.data_dir = data_dir;
  c.backends.store = store_url;
  c.backends.db = db_url;
  c.backends.s3_endpoint = s3_endpoint;
  c.backends.s3_region = s3_region;
  c.backends.s3_access_key_id = s3_access_key_id;
  c.backends.s3_secret_access_key_file = s3_secret_access_key_file;
  c.backends.s3_virtual_hosted = s3_virtual_hosted;
  if (base_path.empty() || base_path.front() != '/') {
    throw std::invalid_argument("--base-path must start with '/'");
  }
  if (base_path.back() != '/') {
    base_path.push_back('/');
  }
  c.tus.base_path = base_path;
  auto in_range = [](std::int64_t v, std::int64_t lo, std::int64_t hi, const char* what) {
    if (v < lo || v > hi) {
      throw std::invalid_argument(std::string("--") + what + " must be between " + std::to_string(lo) + " and " +
                                  std::to_string(hi));
    }
    return v;
  };
  c.tus.max_size = static_cast<std::uint64_t>(in_range(max_size, 0, INT64_MAX, "max-size"));
  c.tus.expiry = seconds(expiry, "expiry");
  c.tus.lock_wait = seconds(lock_wait, "lock-wait");
  c.sweep_interval = seconds(sweep_interval, "sweep-interval");
  if (c.sweep_interval.count() == 0) {
    throw std::invalid_argument("--sweep-interval must be positive");
  }
  c.http.read_timeout = seconds(read_timeout, "read-timeout");
  c.http.idle_timeout = seconds(idle_timeout, "idle-timeout");
  c.http.shutdown_timeout = seconds(shutdown_timeout, "shutdown-timeout");
  if (c.http.read_timeout.count() == 0 || c.http.idle_timeout.count() == 0) {
    throw std::invalid_argument("--read-timeout and --idle-timeout must be positive");
  }
  c.http.header_limit = static_cast<std::size_t>(in_range(header_limit, 1024, 1 << 20, "header-limit"));
  c.http.max_connections = static_cast<std::size_t>(in_range(max_connections, 1, 1'000'000, "max-connections"));
  c.http.behind_proxy = behind_proxy;
  c.http.log_requests = !quiet;
  c.http.cors_origins.clear();
  for (std::size_t pos = 0; pos <= cors.size();) {
    auto comma = cors.find(',', pos);
    auto item = cors.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) {
      c.http.cors_origins.push_back(item);
    }
    if (comma == std::string::npos) {
      break;
    }
    pos = comma + 1;
  }
  in_range(threads, 0, 256, "threads");
  c.backends.s3_part_size = static_cast<std::uint64_t>(in_range(s3_part_size, 0, std::int64_t{5} << 30, "s3-part-size"));
  c.backends.db_pool = static_cast<std::size_t>(in_range(db_pool, 1, 1000, "db-pool"));
  c.backends.lock_lease = seconds(lock_lease, "lock-lease");
  validate(c.backends);
  in_range(blocking_threads, 0, 1024, "blocking-threads");
  c.blocking_threads = blocking_threads != 0 ? static_cast<std::size_t>(blocking_threads)
                       : c.backends.uses_s3()  ? 32
                                               : 4;
  c.platform.no_auth = no_auth;
  c.platform.demo = demo;
  if (web_dir.empty()) {
    // build/vidup → <repo>/web and <repo>/node_modules, so `make run` finds them.
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
      web_dir = (exe.parent_path().parent_path() / "web").string();
    }
  }
  c.http.web_dir = web_dir;
  if (!web_dir.empty()) {
    c.http.node_modules_dir = (std::filesystem::path(web_dir).parent_path() / "node_modules").string();
  }
  c.threads = threads == 0 ? std::max(1U, std::thread::hardware_concurrency()) : static_cast<std::size_t>(threads);
  if (!port_file.empty()) {
    c.port_file = port_file;
  }
  return c;
}

}  // namespace vidup::server
