#include "http/body_source.hpp"

#include "handler/request.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>

namespace vidup::http {

namespace {
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::size_t kSocketRead = 256 * 1024;
}

ParserBodySource::ParserBodySource(std::shared_ptr<Connection> conn, Parser& parser, beast::flat_buffer& buffer,
                                   std::chrono::milliseconds read_timeout, std::size_t header_fields)
    : conn_(std::move(conn)),
      parser_(parser),
      buffer_(buffer),
      read_timeout_(read_timeout),
      header_fields_(header_fields) {
  if (auto n = parser_.content_length()) {
    content_length_ = *n;
  }
  has_body_ = parser_.chunked() || (content_length_ && *content_length_ > 0);
  const auto& req = parser_.get();
  expect_continue_ = handler::iequals(req[bhttp::field::expect], "100-continue");
}

std::function<void()> ParserBodySource::canceller() {
  return [weak = std::weak_ptr<Connection>(conn_), generation = conn_->generation_] {
    if (auto conn = weak.lock()) {
      conn->interrupt(generation);
    }
  };
}

net::awaitable<core::Result<std::size_t>> ParserBodySource::read(std::span<std::byte> buf) {
  using core::Errc;
  if (failed_ != Errc::ok) {
    co_return make_error_code(failed_);
  }
  if (conn_->interrupted_) {
    co_return make_error_code(Errc::interrupted);
  }
  if (parser_.is_done() || buf.empty()) {
    co_return std::size_t{0};
  }
  auto& stream = conn_->stream();
  // Beast sizes each socket read by the flat buffer's free capacity, which a body read straight
  // into `buf` never grows: without room here every recv would bring 512 bytes. The session
  // shrinks the buffer again after the request, so idle connections stay small.
  if (buffer_.capacity() - buffer_.size() < kSocketRead) {
    buffer_.reserve(buffer_.size() + kSocketRead);
  }
  if (expect_continue_) {
    expect_continue_ = false;  // CWU-06: only once the handler wants the body
    stream.expires_after(read_timeout_);
    auto [ec, n] = co_await net::async_write(stream, net::buffer(kContinue.data(), kContinue.size()),
                                             net::as_tuple(net::use_awaitable));
    if (ec) {
      failed_ = Errc::connection_reset;
      co_return make_error_code(failed_);
    }
  }
  for (;;) {
    auto& body = parser_.get().body();
    body.data = buf.data();
    body.size = buf.size();
    stream.expires_after(read_timeout_);
    auto [ec, n] = co_await bhttp::async_read_some(stream, buffer_, parser_, net::as_tuple(net::use_awaitable));
    const std::size_t got = buf.size() - parser_.get().body().size;
    if (ec == bhttp::error::need_buffer) {
      ec = {};
    }
    if (ec) {
      consumed_ += got;
      if (conn_->draining_ && (conn_->interrupted_ || ec == net::error::operation_aborted)) {
        failed_ = Errc::shutting_down;  // 503: clients retry it once the server is back
      } else if (conn_->interrupted_ || ec == net::error::operation_aborted) {
        failed_ = Errc::interrupted;
      } else if (ec == beast::error::timeout) {
        failed_ = Errc::read_timeout;
      } else if (ec.category() == make_error_code(bhttp::error::bad_chunk).category() &&
                 ec != bhttp::error::partial_message && ec != bhttp::error::end_of_stream) {
        failed_ = Errc::bad_request;  // the client's framing is wrong (bad chunk size, ...): 400
      } else {
        failed_ = Errc::connection_reset;
      }
      if (got > 0) {
        co_return got;  // PATCH-09: keep what arrived; the next read reports the failure
      }
      co_return make_error_code(failed_);
    }
    consumed_ += got;
    if (parser_.is_done()) {
      // Fields that arrived after the header are the chunked body's trailers (CKT-02).
      std::size_t index = 0;
      for (const auto& field : parser_.get()) {
        if (index++ >= header_fields_) {
          trailers_.add(std::string(field.name_string()), std::string(field.value()));
        }
      }
    }
    if (got > 0 || parser_.is_done()) {
      co_return got;
    }
  }
}

}  // namespace vidup::http
