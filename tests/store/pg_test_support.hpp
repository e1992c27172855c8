#pragma once
// For tests against the throw-away PostgreSQL server (scripts/test-services/pg, CTest fixture
// service_pg): its URL, and a fresh schema per test so tests can run in parallel on one server.
// Without the server every test fails (the URL lookup throws): none is skipped.

#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace vidup::test {

// VIDUP_TEST_PG_URL from $VIDUP_TEST_PG_DIR/env.
inline std::string pg_test_url() {
  const char* dir = std::getenv("VIDUP_TEST_PG_DIR");  // NOLINT(concurrency-mt-unsafe): tests, one thread
  if (dir == nullptr) {
    throw std::runtime_error("VIDUP_TEST_PG_DIR is not set: run this test through ctest (fixture service_pg)");
  }
  std::ifstream env(std::string(dir) + "/env");
  const std::string key = "VIDUP_TEST_PG_URL=";
  for (std::string line; std::getline(env, line);) {
    if (line.rfind(key, 0) == 0) {
      return line.substr(key.size());
    }
  }
  throw std::runtime_error(std::string("no VIDUP_TEST_PG_URL in ") + dir +
                           "/env: is the PostgreSQL test server running (scripts/test-services/pg start)?");
}

// A connection for test set-up and inspection (not the code under test). Throws on failure.
class PgAdmin {
 public:
  explicit PgAdmin(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string why = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw std::runtime_error("test PostgreSQL connection failed: " + why);
    }
  }
  PgAdmin(const PgAdmin&) = delete;
  PgAdmin& operator=(const PgAdmin&) = delete;
  ~PgAdmin() { PQfinish(conn_); }

  // Runs one parameterized statement; returns the first column of every row.
  std::vector<std::string> query(const std::string& sql, std::initializer_list<std::string> params = {}) {
    std::vector<const char*> values;
    for (const auto& p : params) {
      values.push_back(p.c_str());
    }
    PGresult* r =
        PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0);
    const auto status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      std::string why = PQerrorMessage(conn_);
      PQclear(r);
      throw std::runtime_error("test statement failed: " + sql + ": " + why);
    }
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(r); ++i) {
      out.emplace_back(PQgetvalue(r, i, 0));
    }
    PQclear(r);
    return out;
  }

 private:
  PGconn* conn_;
};

// CREATE SCHEMA t_<random> at construction, DROP ... CASCADE at destruction. conninfo() is the
// test server's URL with that schema first on the search_path and an application_name naming it
// (so a test can find its own connections in pg_stat_activity).
class TestSchema {
 public:
  TestSchema() : url_(pg_test_url()), name_(random_name()), admin_(url_) {
    admin_.query("SET client_min_messages = warning");
    admin_.query("CREATE SCHEMA " + name_);  // name_ is [a-z0-9_] made here, not input
    conninfo_ = url_ + (url_.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + name_ +
                "&application_name=" + name_;
  }
  TestSchema(const TestSchema&) = delete;
  TestSchema& operator=(const TestSchema&) = delete;
  ~TestSchema() {
    try {
      admin_.query("DROP SCHEMA " + name_ + " CASCADE");
    } catch (...) {  // NOLINT(bugprone-empty-catch): a leftover schema in a throw-away server
    }
  }

  [[nodiscard]] const std::string& conninfo() const { return conninfo_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] PgAdmin& admin() { return admin_; }

  // Terminates every connection opened with this schema's conninfo (or `application_name`) and
  // waits until the server has closed them (new ones may open meanwhile).
  void terminate_connections(const std::string& application_name = "") {
    const std::string app = application_name.empty() ? name_ : application_name;
    const auto pids = admin_.query(
        "WITH s AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE application_name = $1)"
        " SELECT pid::text FROM s WHERE pg_terminate_backend(pid)",
        {app});
    if (pids.empty()) {
      throw std::runtime_error("no connection of " + app + " to terminate");
    }
    for (const auto& pid : pids) {
      for (int i = 0; !admin_.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1::int", {pid}).empty(); ++i) {
        if (i == 500) {
          throw std::runtime_error("connection " + pid + " of " + app + " did not close");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }

 private:
  static std::string random_name() {
    std::random_device rd;
    std::string out = "t_";
    for (int i = 0; i < 12; ++i) {
      out += "0123456789abcdefghijklmnopqrstuvwxyz"[rd() % 36];
    }
    return out;
  }

  std::string url_;
  std::string name_;
  PgAdmin admin_;
  std::string conninfo_;
};

}  // namespace vidup::test
