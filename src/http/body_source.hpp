#pragma once
// handler::BodySource over a Beast request_parser<buffer_body>: the bytes go straight from the
// socket (or what the header read left in the buffer) into the handler's buffer.

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

  net::awaitable<core::Result<std::size_t>> read(std::span<std::byte> buf) override;
  [[nodiscard]] std::optional<std::uint64_t> content_length() const override { return content_length_; }
  [[nodiscard]] bool has_body() const override { return has_body_; }
  [[nodiscard]] const handler::Headers& trailers() const override { return trailers_; }
  [[nodiscard]] std::function<void()> canceller() override;

  [[nodiscard]] bool done() const { return parser_.is_done(); }
  [[nodiscard]] std::uint64_t consumed() const { return consumed_; }
  // The client asked for `100 Continue` and has not got it: it may be holding its body back.
  [[nodiscard]] bool continue_pending() const { return expect_continue_; }

 private:
  std::shared_ptr<Connection> conn_;
  Parser& parser_;
  beast::flat_buffer& buffer_;
  std::chrono::milliseconds read_timeout_;
  std::size_t header_fields_;
  std::optional<std::uint64_t> content_length_;
  bool has_body_ = false;
  bool expect_continue_ = false;
  core::Errc failed_ = core::Errc::ok;
  std::uint64_t consumed_ = 0;
  handler::Headers trailers_;
};

}  // namespace vidup::http
