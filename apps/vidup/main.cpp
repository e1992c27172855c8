// vidup: a resumable video upload server (tus 1.0.0) and its tools.
#include "commands/commands.hpp"

#include <sys/stat.h>

#include <cstring>
#include <exception>
#include <iostream>
#include <string_view>

namespace {

constexpr std::string_view kUsage =
    "usage: vidup <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve     run the upload server (vidup serve --help)\n"
    "  projects  create and list projects (vidup projects --help)\n"
    "  keys      create, list and revoke API keys (vidup keys --help)\n"
    "  upload    upload files, resumably (vidup upload --help)\n"
    "  sign      print presigned upload headers (vidup sign --help)\n"
    "  version   print the version\n";

// The data directory holds the API keys in the clear (seed 000's signatures need the key itself)
// and the uploaded bytes: whatever the umask, what serve, keys and projects create there is not
// readable by other users (docs/security.md).
void keep_data_private() {
  const mode_t old = ::umask(0);
  ::umask(old | S_IRWXO);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string_view command = argv[1];
  if (command == "serve" || command == "keys" || command == "projects") {
    keep_data_private();
  }
  try {
    if (command == "serve") {
      return vidup::app::serve_command(argc - 1, argv + 1);
    }
    if (command == "keys") {
      return vidup::app::keys_command(argc - 1, argv + 1);
    }
    if (command == "upload") {
      return vidup::app::upload_command(argc - 1, argv + 1);
    }
    if (command == "sign") {
      return vidup::app::sign_command(argc - 1, argv + 1);
    }
    if (command == "projects") {
      return vidup::app::projects_command(argc - 1, argv + 1);
    }
    if (command == "version" || command == "--version") {
      std::cout << "vidup 0.1.0\n";
      return 0;
    }
    std::cerr << "vidup: unknown command '" << command << "'\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "vidup " << command << ": " << e.what() << "\n";
    return 1;
  }
}
