#include "store/memory/local_locker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace vidup::store {

namespace {

using Clock = std::chrono::steady_clock;

// One wait of one acquirer. The timer lives on a private strand over the acquirer's executor:
// the waiter arms it there and the releaser cancels it there (by posting), so the timer is never
// touched from two threads at once, whatever executor the acquirer runs on. Shared by the
// waiter and the lock table, so a late wake-up never touches a dead timer.
struct WaiterSlot {
  explicit WaiterSlot(const net::any_io_executor& ex) : strand(net::make_strand(ex)), timer(strand) {}
  net::strand<net::any_io_executor> strand;
  net::steady_timer timer;
  std::atomic<bool> woken{false};
};

void wake(const std::shared_ptr<WaiterSlot>& slot) {
  slot->woken.store(true);
  net::post(slot->strand, [slot] { slot->timer.cancel(); });
}

// Runs on the slot's strand: the woken check and the arming of the timer happen in one step of
// the strand, so a wake-up posted after the check always finds the wait to cancel.
net::awaitable<void> wait_for_wake(std::shared_ptr<WaiterSlot> slot, Clock::time_point deadline) {
  if (slot->woken.load()) {
    co_return;
  }
  slot->timer.expires_at(deadline);
  co_await slot->timer.async_wait(net::as_tuple(net::use_awaitable));
}

}  // namespace

struct LocalLocker::State {
  struct Entry {
    std::function<void()> on_release_requested;
    bool release_requested = false;
    std::vector<std::shared_ptr<WaiterSlot>> waiters;
  };

  std::mutex mutex;
  std::map<std::string, Entry, std::less<>> held;

  void release(const std::string& id) {
    decltype(held)::node_type gone;  // destroyed outside the mutex: the callback may own anything
    {
      std::lock_guard lock(mutex);
      auto it = held.find(id);
      if (it == held.end()) {
        return;
      }
      gone = held.extract(it);
    }
    for (const auto& w : gone.mapped().waiters) {
      wake(w);
    }
  }

  void forget(const std::string& id, const std::shared_ptr<WaiterSlot>& slot) {
    std::lock_guard lock(mutex);
    auto it = held.find(id);
    if (it == held.end()) {
      return;
    }
    auto& w = it->second.waiters;
    w.erase(std::remove(w.begin(), w.end(), slot), w.end());
  }
};

namespace {

// Holds the State, not the LocalLocker: a Lock may outlive the locker that issued it.
class LocalLock final : public Lock {
 public:
  LocalLock(std::shared_ptr<LocalLocker::State> state, std::string id) : state_(std::move(state)), id_(std::move(id)) {}
  LocalLock(const LocalLock&) = delete;
  LocalLock& operator=(const LocalLock&) = delete;
  ~LocalLock() override { state_->release(id_); }

 private:
  std::shared_ptr<LocalLocker::State> state_;
  std::string id_;
};

}  // namespace

LocalLocker::LocalLocker() : state_(std::make_shared<State>()) {}

LocalLocker::~LocalLocker() = default;

net::awaitable<Result<std::unique_ptr<Lock>>> LocalLocker::acquire(const std::string& id,
                                                                   std::function<void()> on_release_requested,
                                                                   std::chrono::milliseconds wait) {
  const auto state = state_;  // keeps the table alive even if the locker goes away while we wait
  const std::string key = id;
  auto taken = co_await take_or_wait(state, key, &on_release_requested, Clock::now() + wait);
  if (!taken) {
    co_return taken.error();
  }
  co_return std::unique_ptr<Lock>(std::make_unique<LocalLock>(state, key));
}

net::awaitable<Result<void>> LocalLocker::await_free(const std::string& id, std::chrono::milliseconds wait) {
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->held.contains(id)) {
      co_return Result<void>{};  // the common case: nobody writes this upload
    }
  }
  co_return co_await take_or_wait(state_, id, nullptr, Clock::now() + wait);
}

// With `on_release_requested`, takes the lock (entering it with that callback); without, only
// waits until the lock is free. Either way the holder found is asked once to let go.
net::awaitable<Result<void>> LocalLocker::take_or_wait(std::shared_ptr<State> state, std::string key,
                                                       std::function<void()>* on_release_requested,
                                                       Clock::time_point deadline) {
  const auto ex = co_await net::this_coro::executor;
  for (;;) {
    bool free = false;
    std::function<void()> ask_holder;
    std::shared_ptr<WaiterSlot> slot;
    {
      std::lock_guard lock(state->mutex);
      auto it = state->held.find(key);
      if (it == state->held.end()) {
        if (on_release_requested != nullptr) {
          state->held.emplace(key, State::Entry{std::move(*on_release_requested), false, {}});
        }
        free = true;
      } else {
        if (!it->second.release_requested) {
          it->second.release_requested = true;
          ask_holder = it->second.on_release_requested;
        }
        if (Clock::now() < deadline) {
          slot = std::make_shared<WaiterSlot>(ex);
          it->second.waiters.push_back(slot);
        }
      }
    }
    if (free) {
      co_return Result<void>{};
    }
    if (ask_holder) {
      ask_holder();  // outside the mutex: the holder may do anything, even release at once
    }
    if (!slot) {
      co_return core::make_error_code(core::Errc::locked);
    }
    co_await net::co_spawn(slot->strand, wait_for_wake(slot, deadline), net::use_awaitable);
    state->forget(key, slot);  // woken by expiry: still listed
  }
}

std::size_t LocalLocker::held() const {
  std::lock_guard lock(state_->mutex);
  return state_->held.size();
}

}  // namespace vidup::store
