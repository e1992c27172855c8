#include "client/client.hpp"

#include "core/headers.hpp"
#include "core/integers.hpp"

#include <curl/curl.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <unistd.h>

namespace vidup::client {
namespace {

using core::Errc;

constexpr std::size_t kMaxBody = 64 * 1024;  // error bodies and JSON answers we keep

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string header_line(std::string_view name, std::string_view value) {
  std::string line(name);
  line += ": ";
  line += value;
  return line;
}

// The response of one call: status, headers of the last response (not of a 100 Continue), body.
struct Response {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (iequals(k, name)) {
        return std::string_view(v);
      }
    }
    return std::nullopt;
  }
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Response*>(user);
  const std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    r->headers.clear();
    return size * n;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    r->headers.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Response*>(user);
  const std::size_t room = kMaxBody - std::min(kMaxBody, r->body.size());
  r->body.append(data, std::min(room, size * n));
  return size * n;
}

struct Transfer {
  const std::atomic<bool>* cancel = nullptr;
  const SentFn* on_sent = nullptr;
  Source* source = nullptr;
  std::uint64_t offset = 0;     // where the body starts in the source
  std::uint64_t remaining = 0;  // body bytes still to hand to curl
  std::optional<Error> read_error;
};

int on_progress(void* user, curl_off_t /*dltotal*/, curl_off_t /*dlnow*/, curl_off_t /*ultotal*/, curl_off_t ulnow) {
  auto* t = static_cast<Transfer*>(user);
  if (t->cancel->load()) {
    return 1;
  }
  if (t->on_sent != nullptr && *t->on_sent) {
    (*t->on_sent)(static_cast<std::uint64_t>(ulnow));
  }
  return 0;
}

size_t on_read(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(t->remaining, size * n));
  if (want == 0) {
    return 0;
  }
  auto got = t->source->read_at(t->offset, std::span(reinterpret_cast<std::byte*>(buffer), want));
  if (!got || *got == 0) {
    t->read_error = got ? make_local_error("the file ended early (was it truncated during the upload?)") : got.error();
    return CURL_READFUNC_ABORT;
  }
  t->offset += *got;
  t->remaining -= *got;
  return *got;
}

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

Error transport_error(CURLcode code, const char* detail) {
  Error e;
  e.kind = Failure::transport;
  e.errc = code == CURLE_OPERATION_TIMEDOUT ? Errc::read_timeout : Errc::connection_reset;
  e.message = detail[0] != '\0' ? detail : curl_easy_strerror(code);
  if (code == CURLE_OPERATION_TIMEDOUT) {
    e.message = "transfer stalled or timed out (" + e.message + ")";
  }
  return e;
}

// Runs one request. `transfer.source` set → the request has a body of transfer.remaining bytes.
Result<Response> perform(const ClientOptions& options, const char* method, const std::string& url,
                         const std::vector<std::string>& extra, Transfer& transfer, const std::string* body = nullptr) {
  global_init();
  if (transfer.cancel->load()) {
    return Error{Failure::cancelled, 0, Errc::interrupted, "interrupted"};
  }
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) {
    throw std::runtime_error("curl_easy_init failed");
  }
  CURL* c = easy.get();
  std::unique_ptr<curl_slist, SlistDeleter> list;
  auto add = [&](const std::string& h) {
    curl_slist* next = curl_slist_append(list.get(), h.c_str());
    if (next == nullptr) {
      throw std::bad_alloc();
    }
    (void)list.release();
    list.reset(next);
  };
  add(header_line(core::kTusResumable, core::kTusVersion));
  add("Expect:");  // no 100-continue round trip
  for (const auto& h : options.headers) {
    add(h);
  }
  for (const auto& h : extra) {
    add(h);
  }
  Response response;
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.stall_timeout_s);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &transfer);
  if (std::strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (transfer.source != nullptr) {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(transfer.remaining));
  } else if (body != nullptr) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (std::strcmp(method, "POST") == 0) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
    }
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
  const CURLcode code = curl_easy_perform(c);
  if (code == CURLE_ABORTED_BY_CALLBACK && transfer.cancel->load()) {
    return Error{Failure::cancelled, 0, Errc::interrupted, "interrupted"};
  }
  if (transfer.read_error) {
    return *transfer.read_error;
  }
  if (code != CURLE_OK) {
    return transport_error(code, errbuf);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

Result<std::uint64_t> header_uint(const Response& r, std::string_view name) {
  const auto v = r.header(name);
  if (!v) {
    return make_local_error("the server's answer has no " + std::string(name) + " header");
  }
  auto n = core::parse_uint(*v, Errc::invalid_offset);
  if (!n) {
    return make_local_error("the server's " + std::string(name) + " is not a number: " + std::string(*v));
  }
  return *n;
}

Errc errc_for_status(long status) {
  switch (status) {
    case 400: return Errc::bad_request;
    case 401: return Errc::unauthorized;
    case 403: return Errc::forbidden;
    case 404: return Errc::not_found;
    case 409: return Errc::offset_mismatch;
    case 410: return Errc::gone;
    case 412: return Errc::unsupported_version;
    case 413: return Errc::max_size_exceeded;
    case 415: return Errc::invalid_content_type;
    case 423: return Errc::locked;
    case 460: return Errc::checksum_mismatch;
    default: return status >= 500 ? Errc::internal : Errc::bad_request;
  }
}

// The first line of a body; for the platform's JSON errors, "ERR_CODE: message".
std::string reason_of(std::string_view body) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto* err = v.as_object().if_contains("error");
    if (err != nullptr && err->is_object()) {
      const auto* code = err->as_object().if_contains("code");
      const auto* msg = err->as_object().if_contains("message");
      std::string out;
      if (code != nullptr && code->is_string()) {
        out = std::string(code->as_string()) + ": ";
      }
      if (msg != nullptr && msg->is_string()) {
        out += std::string(msg->as_string());
      }
      if (!out.empty()) {
        return out;
      }
    }
  }
  const auto nl = body.find_first_of("\r\n");
  return std::string(trim(body.substr(0, nl)));
}

}  // namespace

std::string Error::describe() const {
  if (kind == Failure::status) {
    return std::to_string(status) + (message.empty() ? std::string() : ": " + message);
  }
  return message;
}

void throw_exception_from_error(const Error& e, const boost::source_location& /*loc*/) {
  throw std::runtime_error(e.describe());
}

Error make_status_error(long status, std::string_view body) {
  return Error{Failure::status, status, errc_for_status(status), reason_of(body)};
}

Error make_local_error(std::string message) { return Error{Failure::local, 0, Errc::internal, std::move(message)}; }

Result<std::size_t> FileSource::read_at(std::uint64_t offset, std::span<std::byte> out) {
  for (;;) {
    const ssize_t n = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(offset));
    if (n >= 0) {
      return static_cast<std::size_t>(n);
    }
    if (errno != EINTR) {
      return make_local_error(std::string("read failed: ") + std::strerror(errno));
    }
  }
}

Result<std::size_t> MemorySource::read_at(std::uint64_t offset, std::span<std::byte> out) {
  if (offset < base_ || offset - base_ > bytes_.size()) {
    return make_local_error("offset outside the buffered chunk");
  }
  const auto from = static_cast<std::size_t>(offset - base_);
  const std::size_t n = std::min(out.size(), bytes_.size() - from);
  std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(from), n, out.begin());
  return n;
}

Client::Client(ClientOptions options) : options_(std::move(options)) { global_init(); }

Result<std::string> Client::create(const CreateRequest& req, const std::atomic<bool>& cancel) const {
  std::vector<std::string> extra = req.headers;
  // A final upload's length is the sum of its partials: it sends no length header.
  const bool final_upload = req.concat && req.concat->starts_with("final");
  if (!final_upload && req.length) {
    extra.push_back(header_line(core::kUploadLength, std::to_string(*req.length)));
  }
  if (!final_upload && !req.length) {
    extra.push_back(header_line(core::kUploadDeferLength, "1"));
  }
  if (!req.metadata.empty()) {
    extra.push_back(header_line(core::kUploadMetadata, req.metadata));
  }
  if (req.concat) {
    extra.push_back(header_line(core::kUploadConcat, *req.concat));
  }
  Transfer t{.cancel = &cancel};
  auto r = perform(options_, "POST", req.endpoint, extra, t);
  if (!r) {
    return r.error();
  }
  if (r->status != 201 && r->status != 200) {
    return make_status_error(r->status, r->body);
  }
  const auto location = r->header(core::kLocation);
  if (!location || location->empty()) {
    return make_local_error("the server created an upload but sent no Location");
  }
  return resolve_location(req.endpoint, *location);
}

Result<UploadStatus> Client::head(const std::string& url, const std::atomic<bool>& cancel) const {
  Transfer t{.cancel = &cancel};
  std::vector<std::string> extra = {"Cache-Control: no-store"};
  auto r = perform(options_, "HEAD", url, extra, t);
  if (!r) {
    return r.error();
  }
  if (r->status != 200 && r->status != 204) {
    return make_status_error(r->status, r->body);
  }
  auto offset = header_uint(*r, core::kUploadOffset);
  if (!offset) {
    return offset.error();
  }
  UploadStatus s;
  s.offset = *offset;
  if (r->header(core::kUploadLength)) {
    auto length = header_uint(*r, core::kUploadLength);
    if (!length) {
      return length.error();
    }
    s.length = *length;
  }
  return s;
}

Result<std::uint64_t> Client::patch(const PatchRequest& req, Source& source, const SentFn& on_sent,
                                    const std::atomic<bool>& cancel) const {
  std::vector<std::string> extra = {
      header_line(core::kUploadOffset, std::to_string(req.offset)),
      header_line(core::kContentType, core::kOffsetOctetStream),
  };
  if (req.declare_length) {
    extra.push_back(header_line(core::kUploadLength, std::to_string(*req.declare_length)));
  }
  if (req.checksum) {
    extra.push_back(header_line(core::kUploadChecksum, *req.checksum));
  }
  Transfer t{.cancel = &cancel, .on_sent = &on_sent, .source = &source, .offset = req.offset,
             .remaining = req.length};
  auto r = perform(options_, "PATCH", req.url, extra, t);
  if (!r) {
    return r.error();
  }
  if (r->status != 204 && r->status != 200) {
    return make_status_error(r->status, r->body);
  }
  return header_uint(*r, core::kUploadOffset);
}

Result<void> Client::terminate(const std::string& url, const std::atomic<bool>& cancel) const {
  Transfer t{.cancel = &cancel};
  auto r = perform(options_, "DELETE", url, {}, t);
  if (!r) {
    return r.error();
  }
  if (r->status != 204 && r->status != 200) {
    return make_status_error(r->status, r->body);
  }
  return {};
}

Result<std::string> Client::post_json(const std::string& url, const std::string& body,
                                      const std::vector<std::string>& headers, const std::atomic<bool>& cancel) const {
  std::vector<std::string> extra = headers;
  extra.push_back(header_line(core::kContentType, "application/json"));
  Transfer t{.cancel = &cancel};
  auto r = perform(options_, "POST", url, extra, t, &body);
  if (!r) {
    return r.error();
  }
  if (r->status < 200 || r->status > 299) {
    return make_status_error(r->status, r->body);
  }
  return std::move(r->body);
}

std::optional<std::string> origin_of(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return std::nullopt;
  }
  const auto scheme = url.substr(0, scheme_end);
  if (!iequals(scheme, "http") && !iequals(scheme, "https")) {
    return std::nullopt;
  }
  const auto host_end = url.find_first_of("/?#", scheme_end + 3);
  const auto origin = url.substr(0, host_end);
  if (origin.size() == scheme_end + 3) {
    return std::nullopt;
  }
  return std::string(origin);
}

std::string resolve_location(std::string_view base, std::string_view location) {
  if (origin_of(location)) {
    return std::string(location);
  }
  const auto origin = origin_of(base);
  if (!origin) {
    return std::string(location);
  }
  if (location.starts_with("//")) {
    return std::string(base.substr(0, base.find("://") + 1)) + std::string(location);
  }
  if (location.starts_with("/")) {
    return *origin + std::string(location);
  }
  // Path-relative: replace the last segment of the base path.
  std::string_view path = base.substr(origin->size());
  path = path.substr(0, path.find_first_of("?#"));
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string_view::npos ? "/" : std::string(path.substr(0, slash + 1));
  return *origin + dir + std::string(location);
}

}  // namespace vidup::client
