#pragma once

#include "core/errc.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace vidup::store {

namespace net = boost::asio;
using core::Result;

// One writer per upload. A request that finds the lock held asks the holder to let go (the
// holder's `on_release_requested` is called once, from any thread); the holder stops at its next
// step, makes what it wrote durable and drops its Lock. The newcomer waits at most `wait`, then
// gets Errc::locked. A holder that died with its process holds nothing (in-process locks) or
// holds a lease that runs out (shared lockers).
class Lock {
 public:
  virtual ~Lock() = default;  // releases
};

class Locker {
 public:
  virtual ~Locker() = default;
  virtual net::awaitable<Result<std::unique_ptr<Lock>>> acquire(const std::string& id,
                                                                std::function<void()> on_release_requested,
                                                                std::chrono::milliseconds wait) = 0;
  // For a reader that must see the holder's work settled (HEAD-14): asks the holder of `id`'s
  // lock, if there is one, to let go, and completes once the lock is free, without taking it.
  // Errc::locked after `wait`. Readers do not exclude each other. The default takes the lock and
  // drops it at once.
  virtual net::awaitable<Result<void>> await_free(const std::string& id, std::chrono::milliseconds wait) {
    auto lock = co_await acquire(id, [] {}, wait);
    if (!lock) {
      co_return lock.error();
    }
    co_return Result<void>{};
  }
};

}  // namespace vidup::store
