#pragma once
// In-process locks for one node (the embedded default). A lock dies with its process, so no lease
// is needed. Waiters are woken when the holder releases; the first to retry wins.

#include "store/locker.hpp"

#include <memory>

namespace vidup::store {

class LocalLocker final : public Locker {
 public:
  LocalLocker();
  ~LocalLocker() override;
  net::awaitable<Result<std::unique_ptr<Lock>>> acquire(const std::string& id,
                                                        std::function<void()> on_release_requested,
                                                        std::chrono::milliseconds wait) override;
  net::awaitable<Result<void>> await_free(const std::string& id, std::chrono::milliseconds wait) override;
  [[nodiscard]] std::size_t held() const;  // for tests

  struct State;

 private:
  static net::awaitable<Result<void>> take_or_wait(std::shared_ptr<State> state, std::string key,
                                                   std::function<void()>* on_release_requested,
                                                   std::chrono::steady_clock::time_point deadline);

  std::shared_ptr<State> state_;
};

}  // namespace vidup::store
