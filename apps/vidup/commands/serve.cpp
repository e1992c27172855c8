#include "commands/commands.hpp"

#include "server/app.hpp"
#include "server/config.hpp"

namespace vidup::app {

int serve_command(int argc, const char* const* argv) {
  auto config = server::parse_serve_args(argc, argv);
  if (!config) {
    return 0;  // --help
  }
  return server::serve(*config);
}

}  // namespace vidup::app
