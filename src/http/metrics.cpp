#include "http/metrics.hpp"

#include <sstream>

namespace vidup::http {

void Metrics::count_request(std::string_view method, unsigned status, std::string_view error_code) {
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(method), status}];
  if (!error_code.empty()) {
    ++errors_[std::string(error_code)];
  }
}

std::string Metrics::render(const handler::Counters& c) const {
  std::ostringstream out;
  out << "# HELP vidup_http_requests_total HTTP requests by method and status.\n"
         "# TYPE vidup_http_requests_total counter\n";
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, n] : requests_) {
      out << "vidup_http_requests_total{method=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
    }
    out << "# HELP vidup_http_errors_total Error responses by tus error code.\n"
           "# TYPE vidup_http_errors_total counter\n";
    for (const auto& [code, n] : errors_) {
      out << "vidup_http_errors_total{code=\"" << code << "\"} " << n << "\n";
    }
  }
  auto counter = [&](std::string_view name, std::string_view help, std::uint64_t v) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n" << name << " " << v << "\n";
  };
  auto gauge = [&](std::string_view name, std::string_view help, std::int64_t v) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n" << name << " " << v << "\n";
  };
  counter("vidup_bytes_received_total", "Upload bytes stored.", c.bytes_received.load());
  counter("vidup_uploads_created_total", "Uploads created.", c.uploads_created.load());
  counter("vidup_uploads_finished_total", "Uploads that received their last byte.", c.uploads_finished.load());
  counter("vidup_uploads_terminated_total", "Uploads deleted by their client.", c.uploads_terminated.load());
  counter("vidup_uploads_expired_total", "Unfinished uploads removed by the expiry sweep.", c.uploads_expired.load());
  gauge("vidup_active_uploads", "Uploads receiving bytes right now.", c.active_writes.load());
  gauge("vidup_connections", "Open client connections.", connections.load());
  counter("vidup_connections_refused_total", "Connections closed at once because of --max-connections.",
          connections_refused.load());
  return out.str();
}

}  // namespace vidup::http
