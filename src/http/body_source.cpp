#include "http/body_source.hpp"

#include "handler/request.hpp"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vidup::http {

namespace {
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::size_t kChunkedSocketRead = 256 * 1024;
// A body that keeps arriving faster than we store it never makes a read wait: after this many
// bytes the connection lets the others on its thread run (and a pre-emption be delivered).
constexpr std::uint64_t kYieldEvery = 1024 * 1024;

// The pipe splice_into() moves bytes through, one per I/O thread (a splice never waits on it:
// what enters is drained at once). Emptied by replacing it when a file refused its bytes.
class SplicePipe {
 public:
  SplicePipe() = default;
  SplicePipe(const SplicePipe&) = delete;
  SplicePipe& operator=(const SplicePipe&) = delete;
  ~SplicePipe() { close_both(); }
  // False when no pipe can be made (fd limit): the caller reads instead.
  bool ready() {
    if (fds_[0] >= 0) {
      return true;
    }
    if (::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
      fds_[0] = fds_[1] = -1;
      return false;
    }
    const int got = ::fcntl(fds_[1], F_SETPIPE_SZ, static_cast<int>(kWant));
    capacity_ = got > 0 ? static_cast<std::size_t>(got) : 65536;
    return true;
  }
  [[nodiscard]] int in() const { return fds_[1]; }
  [[nodiscard]] int out() const { return fds_[0]; }
  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  void discard() { close_both(); }  // bytes left inside go with it

 private:
  static constexpr std::size_t kWant = 1024 * 1024;
  void close_both() {
    for (int& fd : fds_) {
      if (fd >= 0) {
        ::close(fd);
      }
      fd = -1;
    }
  }
  int fds_[2] = {-1, -1};
  std::size_t capacity_ = 0;
};

SplicePipe& thread_pipe() {
  thread_local SplicePipe pipe;
  return pipe;
}
}  // namespace

ParserBodySource::ParserBodySource(std::shared_ptr<Connection> conn, Parser& parser, beast::flat_buffer& buffer,
                                   std::chrono::milliseconds read_timeout, std::size_t header_fields)
    : conn_(std::move(conn)),
      parser_(parser),
      buffer_(buffer),
      read_timeout_(read_timeout),
      header_fields_(header_fields),
      buffer_cap_(buffer.max_size()) {
  chunked_ = parser_.chunked();
  if (auto n = parser_.content_length()) {
    content_length_ = *n;
    remaining_ = chunked_ ? 0 : *n;
  }
  has_body_ = chunked_ || (content_length_ && *content_length_ > 0);
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

core::Errc ParserBodySource::failure_of(const boost::system::error_code& ec) const {
  using core::Errc;
  if (conn_->draining_ && (conn_->interrupted_ || ec == net::error::operation_aborted)) {
    return Errc::shutting_down;  // 503: clients retry it once the server is back
  }
  if (conn_->interrupted_ || ec == net::error::operation_aborted) {
    return Errc::interrupted;
  }
  if (ec == beast::error::timeout) {
    return Errc::read_timeout;
  }
  if (ec.category() == make_error_code(bhttp::error::bad_chunk).category() && ec != bhttp::error::partial_message &&
      ec != bhttp::error::end_of_stream) {
    return Errc::bad_request;  // the client's framing is wrong (bad chunk size, ...): 400
  }
  return Errc::connection_reset;
}

net::awaitable<void> ParserBodySource::ready() {
  if (failed_ != core::Errc::ok || conn_->interrupted_ || done() || expect_continue_ || buffer_.size() > 0) {
    co_return;  // read() answers at once (or first sends the `100 Continue` the client waits for)
  }
  if (!drained_) {
    if (since_yield_ < kYieldEvery) {
      co_return;  // the last read filled its buffer: more is most likely there
    }
    since_yield_ = 0;
    co_await net::post(conn_->stream().get_executor(), net::use_awaitable);
    co_return;
  }
  since_yield_ = 0;
  if (chunked_ && buffer_.capacity() > kChunkedSocketRead / 2) {
    buffer_.shrink_to_fit();  // the read room goes while the client is silent
  }
  co_await wait_readable();  // a failure is kept in failed_ for read() to report
}

net::awaitable<bool> ParserBodySource::wait_readable() {
  auto& socket = conn_->stream().socket();
  // A watchdog rather than the stream's deadline: tcp_stream times only its own operations.
  struct Watch {
    bool done = false;
    bool fired = false;
  };
  auto watch = std::make_shared<Watch>();
  net::steady_timer timer(socket.get_executor(), read_timeout_);
  timer.async_wait([watch, conn = conn_](boost::system::error_code ec) {
    if (!ec && !watch->done) {
      watch->fired = true;
      boost::system::error_code ignored;
      conn->stream().socket().cancel(ignored);
    }
  });
  std::byte probe{};
  auto [ec, n] = co_await socket.async_receive(net::buffer(&probe, 1), net::socket_base::message_peek,
                                               net::as_tuple(net::use_awaitable));
  watch->done = true;
  timer.cancel();
  if (!ec || ec == net::error::eof) {
    drained_ = false;
    co_return true;  // bytes, or the end of the stream: the next recv says which
  }
  failed_ = watch->fired && !conn_->interrupted_ ? core::Errc::read_timeout : failure_of(ec);
  co_return false;
}

net::awaitable<bool> ParserBodySource::send_continue() {
  expect_continue_ = false;  // CWU-06: only once the handler wants the body
  auto& stream = conn_->stream();
  stream.expires_after(read_timeout_);
  auto [ec, n] = co_await net::async_write(stream, net::buffer(kContinue.data(), kContinue.size()),
                                           net::as_tuple(net::use_awaitable));
  if (ec) {
    failed_ = core::Errc::connection_reset;
    co_return false;
  }
  co_return true;
}

net::awaitable<core::Result<std::size_t>> ParserBodySource::read(std::span<std::byte> buf) {
  using core::Errc;
  if (failed_ != Errc::ok) {
    co_return make_error_code(failed_);
  }
  if (conn_->interrupted_) {
    co_return make_error_code(Errc::interrupted);
  }
  if (done() || buf.empty()) {
    co_return std::size_t{0};
  }
  if (expect_continue_ && !co_await send_continue()) {
    co_return make_error_code(failed_);
  }
  if (chunked_) {
    co_return co_await read_chunked(buf);
  }
  co_return co_await read_plain(buf);
}

net::awaitable<std::optional<ParserBodySource::Spliced>> ParserBodySource::splice_into(int fd, std::uint64_t offset,
                                                                                      std::size_t max) {
  using core::Errc;
  if (chunked_ || buffer_.size() > 0 || max == 0) {
    co_return std::nullopt;  // Beast frames chunked bodies; bytes read with the header go by read()
  }
  if (failed_ != Errc::ok) {
    co_return Spliced{0, failed_};
  }
  if (conn_->interrupted_) {
    co_return Spliced{0, Errc::interrupted};
  }
  if (remaining_ == 0) {
    co_return Spliced{};
  }
  if (expect_continue_ && !co_await send_continue()) {
    co_return Spliced{0, failed_};
  }
  const int socket = conn_->stream().socket().native_handle();
  for (;;) {
    // Looked up after every wait: the coroutine may resume on another thread. Between the two
    // splices below nothing else runs on this thread, so the pipe is empty whenever it is found.
    SplicePipe& pipe = thread_pipe();
    if (!pipe.ready()) {
      co_return std::nullopt;
    }
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>({max, remaining_, pipe.capacity()}));
    const ssize_t n = ::splice(socket, nullptr, pipe.in(), nullptr, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      drained_ = true;
      if (!co_await wait_readable()) {
        co_return Spliced{0, failed_};
      }
      continue;
    }
    if (n <= 0) {
      failed_ = Errc::connection_reset;  // EOF before the declared length, or a reset
      co_return Spliced{0, failed_};
    }
    const auto taken = static_cast<std::size_t>(n);
    consumed_ += taken;
    remaining_ -= taken;
    since_yield_ += taken;
    drained_ = taken < want;
    // Into the file, all of it, before anything else runs on this thread.
    auto at = static_cast<off_t>(offset);
    std::size_t moved = 0;
    while (moved < taken) {
      const ssize_t m = ::splice(pipe.out(), nullptr, fd, &at, taken - moved, SPLICE_F_MOVE);
      if (m > 0) {
        moved += static_cast<std::size_t>(m);
        continue;
      }
      if (m < 0 && errno == EINTR) {
        continue;
      }
      const int e = m < 0 ? errno : EIO;
      pipe.discard();  // the bytes the file refused; the request fails with what went in
      co_return Spliced{moved, e == ENOSPC || e == EDQUOT ? Errc::storage_full : Errc::storage_error};
    }
    co_return Spliced{moved, Errc::ok};
  }
}

net::awaitable<core::Result<std::size_t>> ParserBodySource::read_plain(std::span<std::byte> buf) {
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), remaining_));
  auto take = [&](std::size_t n) {
    consumed_ += n;
    remaining_ -= n;
    since_yield_ += n;
    return n;
  };
  // First what the header read brought along.
  if (buffer_.size() > 0) {
    const std::size_t n = std::min(want, buffer_.size());
    std::memcpy(buf.data(), buffer_.data().data(), n);
    buffer_.consume(n);
    co_return take(n);
  }
  const int fd = conn_->stream().socket().native_handle();
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), want, MSG_DONTWAIT);
    if (n > 0) {
      drained_ = static_cast<std::size_t>(n) < want;
      co_return take(static_cast<std::size_t>(n));
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      drained_ = true;
      if (!co_await wait_readable()) {
        co_return make_error_code(failed_);
      }
      continue;
    }
    failed_ = core::Errc::connection_reset;  // EOF before the declared length, or a reset
    co_return make_error_code(failed_);
  }
}

net::awaitable<core::Result<std::size_t>> ParserBodySource::read_chunked(std::span<std::byte> buf) {
  using core::Errc;
  auto& stream = conn_->stream();
  // Beast sizes each socket read by the flat buffer's free capacity, which a body read straight
  // into `buf` never grows: without room here every recv would bring 512 bytes. The room widens
  // the buffer's cap by as much (chunk-size lines and trailers stay bounded); the destructor puts
  // the cap back, and ready() and the session shrink the buffer, so silent connections stay small.
  buffer_.max_size(buffer_cap_ + kChunkedSocketRead);
  if (buffer_.capacity() - buffer_.size() < kChunkedSocketRead) {
    buffer_.reserve(std::min(buffer_.size() + kChunkedSocketRead, buffer_.max_size()));
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
    consumed_ += got;
    if (ec) {
      failed_ = failure_of(ec);
      if (got > 0) {
        co_return got;  // PATCH-09: keep what arrived; the next read reports the failure
      }
      co_return make_error_code(failed_);
    }
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
