#pragma once
// Internal to the PostgreSQL backends: opening one connection the way every user needs it
// (bounded connect time, TCP keepalives, UTF-8), and naming it without its password.

#include <string>

struct pg_conn;

namespace vidup::store::pg_detail {

// "host:port/database" from a conninfo (URL or key=value); never the user or the password.
[[nodiscard]] std::string where(const std::string& conninfo);

// Opens a connection; the result may be in CONNECTION_BAD state (the caller checks and
// PQfinish-es). Its application_name is "vidup" unless the conninfo names one; a non-empty
// `forced_name` wins over both (so an operator can tell the lock listener apart).
[[nodiscard]] pg_conn* connect(const std::string& conninfo, const std::string& forced_name = "");

// Opens a connection or throws std::runtime_error naming `where` and libpq's reason.
[[nodiscard]] pg_conn* connect_or_throw(const std::string& conninfo, const std::string& where);

// libpq's last error on `conn`, one line, with the conninfo's password (if any) masked.
[[nodiscard]] std::string error_of(pg_conn* conn, const std::string& conninfo);

}  // namespace vidup::store::pg_detail
