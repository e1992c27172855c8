#pragma once
// A handler::BodySource over a std::string, for handler tests. It can play every body the
// transport can hand the handler: a Content-Length body or a chunked one (with trailers), one
// that arrives in small pieces, one whose connection fails after N bytes, and one that stalls
// after N bytes until the request is pre-empted through canceller() (a client whose connection
// died without the server noticing).

#include "core/errc.hpp"
#include "handler/request.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>

namespace vidup::test {

struct FakeBodyOptions {
  bool chunked = false;                  // no Content-Length (Transfer-Encoding: chunked)
  handler::Headers trailers;             // chunked bodies: delivered after the last chunk
  std::optional<std::size_t> fail_after;  // read() fails with `failure` once this many bytes went
  core::Errc failure = core::Errc::connection_reset;
  std::size_t piece = 0;                  // at most this many bytes per read(); 0 = as asked
  std::optional<std::size_t> block_after;  // after this many bytes, read() waits until cancelled
  bool ignore_cancel = false;              // a blocked read() does not react to canceller()
  bool yield_each_read = false;            // every read() lets other coroutines run first
  std::chrono::milliseconds block_limit{10000};  // safety net: a blocked read gives up (read_timeout)
};

class FakeBody final : public handler::BodySource {
 public:
  explicit FakeBody(std::string data, FakeBodyOptions options = {})
      : data_(std::move(data)), options_(std::move(options)), shared_(std::make_shared<Shared>()) {}
  FakeBody(const FakeBody&) = delete;
  FakeBody& operator=(const FakeBody&) = delete;
  ~FakeBody() override {
    std::lock_guard lock(shared_->mutex);
    shared_->timer = nullptr;
  }

  boost::asio::awaitable<core::Result<std::size_t>> read(std::span<std::byte> buf) override {
    namespace net = boost::asio;
    if (options_.yield_each_read) {
      const auto ex = co_await net::this_coro::executor;
      co_await net::post(ex, net::use_awaitable);
    }
    if (interrupted()) {
      co_return core::make_error_code(core::Errc::interrupted);
    }
    if (options_.block_after && pos_ >= *options_.block_after && !resumed()) {
      const auto ex = co_await net::this_coro::executor;
      net::steady_timer timer(ex, options_.block_limit);
      bool wait = false;
      {
        std::lock_guard lock(shared_->mutex);
        if (!shared_->cancelled && !shared_->resumed) {
          shared_->timer = &timer;
          wait = true;
        }
      }
      if (wait) {
        blocked_ = true;
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
        blocked_ = false;
        std::lock_guard lock(shared_->mutex);
        shared_->timer = nullptr;
      }
      if (interrupted()) {
        co_return core::make_error_code(core::Errc::interrupted);
      }
      if (!resumed()) {
        co_return core::make_error_code(core::Errc::read_timeout);  // nobody came: the safety net
      }
    }
    if (options_.fail_after && pos_ >= *options_.fail_after) {
      co_return core::make_error_code(options_.failure);
    }
    std::size_t n = std::min(buf.size(), data_.size() - pos_);
    if (options_.piece > 0) {
      n = std::min(n, options_.piece);
    }
    if (options_.fail_after) {
      n = std::min(n, *options_.fail_after - pos_);
    }
    if (options_.block_after && !resumed() && pos_ < *options_.block_after) {
      n = std::min(n, *options_.block_after - pos_);
    }
    if (n > 0) {
      std::memcpy(buf.data(), data_.data() + pos_, n);
    }
    pos_ += n;
    co_return n;
  }

  [[nodiscard]] std::optional<std::uint64_t> content_length() const override {
    if (options_.chunked) {
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(data_.size());
  }
  [[nodiscard]] bool has_body() const override { return options_.chunked || !data_.empty(); }
  [[nodiscard]] const handler::Headers& trailers() const override { return options_.trailers; }

  [[nodiscard]] std::function<void()> canceller() override {
    return [shared = shared_, honour = !options_.ignore_cancel] {
      std::lock_guard lock(shared->mutex);
      shared->cancel_requested = true;
      if (honour) {
        shared->cancelled = true;
        wake_locked(shared);
      }
    };
  }

  // For the test: the state of this body.
  [[nodiscard]] bool blocked() const { return blocked_; }
  [[nodiscard]] std::size_t delivered() const { return pos_; }
  [[nodiscard]] bool cancel_requested() const {
    std::lock_guard lock(shared_->mutex);
    return shared_->cancel_requested;
  }
  // Lets a stalled body go on and deliver the rest.
  void resume() {
    std::lock_guard lock(shared_->mutex);
    shared_->resumed = true;
    wake_locked(shared_);
  }

 private:
  // Shared with every canceller handed out: it stays valid after the body is gone.
  struct Shared {
    mutable std::mutex mutex;
    bool cancel_requested = false;
    bool cancelled = false;
    bool resumed = false;
    boost::asio::steady_timer* timer = nullptr;  // the timer of a blocked read(), if any
  };

  // The timer is only touched on its own executor, whatever thread asks.
  static void wake_locked(const std::shared_ptr<Shared>& shared) {
    if (shared->timer != nullptr) {
      boost::asio::post(shared->timer->get_executor(), [shared] {
        std::lock_guard lock(shared->mutex);
        if (shared->timer != nullptr) {
          shared->timer->cancel();
        }
      });
    }
  }

  [[nodiscard]] bool interrupted() const {
    std::lock_guard lock(shared_->mutex);
    return shared_->cancelled;
  }
  [[nodiscard]] bool resumed() const {
    std::lock_guard lock(shared_->mutex);
    return shared_->resumed;
  }

  std::string data_;
  FakeBodyOptions options_;
  std::shared_ptr<Shared> shared_;
  std::size_t pos_ = 0;
  bool blocked_ = false;
};

}  // namespace vidup::test
