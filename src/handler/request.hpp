#pragma once
// The handler's view of HTTP: plain structs, no Beast. http/ adapts Beast to these.

#include "core/errc.hpp"
#include "store/data_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vidup::handler {

namespace net = boost::asio;
using core::Errc;
using core::Result;

// Ordered header fields with case-insensitive names; repeated names are kept (G-11 needs them).
class Headers {
 public:
  void add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }
  void set(std::string_view name, std::string value);
  void remove(std::string_view name);
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
  [[nodiscard]] std::size_t count(std::string_view name) const;
  [[nodiscard]] bool has(std::string_view name) const { return count(name) > 0; }
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

// A request body, read incrementally. Implemented by http/ over the socket and by tests over a
// string. Not thread-safe; see canceller().
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Reads up to buf.size() bytes; 0 means the body is complete. Errors: Errc::read_timeout,
  // Errc::connection_reset (client gone or malformed framing), Errc::interrupted (cancel()).
  virtual net::awaitable<Result<std::size_t>> read(std::span<std::byte> buf) = 0;
  // Completes once read() can return without waiting for the client (bytes have arrived, the
  // body is complete, or the next read fails), holding none of the caller's memory meanwhile: a
  // caller takes its read buffer after this, so a stalled upload costs no buffer. Never fails;
  // read() reports what went wrong. The default completes at once.
  virtual net::awaitable<void> ready() { co_return; }
  // The declared length, or nullopt for a chunked body.
  [[nodiscard]] virtual std::optional<std::uint64_t> content_length() const = 0;
  // True when the request has a body (Content-Length > 0 or chunked).
  [[nodiscard]] virtual bool has_body() const = 0;
  // Trailer fields, available once read() returned 0 (chunked bodies only).
  [[nodiscard]] virtual const Headers& trailers() const = 0;
  // Moves up to `max` body bytes straight into the file `fd` at `offset` without copying them
  // through user space (splice(2)), waiting for the client as read() does. nullopt when this
  // body cannot do that now (chunked, bytes already buffered, not a socket): read() instead.
  // Otherwise {bytes, error}: the bytes now in the file (0 and ok: the body is complete), and
  // what went wrong after them (a client error as read() reports it; Errc::storage_full or
  // storage_error when the file refused bytes).
  struct Spliced {
    std::size_t bytes = 0;
    core::Errc error = core::Errc::ok;
  };
  virtual net::awaitable<std::optional<Spliced>> splice_into(int /*fd*/, std::uint64_t /*offset*/,
                                                             std::size_t /*max*/) {
    co_return std::nullopt;
  }
  // A callable that makes the pending and every later read() fail with Errc::interrupted.
  // Safe to call from any thread, at any time, even after this BodySource is gone.
  [[nodiscard]] virtual std::function<void()> canceller() = 0;
};

struct Request {
  std::string method;       // as sent; the handler applies X-HTTP-Method-Override
  std::string path;         // percent-decoded path, no query (G-08)
  std::string query;        // raw percent-encoded query, without '?' (the tus engine ignores it)
  Headers headers;
  std::string base_url;     // "http://host:port", what Location is built on
  std::string remote_addr;  // for logs
  BodySource* body = nullptr;  // never null
};

struct Response {
  unsigned status = 200;
  Headers headers;
  std::string body;                                // small bodies (errors)
  std::unique_ptr<store::ContentSource> content;  // streamed bodies (GET), or null
  std::string upload_id;                          // for the request log
  std::uint64_t bytes_received = 0;               // body bytes stored by this request
  bool close = false;                             // close the connection after responding
};

}  // namespace vidup::handler
