#include "server/app.hpp"

#include "api/platform.hpp"
#include "handler/handler.hpp"
#include "http/metrics.hpp"
#include "http/server.hpp"
#include "server/backends.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <thread>

namespace vidup::server {

namespace net = boost::asio;

namespace {

void log_line(std::string_view json_fields) { std::cerr << "{\"msg\":" << json_fields << "}\n"; }

net::awaitable<void> sweep_loop(handler::Handler& tus, std::chrono::milliseconds interval,
                                std::shared_ptr<std::atomic<bool>> stopping) {
  net::steady_timer timer(co_await net::this_coro::executor);
  while (!*stopping) {
    timer.expires_after(interval);
    co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    if (*stopping) {
      break;
    }
    auto swept = co_await tus.sweep();
    if (swept && *swept > 0) {
      std::cerr << R"({"msg":"expired uploads removed","count":)" << *swept << "}\n";
    }
  }
}

}  // namespace

int serve(const ServeConfig& config) {
  std::filesystem::create_directories(config.data_dir);
  net::thread_pool blocking(config.blocking_threads);
  Backends backends(config.backends, blocking);

  handler::Config tus_config = config.tus;
  if (const auto cap = backends.max_upload_size(); cap != 0 && (tus_config.max_size == 0 || tus_config.max_size > cap)) {
    tus_config.max_size = cap;  // Tus-Max-Size tells clients the store's own limit (S3: 10,000 parts)
  }
  handler::Handler tus(tus_config, backends.stores());
  net::io_context io(static_cast<int>(config.threads));

  api::Platform platform(config.platform, backends.catalog(), tus, handler::system_clock_ms);
  tus.use_policy(&platform);
  if (config.platform.no_auth) {
    std::cerr << R"({"level":"warn","msg":"--no-auth: ANYONE can create uploads at the tus endpoint without )"
                 R"(credentials. Use this only for local experiments."})"
              << "\n";
  }
  if (config.platform.demo) {
    auto prepared = net::co_spawn(io, platform.prepare_demo(), net::use_future);
    io.run();
    io.restart();
    if (auto ok = prepared.get(); !ok) {
      throw std::runtime_error("--demo: cannot prepare the demo project and key: " + ok.error().message());
    }
  }

  // Crash recovery before the first request (docs/decisions/0001-offset-truth.md).
  auto recovered = net::co_spawn(io, tus.recover(), net::use_future);
  io.run();
  io.restart();
  auto changed = recovered.get();
  if (!changed) {
    throw std::runtime_error("recovery failed: " + changed.error().message());
  }
  std::cerr << R"({"msg":"recovered","uploads_repaired":)" << *changed << "}\n";

  http::Metrics metrics;
  http::HttpServer server(io, config.http, tus, metrics, &platform);
  const auto port = server.start();
  if (config.port_file) {
    std::ofstream(*config.port_file) << port << "\n";
  }
  std::cerr << R"({"msg":"listening","url":"http://)" << config.http.host << ":" << port << tus.config().base_path
            << R"(","data":")" << config.data_dir.string() << R"(","backends":")" << backends.describe() << R"(","threads":)" << config.threads << "}\n";

  auto stopping = std::make_shared<std::atomic<bool>>(false);
  net::co_spawn(io, sweep_loop(tus, config.sweep_interval, stopping), net::detached);

  net::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) {
      return;
    }
    std::cerr << R"({"msg":"shutting down","signal":)" << signal << "}\n";
    *stopping = true;
    net::co_spawn(io, server.shutdown(), [&](std::exception_ptr) {
      backends.cancel_outbound();  // a hung S3 must not hold the pool's join below
      blocking.stop();
      io.stop();
    });
  });

  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < config.threads; ++i) {
    threads.emplace_back([&io] { io.run(); });
  }
  io.run();
  for (auto& t : threads) {
    t.join();
  }
  blocking.join();
  log_line("\"stopped\"");
  return 0;
}

}  // namespace vidup::server
