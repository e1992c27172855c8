#pragma once
// The tus engine on memory stores, driven like the transport drives it (one Request in, one
// Response out, on an io_context the target owns, with a clock the target moves). A fresh
// World per input, so every input runs from the same empty state.

#include "handler/handler.hpp"
#include "store/composer.hpp"
#include "store/memory/local_locker.hpp"
#include "store/memory/memory_data_store.hpp"
#include "store/memory/memory_info_store.hpp"
#include "support/fake_body.hpp"
#include "support/run_awaitable.hpp"

#include <boost/asio/io_context.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vidup::fuzz {

namespace net = boost::asio;

inline constexpr std::string_view kBaseUrl = "http://vidup.test";
inline constexpr std::int64_t kStartMs = 1'750'000'000'000;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct World {
  explicit World(handler::Config config) {
    auto d = std::make_unique<store::MemoryDataStore>();
    auto i = std::make_unique<store::MemoryInfoStore>();
    data = d.get();
    infos = i.get();
    composer = std::make_unique<store::Composer>(std::move(d), std::move(i), std::make_unique<store::LocalLocker>());
    composer->use_concater(data);
    composer->use_content_server(data);
    composer->use_length_deferrer(true);
    composer->use_terminater(true);
    tus = std::make_unique<handler::Handler>(std::move(config), *composer, [this] { return now_ms; });
  }

  template <class T>
  T run(net::awaitable<T> a) {
    return test::run(io, std::move(a));
  }

  // One request through `serve` (the tus Handler, or anything with the same shape).
  template <class Serve>
  auto send(Serve&& serve, std::string method, std::string path, const HeaderList& headers, std::string body,
            test::FakeBodyOptions opts = {}) {
    test::FakeBody source(std::move(body), std::move(opts));
    handler::Request request;
    request.method = std::move(method);
    request.path = std::move(path);
    for (const auto& [name, value] : headers) {
      request.headers.add(name, value);
    }
    request.base_url = std::string(kBaseUrl);
    request.remote_addr = "192.0.2.1";
    request.body = &source;
    return run(serve(request));
  }

  handler::Response send_tus(std::string method, std::string path, const HeaderList& headers, std::string body,
                             test::FakeBodyOptions opts = {}) {
    return send([this](handler::Request& r) { return tus->handle(r); }, std::move(method), std::move(path), headers,
                std::move(body), std::move(opts));
  }

  std::optional<core::UploadInfo> record(const std::string& id) {
    auto r = run(infos->get(id));
    return r ? std::optional<core::UploadInfo>(std::move(*r)) : std::nullopt;
  }

  // The whole body of a streamed (GET) response.
  std::optional<std::string> drain(handler::Response& r) {
    std::string out;
    std::array<std::byte, 1024> buf{};
    while (r.content) {
      auto n = run(r.content->read(buf));
      if (!n) {
        return std::nullopt;
      }
      if (*n == 0) {
        break;
      }
      out.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
    return out;
  }

  std::int64_t now_ms = kStartMs;
  store::MemoryDataStore* data = nullptr;  // owned by `composer`
  store::MemoryInfoStore* infos = nullptr;
  std::unique_ptr<store::Composer> composer;
  std::unique_ptr<handler::Handler> tus;
  // Last, so destroyed first: a coroutine still pending is destroyed while what it uses lives.
  net::io_context io;
};

}  // namespace vidup::fuzz
