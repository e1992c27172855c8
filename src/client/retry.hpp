#pragma once
// When a failed call is worth another try, and how long to wait before it.

#include "client/client.hpp"

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

namespace vidup::client {

// The call that failed: a 409 is a retry (after a HEAD re-sync) only for a PATCH; for a
// creation it is a refusal (a presigned video that already has an upload).
enum class Call { create, head, patch, other };

struct RetryPolicy {
  // One entry per retry, as tus-js-client's retryDelays: {0, 1, 3} = three retries.
  std::vector<std::chrono::milliseconds> delays = {std::chrono::seconds(0), std::chrono::seconds(1),
                                                   std::chrono::seconds(3), std::chrono::seconds(10),
                                                   std::chrono::seconds(30)};

  // Network errors, timeouts and stalls, 5xx and 423 are retried; 409 only for a PATCH;
  // every other status (and local failures, cancellation) is final.
  [[nodiscard]] static bool is_retryable(const Error& e, Call call) noexcept;
  [[nodiscard]] static bool is_retryable_status(long status, Call call) noexcept;
  // The delay before retry number `attempt` (0-based); nullopt when retries are exhausted.
  [[nodiscard]] std::optional<std::chrono::milliseconds> delay(std::size_t attempt) const;
};

// "0,1,3,10,30" (seconds, decimals allowed: "0.5"); "" → no retries. nullopt if malformed.
[[nodiscard]] std::optional<std::vector<std::chrono::milliseconds>> parse_retry_delays(std::string_view text);

}  // namespace vidup::client
