#include "store/s3/s3_uploads.hpp"

#include <algorithm>
#include <charconv>
#include <iostream>
#include <sstream>
#include <string_view>
#include <utility>

namespace vidup::store::s3 {

namespace {

using core::Errc;
using ErrorCode = boost::system::error_code;

constexpr std::size_t kMaxCachedRecords = 4096;
constexpr std::string_view kRecordMagic = "vidup-s3-upload 1";

ErrorCode fail(Errc e) { return core::make_error_code(e); }

std::string json_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// One line on stderr per unexpected S3 failure: the operation, the upload (its first 8
// characters: an upload id is a capability) and S3's answer. Never a key, token or signature.
void log_error(std::string_view op, std::string_view id, std::string_view what) {
  std::ostringstream line;
  line << R"({"level":"error","msg":"s3 request failed","op":")" << op << R"(","upload":")"
       << json_escape(id.substr(0, 8)) << R"(","error":")" << json_escape(what) << "\"}\n";
  std::cerr << line.str();
}

ErrorCode failure(std::string_view op, std::string_view id, const Response& r) {
  log_error(op, id, r.describe());
  return fail(r.code == "QuotaExceeded" ? Errc::storage_full : Errc::storage_error);
}

// The objects disagree with the record: logged, and a storage error.
ErrorCode broken(std::string_view op, std::string_view id, std::string_view what) {
  log_error(op, id, what);
  return fail(Errc::storage_error);
}

Request request(const char* method, std::string key, std::string query = {}) {
  Request q;
  q.method = method;
  q.key = std::move(key);
  q.query = std::move(query);
  return q;
}

// Sends `q`. A 404 becomes Errc::not_found, for the caller to judge (what is missing means
// different things); any other failure is logged under `op` and becomes a storage error.
Result<Response> send(Shared& s, const Request& q, std::string_view op, std::string_view id) {
  Response r = s.client.perform(q);
  if (r.missing()) {
    return fail(Errc::not_found);
  }
  if (!r.ok()) {
    return failure(op, id, r);
  }
  return r;
}

// For requests whose target may be gone already (deletes, aborts).
Result<void> gone_is_fine(const Result<Response>& r) {
  if (r || r.error() == Errc::not_found) {
    return {};
  }
  return r.error();
}

std::string object_key(Shared& s, const std::string& id) { return s.client.key(id); }
std::string info_key(Shared& s, const std::string& id) { return s.client.key(id + ".info"); }
std::string tail_prefix(Shared& s, const std::string& id) { return s.client.key(id + ".tail."); }
std::string tail_key(Shared& s, const std::string& id, std::uint64_t slot) {
  return tail_prefix(s, id) + std::to_string(slot);
}

std::string upload_query(const std::string& upload_id) { return "uploadId=" + uri_encode(upload_id, false); }
std::string part_query(std::uint64_t number, const std::string& upload_id) {
  return "partNumber=" + std::to_string(number) + "&" + upload_query(upload_id);
}
std::string range_header(std::uint64_t start, std::uint64_t length) {
  return "Range: bytes=" + std::to_string(start) + "-" + std::to_string(start + length - 1);
}

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::optional<std::uint64_t> parse_number(std::string_view s) {
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

std::string record_text(const UploadRecord& r) {
  std::string text = std::string(kRecordMagic) + "\n";
  if (!r.upload_id.empty()) {
    text += "upload-id " + r.upload_id + "\n";
  }
  text += "part-size " + std::to_string(r.part_size) + "\n";
  return text;
}

std::optional<UploadRecord> parse_record(std::string_view text) {
  if (text.substr(0, kRecordMagic.size()) != kRecordMagic) {
    return std::nullopt;
  }
  UploadRecord r;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    const auto space = line.find(' ');
    if (space == std::string::npos) {
      continue;
    }
    const std::string_view name(line.data(), space);
    const std::string_view value = std::string_view(line).substr(space + 1);
    if (name == "upload-id") {
      r.upload_id = std::string(value);
    } else if (name == "part-size") {
      r.part_size = parse_number(value).value_or(0);
    }
  }
  if (r.part_size < kS3MinPartSize || r.part_size > kS3MaxPartSize) {
    return std::nullopt;
  }
  return r;
}

Result<void> put_object(Shared& s, const std::string& key, std::span<const std::byte> body, bool only_if_new,
                        std::string_view op, const std::string& id) {
  Request q = request("PUT", key);
  q.body = body;
  if (only_if_new) {
    q.headers.emplace_back("If-None-Match: *");
  }
  auto r = send(s, q, op, id);
  return r ? Result<void>{} : r.error();
}

Result<void> delete_object(Shared& s, const std::string& key, const std::string& id) {
  return gone_is_fine(send(s, request("DELETE", key), "DeleteObject", id));
}

Result<void> abort_multipart(Shared& s, const std::string& key, const std::string& upload_id, const std::string& id) {
  return gone_is_fine(send(s, request("DELETE", key, upload_query(upload_id)), "AbortMultipartUpload", id));
}

Result<std::string> create_multipart(Shared& s, const std::string& key, const std::string& id) {
  auto r = send(s, request("POST", key, "uploads="), "CreateMultipartUpload", id);
  if (!r) {
    return r.error();
  }
  auto upload_id = xml_value(r->body, "UploadId");
  if (!upload_id || upload_id->empty()) {
    return broken("CreateMultipartUpload", id, "no UploadId in the answer");
  }
  return *upload_id;
}

// Every key that starts with `prefix` (ListObjectsV2, all pages).
Result<std::vector<std::string>> list_keys(Shared& s, const std::string& prefix, const std::string& id) {
  std::vector<std::string> keys;
  std::string token;
  for (;;) {
    const std::string query = (token.empty() ? "" : "continuation-token=" + uri_encode(token, false) + "&") +
                              "list-type=2&prefix=" + uri_encode(prefix, false);
    auto r = send(s, request("GET", "", query), "ListObjectsV2", id);
    if (!r) {
      return r.error();
    }
    for (auto contents : xml_elements(r->body, "Contents")) {
      if (auto key = xml_value(contents, "Key")) {
        keys.push_back(std::move(*key));
      }
    }
    if (xml_value(r->body, "IsTruncated") != "true") {
      return keys;
    }
    token = xml_value(r->body, "NextContinuationToken").value_or("");
    if (token.empty()) {
      return keys;
    }
  }
}

// Aborts every multipart upload of exactly `key` (ListMultipartUploads, all pages).
Result<void> abort_all_multipart(Shared& s, const std::string& key, const std::string& id) {
  std::string key_marker;
  std::string upload_marker;
  for (;;) {
    const std::string query = (key_marker.empty() ? "" : "key-marker=" + uri_encode(key_marker, false) + "&") +
                              "prefix=" + uri_encode(key, false) +
                              (upload_marker.empty() ? "" : "&upload-id-marker=" + uri_encode(upload_marker, false)) +
                              "&uploads=";
    auto r = send(s, request("GET", "", query), "ListMultipartUploads", id);
    if (!r) {
      return r.error();
    }
    for (auto upload : xml_elements(r->body, "Upload")) {
      auto upload_key = xml_value(upload, "Key");
      auto upload_id = xml_value(upload, "UploadId");
      if (upload_key == key && upload_id) {
        if (auto a = abort_multipart(s, key, *upload_id, id); !a) {
          return a;
        }
      }
    }
    if (xml_value(r->body, "IsTruncated") != "true") {
      return {};
    }
    key_marker = xml_value(r->body, "NextKeyMarker").value_or("");
    upload_marker = xml_value(r->body, "NextUploadIdMarker").value_or("");
    if (key_marker.empty() && upload_marker.empty()) {
      return {};
    }
  }
}

// After completion: the tails and <id>.info are no longer needed. Best effort: what is left
// only costs space until remove().
void clean_up(Shared& s, const std::string& id) {
  s.cache.erase(id);
  if (auto tails = list_keys(s, tail_prefix(s, id), id)) {
    for (const auto& key : *tails) {
      (void)delete_object(s, key, id);
    }
  }
  (void)delete_object(s, info_key(s, id), id);
}

Result<std::optional<UploadRecord>> get_record(Shared& s, const std::string& id, bool use_cache) {
  if (use_cache) {
    if (auto cached = s.cache.get(id)) {
      return std::optional<UploadRecord>(std::move(*cached));
    }
  }
  auto r = send(s, request("GET", info_key(s, id)), "GetObject info", id);
  if (!r) {
    return r.error() == Errc::not_found ? Result<std::optional<UploadRecord>>(std::nullopt) : r.error();
  }
  auto record = parse_record(r->body);
  if (!record) {
    return broken("GetObject info", id, "the upload's .info object is not readable");
  }
  s.cache.put(id, *record);
  return std::optional<UploadRecord>(std::move(*record));
}

// GET [0, into.size()) of the tail of `slot`. Errc::not_found when there is no tail.
Result<void> read_tail(Shared& s, const std::string& id, std::uint64_t slot, std::span<std::byte> into) {
  Request q = request("GET", tail_key(s, id, slot));
  q.headers.push_back(range_header(0, into.size()));
  q.into = into;
  auto r = send(s, q, "GetObject tail", id);
  if (!r) {
    return r.error();  // not_found: no tail; 416: an empty one
  }
  if (r->received != into.size()) {
    return broken("GetObject tail", id, "the tail holds fewer bytes than the record's offset");
  }
  return {};
}

// The upload is complete if its object exists: the `op` that found the multipart upload or a
// tail gone was late. Anything else means the objects lost bytes the record promised.
Result<ObjectHead> complete_or_broken(Shared& s, const std::string& id, std::uint64_t size, std::string_view op) {
  auto done = already_complete(s, id, size);
  if (!done) {
    return done.error();
  }
  if (!*done || **done != size) {
    return broken(op, id, "the multipart upload or a tail is gone and no finished object of the right size exists");
  }
  auto head = head_object(s, id);
  if (!head) {
    return head.error();
  }
  if (!*head) {
    return broken(op, id, "the finished object vanished");
  }
  return **head;
}

Result<void> complete_multipart(Shared& s, const std::string& key, const std::string& upload_id,
                                const std::vector<std::string>& etags, const std::string& id) {
  std::string xml = "<CompleteMultipartUpload>";
  for (std::size_t i = 0; i < etags.size(); ++i) {
    xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags[i] + "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  Request q = request("POST", key, upload_query(upload_id));
  q.headers.emplace_back("Content-Type: application/xml");
  q.body = bytes_of(xml);
  auto r = send(s, q, "CompleteMultipartUpload", id);
  return r ? Result<void>{} : r.error();
}

// "abc", abc or &quot;abc&quot; (decoded already) -> "abc": one spelling for Complete.
std::string quoted(std::string_view etag) {
  while (!etag.empty() && etag.front() == '"') {
    etag.remove_prefix(1);
  }
  while (!etag.empty() && etag.back() == '"') {
    etag.remove_suffix(1);
  }
  return "\"" + std::string(etag) + "\"";
}

// ETags of parts 1..last from ListParts, each checked to hold exactly its slot's bytes.
// Errc::not_found: the multipart upload is gone.
Result<std::vector<std::string>> list_part_etags(Shared& s, const std::string& id, const UploadRecord& rec,
                                                 std::uint64_t size, std::uint64_t last) {
  const std::uint64_t p = rec.part_size;
  std::vector<std::string> etags(static_cast<std::size_t>(last));
  std::uint64_t marker = 0;
  for (;;) {
    const std::string query =
        "max-parts=1000&part-number-marker=" + std::to_string(marker) + "&" + upload_query(rec.upload_id);
    auto r = send(s, request("GET", object_key(s, id), query), "ListParts", id);
    if (!r) {
      return r.error();
    }
    for (auto part : xml_elements(r->body, "Part")) {
      const auto number = parse_number(xml_value(part, "PartNumber").value_or(""));
      const auto bytes = parse_number(xml_value(part, "Size").value_or(""));
      if (!number || *number < 1 || *number > last) {
        continue;  // a stale part past the end, from an abandoned writer: not listed in Complete
      }
      const std::uint64_t expected = *number < last ? p : size - (last - 1) * p;
      if (bytes != expected) {
        return broken("ListParts", id,
                      "part " + std::to_string(*number) + " holds " + std::to_string(bytes.value_or(0)) +
                          " bytes instead of " + std::to_string(expected));
      }
      etags[static_cast<std::size_t>(*number - 1)] = quoted(xml_value(part, "ETag").value_or(""));
    }
    const auto next = parse_number(xml_value(r->body, "NextPartNumberMarker").value_or(""));
    if (xml_value(r->body, "IsTruncated") != "true" || !next || *next >= last || *next <= marker) {
      break;
    }
    marker = *next;
  }
  for (std::size_t i = 0; i < etags.size(); ++i) {
    if (etags[i].empty()) {
      return broken("ListParts", id, "part " + std::to_string(i + 1) + " is missing");
    }
  }
  return etags;
}

// Parts of a concatenation, filled from whole-object copies and from bytes read and uploaded
// again; at most one part of bytes in memory.
class ConcatParts {
 public:
  ConcatParts(Shared& s, std::string key, std::string upload_id, const std::string& id)
      : s_(s), key_(std::move(key)), upload_id_(std::move(upload_id)), id_(id) {}

  Result<void> add(const std::string& source_id, std::uint64_t size) {
    if (size == 0) {
      return {};
    }
    if (filled_ == 0 && size >= kS3MinPartSize && size <= kS3MaxPartSize) {
      return copy_whole(source_id);
    }
    const std::size_t p = s_.client.config().part_size;
    for (std::uint64_t pos = 0; pos < size;) {
      if (buffer_.size() != p) {
        buffer_.resize(p);
      }
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(p - filled_, size - pos));
      if (auto r = read_range(s_, source_id, "", pos, std::span(buffer_.data() + filled_, n)); !r) {
        return r;
      }
      filled_ += n;
      pos += n;
      if (filled_ == p) {
        if (auto r = flush(); !r) {
          return r;
        }
      }
    }
    return {};
  }

  // Uploads what is left as the last part.
  Result<void> finish() { return filled_ > 0 ? flush() : Result<void>{}; }

  [[nodiscard]] const std::vector<std::string>& etags() const { return etags_; }

 private:
  Result<std::uint64_t> next_number() {
    const std::uint64_t n = etags_.size() + 1;
    if (n > kS3MaxParts) {
      log_error("UploadPart", id_, "the concatenation needs more than 10000 parts");
      return fail(Errc::max_size_exceeded);
    }
    return n;
  }

  Result<void> copy_whole(const std::string& source_id) {
    auto n = next_number();
    if (!n) {
      return n.error();
    }
    Request q = request("PUT", key_, part_query(*n, upload_id_));
    q.headers.push_back("x-amz-copy-source: /" + uri_encode(s_.client.config().bucket, false) + "/" +
                        uri_encode(s_.client.key(source_id), true));
    auto r = send(s_, q, "UploadPartCopy", id_);
    if (!r) {
      return r.error();
    }
    auto etag = xml_value(r->body, "ETag");
    if (!etag || etag->empty()) {
      return broken("UploadPartCopy", id_, "no ETag in the answer");
    }
    etags_.push_back(quoted(*etag));
    return {};
  }

  Result<void> flush() {
    auto n = next_number();
    if (!n) {
      return n.error();
    }
    Request q = request("PUT", key_, part_query(*n, upload_id_));
    q.body = std::as_bytes(std::span(buffer_.data(), filled_));
    auto r = send(s_, q, "UploadPart", id_);
    if (!r) {
      return r.error();
    }
    etags_.push_back(quoted(r->etag));
    filled_ = 0;
    return {};
  }

  Shared& s_;
  std::string key_;
  std::string upload_id_;
  const std::string& id_;
  std::vector<std::byte> buffer_;
  std::size_t filled_ = 0;
  std::vector<std::string> etags_;
};

}  // namespace

std::optional<UploadRecord> RecordCache::get(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = map_.find(id);
  if (it == map_.end()) {
    return std::nullopt;
  }
  return it->second;
}

void RecordCache::put(const std::string& id, const UploadRecord& r) {
  std::lock_guard lock(mutex_);
  if (map_.size() >= kMaxCachedRecords && map_.find(id) == map_.end()) {
    map_.erase(map_.begin());
  }
  map_[id] = r;
}

void RecordCache::erase(const std::string& id) {
  std::lock_guard lock(mutex_);
  map_.erase(id);
}

Result<std::optional<ObjectHead>> head_object(Shared& s, const std::string& id) {
  auto r = send(s, request("HEAD", object_key(s, id)), "HeadObject", id);
  if (!r) {
    return r.error() == Errc::not_found ? Result<std::optional<ObjectHead>>(std::nullopt) : r.error();
  }
  if (!r->content_length) {
    return broken("HeadObject", id, "no Content-Length in the answer");
  }
  return std::optional<ObjectHead>(ObjectHead{*r->content_length, r->etag});
}

Result<void> create_upload(Shared& s, const UploadInfo& info) {
  const std::uint64_t p = s.client.config().part_size;
  if (info.is_final()) {
    const std::string text = record_text(UploadRecord{"", p});
    return put_object(s, info_key(s, info.id), bytes_of(text), true, "PutObject info", info.id);
  }
  if (info.size && *info.size == 0) {
    return put_object(s, object_key(s, info.id), {}, true, "PutObject", info.id);
  }
  if (info.size && *info.size > kS3MaxParts * p) {
    return fail(Errc::max_size_exceeded);
  }
  auto upload_id = create_multipart(s, object_key(s, info.id), info.id);
  if (!upload_id) {
    return upload_id.error();
  }
  const UploadRecord record{*upload_id, p};
  const std::string text = record_text(record);
  if (auto r = put_object(s, info_key(s, info.id), bytes_of(text), true, "PutObject info", info.id); !r) {
    (void)abort_multipart(s, object_key(s, info.id), *upload_id, info.id);
    return r;
  }
  s.cache.put(info.id, record);
  return {};
}

Result<WriterStart> start_writer(Shared& s, const std::string& id, std::uint64_t offset) {
  auto record = get_record(s, id, true);
  if (!record) {
    return record.error();
  }
  WriterStart start;
  if (!*record) {
    auto done = already_complete(s, id, offset);
    if (!done) {
      return done.error();
    }
    if (!*done) {
      return fail(Errc::not_found);
    }
    start.complete_size = **done;
    return start;
  }
  if ((*record)->upload_id.empty()) {
    return fail(Errc::modify_final);
  }
  const std::uint64_t p = (*record)->part_size;
  const std::uint64_t slot = offset / p;
  const auto kept = static_cast<std::size_t>(offset % p);
  start.record = std::move(*record);
  if (kept == 0) {
    return start;
  }
  start.slot.reserve(static_cast<std::size_t>(p));
  start.slot.resize(kept);
  auto tail = read_tail(s, id, slot, start.slot);
  if (tail) {
    return start;
  }
  if (tail.error() != Errc::not_found) {
    return tail.error();
  }
  auto done = complete_or_broken(s, id, offset, "GetObject tail");
  if (!done) {
    return done.error();
  }
  return WriterStart{std::nullopt, done->size, {}};
}

Result<void> upload_part(Shared& s, const std::string& id, const UploadRecord& r, std::uint64_t number,
                         std::span<const std::byte> data) {
  if (number > kS3MaxParts) {
    log_error("UploadPart", id, "the upload needs more than 10000 parts");
    return fail(Errc::max_size_exceeded);
  }
  Request q = request("PUT", object_key(s, id), part_query(number, r.upload_id));
  q.body = data;
  auto resp = send(s, q, "UploadPart", id);
  return resp ? Result<void>{} : resp.error();
}

Result<void> put_tail(Shared& s, const std::string& id, std::uint64_t slot, std::span<const std::byte> data) {
  return put_object(s, tail_key(s, id, slot), data, false, "PutObject tail", id);
}

Result<std::optional<std::uint64_t>> already_complete(Shared& s, const std::string& id, std::uint64_t needed) {
  auto head = head_object(s, id);
  if (!head) {
    return head.error();
  }
  if (!*head) {
    return std::optional<std::uint64_t>{};
  }
  if ((*head)->size < needed) {
    return broken("HeadObject", id, "the finished object is shorter than the record's offset");
  }
  clean_up(s, id);
  return std::optional<std::uint64_t>((*head)->size);
}

Result<void> complete_upload(Shared& s, const std::string& id, const UploadRecord& rec, std::uint64_t size) {
  const std::string key = object_key(s, id);
  if (size == 0) {
    if (auto r = put_object(s, key, {}, false, "PutObject", id); !r) {
      return r;
    }
    (void)abort_multipart(s, key, rec.upload_id, id);
    clean_up(s, id);
    return {};
  }
  const std::uint64_t last = (size + rec.part_size - 1) / rec.part_size;
  if (last > kS3MaxParts) {
    return fail(Errc::max_size_exceeded);
  }
  auto etags = list_part_etags(s, id, rec, size, last);
  Result<void> done = etags ? complete_multipart(s, key, rec.upload_id, *etags, id) : etags.error();
  if (!done && done.error() == Errc::not_found) {
    auto other = complete_or_broken(s, id, size, "CompleteMultipartUpload");
    return other ? Result<void>{} : other.error();
  }
  if (!done) {
    return done;
  }
  clean_up(s, id);
  return {};
}

Result<ObjectHead> finish_upload(Shared& s, const std::string& id, std::uint64_t size) {
  auto record = get_record(s, id, true);
  if (!record) {
    return record.error();
  }
  if (!*record) {
    auto head = head_object(s, id);
    if (!head) {
      return head.error();
    }
    if (!*head) {
      return fail(Errc::not_found);
    }
    return **head;
  }
  const UploadRecord rec = **record;
  if (rec.upload_id.empty()) {
    return fail(Errc::upload_incomplete);  // a final upload, not concatenated yet
  }
  const std::uint64_t slot = size / rec.part_size;
  const auto kept = static_cast<std::size_t>(size % rec.part_size);
  if (kept > 0) {
    std::vector<std::byte> last(kept);
    auto tail = read_tail(s, id, slot, last);
    if (tail) {
      tail = upload_part(s, id, rec, slot + 1, last);
    }
    if (!tail && tail.error() == Errc::not_found) {
      return complete_or_broken(s, id, size, "finish");  // another node finished it first
    }
    if (!tail) {
      return tail.error();
    }
  }
  if (auto c = complete_upload(s, id, rec, size); !c) {
    return c.error();
  }
  auto head = head_object(s, id);
  if (!head) {
    return head.error();
  }
  if (!*head || (*head)->size != size) {
    return broken("finish", id, "the completed object does not have the record's size");
  }
  return **head;
}

Result<std::uint64_t> recover_upload(Shared& s, const UploadInfo& info) {
  auto record = get_record(s, info.id, false);
  if (!record) {
    return record.error();
  }
  if (*record) {
    return info.offset;
  }
  auto head = head_object(s, info.id);
  if (!head) {
    return head.error();
  }
  if (!*head) {
    return fail(Errc::not_found);
  }
  return (*head)->size;
}

Result<void> remove_upload(Shared& s, const std::string& id) {
  s.cache.erase(id);
  // The state object first: from then on every node sees the upload as gone.
  if (auto r = delete_object(s, info_key(s, id), id); !r) {
    return r;
  }
  const std::string key = object_key(s, id);
  if (auto r = abort_all_multipart(s, key, id); !r) {
    return r;
  }
  auto keys = list_keys(s, key, id);
  if (!keys) {
    return keys.error();
  }
  for (const auto& k : *keys) {
    if (k == key || (k.size() > key.size() && k.compare(0, key.size(), key) == 0 && k[key.size()] == '.')) {
      if (auto r = delete_object(s, k, id); !r) {
        return r;
      }
    }
  }
  return {};
}

Result<void> concatenate_uploads(Shared& s, const std::string& final_id, const std::vector<UploadInfo>& partials) {
  std::vector<std::pair<std::string, std::uint64_t>> sources;
  std::uint64_t total = 0;
  for (const auto& p : partials) {
    auto head = head_object(s, p.id);
    if (!head) {
      return head.error();
    }
    std::uint64_t size = 0;
    if (*head) {
      size = (*head)->size;
    } else {
      auto finished = finish_upload(s, p.id, p.offset);
      if (!finished) {
        return finished.error();
      }
      size = finished->size;
    }
    if (size != p.offset) {
      return broken("concatenate", p.id, "the partial's object does not have its record's size");
    }
    sources.emplace_back(p.id, size);
    total += size;
  }
  const std::string key = object_key(s, final_id);
  // A concatenation cut short by a crash left its multipart upload behind: this retry replaces it.
  if (auto r = abort_all_multipart(s, key, final_id); !r) {
    return r;
  }
  if (total == 0) {
    if (auto r = put_object(s, key, {}, false, "PutObject", final_id); !r) {
      return r;
    }
    clean_up(s, final_id);
    return {};
  }
  auto upload_id = create_multipart(s, key, final_id);
  if (!upload_id) {
    return upload_id.error();
  }
  ConcatParts parts(s, key, *upload_id, final_id);
  Result<void> r;
  for (const auto& [id, size] : sources) {
    if (r = parts.add(id, size); !r) {
      break;
    }
  }
  if (r) {
    r = parts.finish();
  }
  if (r) {
    r = complete_multipart(s, key, *upload_id, parts.etags(), final_id);
  }
  if (!r) {
    (void)abort_multipart(s, key, *upload_id, final_id);
    return r;
  }
  clean_up(s, final_id);
  return {};
}

Result<void> read_range(Shared& s, const std::string& id, const std::string& etag, std::uint64_t start,
                        std::span<std::byte> into) {
  if (into.empty()) {
    return {};
  }
  Request q = request("GET", object_key(s, id));
  q.headers.push_back(range_header(start, into.size()));
  if (!etag.empty()) {
    q.headers.push_back("If-Match: " + etag);  // 412 if the object was replaced meanwhile
  }
  q.into = into;
  auto r = send(s, q, "GetObject", id);
  if (!r) {
    return r.error() == Errc::not_found ? broken("GetObject", id, "the object vanished while being read") : r.error();
  }
  if (r->received != into.size()) {
    return broken("GetObject", id, "the object is shorter than the range asked for");
  }
  return {};
}

std::optional<std::string> check_bucket(Shared& s) {
  const std::string& prefix = s.client.config().prefix;
  const Response r = s.client.perform(
      request("GET", "", "list-type=2&max-keys=1&prefix=" + uri_encode(prefix.empty() ? "" : prefix + "/", false)));
  if (r.ok()) {
    return std::nullopt;
  }
  return r.describe();
}

}  // namespace vidup::store::s3
