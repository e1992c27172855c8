#pragma once
// Runs a coroutine to completion on a private io_context, for tests.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <utility>

namespace vidup::test {

template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> a) {
  auto fut = boost::asio::co_spawn(io, std::move(a), boost::asio::use_future);
  io.restart();
  io.run();
  return fut.get();
}

}  // namespace vidup::test
