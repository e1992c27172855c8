#include "store/s3/s3_client.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

namespace vidup::store::s3 {

namespace {

constexpr int kAttempts = 4;
constexpr std::array<std::chrono::milliseconds, kAttempts - 1> kBackoff{std::chrono::milliseconds(50),
                                                                        std::chrono::milliseconds(250),
                                                                        std::chrono::milliseconds(1000)};
constexpr std::size_t kMaxAnswerBytes = 64 << 20;  // XML answers (ListParts of 10000 parts is ~2 MB)
constexpr std::size_t kMaxIdleHandles = 16;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("libcurl initialisation failed");
    }
  });
}

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 0xf];
  }
  return out;
}

// SigV4 signs the payload's SHA-256, sent in x-amz-content-sha256 (curl 7.88 does not add it):
// the server refuses a body that changed on the way.
std::string sha256_hex(std::span<const std::byte> data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return hex(md, len);
}

bool iequals_prefix(std::string_view line, std::string_view name) {
  return line.size() >= name.size() && std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}

// "Name: value\r\n" -> "value".
std::string header_value(std::string_view line, std::size_t name_size) {
  std::string_view v = line.substr(name_size);
  const auto first = v.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  return std::string(v.substr(first, v.find_last_not_of(" \t\r\n") - first + 1));
}

std::string decode_entities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const auto semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out += s[i];
      continue;
    }
    const std::string_view name = s.substr(i + 1, semi - i - 1);
    if (name == "amp") {
      out += '&';
    } else if (name == "lt") {
      out += '<';
    } else if (name == "gt") {
      out += '>';
    } else if (name == "quot") {
      out += '"';
    } else if (name == "apos") {
      out += '\'';
    } else if (name.size() > 1 && name[0] == '#') {
      const bool is_hex = name[1] == 'x' || name[1] == 'X';
      const std::string digits(name.substr(is_hex ? 2 : 1));
      const unsigned long code = std::strtoul(digits.c_str(), nullptr, is_hex ? 16 : 10);
      out += code < 0x80 ? static_cast<char>(code) : '?';  // keys and ETags here are ASCII
    } else {
      out.append(s.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

struct Transfer {
  const Request* request = nullptr;
  Response* response = nullptr;
  CURL* handle = nullptr;
  std::size_t read_pos = 0;  // PUT body cursor
  bool overflow = false;     // the answer was larger than the caller's buffer
};

std::size_t on_read(char* buffer, std::size_t size, std::size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const auto body = t->request->body;
  const std::size_t n = std::min(size * nitems, body.size() - t->read_pos);
  std::memcpy(buffer, body.data() + t->read_pos, n);
  t->read_pos += n;
  return n;
}

int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::size_t>(offset) > t->request->body.size()) {
    return CURL_SEEKFUNC_FAIL;
  }
  t->read_pos = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// Called by curl about once a second and on progress: a non-zero answer aborts the transfer.
int on_progress(void* user, curl_off_t /*dltotal*/, curl_off_t /*dlnow*/, curl_off_t /*ultotal*/,
                curl_off_t /*ulnow*/) {
  return static_cast<const std::atomic<bool>*>(user)->load() ? 1 : 0;
}

std::size_t on_write(char* data, std::size_t size, std::size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * nmemb;
  long status = 0;
  curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
  const auto into = t->request->into;
  if (into.data() != nullptr && status >= 200 && status < 300) {
    if (n > into.size() - t->response->received) {
      t->overflow = true;
      return 0;
    }
    std::memcpy(into.data() + t->response->received, data, n);
    t->response->received += n;
    return n;
  }
  if (t->response->body.size() + n > kMaxAnswerBytes) {
    t->overflow = true;
    return 0;
  }
  t->response->body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * nitems;
  const std::string_view line(data, n);
  if (line.substr(0, 5) == "HTTP/") {  // a new answer (after 100 Continue): forget the last one
    t->response->etag.clear();
    t->response->content_length.reset();
    return n;
  }
  if (iequals_prefix(line, "etag:")) {
    t->response->etag = header_value(line, 5);
  } else if (iequals_prefix(line, "content-length:")) {
    const std::string value = header_value(line, 15);
    char* end = nullptr;
    const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
    if (!value.empty() && end != nullptr && *end == '\0') {
      t->response->content_length = v;
    }
  }
  return n;
}

class HeaderList {
 public:
  HeaderList() = default;
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  ~HeaderList() { curl_slist_free_all(list_); }
  void add(const std::string& line) {
    curl_slist* next = curl_slist_append(list_, line.c_str());
    if (next == nullptr) {
      throw std::bad_alloc();
    }
    list_ = next;
  }
  [[nodiscard]] curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

bool has_header(const Request& r, std::string_view name) {
  return std::any_of(r.headers.begin(), r.headers.end(), [&](const std::string& h) { return iequals_prefix(h, name); });
}

// An error document on a 200 answer (CompleteMultipartUpload and UploadPartCopy may do that).
bool starts_with_error_document(std::string_view body) {
  const auto at = body.find("<Error>");
  return at != std::string_view::npos && at < 128;
}

}  // namespace

std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xf];
    }
  }
  return out;
}

std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(tag);
  const std::string close = "</" + std::string(tag) + ">";
  std::size_t pos = 0;
  for (;;) {
    const auto start = xml.find(open, pos);
    if (start == std::string_view::npos) {
      return out;
    }
    const auto after_name = start + open.size();
    if (after_name >= xml.size() || (xml[after_name] != '>' && xml[after_name] != ' ')) {
      pos = after_name;  // a longer tag sharing the prefix (<Part> vs <PartNumber>)
      continue;
    }
    const auto content = xml.find('>', after_name);
    if (content == std::string_view::npos) {
      return out;
    }
    if (xml[content - 1] == '/') {  // <Tag/>
      out.emplace_back();
      pos = content + 1;
      continue;
    }
    const auto end = xml.find(close, content + 1);
    if (end == std::string_view::npos) {
      return out;
    }
    out.push_back(xml.substr(content + 1, end - content - 1));
    pos = end + close.size();
  }
}

std::vector<std::string> xml_values(std::string_view xml, std::string_view tag) {
  std::vector<std::string> out;
  for (auto e : xml_elements(xml, tag)) {
    out.push_back(decode_entities(e));
  }
  return out;
}

std::optional<std::string> xml_value(std::string_view xml, std::string_view tag) {
  auto all = xml_elements(xml, tag);
  if (all.empty()) {
    return std::nullopt;
  }
  return decode_entities(all.front());
}

std::string Response::describe() const {
  if (status == 0) {
    return "no answer (" + transport + ")";
  }
  return "HTTP " + std::to_string(status) + (code.empty() ? "" : " " + code);
}

Client::Client(S3Config config) : config_(std::move(config)) {
  global_init();
  sigv4_ = "aws:amz:" + config_.region + ":s3";
  if (config_.path_style) {
    bucket_base_ = config_.endpoint + "/" + uri_encode(config_.bucket, false);
  } else {
    const auto scheme_end = config_.endpoint.find("://") + 3;
    bucket_base_ = config_.endpoint.substr(0, scheme_end) + config_.bucket + "." + config_.endpoint.substr(scheme_end);
  }
}

Client::~Client() {
  for (void* h : idle_) {
    curl_easy_cleanup(static_cast<CURL*>(h));
  }
}

std::string Client::key(std::string_view name) const {
  if (config_.prefix.empty()) {
    return std::string(name);
  }
  return config_.prefix + "/" + std::string(name);
}

void* Client::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  CURL* h = curl_easy_init();
  if (h == nullptr) {
    throw std::runtime_error("curl_easy_init failed");
  }
  return h;
}

void Client::release(void* handle) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < kMaxIdleHandles) {
    idle_.push_back(handle);
    return;
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

void Client::set_hook_for_tests(Hook hook) {
  auto h = hook ? std::make_shared<const Hook>(std::move(hook)) : nullptr;
  std::lock_guard lock(mutex_);
  hook_ = std::move(h);
}

Response Client::perform(const Request& r) {
  std::shared_ptr<const Hook> hook;
  {
    std::lock_guard lock(mutex_);
    hook = hook_;
  }
  if (hook) {
    if (auto answer = (*hook)(r)) {
      return std::move(*answer);
    }
  }
  Response response;
  for (int attempt = 0;; ++attempt) {
    if (cancelled()) {
      response = Response{};
      response.transport = "cancelled";
      return response;
    }
    void* h = acquire();
    try {
      response = perform_once(h, r);
    } catch (...) {
      release(h);
      throw;
    }
    release(h);
    const bool transient = (response.status == 0 && response.transport != "answer too large") ||
                           response.status >= 500 || response.code == "InternalError" || response.code == "SlowDown";
    if (!transient || attempt + 1 >= kAttempts || cancelled()) {
      return response;
    }
    std::this_thread::sleep_for(kBackoff[static_cast<std::size_t>(attempt)]);
  }
}

Response Client::perform_once(void* handle, const Request& r) {
  auto* h = static_cast<CURL*>(handle);
  curl_easy_reset(h);
  Response response;
  Transfer t{&r, &response, h};

  std::string url = bucket_base_;
  if (!r.key.empty()) {
    url += "/" + uri_encode(r.key, true);
  } else if (!config_.path_style) {
    url += "/";
  }
  if (!r.query.empty()) {
    url += "?" + r.query;
  }

  HeaderList headers;
  headers.add("x-amz-content-sha256: " + sha256_hex(r.body));
  if (!config_.session_token.empty()) {
    headers.add("x-amz-security-token: " + config_.session_token);
  }
  const std::string_view method(r.method);
  if (method == "POST" && !has_header(r, "content-type:")) {
    headers.add("Content-Type: application/octet-stream");
  }
  for (const auto& line : r.headers) {
    headers.add(line);
  }

  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);  // an answer stalled for a minute is a failure
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &cancelled_);
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4_.c_str());
  curl_easy_setopt(h, CURLOPT_USERNAME, config_.access_key.c_str());
  curl_easy_setopt(h, CURLOPT_PASSWORD, config_.secret_key.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);

  if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (method == "PUT") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &t);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &t);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  } else if (method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body.empty() ? "" : reinterpret_cast<const char*>(r.body.data()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  } else if (method == "DELETE") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }

  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    response.status = 0;
    response.transport = t.overflow                        ? "answer too large"
                         : rc == CURLE_ABORTED_BY_CALLBACK ? "cancelled"
                                                           : curl_easy_strerror(rc);
    return response;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  if (response.status >= 300 || starts_with_error_document(response.body)) {
    response.code = xml_value(response.body, "Code").value_or("");
    if (response.code.empty() && response.status < 300) {
      response.code = "Error";
    }
  }
  return response;
}

}  // namespace vidup::store::s3
