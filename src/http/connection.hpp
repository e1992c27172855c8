#pragma once
// One client connection: its stream (on its own strand) and what other threads may ask of it.

#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <cstdint>
#include <memory>

namespace vidup::http {

namespace net = boost::asio;
namespace beast = boost::beast;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(net::ip::tcp::socket socket) : stream_(std::move(socket)) {}

  beast::tcp_stream& stream() { return stream_; }

  // Cancels the pending operation of request number `generation`, if that request is still the
  // current one. Safe from any thread.
  void interrupt(std::uint64_t generation) {
    net::post(stream_.get_executor(), [self = shared_from_this(), generation] {
      if (self->generation_ == generation) {
        self->interrupted_ = true;
        self->stream_.cancel();
      }
    });
  }
  // Shutdown: an idle connection closes now; a busy one after its response.
  void drain() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->draining_ = true;
      if (self->idle_) {
        self->stream_.cancel();
      }
    });
  }
  // Shutdown past its grace period: whatever is pending fails now.
  void abort() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->draining_ = true;
      self->interrupted_ = true;
      self->stream_.cancel();
    });
  }

  // Used only on the connection's strand.
  std::uint64_t generation_ = 0;
  bool interrupted_ = false;
  bool draining_ = false;
  bool idle_ = true;

 private:
  beast::tcp_stream stream_;
};

}  // namespace vidup::http
