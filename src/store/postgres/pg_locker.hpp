#pragma once
// Upload locks shared by every node through PostgreSQL: a lease row per held upload
// (upload_locks), renewed by its node, freed on release, and free for anyone once its node
// stops renewing (a crash, kill -9, a lost network) for a lease.
//
// Same-node contention behaves exactly like LocalLocker (ask the holder once, wait, Errc::locked).
// Across nodes, a newcomer that finds the row held sends NOTIFY vidup_locks 'r <node> <id>'; the
// holder's node (every node LISTENs on one dedicated connection) calls its holder's
// on_release_requested once. The newcomer retries every `poll`, or at once when the holder's
// release sends 'f <id>', until `wait` runs out.

#include "store/locker.hpp"
#include "store/postgres/pg_pool.hpp"

#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace vidup::store {

struct PgLockerOptions {
  std::chrono::milliseconds lease{15000};  // a dead node's locks free up after this
  std::chrono::milliseconds poll{100};     // how often a waiter retries
  std::string node_id;                     // empty: random. Unique among live nodes; no spaces.
};

class PgLocker final : public Locker {
 public:
  // conninfo: for its own connection (LISTEN, and lease renewal every lease/3, so a busy pool
  // cannot starve renewal); the pool for the other statements. Connects and LISTENs now;
  // throws std::runtime_error if it cannot (no password in the message). The schema must exist
  // (pg_migrate). `pool` and `blocking` outlive the locker.
  PgLocker(std::string conninfo, PgPool& pool, net::thread_pool& blocking, PgLockerOptions options = {});
  PgLocker(const PgLocker&) = delete;
  PgLocker& operator=(const PgLocker&) = delete;
  // Stops renewing and releases what it holds (deletes this node's rows). Locks that outlive
  // the locker release nothing more when dropped.
  ~PgLocker() override;

  net::awaitable<Result<std::unique_ptr<Lock>>> acquire(const std::string& id,
                                                        std::function<void()> on_release_requested,
                                                        std::chrono::milliseconds wait) override;

  [[nodiscard]] const std::string& node_id() const;
  [[nodiscard]] std::size_t held() const;  // locks this node holds, for tests

  struct State;

 private:
  std::shared_ptr<State> state_;
  std::thread listener_;
};

}  // namespace vidup::store
