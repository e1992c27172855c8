// OPTIONS: discovery (OPT-01..07). Answers the same on the collection and on any upload URL.
#include "handler/handler.hpp"

#include "core/checksum.hpp"
#include "core/headers.hpp"
#include "handler/context.hpp"

namespace vidup::handler {

net::awaitable<Response> Handler::options(Ctx& ctx) {
  Response r;
  const auto& h = ctx.request.headers;
  // OPT-02: 204 for a plain discovery; 200 for a CORS preflight, which some browsers require.
  r.status = h.has("Origin") && h.has("Access-Control-Request-Method") ? 200 : 204;
  r.headers.set(core::kTusVersionHeader, std::string(core::kTusVersion));
  if (auto ext = extensions(); !ext.empty()) {
    r.headers.set(core::kTusExtension, std::move(ext));  // H-EXT-02: omitted when empty
  }
  if (config_.max_size > 0) {
    set_number(r, core::kTusMaxSize, config_.max_size);
  }
  if (config_.checksum) {
    r.headers.set(core::kTusChecksumAlgorithm, core::checksum_algorithm_list());
  }
  co_return r;
}

}  // namespace vidup::handler
