#pragma once

#include "server/config.hpp"

namespace vidup::server {

// Builds the embedded default (file DataStore, SQLite InfoStore, in-process Locker), recovers
// after a crash, serves until SIGTERM/SIGINT, and shuts down gracefully. Returns the exit code.
// Start-up errors throw with a clear message.
int serve(const ServeConfig& config);

}  // namespace vidup::server
