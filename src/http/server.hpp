#pragma once
// vidup::http — the Beast adapter: listener, sessions, the streaming body source, the router
// and CORS. The only server code that includes Beast.

#include "handler/handler.hpp"
#include "http/connection.hpp"
#include "http/metrics.hpp"
#include "http/options.hpp"
#include "http/router.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <map>
#include <memory>
#include <mutex>

namespace vidup::http {

class HttpServer {
 public:
  HttpServer(net::io_context& io, Options options, handler::Handler& tus, Metrics& metrics,
             api::Platform* platform = nullptr);

  // Binds and starts accepting. Returns the bound port (useful with port 0). Throws on failure.
  unsigned short start();
  // Graceful shutdown: stops accepting, closes idle connections, lets in-flight requests finish
  // within shutdown_timeout, then interrupts the rest (a PATCH keeps what it stored). Completes
  // when every connection is gone.
  net::awaitable<void> shutdown();

  [[nodiscard]] std::size_t connection_count() const;

 private:
  net::awaitable<void> accept_loop();
  net::awaitable<void> session(std::shared_ptr<Connection> conn);
  void for_each_connection(void (Connection::*action)());
  net::awaitable<bool> wait_for_connections(std::chrono::milliseconds bound);

  net::io_context& io_;
  Options options_;
  Metrics& metrics_;
  Router router_;
  net::ip::tcp::acceptor acceptor_;
  mutable std::mutex mutex_;
  std::map<Connection*, std::weak_ptr<Connection>> connections_;
};

}  // namespace vidup::http
