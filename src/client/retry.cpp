#include "client/retry.hpp"

#include <charconv>

namespace vidup::client {

bool RetryPolicy::is_retryable_status(long status, Call call) noexcept {
  if (status == 501 || status == 505) {
    return false;  // the server lacks the feature (e.g. concatenation): retrying cannot help
  }
  if (status >= 500 && status <= 599) {
    return true;
  }
  if (status == 423) {
    return true;
  }
  return status == 409 && call == Call::patch;
}

bool RetryPolicy::is_retryable(const Error& e, Call call) noexcept {
  switch (e.kind) {
    case Failure::transport: return true;
    case Failure::status: return is_retryable_status(e.status, call);
    case Failure::local:
    case Failure::cancelled: return false;
  }
  return false;
}

std::optional<std::chrono::milliseconds> RetryPolicy::delay(std::size_t attempt) const {
  if (attempt >= delays.size()) {
    return std::nullopt;
  }
  return delays[attempt];
}

std::optional<std::vector<std::chrono::milliseconds>> parse_retry_delays(std::string_view text) {
  std::vector<std::chrono::milliseconds> out;
  if (text.empty()) {
    return out;
  }
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    const auto item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty() || item.front() == '-' || item.front() == '+' || item.find_first_of(" \t") != std::string_view::npos) {
      return std::nullopt;
    }
    double seconds = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), seconds);
    if (ec != std::errc{} || end != item.data() + item.size() || !(seconds >= 0) || seconds > 86400) {
      return std::nullopt;
    }
    out.emplace_back(static_cast<std::int64_t>(seconds * 1000 + 0.5));
    if (comma == std::string_view::npos) {
      return out;
    }
    start = comma + 1;
  }
}

}  // namespace vidup::client
