// `vidup sign`: the presigned headers of seed 000 for one video, for a backend to hand out.

#include "commands/commands.hpp"

#include "auth/auth.hpp"
#include "client/formatting.hpp"
#include "core/integers.hpp"

#include <boost/program_options.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace vidup::app {

namespace {

namespace po = boost::program_options;

constexpr std::string_view kSignHelp =
    "usage: vidup sign --api-key K --video-id ID [--expires-in 3600] [--json]\n"
    "\n"
    "Prints the headers of a presigned tus upload for video ID:\n"
    "  Signature: hex(sha256(K + Expiration + ID))\n"
    "  Expiration: now + expires-in (unix seconds)\n"
    "  Video-Id: ID\n"
    "With --json, one object {\"Signature\": ..., \"Expiration\": \"...\", \"Video-Id\": ...}.\n"
    "Exit codes: 0 printed, 2 usage error.\n";

int usage(const std::string& message) {
  std::cerr << "vidup sign: " << message << " (see vidup sign --help)\n";
  return 2;
}

}  // namespace

int sign_command(int argc, const char* const* argv) {
  po::options_description desc("Options");
  desc.add_options()("api-key", po::value<std::string>(), "the API key that signs (required)")(
      "video-id", po::value<std::string>(), "the video (a UUID from POST /v1/videos) (required)")(
      "expires-in", po::value<std::string>()->default_value("3600"), "seconds the signature stays valid")(
      "json", "one JSON object instead of header lines")("help,h", "print this help and exit");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage(e.what());
  }
  if (vm.count("help") != 0U) {
    std::cout << kSignHelp << "\n" << desc << "\n";
    return 0;
  }
  if (vm.count("api-key") == 0U || vm["api-key"].as<std::string>().empty()) {
    return usage("--api-key is required");
  }
  if (vm.count("video-id") == 0U || !auth::is_uuid(vm["video-id"].as<std::string>())) {
    return usage("--video-id must be the video's UUID");
  }
  const auto& text = vm["expires-in"].as<std::string>();
  auto expires_in = core::parse_uint(text, core::Errc::bad_request);
  if (!expires_in || *expires_in == 0 || *expires_in > 10ULL * 365 * 86400) {
    return usage("--expires-in must be a positive number of seconds, not '" + text + "'");
  }
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::int64_t expiration = now + static_cast<std::int64_t>(*expires_in);
  const auto& key = vm["api-key"].as<std::string>();
  const auto& video = vm["video-id"].as<std::string>();
  std::cout << client::format_presign(auth::presign_signature(key, expiration, video), expiration, video,
                                      vm.count("json") != 0U);
  return 0;
}

}  // namespace vidup::app
