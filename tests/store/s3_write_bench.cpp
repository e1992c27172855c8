// Measures one upload written through S3DataStore the way a PATCH does (256 KiB writes, one
// writer, 8 MiB parts by default), against the S3 test server:
//   scripts/test-services/s3 start /tmp/s3 && VIDUP_TEST_S3_DIR=/tmp/s3 build-s3/tests/store/s3_write_bench 256
// Prints MB/s (10^6 bytes per second) for the write and for reading it back; removes the upload.

#include "store/s3/s3_data_store.hpp"
#include "s3_test_support.hpp"
#include "support/run_awaitable.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  using namespace vidup;  // NOLINT(google-build-using-namespace): a small tool
  const std::uint64_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 256;
  const std::size_t part = argc > 2 ? std::strtoull(argv[2], nullptr, 10) << 20 : 8 << 20;
  const std::uint64_t size = mib << 20;
  boost::asio::io_context io;
  boost::asio::thread_pool pool(4);
  store::S3DataStore s3(test::s3_test_config(test::s3_new_prefix(), part), pool);
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
  auto w = test::run(io, s3.open_writer(info, false));
  if (!w) {
    std::fprintf(stderr, "open_writer failed\n");
    return 1;
  }
  for (std::uint64_t at = 0; at < size; at += chunk.size()) {
    if (!test::run(io, (*w)->write(chunk))) {
      std::fprintf(stderr, "write failed\n");
      return 1;
    }
  }
  auto committed = test::run(io, (*w)->commit());
  const double write_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!committed || *committed != size) {
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
  std::printf("%llu MiB, part %zu MiB: write %.1f MB/s (%.2f s), read %.1f MB/s (%.2f s)%s\n",
              static_cast<unsigned long long>(mib), part >> 20, static_cast<double>(size) / write_s / 1e6, write_s,
              static_cast<double>(got) / read_s / 1e6, read_s, got == size ? "" : " READ SHORT");
  return got == size ? 0 : 1;
}
