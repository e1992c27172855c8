#pragma once
// Which code answers a request: /healthz, /metrics, the tus endpoint, else 404. Adds CORS.

#include "handler/handler.hpp"
#include "http/metrics.hpp"
#include "http/options.hpp"

namespace vidup::http {

namespace net = boost::asio;

class Router {
 public:
  Router(const Options& options, handler::Handler& tus, Metrics& metrics);
  net::awaitable<handler::Response> route(handler::Request& request);

 private:
  void add_cors(const handler::Request& request, handler::Response& response) const;
  const Options& options_;
  handler::Handler& tus_;
  Metrics& metrics_;
};

}  // namespace vidup::http
