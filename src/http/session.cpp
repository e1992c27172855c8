// One connection's life: read a header, hand the request to the router with a streaming body,
// write the response (streamed for GET), log one line, repeat while keep-alive holds.
#include "http/body_source.hpp"
#include "http/server.hpp"

#include "core/headers.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>

namespace vidup::http {

namespace {

using handler::Request;
using handler::Response;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kStreamChunk = 256 * 1024;
constexpr std::uint64_t kDrainLimit = 1024 * 1024;  // unread body bytes we read to keep a connection
// Read-ahead room above --header-limit in a connection's buffer. Beast bounds the header, not a
// chunk-size line (its extensions) nor the trailers: without a cap on the buffer, one chunked
// body with an endless chunk extension grows it without limit. The body reads widen the cap by
// their own reservation (body_source.cpp); past it Beast fails with buffer_overflow → 400.
constexpr std::size_t kReadAhead = 64 * 1024;

bool valid_host(std::string_view host) {
  if (host.empty() || host.size() > 255) {
    return false;
  }
  for (char c : host) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' ||
                    c == ']' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string_view first_token(std::string_view v) {
  v = v.substr(0, v.find(','));
  while (!v.empty() && v.front() == ' ') {
    v.remove_prefix(1);
  }
  while (!v.empty() && v.back() == ' ') {
    v.remove_suffix(1);
  }
  return v;
}

// H-LOC-02: scheme and host of the URLs we hand out. Forwarding headers count only behind a
// trusted proxy (--behind-proxy).
std::string base_url(const Parser::value_type& req, const Options& options) {
  std::string scheme = "http";
  std::string host(req[bhttp::field::host]);
  if (options.behind_proxy) {
    if (auto fwd = req["Forwarded"]; !fwd.empty()) {
      auto element = first_token(fwd);
      std::size_t pos = 0;
      while (pos < element.size()) {
        auto semi = element.find(';', pos);
        auto pair = element.substr(pos, semi == std::string_view::npos ? std::string_view::npos : semi - pos);
        while (!pair.empty() && pair.front() == ' ') {
          pair.remove_prefix(1);
        }
        auto eq = pair.find('=');
        if (eq != std::string_view::npos) {
          auto key = pair.substr(0, eq);
          auto value = pair.substr(eq + 1);
          if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
          }
          if (handler::iequals(key, "proto") && (value == "http" || value == "https")) {
            scheme = std::string(value);
          } else if (handler::iequals(key, "host") && valid_host(value)) {
            host = std::string(value);
          }
        }
        if (semi == std::string_view::npos) {
          break;
        }
        pos = semi + 1;
      }
    } else {
      if (auto proto = first_token(req["X-Forwarded-Proto"]); proto == "http" || proto == "https") {
        scheme = std::string(proto);
      }
      if (auto fwd_host = first_token(req["X-Forwarded-Host"]); valid_host(fwd_host)) {
        host = std::string(fwd_host);
      }
    }
  }
  if (!valid_host(host)) {
    host = options.host + ":" + std::to_string(options.port);
  }
  return scheme + "://" + host;
}

void json_escape(std::string& out, std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
}

// An upload URL is a capability (whoever has it may PATCH or DELETE), so logs carry only the
// first 8 of an upload id's 32 hex digits: enough to correlate lines, useless to an attacker.
std::string redact_ids(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t run = 0;
  for (char c : text) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    run = hex ? run + 1 : 0;
    out.push_back(c);
    if (run == 32 && out.size() >= 32) {
      out.resize(out.size() - 24);
      out += "...";
      run = 0;
    }
  }
  return out;
}

// §8 of STYLE.md: one line per request; never a query string, a header value or a body.
void log_request(const Request& req, const Response& res, std::string_view error_code, double ms) {
  char ts[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string line;
  line.reserve(256);
  line += R"({"ts":")";
  line += ts;
  line += R"(","msg":"request","method":")";
  json_escape(line, req.method);
  line += R"(","path":")";
  json_escape(line, redact_ids(req.path.substr(0, 200)));
  line += R"(","upload_id":")";
  line += redact_ids(res.upload_id);
  line += R"(","status":)";
  line += std::to_string(res.status);
  if (!error_code.empty()) {
    line += R"(,"error":")";
    json_escape(line, error_code);
    line += '"';
  }
  line += R"(,"bytes":)";
  line += std::to_string(res.bytes_received);
  char dur[32];
  std::snprintf(dur, sizeof dur, "%.3f", ms);
  line += R"(,"duration_ms":)";
  line += dur;
  line += R"(,"remote":")";
  line += req.remote_addr;
  line += "\"}\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

std::string_view error_code_of(const Response& res) {
  if (res.status < 400) {
    return {};
  }
  std::string_view body = res.body;
  auto colon = body.find(':');
  return colon == std::string_view::npos ? std::string_view{} : body.substr(0, colon);
}

// RFC 9112 §6.1, §6.3: a Transfer-Encoding other than exactly `chunked` (gzip, identity,
// "chunked, gzip", ...) or any Transfer-Encoding in HTTP/1.0 leaves the body's length to
// guesswork, which a proxy in front may settle differently (request smuggling). §3.2: an HTTP/1.1
// request needs exactly one Host. Such requests get 400 and the connection is closed unread.
bool ambiguous_request(const Parser& parser) {
  const auto& h = parser.get();
  if (h.version() >= 11 && h.count(bhttp::field::host) != 1) {
    return true;
  }
  const auto te = h.find(bhttp::field::transfer_encoding);
  if (te == h.end()) {
    return false;
  }
  std::string_view coding = te->value();
  while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) {
    coding.remove_prefix(1);
  }
  while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) {
    coding.remove_suffix(1);
  }
  return h.version() < 11 || h.count(bhttp::field::transfer_encoding) != 1 || !handler::iequals(coding, "chunked") ||
         !parser.chunked();
}

Response simple_error(core::Errc e) {
  const auto d = core::describe(e);
  Response r;
  r.status = d.status;
  r.body = std::string(d.code) + ": " + std::string(d.message) + "\n";
  r.headers.set(core::kContentType, "text/plain; charset=utf-8");
  r.headers.set(core::kTusResumable, std::string(core::kTusVersion));
  r.close = true;
  return r;
}

// The status line, the fields and a small body in one buffer for one write, as Beast's
// serializer would produce them for a string body (after keep_alive() and prepare_payload()):
// it walks a list of per-field buffers and costs more than everything else a HEAD does.
std::string serialize(const Response& res, unsigned version, bool keep_alive, bool head_request) {
  const bool no_body_status = res.status == 204 || res.status == 304 || res.status < 200;
  const bool keep_length = no_body_status || (head_request && res.headers.has(core::kContentLength));
  std::string out;
  out.reserve(512 + (head_request ? 0 : res.body.size()));
  out += version >= 11 ? "HTTP/1.1 " : "HTTP/1.0 ";
  out += std::to_string(res.status);
  out += ' ';
  out += bhttp::obsolete_reason(static_cast<bhttp::status>(res.status));
  out += "\r\n";
  for (const auto& [name, value] : res.headers.fields()) {
    if (!keep_length && handler::iequals(name, core::kContentLength)) {
      continue;
    }
    out.append(name).append(": ").append(value).append("\r\n");
  }
  if (!keep_length) {
    out.append("Content-Length: ").append(std::to_string(res.body.size())).append("\r\n");
  }
  if (version >= 11 && !keep_alive) {
    out += "Connection: close\r\n";
  } else if (version < 11 && keep_alive) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  if (!head_request) {
    out += res.body;
  }
  return out;
}

template <class Message>
void copy_headers(const Response& res, Message& msg) {
  for (const auto& [name, value] : res.headers.fields()) {
    msg.insert(name, value);
  }
}

}  // namespace

net::awaitable<void> HttpServer::session(std::shared_ptr<Connection> conn) {
  auto& stream = conn->stream();
  std::string remote;
  {
    boost::system::error_code ec;
    auto ep = stream.socket().remote_endpoint(ec);
    if (!ec) {
      remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
  }
  beast::flat_buffer buffer(options_.header_limit + kReadAhead);
  bool keep_alive = true;
  while (keep_alive && !conn->draining_) {
    ++conn->generation_;
    conn->interrupted_ = false;
    Parser parser;
    parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    conn->idle_ = true;
    stream.expires_after(options_.idle_timeout);
    auto [read_ec, header_bytes] =
        co_await bhttp::async_read_header(stream, buffer, parser, net::as_tuple(net::use_awaitable));
    conn->idle_ = false;
    if (read_ec) {
      // 431 for an oversized header block; 400 for a request Beast cannot parse. Anything else
      // (EOF, reset, timeout) closes silently.
      std::optional<core::Errc> answer;
      if (read_ec == bhttp::error::header_limit) {
        answer = core::Errc::header_too_large;
      } else if (read_ec.category() == make_error_code(bhttp::error::bad_target).category() &&
                 read_ec != bhttp::error::end_of_stream && read_ec != bhttp::error::partial_message) {
        answer = core::Errc::bad_request;
      }
      if (answer) {
        Response r = simple_error(*answer);
        const std::string out = serialize(r, 11, false, false);
        stream.expires_after(options_.read_timeout);
        co_await net::async_write(stream, net::buffer(out), net::as_tuple(net::use_awaitable));
        metrics_.count_request("-", r.status, error_code_of(r));
      }
      break;
    }
    const auto started = Clock::now();
    auto& header = parser.get();
    const std::size_t header_fields =
        static_cast<std::size_t>(std::distance(header.begin(), header.end()));

    Request req;
    req.method = std::string(header.method_string());
    req.remote_addr = remote;
    for (const auto& field : header) {
      req.headers.add(std::string(field.name_string()), std::string(field.value()));
    }
    ParserBodySource body(conn, parser, buffer, options_.read_timeout, header_fields);
    req.body = &body;
    Response res;
    auto target = boost::urls::parse_origin_form(header.target());
    if (!target || ambiguous_request(parser)) {
      res = simple_error(core::Errc::bad_request);
    } else {
      req.path = target->path();  // percent-decoded; the tus engine ignores the query (G-08)
      req.query = std::string(target->encoded_query());
      req.base_url = base_url(header, options_);
      res = co_await router_.route(req);
    }
    keep_alive = header.keep_alive() && !res.close && !conn->draining_;

    // Unread body: read a small remainder to keep the connection; otherwise close it.
    if (!body.done()) {
      const auto declared = body.content_length();
      const bool small = declared && *declared - std::min(*declared, body.consumed()) <= kDrainLimit;
      // A client waiting for `100 Continue` gets the final status instead and sends no body
      // (CWU-06, EDGE-19); whether it will is unknown, so the connection cannot be reused.
      if (!keep_alive || !small || conn->interrupted_ || body.continue_pending()) {
        keep_alive = false;
      } else {
        auto scratch = std::make_unique_for_overwrite<std::byte[]>(64 * 1024);
        while (!body.done()) {
          auto n = co_await body.read(std::span(scratch.get(), 64 * 1024));
          if (!n || *n == 0) {
            keep_alive = body.done();
            break;
          }
        }
      }
    }

    const bool head_request = req.method == "HEAD";
    stream.expires_after(options_.read_timeout);
    boost::system::error_code write_ec;
    if (!res.content) {
      const std::string out = serialize(res, header.version(), keep_alive, head_request);
      auto [ec, n] = co_await net::async_write(stream, net::buffer(out), net::as_tuple(net::use_awaitable));
      write_ec = ec;
    } else {
      bhttp::response<bhttp::buffer_body> msg{static_cast<bhttp::status>(res.status), header.version()};
      copy_headers(res, msg);
      msg.keep_alive(keep_alive);
      msg.body().data = nullptr;
      msg.body().more = !head_request;
      bhttp::response_serializer<bhttp::buffer_body> serializer{msg};
      auto [hec, hn] = co_await bhttp::async_write_header(stream, serializer, net::as_tuple(net::use_awaitable));
      write_ec = hec;
      auto chunk = std::make_unique_for_overwrite<std::byte[]>(kStreamChunk);
      while (!write_ec && !head_request) {
        auto n = co_await res.content->read(std::span(chunk.get(), kStreamChunk));
        if (!n) {
          write_ec = net::error::broken_pipe;  // the response is cut short: the client sees it
          break;
        }
        msg.body().data = *n > 0 ? chunk.get() : nullptr;
        msg.body().size = *n;
        msg.body().more = *n > 0;
        stream.expires_after(options_.read_timeout);
        auto [ec, written] = co_await bhttp::async_write(stream, serializer, net::as_tuple(net::use_awaitable));
        if (ec == bhttp::error::need_buffer) {
          ec = {};
        }
        write_ec = ec;
        if (*n == 0) {
          break;
        }
      }
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    const auto code = error_code_of(res);
    metrics_.count_request(req.method, res.status, code);
    if (options_.log_requests) {
      log_request(req, res, code, ms);
    }
    if (write_ec) {
      keep_alive = false;
    }
    if (buffer.capacity() > options_.header_limit + 4096 && buffer.size() < 4096) {
      buffer.shrink_to_fit();  // a body read grew it; idle connections keep only header room
    }
  }
  // Lingering close: stop sending, then read briefly so the client gets our last response
  // before the kernel would answer its unread bytes with a reset.
  boost::system::error_code ignored;
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  if (!conn->draining_ || !conn->interrupted_) {
    stream.expires_after(std::chrono::seconds(1));
    buffer.clear();  // unread bytes are dropped; the buffer's cap must leave room for the reads below
    std::uint64_t drained = 0;
    while (drained < kDrainLimit * 4) {
      auto [ec, n] = co_await stream.async_read_some(net::buffer(buffer.prepare(64 * 1024)),
                                                      net::as_tuple(net::use_awaitable));
      if (ec) {
        break;
      }
      drained += n;
    }
  }
  stream.socket().close(ignored);
}

}  // namespace vidup::http
