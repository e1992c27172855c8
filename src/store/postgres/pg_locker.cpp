#include "store/postgres/pg_locker.hpp"

#include "store/postgres/pg_connect.hpp"
#include "store/postgres/pg_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

namespace vidup::store {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using pg_detail::Kind;
using pg_detail::Session;

// Every lease row: INSERT, or take over a row whose lease ran out or that this node still holds
// (a local holder released it and its DELETE has not run yet). Returns the row only if taken.
constexpr std::string_view kTake = R"(
  INSERT INTO upload_locks AS l (id, owner, token, expires_at)
  VALUES ($1, $2, $3, now() + $4::float8 * interval '1 millisecond')
  ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
  WHERE l.expires_at < now() OR l.owner = EXCLUDED.owner
  RETURNING token)";
// Payloads: '<schema>\nr <node> <id>' asks the holder to let go, '<schema>\nf <id>' says the id is
// free. The channel is database-wide: the schema keeps deployments in other schemas apart.
constexpr std::string_view kAsk = "SELECT pg_notify('vidup_locks', $1)";
// Only this holding's row (the token): a later holder on the same node took the row over.
constexpr std::string_view kRelease = R"(
  WITH gone AS (DELETE FROM upload_locks WHERE id = $1 AND owner = $2 AND token = $3 RETURNING id)
  SELECT pg_notify('vidup_locks', $4 || id) FROM gone)";
constexpr std::string_view kScope = "SELECT coalesce(current_schema(), '')";
constexpr std::string_view kRenew = R"(
  UPDATE upload_locks SET expires_at = now() + $3::float8 * interval '1 millisecond'
  WHERE owner = $1 AND token = ANY($2::bigint[]) RETURNING token)";
constexpr std::string_view kReleaseAll = "DELETE FROM upload_locks WHERE owner = $1";
constexpr std::string_view kListen = "LISTEN vidup_locks";

// A waiter asks a remote holder again every this many polls, in case the holder's node missed
// the first NOTIFY (its LISTEN connection was down).
constexpr int kAskAgainEvery = 10;

boost::system::error_code fail(core::Errc e) { return core::make_error_code(e); }

enum class Row { taken, held_elsewhere };

std::string random_node_id() {
  std::random_device rd;
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    out += kHex.at(rd() % 16);
  }
  return out;
}

// One wait of one acquirer: the timer lives on a private strand over the acquirer's executor;
// wakers (the listener thread, a releasing Lock) post the cancel there. `woken` is set first,
// so a wake that comes before the timer is armed is not lost.
struct Slot {
  explicit Slot(const net::any_io_executor& ex) : strand(net::make_strand(ex)), timer(strand) {}
  net::strand<net::any_io_executor> strand;
  net::steady_timer timer;
  std::atomic<bool> woken{false};
};

void wake(const std::shared_ptr<Slot>& slot) {
  slot->woken.store(true);
  net::post(slot->strand, [slot] { slot->timer.cancel(); });
}

net::awaitable<void> sleep_on(std::shared_ptr<Slot> slot, Clock::time_point until) {
  if (slot->woken.load()) {
    co_return;
  }
  slot->timer.expires_at(until);
  co_await slot->timer.async_wait(net::as_tuple(net::use_awaitable));
}

}  // namespace

struct PgLocker::State : std::enable_shared_from_this<State> {
  // One id this node holds, or that one local acquirer is trying to take from the database.
  struct Entry {
    bool held = false;
    std::int64_t token = 0;  // this holding's row, unique per node
    std::function<void()> on_release_requested;
    bool release_requested = false;
  };

  State(PgPool& p, net::thread_pool& b, PgLockerOptions o)
      : pool(p),
        blocking(b),
        options(std::move(o)),
        next_token(static_cast<std::int64_t>(std::random_device{}() >> 1)) {}
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (wake_fd >= 0) {
      ::close(wake_fd);
    }
  }

  PgPool& pool;
  net::thread_pool& blocking;
  const PgLockerOptions options;
  std::string scope;  // "<schema>\n": the prefix of this deployment's payloads
  int wake_fd = -1;   // wakes the listener thread
  std::atomic<bool> stopping{false};

  mutable std::mutex mutex;
  std::map<std::string, Entry, std::less<>> entries;
  std::map<std::string, std::vector<std::shared_ptr<Slot>>, std::less<>> waiters;
  std::int64_t next_token;
  bool closed = false;  // the locker is gone: no more statements
  int running = 0;      // statements in progress
  std::condition_variable idle;

  // --- statements: on the blocking pool, not after the locker closed ---

  template <class F>
  auto guarded(F body) -> decltype(body(std::declval<Session&>())) {
    {
      std::lock_guard lock(mutex);
      if (closed) {
        return fail(core::Errc::storage_error);
      }
      ++running;
    }
    struct Done {
      State& s;
      ~Done() {
        {
          std::lock_guard lock(s.mutex);
          --s.running;
        }
        s.idle.notify_all();
      }
    } done{*this};
    return pg_detail::with_session(pool, body);
  }

  // Tries to take `id`'s row; when it is held elsewhere and `ask`, asks its holder to let go.
  Result<Row> take(const std::string& id, std::int64_t token, bool ask) {
    return guarded([&](Session& s) -> Result<Row> {
      auto r = s.exec(kTake,
                      {pg_detail::text(id), pg_detail::text(options.node_id), pg_detail::int64(token),
                       pg_detail::int64(options.lease.count())},
                      Kind::idempotent);
      if (!r) {
        return r.error();
      }
      if (r->size() == 1) {
        return Row::taken;
      }
      if (ask) {
        auto n = s.exec(kAsk, {pg_detail::text(scope + "r " + options.node_id + " " + id)}, Kind::idempotent);
        if (!n) {
          return n.error();
        }
      }
      return Row::held_elsewhere;
    });
  }

  // --- the local table ---

  struct Step {
    std::int64_t token = 0;      // non-zero: this acquirer now owns the entry
    std::function<void()> ask;   // call outside the mutex
    std::shared_ptr<Slot> slot;  // wait on it, then try again; null: give up
  };

  // Phase 1 of acquire: become this node's one acquirer of `id`, or wait behind the local one.
  Step enter(const std::string& id, Clock::time_point deadline, const net::any_io_executor& ex) {
    std::lock_guard lock(mutex);
    Step step;
    auto it = entries.find(id);
    if (it == entries.end()) {
      step.token = ++next_token;
      entries.emplace(id, Entry{false, step.token, {}, false});
      return step;
    }
    Entry& e = it->second;
    if (!e.release_requested && e.held) {
      step.ask = e.on_release_requested;
    }
    e.release_requested = true;  // an acquirer still asking the database is asked once it holds
    if (Clock::now() < deadline) {
      step.slot = add_waiter(id, ex);
    }
    return step;
  }

  std::shared_ptr<Slot> add_waiter(const std::string& id, const net::any_io_executor& ex) {
    auto slot = std::make_shared<Slot>(ex);
    waiters[id].push_back(slot);
    return slot;
  }

  std::shared_ptr<Slot> waiter(const std::string& id, const net::any_io_executor& ex) {
    std::lock_guard lock(mutex);
    return add_waiter(id, ex);
  }

  void forget(const std::string& id, const std::shared_ptr<Slot>& slot) {
    std::lock_guard lock(mutex);
    auto it = waiters.find(id);
    if (it == waiters.end()) {
      return;
    }
    auto& w = it->second;
    w.erase(std::remove(w.begin(), w.end(), slot), w.end());
    if (w.empty()) {
      waiters.erase(it);
    }
  }

  // Called with `mutex` held; the caller wakes them after unlocking.
  std::vector<std::shared_ptr<Slot>> waiters_of(std::string_view id) {
    auto it = waiters.find(id);
    return it == waiters.end() ? std::vector<std::shared_ptr<Slot>>{} : it->second;
  }

  void wake_waiters(std::string_view id) {
    std::vector<std::shared_ptr<Slot>> slots;
    {
      std::lock_guard lock(mutex);
      slots = waiters_of(id);
    }
    for (const auto& s : slots) {
      wake(s);
    }
  }

  void wake_everyone() {
    std::vector<std::shared_ptr<Slot>> slots;
    {
      std::lock_guard lock(mutex);
      for (const auto& [id, w] : waiters) {
        slots.insert(slots.end(), w.begin(), w.end());
      }
    }
    for (const auto& s : slots) {
      wake(s);
    }
  }

  // The acquirer took the row: it holds now. Returns its callback if someone asked meanwhile.
  std::function<void()> hold(const std::string& id, std::function<void()> on_release_requested) {
    std::lock_guard lock(mutex);
    Entry& e = entries.at(id);
    e.held = true;
    e.on_release_requested = std::move(on_release_requested);
    return e.release_requested ? e.on_release_requested : std::function<void()>{};
  }

  // The acquirer gives up (or failed): the next local one may try.
  void leave(const std::string& id) {
    {
      std::lock_guard lock(mutex);
      entries.erase(id);
    }
    wake_waiters(id);
  }

  // A Lock was dropped: local waiters go at once; the row goes on the blocking pool.
  void release(const std::string& id, std::int64_t token) {
    decltype(entries)::node_type gone;  // destroyed outside the mutex: the callback may own anything
    {
      std::lock_guard lock(mutex);
      auto it = entries.find(id);
      if (it == entries.end() || !it->second.held || it->second.token != token) {
        return;
      }
      gone = entries.extract(it);
    }
    wake_waiters(id);
    net::post(blocking, [self = shared_from_this(), id, token] {
      // A failure (or a closed locker) leaves the row to expire after the lease: nobody renews it.
      (void)self->guarded([&](Session& s) {
        return s.exec(kRelease,
                      {pg_detail::text(id), pg_detail::text(self->options.node_id), pg_detail::int64(token),
                       pg_detail::text(self->scope + "f ")},
                      Kind::idempotent);
      });
    });
  }

  // --- what the listener thread hears ---

  void on_notify(std::string_view payload) {
    if (!payload.starts_with(scope)) {
      return;  // another deployment's locks
    }
    payload.remove_prefix(scope.size());
    if (payload.starts_with("f ")) {
      wake_waiters(payload.substr(2));
      return;
    }
    if (!payload.starts_with("r ")) {
      return;
    }
    payload.remove_prefix(2);
    const auto space = payload.find(' ');
    if (space == std::string_view::npos || payload.substr(0, space) == options.node_id) {
      return;  // our own request: the local table already handled it
    }
    ask_holder(payload.substr(space + 1));
  }

  void ask_holder(std::string_view id) {
    std::function<void()> ask;
    {
      std::lock_guard lock(mutex);
      auto it = entries.find(id);
      if (it == entries.end()) {
        return;  // released meanwhile: the asker hears 'f <id>'
      }
      Entry& e = it->second;
      if (!e.release_requested && e.held) {
        ask = e.on_release_requested;
      }
      e.release_requested = true;  // still taking the row: asked as soon as it holds
    }
    if (ask) {
      ask();
    }
  }

  std::vector<std::int64_t> held_tokens() const {
    std::lock_guard lock(mutex);
    std::vector<std::int64_t> out;
    for (const auto& [id, e] : entries) {
      if (e.held) {
        out.push_back(e.token);
      }
    }
    return out;
  }

  // Holdings whose rows were not renewed: another node took them after the lease ran out (this
  // node could not renew in time). Their holders are asked to stop.
  void lost(const std::set<std::int64_t>& renewed, const std::vector<std::int64_t>& tried) {
    std::vector<std::function<void()>> asks;
    {
      std::lock_guard lock(mutex);
      for (auto& [id, e] : entries) {
        const bool was_tried = std::find(tried.begin(), tried.end(), e.token) != tried.end();
        if (e.held && was_tried && renewed.count(e.token) == 0 && !e.release_requested) {
          e.release_requested = true;
          asks.push_back(e.on_release_requested);
        }
      }
    }
    for (const auto& ask : asks) {
      ask();
    }
  }

  std::size_t held_count() const {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(
        std::count_if(entries.begin(), entries.end(), [](const auto& kv) { return kv.second.held; }));
  }

  // Stops new statements and waits for those in progress.
  void close() {
    std::unique_lock lock(mutex);
    closed = true;
    idle.wait(lock, [this] { return running == 0; });
  }
};

namespace {

class PgLock final : public Lock {
 public:
  PgLock(std::shared_ptr<PgLocker::State> state, std::string id, std::int64_t token)
      : state_(std::move(state)), id_(std::move(id)), token_(token) {}
  PgLock(const PgLock&) = delete;
  PgLock& operator=(const PgLock&) = delete;
  ~PgLock() override { state_->release(id_, token_); }

 private:
  std::shared_ptr<PgLocker::State> state_;
  std::string id_;
  std::int64_t token_;
};

// The listener's connection: LISTEN on it, and renew this node's leases with it. Sets `scope`
// from the connection's schema.
pg_conn* open_listener(const std::string& conninfo, const std::string& node_id, std::string& scope,
                       std::string& error) {
  pg_conn* conn = pg_detail::connect(conninfo, "vidup-locks " + node_id);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    error = pg_detail::error_of(conn, conninfo);
    PQfinish(conn);
    return nullptr;
  }
  Session s(conn);
  auto schema = s.exec(kScope, {}, Kind::idempotent);
  if (!schema || !s.exec(kListen, {}, Kind::idempotent)) {
    error = pg_detail::error_of(conn, conninfo);
    PQfinish(conn);
    return nullptr;
  }
  scope = schema->text(0, 0) + "\n";
  return conn;
}

// One UPDATE renews every lease this node holds. False: the connection failed.
bool renew(PgLocker::State& state, pg_conn* conn) {
  const auto tokens = state.held_tokens();
  if (tokens.empty()) {
    return true;
  }
  std::vector<std::string> values;
  values.reserve(tokens.size());
  for (const auto t : tokens) {
    values.push_back(std::to_string(t));
  }
  Session s(conn);
  auto r = s.exec(kRenew,
                  {pg_detail::text(state.options.node_id), pg_detail::text_array(values),
                   pg_detail::int64(state.options.lease.count())},
                  Kind::idempotent);
  if (!r) {
    return !s.lost();
  }
  std::set<std::int64_t> renewed;
  for (int i = 0; i < r->size(); ++i) {
    renewed.insert(r->int64(i, 0));
  }
  state.lost(renewed, tokens);
  return true;
}

// Sleeps until `fd` (may be -1) is readable, the wake fd fires, or `timeout` passes.
void wait_readable(const PgLocker::State& state, int fd, std::chrono::milliseconds timeout) {
  std::array<pollfd, 2> fds{{{state.wake_fd, POLLIN, 0}, {fd, POLLIN, 0}}};
  ::poll(fds.data(), fd >= 0 ? 2 : 1, static_cast<int>(std::max<std::int64_t>(timeout.count(), 0)));
  if ((fds[0].revents & POLLIN) != 0) {
    std::uint64_t drained = 0;
    (void)::read(state.wake_fd, &drained, sizeof drained);
  }
}

// The listener thread: hears notifications, renews leases every lease/3, reconnects and
// re-LISTENs when its connection drops; on stop, deletes this node's rows.
void keep_leases(PgLocker::State& state, const std::string& conninfo, pg_conn* conn) {
  const auto renew_every = std::max<std::chrono::milliseconds>(state.options.lease / 3, 1ms);
  const auto reconnect_every = std::clamp<std::chrono::milliseconds>(state.options.poll, 50ms, 1000ms);
  auto next_renewal = Clock::now();
  while (!state.stopping.load()) {
    if (conn == nullptr) {
      std::string error;
      std::string scope;  // the same schema as at start: the conninfo has not changed
      conn = open_listener(conninfo, state.options.node_id, scope, error);
      if (conn == nullptr) {
        wait_readable(state, -1, reconnect_every);
        continue;
      }
      state.wake_everyone();  // what was said while we were away is lost: everyone retries now
      next_renewal = Clock::now();
    }
    if (Clock::now() >= next_renewal) {
      if (!renew(state, conn)) {
        PQfinish(conn);
        conn = nullptr;
        continue;
      }
      next_renewal = Clock::now() + renew_every;
    }
    wait_readable(state, PQsocket(conn),
                  std::chrono::duration_cast<std::chrono::milliseconds>(next_renewal - Clock::now()) + 1ms);
    if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK) {
      PQfinish(conn);
      conn = nullptr;
      continue;
    }
    while (PGnotify* n = PQnotifies(conn)) {
      state.on_notify(n->extra);
      PQfreemem(n);
    }
  }
  if (conn != nullptr) {
    Session s(conn);
    (void)s.exec(kReleaseAll, {pg_detail::text(state.options.node_id)}, Kind::idempotent);
    PQfinish(conn);
  }
}

PgLockerOptions checked(PgLockerOptions o) {
  if (o.node_id.empty()) {
    o.node_id = random_node_id();
  }
  if (o.node_id.size() > 40 || o.node_id.find_first_of(" \t\r\n") != std::string::npos) {
    throw std::invalid_argument("PgLocker node id must be 1 to 40 characters without spaces");
  }
  if (o.lease <= 0ms || o.poll <= 0ms) {
    throw std::invalid_argument("PgLocker lease and poll must be positive");
  }
  return o;
}

}  // namespace

PgLocker::PgLocker(std::string conninfo, PgPool& pool, net::thread_pool& blocking, PgLockerOptions options)
    : state_(std::make_shared<State>(pool, blocking, checked(std::move(options)))) {
  state_->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (state_->wake_fd < 0) {
    throw std::runtime_error("PgLocker: eventfd failed");
  }
  std::string error;
  pg_conn* conn = open_listener(conninfo, state_->options.node_id, state_->scope, error);
  if (conn == nullptr) {
    throw std::runtime_error("PostgreSQL at " + pg_detail::where(conninfo) + ": cannot LISTEN for locks: " + error);
  }
  listener_ =
      std::thread([state = state_, conninfo = std::move(conninfo), conn] { keep_leases(*state, conninfo, conn); });
}

PgLocker::~PgLocker() {
  state_->close();  // first: no statement may take a row after the rows are deleted
  state_->stopping.store(true);
  const std::uint64_t one = 1;
  (void)::write(state_->wake_fd, &one, sizeof one);
  listener_.join();
  state_->wake_everyone();
}

const std::string& PgLocker::node_id() const { return state_->options.node_id; }

std::size_t PgLocker::held() const { return state_->held_count(); }

net::awaitable<Result<std::unique_ptr<Lock>>> PgLocker::acquire(const std::string& id,
                                                                std::function<void()> on_release_requested,
                                                                std::chrono::milliseconds wait) {
  const auto state = state_;  // the state outlives this call even if the locker goes away
  const std::string key = id;
  const auto deadline = Clock::now() + std::max(wait, 0ms);
  const auto ex = co_await net::this_coro::executor;

  // Phase 1: become this node's one acquirer of `key`; same-node contention is LocalLocker's.
  std::int64_t token = 0;
  for (;;) {
    auto step = state->enter(key, deadline, ex);
    if (step.ask) {
      step.ask();  // outside the mutex: the holder may do anything, even release at once
    }
    if (step.token != 0) {
      token = step.token;
      break;
    }
    if (!step.slot) {
      co_return fail(core::Errc::locked);
    }
    co_await net::co_spawn(step.slot->strand, sleep_on(step.slot, deadline), net::use_awaitable);
    state->forget(key, step.slot);
  }

  // Phase 2: take the row; while another node holds it, ask it to let go and poll.
  for (int attempt = 0;; ++attempt) {
    auto slot = state->waiter(key, ex);  // before the try: a 'f <id>' during it is not lost
    const bool ask = attempt % kAskAgainEvery == 0;
    State* s = state.get();
    auto taken = co_await run_blocking(state->blocking, [s, &key, token, ask] { return s->take(key, token, ask); });
    if (!taken || *taken == Row::taken) {
      state->forget(key, slot);
    }
    if (!taken) {
      state->leave(key);
      co_return taken.error();
    }
    if (*taken == Row::taken) {
      if (auto asked = state->hold(key, std::move(on_release_requested))) {
        asked();  // a newcomer asked while we were taking the row
      }
      co_return std::unique_ptr<Lock>(std::make_unique<PgLock>(state, key, token));
    }
    if (Clock::now() >= deadline) {
      state->forget(key, slot);
      state->leave(key);
      co_return fail(core::Errc::locked);
    }
    co_await net::co_spawn(slot->strand, sleep_on(slot, std::min(deadline, Clock::now() + state->options.poll)),
                           net::use_awaitable);
    state->forget(key, slot);
  }
}

}  // namespace vidup::store
