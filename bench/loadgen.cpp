// vidup_loadgen: the tus load generator behind bench/run (see bench/README.md).
//
//   vidup_loadgen MODE --port P [--base /files/] [--ceiling] [--pid PID]... [options]
//
// Modes (each prints one `key=value ...` result line on stdout and exits 0; any unexpected
// status, header or I/O error prints `loadgen: error: ...` on stderr and exits 1):
//   big     one upload of --size bytes as one PATCH (--chunk 0) or in --chunk byte PATCHes,
//           sequentially on one keep-alive connection: MB/s (1 MB = 10^6 bytes) and the server's
//           CPU seconds per GiB (utime+stime of every --pid, from /proc/PID/stat, before/after).
//           The POST and a DELETE afterwards (termination, keeps the disk bounded) are untimed.
//   many    --conns keep-alive connections, each creating --size uploads (POST, then one PATCH)
//           for --seconds: uploads/s and p50/p99 latency per request kind.
//   head    one upload, then HEAD on it over --conns connections for --seconds: requests/s.
//   idle    --uploads concurrent uploads (one connection each) send half of --size, wait until
//           all have, stall --stall seconds, then finish: every one must end 204 with the full
//           offset. Samples the server's fds (/proc/PID/fd) and reports the peak and VmHWM.
//   resume  one upload of --size cut --cuts times at random points (connection closed mid-body),
//           resumed from HEAD's Upload-Offset; the stored file (--store-dir/<id>) must then
//           be byte-identical to what was sent.
//   disk    no server: writes --size bytes of the pattern to a new file in --store-dir with
//           pwrite() (1 MiB at a time) while a second thread starts write-back of every 2 MiB
//           written (sync_file_range), and calls fdatasync() after every --chunk bytes (0: once,
//           at the end), as a durable upload must: MB/s of the storage path alone. Run by hand
//           (bench/README.md); on this VM it does not bound vidup, so bench/run leaves it out.
//
// --ceiling: the peer is the nginx ceiling (no tus): no POST, every request goes to
// <base>ceiling and must answer 204.
//
// The hot path is Asio coroutines on one thread over raw TCP: request heads are formatted by
// hand, bodies are written straight from a pattern buffer (no copies), responses are parsed
// with Beast's response_parser. Body byte at offset o is pattern[o % kPeriod].
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using net::awaitable;
using net::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kPeriod = (8u << 20) + 4093;  // not a power of two: misplaced bytes show
constexpr std::size_t kSlice = 1u << 20;            // largest single write
constexpr auto kIoTimeout = std::chrono::seconds(60);

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string base = "/files/";
  bool ceiling = false;
  std::vector<int> pids;
  std::uint64_t size = 0;
  std::uint64_t chunk = 0;
  int conns = 32;
  double seconds = 5;
  int uploads = 10000;
  double stall = 5;
  int cuts = 5;
  unsigned seed = 1;
  std::string store_dir;
  std::string label;
};

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "loadgen: error: " << what << "\n";
  std::exit(1);
}

const std::vector<char>& pattern() {
  static const std::vector<char> p = [] {
    std::vector<char> v(kPeriod + kSlice);
    std::mt19937_64 rng(0x7475735f62656e63ULL);
    for (std::size_t i = 0; i < kPeriod; i += 8) {
      const std::uint64_t r = rng();
      for (std::size_t j = 0; j < 8 && i + j < kPeriod; ++j) {
        v[i + j] = static_cast<char>((r >> (8 * j)) & 0xff);
      }
    }
    std::copy_n(v.begin(), kSlice, v.begin() + static_cast<std::ptrdiff_t>(kPeriod));
    return v;
  }();
  return p;
}

// ---- /proc sampling ---------------------------------------------------------------------

double cpu_seconds(const std::vector<int>& pids) {
  double total = 0;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (int pid : pids) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const auto close = s.rfind(')');
    if (close == std::string::npos) {
      fail("cannot read /proc/" + std::to_string(pid) + "/stat");
    }
    std::istringstream rest(s.substr(close + 2));
    std::string field;
    std::vector<std::string> fields;
    while (rest >> field) {
      fields.push_back(field);
    }
    // fields[0] is state (field 3); utime is field 14, stime field 15.
    total += (std::stod(fields.at(11)) + std::stod(fields.at(12))) / tick;
  }
  return total;
}

long count_fds(int pid) {
  long n = 0;
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) {
    return -1;
  }
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') {
      ++n;
    }
  }
  closedir(d);
  return n;
}

long status_kib(int pid, std::string_view key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.starts_with(key)) {
      return std::stol(line.substr(key.size() + 1));
    }
  }
  return -1;
}

// ---- one HTTP/1.1 connection --------------------------------------------------------------

using Response = http::response<http::string_body>;

class Conn {
 public:
  Conn(net::any_io_executor ex, const Options& o) : stream_(ex), opt_(o) {}

  awaitable<void> connect() {
    stream_.expires_after(kIoTimeout);
    const tcp::endpoint ep(net::ip::make_address(opt_.host), opt_.port);
    co_await stream_.async_connect(ep, use_awaitable);
    stream_.socket().set_option(tcp::no_delay(true));
    open_ = true;
  }

  // Sends `head` (request line + headers, without the blank line), then body bytes
  // [offset, offset+len) of the pattern, then reads the response. Reconnects first when the
  // previous response closed the connection.
  awaitable<Response> request(std::string head, std::uint64_t offset, std::uint64_t len, bool is_head = false) {
    co_await send_head(std::move(head), len);
    co_await send_body(offset, len);
    co_return co_await read_response(is_head);
  }

  awaitable<void> send_head(std::string head, std::uint64_t len) {
    if (!open_) {
      co_await connect();
    }
    head += "Host: " + opt_.host + ":" + std::to_string(opt_.port) + "\r\n";
    if (len > 0) {
      head += "Content-Length: " + std::to_string(len) + "\r\n";
    }
    head += "\r\n";
    stream_.expires_after(kIoTimeout);
    co_await net::async_write(stream_, net::buffer(head), use_awaitable);
  }

  awaitable<void> send_body(std::uint64_t offset, std::uint64_t len) {
    const auto& p = pattern();
    while (len > 0) {
      const std::size_t at = static_cast<std::size_t>(offset % kPeriod);
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(len, kSlice));
      stream_.expires_after(kIoTimeout);
      co_await net::async_write(stream_, net::buffer(p.data() + at, n), use_awaitable);
      offset += n;
      len -= n;
    }
  }

  awaitable<Response> read_response(bool is_head) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(1u << 20);
    parser.skip(is_head);
    stream_.expires_after(kIoTimeout);
    co_await http::async_read(stream_, buf_, parser, use_awaitable);
    Response res = parser.release();
    if (!res.keep_alive()) {
      close();
    }
    co_return res;
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
    buf_.clear();
    open_ = false;
  }

 private:
  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
  const Options& opt_;
  bool open_ = false;
};

// ---- tus requests ---------------------------------------------------------------------------

std::string path_of_location(std::string_view loc) {
  if (loc.starts_with("http://") || loc.starts_with("https://")) {
    const auto slash = loc.find('/', loc.find("//") + 2);
    return std::string(slash == std::string_view::npos ? "/" : loc.substr(slash));
  }
  return std::string(loc);
}

std::string id_of(std::string_view path) { return std::string(path.substr(path.rfind('/') + 1)); }

void expect_status(const Response& res, unsigned want, std::string_view what) {
  if (res.result_int() != want) {
    fail(std::string(what) + ": status " + std::to_string(res.result_int()) + ", want " + std::to_string(want) +
         " (body: " + res.body().substr(0, 200) + ")");
  }
}

void expect_offset(const Response& res, std::uint64_t want, std::string_view what) {
  const auto it = res.find("Upload-Offset");
  if (it == res.end() || it->value() != std::to_string(want)) {
    fail(std::string(what) + ": Upload-Offset " + (it == res.end() ? "missing" : std::string(it->value())) + ", want " +
         std::to_string(want));
  }
}

// POST (creation); returns the upload's path. Ceiling: the fixed path, no request.
awaitable<std::string> create(Conn& c, const Options& o, std::uint64_t length) {
  if (o.ceiling) {
    co_return o.base + "ceiling";
  }
  std::string head = "POST " + o.base +
                     " HTTP/1.1\r\nTus-Resumable: 1.0.0\r\nUpload-Length: " + std::to_string(length) +
                     "\r\nContent-Length: 0\r\n";
  Response res = co_await c.request(std::move(head), 0, 0);
  expect_status(res, 201, "POST");
  const auto loc = res.find(http::field::location);
  if (loc == res.end()) {
    fail("POST: no Location");
  }
  co_return path_of_location(loc->value());
}

std::string patch_head(const std::string& path, std::uint64_t offset) {
  return "PATCH " + path + " HTTP/1.1\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: " + std::to_string(offset) +
         "\r\nContent-Type: application/offset+octet-stream\r\n";
}

void check_patch(const Response& res, const Options& o, std::uint64_t end, std::string_view what) {
  expect_status(res, 204, what);
  if (!o.ceiling) {
    expect_offset(res, end, what);
  }
}

awaitable<void> patch(Conn& c, const Options& o, const std::string& path, std::uint64_t offset, std::uint64_t len) {
  Response res = co_await c.request(patch_head(path, offset), offset, len);
  check_patch(res, o, offset + len, "PATCH");
}

awaitable<std::uint64_t> head_offset(Conn& c, const Options& o, const std::string& path) {
  Response res = co_await c.request("HEAD " + path + " HTTP/1.1\r\nTus-Resumable: 1.0.0\r\n", 0, 0, true);
  if (o.ceiling) {
    expect_status(res, 204, "HEAD");
    co_return 0;
  }
  expect_status(res, 200, "HEAD");
  const auto it = res.find("Upload-Offset");
  if (it == res.end()) {
    fail("HEAD: no Upload-Offset");
  }
  co_return std::stoull(std::string(it->value()));
}

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Every spawned task ends here: an exception (I/O error, timeout) fails the run.
void check(const std::exception_ptr& e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    fail(ex.what());
  }
}

void run(net::io_context& io, awaitable<void> main_task) {
  net::co_spawn(io, std::move(main_task), [](const std::exception_ptr& e) { check(e); });
  io.run();
}

// ---- modes ------------------------------------------------------------------------------------

awaitable<void> big(const Options& o) {
  Conn c(co_await net::this_coro::executor, o);
  co_await c.connect();
  const std::string path = co_await create(c, o, o.size);
  const std::uint64_t chunk = o.chunk == 0 ? o.size : o.chunk;
  const double cpu0 = cpu_seconds(o.pids);
  const auto t0 = Clock::now();
  for (std::uint64_t off = 0; off < o.size; off += chunk) {
    co_await patch(c, o, path, off, std::min(chunk, o.size - off));
  }
  const double secs = since(t0);
  const double cpu = cpu_seconds(o.pids) - cpu0;
  if (!o.ceiling) {  // termination, untimed: keeps the disk from filling over the rounds
    Response res = co_await c.request("DELETE " + path + " HTTP/1.1\r\nTus-Resumable: 1.0.0\r\n", 0, 0);
    expect_status(res, 204, "DELETE");
  }
  std::printf("mode=big label=%s bytes=%llu chunk=%llu seconds=%.3f mbps=%.1f cpu_s_per_gib=%.3f\n", o.label.c_str(),
              static_cast<unsigned long long>(o.size), static_cast<unsigned long long>(chunk), secs,
              static_cast<double>(o.size) / 1e6 / secs, cpu / (static_cast<double>(o.size) / (1u << 30)));
}

struct Latencies {
  std::vector<double> post_ms;
  std::vector<double> patch_ms;
  std::vector<double> head_ms;
};

awaitable<void> many_worker(const Options& o, Clock::time_point deadline, Latencies& lat, long& uploads) {
  Conn c(co_await net::this_coro::executor, o);
  co_await c.connect();
  while (Clock::now() < deadline) {
    auto t = Clock::now();
    const std::string path = co_await create(c, o, o.size);
    lat.post_ms.push_back(since(t) * 1e3);
    t = Clock::now();
    co_await patch(c, o, path, 0, o.size);
    lat.patch_ms.push_back(since(t) * 1e3);
    ++uploads;
  }
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::llround(q * static_cast<double>(v.size() - 1)));
  return v[std::min(i, v.size() - 1)];
}

awaitable<void> many(const Options& o) {
  auto ex = co_await net::this_coro::executor;
  Latencies lat;
  long uploads = 0;
  int running = o.conns;
  net::steady_timer done(ex, Clock::time_point::max());
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  for (int i = 0; i < o.conns; ++i) {
    net::co_spawn(ex, many_worker(o, deadline, lat, uploads), [&](const std::exception_ptr& e) {
      check(e);
      if (--running == 0) {
        done.cancel();
      }
    });
  }
  co_await done.async_wait(net::as_tuple(use_awaitable));
  const double secs = since(t0);
  std::printf(
      "mode=many label=%s conns=%d size=%llu seconds=%.3f uploads=%ld uploads_per_s=%.1f post_p50_ms=%.3f "
      "post_p99_ms=%.3f patch_p50_ms=%.3f patch_p99_ms=%.3f\n",
      o.label.c_str(), o.conns, static_cast<unsigned long long>(o.size), secs, uploads,
      static_cast<double>(uploads) / secs, percentile(lat.post_ms, 0.5), percentile(lat.post_ms, 0.99),
      percentile(lat.patch_ms, 0.5), percentile(lat.patch_ms, 0.99));
}

awaitable<void> head_worker(const Options& o, std::string path, Clock::time_point deadline, Latencies& lat,
                            long& count) {
  Conn c(co_await net::this_coro::executor, o);
  co_await c.connect();
  while (Clock::now() < deadline) {
    const auto t = Clock::now();
    const std::uint64_t off = co_await head_offset(c, o, path);
    if (!o.ceiling && off != o.size) {
      fail("HEAD: Upload-Offset " + std::to_string(off) + ", want " + std::to_string(o.size));
    }
    lat.head_ms.push_back(since(t) * 1e3);
    ++count;
  }
}

awaitable<void> head(const Options& o) {
  auto ex = co_await net::this_coro::executor;
  std::string path;
  {
    Conn c(ex, o);
    co_await c.connect();
    path = co_await create(c, o, o.size);
    if (!o.ceiling) {
      co_await patch(c, o, path, 0, o.size);
    }
  }
  Latencies lat;
  long count = 0;
  int running = o.conns;
  net::steady_timer done(ex, Clock::time_point::max());
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  for (int i = 0; i < o.conns; ++i) {
    net::co_spawn(ex, head_worker(o, path, deadline, lat, count), [&](const std::exception_ptr& e) {
      check(e);
      if (--running == 0) {
        done.cancel();
      }
    });
  }
  co_await done.async_wait(net::as_tuple(use_awaitable));
  const double secs = since(t0);
  std::printf("mode=head label=%s conns=%d seconds=%.3f requests=%ld requests_per_s=%.1f p50_ms=%.3f p99_ms=%.3f\n",
              o.label.c_str(), o.conns, secs, count, static_cast<double>(count) / secs, percentile(lat.head_ms, 0.5),
              percentile(lat.head_ms, 0.99));
}

struct IdleState {
  int in_setup = 0;
  int at_half = 0;
  int finished = 0;
  bool released = false;
  Clock::time_point released_at;
  long peak_fds = 0;
  long fds_at_barrier = 0;
};

awaitable<void> idle_upload(const Options& o, IdleState& st, net::steady_timer& barrier) {
  auto ex = co_await net::this_coro::executor;
  Conn c(ex, o);
  co_await c.connect();
  const std::string path = co_await create(c, o, o.size);
  const std::uint64_t half = o.size / 2;
  co_await c.send_head(patch_head(path, 0), o.size);
  co_await c.send_body(0, half);
  --st.in_setup;
  ++st.at_half;
  if (!st.released) {
    co_await barrier.async_wait(net::as_tuple(use_awaitable));
  }
  net::steady_timer stall(
      ex, st.released_at + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.stall)));
  co_await stall.async_wait(use_awaitable);
  co_await c.send_body(half, o.size - half);
  Response res = co_await c.read_response(false);
  check_patch(res, o, o.size, "idle PATCH");
  ++st.finished;
}

awaitable<void> idle(const Options& o) {
  auto ex = co_await net::this_coro::executor;
  IdleState st;
  net::steady_timer barrier(ex, Clock::time_point::max());
  net::steady_timer done(ex, Clock::time_point::max());
  net::steady_timer tick(ex);
  int running = o.uploads;
  const int pid = o.pids.empty() ? 0 : o.pids.front();
  auto sample = [&] {
    if (pid != 0) {
      st.peak_fds = std::max(st.peak_fds, count_fds(pid));
    }
  };
  // VmHWM is the process's lifetime peak: reset it (Linux clear_refs 5) so an earlier scenario's
  // peak does not count here.
  bool hwm_reset = false;
  if (pid != 0) {
    std::ofstream clear("/proc/" + std::to_string(pid) + "/clear_refs");
    clear << "5";
    clear.flush();
    hwm_reset = static_cast<bool>(clear);
  }
  const long rss_before = pid != 0 ? status_kib(pid, "VmRSS") : -1;
  const auto t0 = Clock::now();
  for (int i = 0; i < o.uploads; ++i) {
    while (st.in_setup >= 256) {  // bounded connect/POST burst (listen backlog)
      tick.expires_after(std::chrono::milliseconds(1));
      co_await tick.async_wait(use_awaitable);
    }
    ++st.in_setup;
    net::co_spawn(ex, idle_upload(o, st, barrier), [&](const std::exception_ptr& e) {
      check(e);
      if (--running == 0) {
        done.cancel();
      }
    });
  }
  while (st.at_half < o.uploads) {
    if (since(t0) > 120) {
      fail("idle: only " + std::to_string(st.at_half) + " uploads reached half within 120 s");
    }
    sample();
    tick.expires_after(std::chrono::milliseconds(100));
    co_await tick.async_wait(use_awaitable);
  }
  const double setup_s = since(t0);
  tick.expires_after(std::chrono::milliseconds(200));  // let the server read what was sent
  co_await tick.async_wait(use_awaitable);
  sample();
  st.fds_at_barrier = pid != 0 ? count_fds(pid) : -1;
  const long rss_at_barrier = pid != 0 ? status_kib(pid, "VmRSS") : -1;
  st.released_at = Clock::now();
  st.released = true;
  barrier.cancel();
  co_await done.async_wait(net::as_tuple(use_awaitable));
  if (st.finished != o.uploads) {
    fail("idle: " + std::to_string(st.finished) + " of " + std::to_string(o.uploads) + " finished");
  }
  const long hwm = pid != 0 ? status_kib(pid, "VmHWM") : -1;
  std::printf(
      "mode=idle label=%s uploads=%d size=%llu stall_s=%.1f setup_s=%.2f total_s=%.2f completed=%d "
      "peak_fds=%ld fds_at_barrier=%ld rss_before_mib=%.1f rss_at_barrier_mib=%.1f vmhwm_mib=%.1f vmhwm_reset=%s\n",
      o.label.c_str(), o.uploads, static_cast<unsigned long long>(o.size), o.stall, setup_s, since(t0), st.finished,
      st.peak_fds, st.fds_at_barrier, static_cast<double>(rss_before) / 1024,
      static_cast<double>(rss_at_barrier) / 1024, static_cast<double>(hwm) / 1024, hwm_reset ? "yes" : "no");
}

// Compares --store-dir/<id> with the pattern; fails on the first differing byte.
void verify_file(const Options& o, const std::string& id) {
  const std::string file = o.store_dir + "/" + id;
  std::ifstream f(file, std::ios::binary);
  if (!f) {
    fail("resume: cannot open " + file);
  }
  std::vector<char> block(kSlice);
  std::uint64_t off = 0;
  const auto& p = pattern();
  while (f) {
    f.read(block.data(), static_cast<std::streamsize>(block.size()));
    const auto n = static_cast<std::size_t>(f.gcount());
    const char* want = p.data() + off % kPeriod;
    if (!std::equal(block.data(), block.data() + n, want)) {
      fail("resume: stored bytes differ in [" + std::to_string(off) + ", " + std::to_string(off + n) + ")");
    }
    off += n;
  }
  if (off != o.size) {
    fail("resume: stored file has " + std::to_string(off) + " bytes, want " + std::to_string(o.size));
  }
}

awaitable<void> resume(const Options& o) {
  auto ex = co_await net::this_coro::executor;
  std::mt19937_64 rng(o.seed);
  Conn c(ex, o);
  co_await c.connect();
  const std::string path = co_await create(c, o, o.size);
  net::steady_timer pause(ex);
  std::uint64_t offset = 0;
  int cuts = 0;
  int retries = 0;
  std::string cut_points;
  const auto t0 = Clock::now();
  while (offset < o.size) {
    const std::uint64_t rest = o.size - offset;
    co_await c.send_head(patch_head(path, offset), rest);
    if (cuts < o.cuts && rest > 2) {
      const std::uint64_t sent = std::uniform_int_distribution<std::uint64_t>(1, rest - 1)(rng);
      co_await c.send_body(offset, sent);
      c.close();  // cut mid-body
      ++cuts;
      cut_points += (cut_points.empty() ? "" : ",") + std::to_string(offset + sent);
      // The server learns of the cut asynchronously: ask until its offset stops moving.
      std::uint64_t last = UINT64_MAX;
      for (int i = 0; i < 100; ++i) {
        pause.expires_after(std::chrono::milliseconds(50));
        co_await pause.async_wait(use_awaitable);
        Response res = co_await c.request("HEAD " + path + " HTTP/1.1\r\nTus-Resumable: 1.0.0\r\n", 0, 0, true);
        if (res.result_int() == 423) {
          continue;
        }
        expect_status(res, 200, "resume HEAD");
        const auto it = res.find("Upload-Offset");
        if (it == res.end()) {
          fail("resume HEAD: no Upload-Offset");
        }
        const std::uint64_t now = std::stoull(std::string(it->value()));
        if (now == last) {
          break;
        }
        last = now;
      }
      if (last == UINT64_MAX || last < offset || last > offset + sent) {
        fail("resume: offset after cut is " + std::to_string(last) + ", sent up to " + std::to_string(offset + sent));
      }
      offset = last;
      continue;
    }
    co_await c.send_body(offset, rest);
    Response res = co_await c.read_response(false);
    if ((res.result_int() == 409 || res.result_int() == 423) && retries < 20) {
      ++retries;  // the server had not yet settled the cut: ask again
      offset = co_await head_offset(c, o, path);
      continue;
    }
    check_patch(res, o, o.size, "resume PATCH");
    offset = o.size;
  }
  const double secs = since(t0);
  verify_file(o, id_of(path));
  std::printf("mode=resume label=%s size=%llu cuts=%d cut_points=%s retries=%d seconds=%.2f identical=yes\n",
              o.label.c_str(), static_cast<unsigned long long>(o.size), cuts, cut_points.c_str(), retries, secs);
}

// The storage path of a durable upload without the network: one thread appends 1 MiB slices
// while a second asks the disk to start write-back of every completed 2 MiB (what vidup's file
// store does, on its pool), and fdatasync after each chunk. An upper bound for a server that
// stores as it receives and acknowledges only durable bytes.
void disk(const Options& o) {
  constexpr std::uint64_t kWriteback = 2u << 20;
  const std::string file = o.store_dir + "/vidup-loadgen-disk." + std::to_string(::getpid());
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    fail("disk: cannot create " + file);
  }
  const auto& p = pattern();
  const std::uint64_t chunk = o.chunk == 0 ? o.size : o.chunk;
  std::atomic<std::uint64_t> appended{0};
  std::atomic<bool> finished{false};
  std::thread writeback([&] {
    std::uint64_t kicked = 0;
    while (!finished.load()) {
      const std::uint64_t upto = appended.load() / kWriteback * kWriteback;
      if (upto > kicked) {
        ::sync_file_range(fd, static_cast<off_t>(kicked), static_cast<off_t>(upto - kicked), SYNC_FILE_RANGE_WRITE);
        kicked = upto;
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
  });
  const auto t0 = Clock::now();
  std::uint64_t off = 0;
  while (off < o.size) {
    const std::uint64_t end = std::min(o.size, off + chunk);
    while (off < end) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kSlice, end - off));
      const ssize_t w = ::pwrite(fd, p.data() + off % kPeriod, n, static_cast<off_t>(off));
      if (w <= 0) {
        fail("disk: pwrite failed");
      }
      off += static_cast<std::uint64_t>(w);
      appended.store(off);
    }
    if (::fdatasync(fd) != 0) {
      fail("disk: fdatasync failed");
    }
  }
  const double secs = since(t0);
  finished.store(true);
  writeback.join();
  ::close(fd);
  ::unlink(file.c_str());
  std::printf("mode=disk label=%s bytes=%llu chunk=%llu seconds=%.3f mbps=%.1f\n", o.label.c_str(),
              static_cast<unsigned long long>(o.size), static_cast<unsigned long long>(chunk), secs,
              static_cast<double>(o.size) / 1e6 / secs);
}

Options parse_args(int argc, char** argv) {
  if (argc < 2) {
    fail("usage: vidup_loadgen big|many|head|idle|resume|disk --port P [options] (see bench/README.md)");
  }
  Options o;
  o.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        fail("missing value for " + a);
      }
      return argv[++i];
    };
    if (a == "--host") {
      o.host = next();
    } else if (a == "--port") {
      o.port = static_cast<std::uint16_t>(std::stoul(next()));
    } else if (a == "--base") {
      o.base = next();
    } else if (a == "--ceiling") {
      o.ceiling = true;
    } else if (a == "--pid") {
      o.pids.push_back(std::stoi(next()));
    } else if (a == "--size") {
      o.size = std::stoull(next());
    } else if (a == "--chunk") {
      o.chunk = std::stoull(next());
    } else if (a == "--conns") {
      o.conns = std::stoi(next());
    } else if (a == "--seconds") {
      o.seconds = std::stod(next());
    } else if (a == "--uploads") {
      o.uploads = std::stoi(next());
    } else if (a == "--stall") {
      o.stall = std::stod(next());
    } else if (a == "--cuts") {
      o.cuts = std::stoi(next());
    } else if (a == "--seed") {
      o.seed = static_cast<unsigned>(std::stoul(next()));
    } else if (a == "--store-dir") {
      o.store_dir = next();
    } else if (a == "--label") {
      o.label = next();
    } else {
      fail("unknown option " + a);
    }
  }
  if (o.port == 0 && o.mode != "disk") {
    fail("--port is required");
  }
  if (o.label.empty()) {
    o.label = "-";
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) try {
  Options o;
  try {
    o = parse_args(argc, argv);
  } catch (const std::exception& e) {
    fail(std::string("bad argument: ") + e.what());
  }
  pattern();  // built before any timing
  net::io_context io(1);
  if (o.mode == "big") {
    run(io, big(o));
  } else if (o.mode == "many") {
    run(io, many(o));
  } else if (o.mode == "head") {
    run(io, head(o));
  } else if (o.mode == "idle") {
    run(io, idle(o));
  } else if (o.mode == "resume") {
    if (o.store_dir.empty()) {
      fail("resume needs --store-dir");
    }
    run(io, resume(o));
  } else if (o.mode == "disk") {
    if (o.store_dir.empty()) {
      fail("disk needs --store-dir");
    }
    disk(o);
  } else {
    fail("unknown mode " + o.mode);
  }
  std::fflush(stdout);
  return 0;
} catch (const std::exception& e) {
  fail(e.what());
}
