#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <utility>

namespace vidup::store {

namespace net = boost::asio;

// Runs blocking work (SQLite, fsync, libpq, libcurl easy calls) on `pool` and resumes the caller
// on its own executor. Exceptions thrown by `f` propagate to the caller. R must be default
// constructible (every Result<T> we use is).
//
// Written without a coroutine lambda on purpose: g++ 12 destroys the captures of a capturing
// coroutine lambda spawned this way twice (a double free seen in FileDataStore::create).
template <class F>
auto run_blocking(net::thread_pool& pool, F f) -> net::awaitable<decltype(f())> {
  using R = decltype(f());
  return net::async_initiate<const net::use_awaitable_t<>, void(std::exception_ptr, R)>(
      [&pool](auto handler, F work) {
        auto guard = net::make_work_guard(net::get_associated_executor(handler));
        net::post(pool, [handler = std::move(handler), work = std::move(work), guard = std::move(guard)]() mutable {
          std::exception_ptr error;
          R result{};
          try {
            result = work();
          } catch (...) {
            error = std::current_exception();
          }
          auto executor = net::get_associated_executor(handler);
          net::dispatch(executor, [handler = std::move(handler), error, result = std::move(result)]() mutable {
            std::move(handler)(error, std::move(result));
          });
        });
      },
      net::use_awaitable, std::move(f));
}

}  // namespace vidup::store
