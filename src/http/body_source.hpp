#pragma once
// handler::BodySource over the connection. A Content-Length body is framed here and read with
// plain non-blocking recv() calls straight into the handler's buffer (one copy, kernel to
// handler), or moved socket -> pipe -> file with splice() when the handler has a file for it
// (splice_into); a chunked body goes through Beast's request_parser<buffer_body>. While the
// client is silent, ready() waits for readability with a 1-byte MSG_PEEK receive, so no buffer
// is held.

#include "handler/request.hpp"
#include "http/connection.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>

namespace vidup::http {

namespace bhttp = boost::beast::http;
using Parser = bhttp::request_parser<bhttp::buffer_body>;

class ParserBodySource final : public handler::BodySource {
 public:
  ParserBodySource(std::shared_ptr<Connection> conn, Parser& parser, beast::flat_buffer& buffer,
                   std::chrono::milliseconds read_timeout, std::size_t header_fields);
  ParserBodySource(const ParserBodySource&) = delete;
  ParserBodySource& operator=(const ParserBodySource&) = delete;
  ~ParserBodySource() override { buffer_.max_size(buffer_cap_); }

  net::awaitable<core::Result<std::size_t>> read(std::span<std::byte> buf) override;
  net::awaitable<std::optional<Spliced>> splice_into(int fd, std::uint64_t offset, std::size_t max) override;
  net::awaitable<void> ready() override;
  [[nodiscard]] std::optional<std::uint64_t> content_length() const override { return content_length_; }
  [[nodiscard]] bool has_body() const override { return has_body_; }
  [[nodiscard]] const handler::Headers& trailers() const override { return trailers_; }
  [[nodiscard]] std::function<void()> canceller() override;

  [[nodiscard]] bool done() const { return chunked_ ? parser_.is_done() : remaining_ == 0; }
  [[nodiscard]] std::uint64_t consumed() const { return consumed_; }
  // The client asked for `100 Continue` and has not got it: it may be holding its body back.
  [[nodiscard]] bool continue_pending() const { return expect_continue_; }

 private:
  net::awaitable<bool> send_continue();
  net::awaitable<core::Result<std::size_t>> read_plain(std::span<std::byte> buf);
  net::awaitable<core::Result<std::size_t>> read_chunked(std::span<std::byte> buf);
  // Waits until the socket is readable (or at EOF), within the read timeout. False: failed_ is set.
  net::awaitable<bool> wait_readable();
  // The Errc for a failed socket operation, from the connection's state.
  [[nodiscard]] core::Errc failure_of(const boost::system::error_code& ec) const;

  std::shared_ptr<Connection> conn_;
  Parser& parser_;
  beast::flat_buffer& buffer_;
  std::chrono::milliseconds read_timeout_;
  std::size_t header_fields_;
  std::size_t buffer_cap_;  // the connection buffer's cap (max_size) outside chunked body reads
  std::optional<std::uint64_t> content_length_;
  bool chunked_ = false;
  bool has_body_ = false;
  bool expect_continue_ = false;
  core::Errc failed_ = core::Errc::ok;
  std::uint64_t consumed_ = 0;
  std::uint64_t remaining_ = 0;        // Content-Length bodies: bytes still to come
  bool drained_ = true;                // the last socket read found fewer bytes than it asked for
  std::uint64_t since_yield_ = 0;      // bytes read without letting other connections run
  handler::Headers trailers_;
};

}  // namespace vidup::http
