#include "http/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>

namespace vidup::http {

HttpServer::HttpServer(net::io_context& io, Options options, handler::Handler& tus, Metrics& metrics,
                       api::Platform* platform)
    : io_(io),
      options_(std::move(options)),
      metrics_(metrics),
      router_(options_, tus, metrics, platform),
      acceptor_(io) {}

unsigned short HttpServer::start() {
  const net::ip::tcp::endpoint endpoint(net::ip::make_address(options_.host), options_.port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(net::socket_base::max_listen_connections);
  // The bound port, not the configured one (0 = any free port): URLs built without a usable Host
  // header (HTTP/1.0) name this server's address.
  options_.port = acceptor_.local_endpoint().port();
  net::co_spawn(acceptor_.get_executor(), accept_loop(), net::detached);
  return options_.port;
}

std::size_t HttpServer::connection_count() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

net::awaitable<void> HttpServer::accept_loop() {
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(net::make_strand(io_), net::as_tuple(net::use_awaitable));
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
      break;
    }
    if (ec) {
      // EMFILE and friends: back off briefly instead of spinning.
      net::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(net::as_tuple(net::use_awaitable));
      continue;
    }
    if (connection_count() >= options_.max_connections) {
      ++metrics_.connections_refused;
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    socket.set_option(net::ip::tcp::no_delay(true), ec);
    auto conn = std::make_shared<Connection>(std::move(socket));
    {
      std::lock_guard lock(mutex_);
      connections_.emplace(conn.get(), conn);
    }
    ++metrics_.connections;
    auto executor = conn->stream().get_executor();
    net::co_spawn(executor, session(conn), [this, raw = conn.get()](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          std::cerr << R"({"level":"error","msg":"connection failed","error":")" << ex.what() << "\"}\n";
        }
      }
      --metrics_.connections;
      std::lock_guard lock(mutex_);
      connections_.erase(raw);
    });
  }
}

void HttpServer::for_each_connection(void (Connection::*action)()) {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(mutex_);
    for (auto& [raw, weak] : connections_) {
      if (auto c = weak.lock()) {
        live.push_back(std::move(c));
      }
    }
  }
  for (auto& c : live) {
    ((*c).*action)();
  }
}

net::awaitable<bool> HttpServer::wait_for_connections(std::chrono::milliseconds bound) {
  net::steady_timer timer(co_await net::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (connection_count() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    for_each_connection(&Connection::drain);  // a connection that was busy may be idle now
  }
  co_return connection_count() == 0;
}

net::awaitable<void> HttpServer::shutdown() {
  net::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  for_each_connection(&Connection::drain);
  if (co_await wait_for_connections(options_.shutdown_timeout)) {
    co_return;
  }
  for_each_connection(&Connection::abort);
  co_await wait_for_connections(std::chrono::seconds(5));
}

}  // namespace vidup::http
