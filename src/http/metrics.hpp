#pragma once
// Prometheus text-format metrics: request counts by method and status, errors by tus code, and
// the handler's upload counters.

#include "handler/handler.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace vidup::http {

namespace net = boost::asio;

class Metrics {
 public:
  void count_request(std::string_view method, unsigned status, std::string_view error_code);
  std::atomic<std::int64_t> connections{0};
  std::atomic<std::uint64_t> connections_refused{0};
  [[nodiscard]] std::string render(const handler::Counters& counters) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, unsigned>, std::uint64_t> requests_;
  std::map<std::string, std::uint64_t> errors_;
};

}  // namespace vidup::http
