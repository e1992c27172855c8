#pragma once
// vidup::api — the video platform around the tus engine: the /v1 REST API, seed 004's
// /v2/init, seed 000's presigned tus creation (as the engine's UploadPolicy), server-to-server
// Bearer creation, and the --demo grant endpoint. JSON with Boost.JSON. No Beast, no backends:
// it sees the Catalog port, the tus Handler and plain Request/Response.

#include "handler/handler.hpp"
#include "handler/policy.hpp"
#include "store/catalog.hpp"

#include <optional>
#include <string>

namespace vidup::api {

namespace net = boost::asio;

struct Options {
  bool no_auth = false;  // anonymous tus creation allowed (local experiments, protocol tests)
  bool demo = false;     // serve /demo/grant and /demo/videos, acting as a customer backend
  std::size_t max_json_body = 64 * 1024;
};

class Platform final : public handler::UploadPolicy {
 public:
  Platform(Options options, store::Catalog& catalog, handler::Handler& tus, handler::Clock clock);

  // Answers /v1/..., /v2/init and (with --demo) /demo/...; nullopt for every other path.
  // Reads the (small, bounded) JSON body itself.
  net::awaitable<std::optional<handler::Response>> handle(handler::Request& request);

  // --demo: the key the grant endpoint signs with (created at start if none exists).
  net::awaitable<core::Result<void>> prepare_demo();

  // handler::UploadPolicy
  net::awaitable<core::Result<void>> authorize_creation(const handler::Request& request,
                                                        core::UploadInfo& draft) override;
  net::awaitable<void> on_created(core::UploadInfo info) override;
  net::awaitable<void> on_progress(core::UploadInfo info) override;
  net::awaitable<void> on_finished(core::UploadInfo info) override;
  net::awaitable<void> on_ended(core::UploadInfo info) override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace vidup::api
