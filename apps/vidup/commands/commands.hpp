#pragma once
// One function per `vidup` subcommand; each returns the process exit code.

namespace vidup::app {

int serve_command(int argc, const char* const* argv);

}  // namespace vidup::app
