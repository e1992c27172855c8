#include "store/postgres/pg_connect.hpp"

#include <libpq-fe.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace vidup::store::pg_detail {

namespace {

struct FreeOptions {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};
using Options = std::unique_ptr<PQconninfoOption, FreeOptions>;

Options parse(const std::string& conninfo) {
  char* error = nullptr;
  Options opts(PQconninfoParse(conninfo.c_str(), &error));
  PQfreemem(error);  // may echo part of the string: never shown
  return opts;
}

std::string option(const Options& opts, std::string_view key) {
  for (const PQconninfoOption* o = opts.get(); o != nullptr && o->keyword != nullptr; ++o) {
    if (key == o->keyword && o->val != nullptr) {
      return o->val;
    }
  }
  return {};
}

}  // namespace

std::string where(const std::string& conninfo) {
  const auto opts = parse(conninfo);
  if (!opts) {
    return "(a connection string libpq cannot parse)";
  }
  std::string host = option(opts, "host");
  if (host.empty()) {
    host = option(opts, "hostaddr");
  }
  if (host.empty()) {
    host = "local socket";
  }
  std::string port = option(opts, "port");
  return host + ":" + (port.empty() ? "5432" : port) + "/" + option(opts, "dbname");
}

pg_conn* connect(const std::string& conninfo, const std::string& forced_name) {
  // Entries before the expanded `dbname` are defaults the connection string may override; the
  // ones after it override the string.
  static constexpr std::array<const char*, 9> kKeys = {"connect_timeout",  "keepalives_idle",  "keepalives_interval",
                                                       "keepalives_count", "client_encoding",  "application_name",
                                                       "dbname",           "application_name", nullptr};
  const std::array<const char*, 9> values = {
      "10",   "30", "10", "3", "UTF8", "vidup", conninfo.c_str(), forced_name.empty() ? nullptr : forced_name.c_str(),
      nullptr};
  pg_conn* conn = PQconnectdbParams(kKeys.data(), values.data(), 1);
  // libpq prints server notices (and the FATAL a terminated idle connection receives) on
  // stderr; the errors that matter reach the caller as results instead.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return conn;
}

std::string error_of(pg_conn* conn, const std::string& conninfo) {
  std::string message = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  for (auto& c : message) {
    if (c == '\n') {
      c = ' ';
    }
  }
  const auto opts = parse(conninfo);
  const std::string password = opts ? option(opts, "password") : std::string{};
  if (!password.empty()) {
    for (auto at = message.find(password); at != std::string::npos; at = message.find(password, at)) {
      message.replace(at, password.size(), "***");
    }
  }
  return message;
}

pg_conn* connect_or_throw(const std::string& conninfo, const std::string& where) {
  pg_conn* conn = connect(conninfo);
  if (conn != nullptr && PQstatus(conn) == CONNECTION_OK) {
    return conn;
  }
  std::string reason = error_of(conn, conninfo);
  PQfinish(conn);
  throw std::runtime_error("PostgreSQL at " + where + ": cannot connect: " + reason);
}

}  // namespace vidup::store::pg_detail
