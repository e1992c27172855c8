// Uploads one file to a tus endpoint with vidup::client, printing progress; resumable through
// a fingerprint store in ./.vidup-example-state (run it again after Ctrl-C and it resumes).
//
//   example_client FILE http://127.0.0.1:8080/files/ [--header "Name: value"]...

#include "client/client.hpp"
#include "client/fingerprint_store.hpp"
#include "client/formatting.hpp"
#include "client/uploader.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>

namespace {

std::atomic<bool> g_cancel{false};
extern "C" void on_signal(int /*sig*/) { g_cancel.store(true); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: example_client FILE TUS_ENDPOINT [--header \"Name: value\"]...\n";
    return 2;
  }
  const std::filesystem::path file = argv[1];
  vidup::client::ClientOptions client_options;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (std::string_view(argv[i]) == "--header") {
      client_options.headers.emplace_back(argv[i + 1]);
    }
  }
  std::signal(SIGINT, on_signal);

  const vidup::client::Client http(client_options);
  vidup::client::FingerprintStore store(".vidup-example-state");
  vidup::client::UploadOptions options;
  options.endpoint = argv[2];
  options.store = &store;
  options.chunk_size = 4 << 20;  // 4 MiB PATCHes
  options.metadata = vidup::client::with_default_metadata({}, file.filename().string());

  vidup::client::Uploader uploader(http, options);
  const auto report = uploader.upload_file(
      file,
      [](std::uint64_t done, std::optional<std::uint64_t> total) {
        const vidup::client::ProgressView view{"upload", done, total, 0, false};
        std::fprintf(stderr, "\r%s", vidup::client::format_progress_line(view, 80).c_str());
      },
      g_cancel);
  std::fprintf(stderr, "\n");
  if (report.error) {
    std::cerr << "failed: " << report.error->describe() << "\n";
    return report.error->kind == vidup::client::Failure::cancelled ? 130 : 1;
  }
  std::cout << report.upload_url << "\n";
  std::cerr << "sent " << report.bytes_sent << " bytes (resumed from " << report.resumed_from << ")\n";
  return 0;
}
