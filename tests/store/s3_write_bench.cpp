// Measures one upload written through S3DataStore the way a PATCH does (256 KiB writes from one
// coroutine, one writer, 8 MiB parts and 2 parts in flight by default), against the S3 test server:
//   scripts/test-services/s3 start /tmp/s3 && VIDUP_TEST_S3_DIR=/tmp/s3 build-s3/tests/store/s3_write_bench 256
// Arguments: MiB [part MiB [parts in flight]]. Prints MB/s (10^6 bytes per second) for the write
// and for reading it back; removes the upload.

#include "store/s3/s3_data_store.hpp"
#include "s3_test_support.hpp"
#include "support/run_awaitable.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstddef>
#include <span>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

// open_writer, every write and commit in one coroutine, as the PATCH handler does (uploads in
// flight keep running between two writes). The size committed, or 0 on failure.
boost::asio::awaitable<std::uint64_t> write_all(vidup::store::S3DataStore& s3, vidup::core::UploadInfo info,
                                                std::span<const std::byte> chunk) {
  auto w = co_await s3.open_writer(info, false);
  if (!w) {
    co_return 0;
  }
  for (std::uint64_t at = 0; at < *info.size; at += chunk.size()) {
    if (!co_await (*w)->write(chunk)) {
      co_return 0;
    }
  }
  auto committed = co_await (*w)->commit();
  co_return committed ? *committed : 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vidup;  // NOLINT(google-build-using-namespace): a small tool
  const std::uint64_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 256;
  const std::size_t part = argc > 2 ? std::strtoull(argv[2], nullptr, 10) << 20 : 8 << 20;
  const std::size_t in_flight = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : store::S3Config{}.parts_in_flight;
  const std::uint64_t size = mib << 20;
  boost::asio::io_context io;
  boost::asio::thread_pool pool(4);
  auto config = test::s3_test_config(test::s3_new_prefix(), part);
  config.parts_in_flight = in_flight;
  store::S3DataStore s3(config, pool);
  core::UploadInfo info;
  info.id = "bench" + test::random_hex(8);
  info.size = size;
  if (!test::run(io, s3.create(info))) {
    std::fprintf(stderr, "create failed\n");
    return 1;
  }
  std::vector<std::byte> chunk(256 << 10);
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    chunk[i] = static_cast<std::byte>(i * 7919 % 251);
  }
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const std::uint64_t committed = test::run(io, write_all(s3, info, chunk));
  const double write_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (committed != size) {
    std::fprintf(stderr, "commit failed\n");
    return 1;
  }
  info.offset = size;
  info.state = core::UploadState::finished;
  const auto t1 = Clock::now();
  auto src = test::run(io, s3.open_reader(info, 0, size));
  std::uint64_t got = 0;
  while (src) {
    auto n = test::run(io, (*src)->read(chunk));
    if (!n || *n == 0) {
      break;
    }
    got += *n;
  }
  const double read_s = std::chrono::duration<double>(Clock::now() - t1).count();
  (void)test::run(io, s3.remove(info.id));
  pool.join();
  std::printf("%llu MiB, part %zu MiB, %zu in flight: write %.1f MB/s (%.2f s), read %.1f MB/s (%.2f s)%s\n",
              static_cast<unsigned long long>(mib), part >> 20, in_flight, static_cast<double>(size) / write_s / 1e6, write_s,
              static_cast<double>(got) / read_s / 1e6, read_s, got == size ? "" : " READ SHORT");
  return got == size ? 0 : 1;
}
