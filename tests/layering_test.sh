#!/usr/bin/env bash
# STYLE.md §1: dependencies point inward. A target including what it must not use fails here.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
fail=0
check() {  # check DIR REGEX WHY
  local hits
  hits=$(grep -rnE "$2" "$root/$1" --include='*.hpp' --include='*.cpp' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layering: $1 must not $3:"
    echo "$hits"
    fail=1
  fi
}
check src/core '#include <boost/(asio|beast)|#include "(store|handler|http|server|auth|api|client)/' "use Asio, Beast or any other target"
check src/store '#include <boost/beast|#include "(handler|http|server)/' "use Beast, the handler, http or server"
check src/handler '#include <boost/beast|#include "(http|server)/|#include "store/(file|sqlite|memory|s3|postgres)/' "use Beast or a backend"
check src/http '#include "store/(file|sqlite|memory|s3|postgres)/|#include "server/' "use a backend or the server"
if [ "$fail" = 0 ]; then
  echo "1 passed, 0 failed"
fi
exit "$fail"
