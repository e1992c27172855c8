#pragma once
// vidup::server — configuration (flags and VIDUP_* environment variables, validated once) and
// the composition root: the only place that knows every backend.

#include "api/platform.hpp"
#include "handler/handler.hpp"
#include "http/options.hpp"
#include "server/backends.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vidup::server {

struct ServeConfig {
  http::Options http;
  api::Options platform;
  handler::Config tus;
  std::filesystem::path data_dir = "./data";
  BackendConfig backends;   // --store, --db and their settings (data_dir copied in)
  std::size_t threads = 0;  // 0 = one per core
  std::size_t blocking_threads = 4;  // file I/O, SQLite, libpq and libcurl calls run here
  std::chrono::milliseconds sweep_interval{60'000};
  std::optional<std::filesystem::path> port_file;
};

// Parses `vidup serve` arguments (argv[0] is "serve"). Flags win over VIDUP_* variables, which
// win over defaults. Returns nullopt after printing help; throws std::invalid_argument with a
// one-line reason on bad input.
std::optional<ServeConfig> parse_serve_args(int argc, const char* const* argv);

}  // namespace vidup::server
