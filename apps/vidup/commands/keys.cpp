// `vidup keys` and `vidup projects`: operator tools on the platform's records in
// <data>/vidup.db or, with --db postgres://..., in PostgreSQL. Safe while `vidup serve` runs on
// the same records (SQLite WAL and busy timeout; PostgreSQL transactions); a revocation takes
// effect on the server's next lookup.

#include "commands/commands.hpp"

#include "auth/auth.hpp"
#include "server/backends.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vidup::app {

namespace {

namespace po = boost::program_options;
namespace net = boost::asio;
using core::Errc;

constexpr std::string_view kKeysUsage =
    "usage: vidup keys <create|list|revoke> [options]\n"
    "\n"
    "  create [--project ID] [--name N]   create an API key; prints only the key on stdout\n"
    "                                     (without --project the key may act on every project)\n"
    "  list                               list keys, masked, with their status\n"
    "  revoke ID_OR_KEY                   revoke a key by its id (key_...) or the key itself\n"
    "\n"
    "every subcommand takes --data DIR (default ./data, or VIDUP_DATA) or --db postgres://... (or VIDUP_DB)\n";

constexpr std::string_view kProjectsUsage =
    "usage: vidup projects <create|list> [options]\n"
    "\n"
    "  create --name N   create a project; prints only its id on stdout\n"
    "  list              list projects\n"
    "\n"
    "every subcommand takes --data DIR (default ./data, or VIDUP_DATA) or --db postgres://... (or VIDUP_DB)\n";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2024-05-01T12:00:00Z" from unix ms.
std::string utc_iso(std::int64_t ms) {
  const auto seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

// Only --data and --db come from the environment (VIDUP_DATA, VIDUP_DB, as for `vidup serve`):
// a stray VIDUP_NAME must not name a key.
std::string env_to_option(const std::string& env) {
  return env == "VIDUP_DATA" ? "data" : env == "VIDUP_DB" ? "db" : std::string{};
}

// Parses a subcommand's options (argv[0] is the subcommand). nullopt after printing --help.
std::optional<po::variables_map> parse(int argc, const char* const* argv, po::options_description& desc,
                                       const po::positional_options_description& positional = {}) {
  desc.add_options()("data", po::value<std::string>()->default_value("./data"), "data directory (created if missing)")(
      "db", po::value<std::string>()->default_value("sqlite"), "'sqlite' (<data>/vidup.db) or a postgres:// URL")(
      "help,h", "print this help and exit");
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(desc).positional(positional).run(), vm);
  po::store(po::parse_environment(desc, env_to_option), vm);
  if (vm.count("help") != 0U) {
    std::cout << desc << "\n";
    return std::nullopt;
  }
  po::notify(vm);
  return vm;
}

// The catalog (--db, --data), with a private pool and io_context to run its calls.
class Records {
 public:
  explicit Records(const po::variables_map& vm) : records_(config_of(vm), pool_) {}
  Records(const Records&) = delete;
  Records& operator=(const Records&) = delete;
  ~Records() = default;

  store::Catalog& catalog() { return records_.catalog(); }

  // Runs one catalog call to completion.
  template <class T>
  T run(net::awaitable<T> a) {
    auto fut = net::co_spawn(io_, std::move(a), net::use_future);
    io_.restart();
    io_.run();
    return fut.get();
  }

 private:
  static server::BackendConfig config_of(const po::variables_map& vm) {
    server::BackendConfig c;
    c.data_dir = vm["data"].as<std::string>();
    c.db = vm["db"].as<std::string>();
    c.db_pool = 1;
    return c;
  }

  // Joined (by its destructor) after the catalog is gone: declared first.
  net::thread_pool pool_{1};
  net::io_context io_;
  server::CatalogOnly records_;
};

// Any failure but the expected ones is a storage problem worth a one-line message.
template <class T>
void check(const core::Result<T>& r, std::string_view what) {
  if (!r) {
    throw std::runtime_error(std::string(what) + ": " + r.error().message());
  }
}

// Columns padded to their widest cell (in characters: "…" is one).
void print_table(const std::vector<std::vector<std::string>>& rows) {
  auto width = [](const std::string& s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U; }));
  };
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], width(row[i]));
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line.append(widths[i] - width(row[i]) + 2, ' ');
      }
    }
    std::cout << line << "\n";
  }
}

int keys_create(int argc, const char* const* argv) {
  po::options_description desc("vidup keys create: create an API key (printed once, on stdout)\n\nOptions");
  desc.add_options()("project", po::value<std::string>(), "project the key may act on (default: every project)")(
      "name", po::value<std::string>()->default_value(""), "a label for people");
  auto vm = parse(argc, argv, desc);
  if (!vm) {
    return 0;
  }
  Records records(*vm);
  store::ApiKey key;
  key.id = auth::new_key_id();
  key.secret = auth::new_api_key();
  key.name = (*vm)["name"].as<std::string>();
  key.created_at = now_ms();
  if (vm->count("project") != 0U) {
    const auto& project = (*vm)["project"].as<std::string>();
    auto found = records.run(records.catalog().get_project(project));
    if (!found && found.error() == Errc::not_found) {
      std::cerr
          << "vidup keys create: project '" << project
          << "' does not exist (see `vidup projects list`, or create one with `vidup projects create --name N`)\n";
      return 1;
    }
    check(found, "read project");
    key.project_id = project;
  }
  check(records.run(records.catalog().insert_key(key)), "store key");
  std::cout << key.secret << "\n";
  std::cerr << "created " << key.id << " (name \"" << key.name << "\", "
            << (key.project_id ? "project " + *key.project_id : std::string("every project"))
            << "); the key is shown only this once\n";
  return 0;
}

int keys_list(int argc, const char* const* argv) {
  po::options_description desc("vidup keys list: list API keys (masked)\n\nOptions");
  auto vm = parse(argc, argv, desc);
  if (!vm) {
    return 0;
  }
  Records records(*vm);
  auto keys = records.run(records.catalog().list_keys());
  check(keys, "list keys");
  if (keys->empty()) {
    std::cerr << "no keys yet: create one with `vidup keys create`\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"ID", "KEY", "NAME", "PROJECT", "STATUS", "CREATED"}};
  for (const auto& k : *keys) {
    rows.push_back({k.id, auth::mask_api_key(k.secret), k.name.empty() ? "-" : k.name, k.project_id.value_or("*"),
                    k.revoked ? "revoked" : "active", utc_iso(k.created_at)});
  }
  print_table(rows);
  return 0;
}

int keys_revoke(int argc, const char* const* argv) {
  po::options_description desc("vidup keys revoke ID_OR_KEY: revoke a key at once\n\nOptions");
  desc.add_options()("key", po::value<std::string>(), "the key's id (key_...) or the key itself");
  po::positional_options_description positional;
  positional.add("key", 1);
  auto vm = parse(argc, argv, desc, positional);
  if (!vm) {
    return 0;
  }
  if (vm->count("key") == 0U) {
    std::cerr << "vidup keys revoke: which key? usage: vidup keys revoke ID_OR_KEY\n";
    return 2;
  }
  const auto& target = (*vm)["key"].as<std::string>();
  // Never echo a secret back, even a wrong one.
  const std::string shown = auth::is_api_key_format(target) ? auth::mask_api_key(target) : target;
  Records records(*vm);
  auto keys = records.run(records.catalog().list_keys());
  check(keys, "list keys");
  const auto it = std::find_if(keys->begin(), keys->end(), [&](const store::ApiKey& k) {
    return k.id == target || auth::constant_time_equals(k.secret, target);
  });
  if (it == keys->end()) {
    std::cerr << "vidup keys revoke: no key with id or secret '" << shown << "' (see `vidup keys list`)\n";
    return 1;
  }
  if (it->revoked) {
    std::cout << it->id << " was already revoked\n";
    return 0;
  }
  auto revoked = records.run(records.catalog().revoke_key(it->id, now_ms()));
  if (!revoked && revoked.error() == Errc::not_found) {
    std::cerr << "vidup keys revoke: no key with id or secret '" << shown << "'\n";
    return 1;
  }
  check(revoked, "revoke key");
  std::cout << "revoked " << it->id << "\n";
  return 0;
}

int projects_create(int argc, const char* const* argv) {
  po::options_description desc("vidup projects create: create a project (its id is printed on stdout)\n\nOptions");
  desc.add_options()("name", po::value<std::string>(), "the project's name (required)");
  auto vm = parse(argc, argv, desc);
  if (!vm) {
    return 0;
  }
  if (vm->count("name") == 0U || (*vm)["name"].as<std::string>().empty()) {
    std::cerr << "vidup projects create: --name is required, e.g. vidup projects create --name \"My videos\"\n";
    return 2;
  }
  Records records(*vm);
  const store::Project project{auth::new_uuid(), (*vm)["name"].as<std::string>(), now_ms()};
  check(records.run(records.catalog().insert_project(project)), "store project");
  std::cout << project.id << "\n";
  std::cerr << "created project \"" << project.name << "\"; scope a key to it with `vidup keys create --project "
            << project.id << "`\n";
  return 0;
}

int projects_list(int argc, const char* const* argv) {
  po::options_description desc("vidup projects list: list projects\n\nOptions");
  auto vm = parse(argc, argv, desc);
  if (!vm) {
    return 0;
  }
  Records records(*vm);
  auto projects = records.run(records.catalog().list_projects());
  check(projects, "list projects");
  if (projects->empty()) {
    std::cerr << "no projects yet: create one with `vidup projects create --name N`\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"ID", "NAME", "CREATED"}};
  for (const auto& p : *projects) {
    rows.push_back({p.id, p.name, utc_iso(p.created_at)});
  }
  print_table(rows);
  return 0;
}

struct Subcommand {
  std::string_view name;
  int (*run)(int, const char* const*);
};

// argv[0] is the command ("keys"), argv[1] the subcommand.
int dispatch(int argc, const char* const* argv, std::string_view usage, std::initializer_list<Subcommand> subs) {
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  const std::string_view sub = argv[1];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::cout << usage;
    return 0;
  }
  for (const auto& s : subs) {
    if (s.name == sub) {
      return s.run(argc - 1, argv + 1);
    }
  }
  std::cerr << "vidup " << argv[0] << ": unknown subcommand '" << sub << "'\n" << usage;
  return 2;
}

}  // namespace

int keys_command(int argc, const char* const* argv) {
  return dispatch(argc, argv, kKeysUsage, {{"create", keys_create}, {"list", keys_list}, {"revoke", keys_revoke}});
}

int projects_command(int argc, const char* const* argv) {
  return dispatch(argc, argv, kProjectsUsage, {{"create", projects_create}, {"list", projects_list}});
}

}  // namespace vidup::app
