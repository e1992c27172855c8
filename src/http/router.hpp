#pragma once
// Which code answers a request: /healthz, /metrics, the tus endpoint, else 404. Adds CORS.

#include "api/platform.hpp"
#include "handler/handler.hpp"
#include "http/metrics.hpp"
#include "http/options.hpp"

namespace vidup::http {

namespace net = boost::asio;

class Router {
 public:
  // `platform` may be null (no platform API: plain tus server).
  Router(const Options& options, handler::Handler& tus, Metrics& metrics, api::Platform* platform);
  net::awaitable<handler::Response> route(handler::Request& request);

 private:
  void add_cors(const handler::Request& request, handler::Response& response) const;
  [[nodiscard]] std::optional<handler::Response> static_file(const handler::Request& request) const;
  const Options& options_;
  handler::Handler& tus_;
  Metrics& metrics_;
  api::Platform* platform_;
};

}  // namespace vidup::http
