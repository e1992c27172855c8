#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace vidup::http {

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;
  std::size_t header_limit = 16 * 1024;                 // 431 beyond
  std::chrono::milliseconds read_timeout{30'000};        // a body read, a response write
  std::chrono::milliseconds idle_timeout{60'000};        // waiting for (all of) a request's header
  std::chrono::milliseconds shutdown_timeout{10'000};    // in-flight requests' grace on SIGTERM
  std::size_t max_connections = 16384;
  bool behind_proxy = false;                             // trust Forwarded / X-Forwarded-*
  std::vector<std::string> cors_origins{"*"};            // allowed browser origins
  bool log_requests = true;
  std::string web_dir;            // the demo page's files (index.html, ...); empty: no page
  std::string node_modules_dir;   // where the page's npm packages (tus-js-client) are
};

}  // namespace vidup::http
