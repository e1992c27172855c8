#pragma once
// For tests against the throw-away S3 server (scripts/test-services/s3, CTest fixture service_s3):
// its endpoint and keys from $VIDUP_TEST_S3_DIR/env, a fresh key prefix per store, and a client
// to inspect and clean the bucket. Without the server every test fails (the lookup throws).

#include "store/s3/s3_client.hpp"
#include "store/s3/s3_config.hpp"

#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace vidup::test {

// DIR/env as a map.
inline std::map<std::string, std::string> s3_service_env() {
  const char* dir = std::getenv("VIDUP_TEST_S3_DIR");  // NOLINT(concurrency-mt-unsafe): tests
  if (dir == nullptr) {
    throw std::runtime_error("VIDUP_TEST_S3_DIR is not set: run this test through ctest (fixture service_s3)");
  }
  std::ifstream in(std::string(dir) + "/env");
  std::map<std::string, std::string> env;
  for (std::string line; std::getline(in, line);) {
    if (const auto eq = line.find('='); eq != std::string::npos) {
      env[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  if (env["VIDUP_TEST_S3_ENDPOINT"].empty()) {
    throw std::runtime_error(std::string("no VIDUP_TEST_S3_ENDPOINT in ") + dir +
                             "/env: is the S3 test server running (scripts/test-services/s3 start DIR)?");
  }
  return env;
}

inline std::string random_hex(std::size_t digits) {
  static std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(digits, '0');
  for (auto& c : out) {
    c = kDigits[rng() % 16];
  }
  return out;
}

// Every store of this test process lives under vidup-s3-test/<random>.
inline const std::string& s3_run_prefix() {
  static const std::string prefix = "vidup-s3-test/" + random_hex(12);
  return prefix;
}

inline store::S3Config s3_test_config(std::string prefix, std::size_t part_size = store::kS3MinPartSize) {
  auto env = s3_service_env();
  store::S3Config c;
  c.endpoint = env["VIDUP_TEST_S3_ENDPOINT"];
  c.bucket = env["VIDUP_TEST_S3_BUCKET"];
  c.access_key = env["AWS_ACCESS_KEY_ID"];
  c.secret_key = env["AWS_SECRET_ACCESS_KEY"];
  c.region = env["AWS_REGION"].empty() ? "us-east-1" : env["AWS_REGION"];
  c.prefix = std::move(prefix);
  c.part_size = part_size;
  return c;
}

// A fresh prefix under the run's.
inline std::string s3_new_prefix() { return s3_run_prefix() + "/" + random_hex(10); }

// Inspection and clean-up, straight through the client (not through the store under test).
class S3Admin {
 public:
  S3Admin() : client_(s3_test_config("")) {}

  std::vector<std::string> keys_under(const std::string& prefix) {
    std::vector<std::string> keys;
    std::string token;
    for (;;) {
      store::s3::Request q;
      q.query = (token.empty() ? "" : "continuation-token=" + store::s3::uri_encode(token, false) + "&") +
                "list-type=2&prefix=" + store::s3::uri_encode(prefix, false);
      auto r = checked(q);
      for (const auto& k : store::s3::xml_values(r.body, "Key")) {
        keys.push_back(k);
      }
      token = store::s3::xml_value(r.body, "NextContinuationToken").value_or("");
      if (store::s3::xml_value(r.body, "IsTruncated") != "true" || token.empty()) {
        return keys;
      }
    }
  }

  // key -> upload id of every multipart upload in progress under `prefix` (one page is enough here).
  std::multimap<std::string, std::string> multipart_under(const std::string& prefix) {
    store::s3::Request q;
    q.query = "prefix=" + store::s3::uri_encode(prefix, false) + "&uploads=";
    auto r = checked(q);
    std::multimap<std::string, std::string> out;
    for (auto upload : store::s3::xml_elements(r.body, "Upload")) {
      out.emplace(store::s3::xml_value(upload, "Key").value_or(""), store::s3::xml_value(upload, "UploadId").value_or(""));
    }
    return out;
  }

  std::string get(const std::string& key) {
    store::s3::Request q;
    q.key = key;
    return checked(q).body;
  }

  void put(const std::string& key, const std::string& body) {
    store::s3::Request q;
    q.method = "PUT";
    q.key = key;
    q.body = std::as_bytes(std::span<const char>(body.data(), body.size()));
    checked(q);
  }

  void remove_all_under(const std::string& prefix) {
    for (const auto& [key, upload_id] : multipart_under(prefix)) {
      store::s3::Request q;
      q.method = "DELETE";
      q.key = key;
      q.query = "uploadId=" + store::s3::uri_encode(upload_id, false);
      client_.perform(q);
    }
    for (const auto& key : keys_under(prefix)) {
      store::s3::Request q;
      q.method = "DELETE";
      q.key = key;
      client_.perform(q);
    }
  }

  store::s3::Client& client() { return client_; }

 private:
  store::s3::Response checked(const store::s3::Request& q) {
    auto r = client_.perform(q);
    if (!r.ok()) {
      throw std::runtime_error(std::string("S3 admin ") + q.method + " " + q.key + " failed: " + r.describe());
    }
    return r;
  }

  store::s3::Client client_;
};

}  // namespace vidup::test
