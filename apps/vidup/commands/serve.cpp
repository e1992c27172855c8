#include "commands/commands.hpp"

#include "server/app.hpp"
#include "server/config.hpp"

#include <sys/resource.h>

#include <iostream>

namespace vidup::app {

namespace {

// Every connection is a file descriptor. Distributions start processes with a soft
// RLIMIT_NOFILE of 1024, far below --max-connections (16384 by default), and accept() would
// fail with EMFILE long before: raise the soft limit to the hard one, and say so when even that
// is too low.
void raise_fd_limit(std::size_t max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return;
  }
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      limit = raised;
    }
  }
  constexpr rlim_t kSpareFds = 64;  // the listener, the databases, upload files being written
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < max_connections + kSpareFds) {
    std::cerr << R"({"level":"warn","msg":"the open-file limit is below --max-connections; raise the hard )"
                 R"(RLIMIT_NOFILE (ulimit -Hn, LimitNOFILE=) or lower --max-connections","fd_limit":)"
              << limit.rlim_cur << R"(,"max_connections":)" << max_connections << "}\n";
  }
}

}  // namespace

int serve_command(int argc, const char* const* argv) {
  auto config = server::parse_serve_args(argc, argv);
  if (!config) {
    return 0;  // --help
  }
  raise_fd_limit(config->http.max_connections);
  return server::serve(*config);
}

}  // namespace vidup::app
