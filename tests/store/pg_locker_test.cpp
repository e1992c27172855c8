// PgLocker against a real server (CTest fixture service_pg). Two lockers on one database, each
// with its own pool and listener, act as two nodes; a forked process killed with SIGKILL is a
// node that dies holding a lock. Every test works in its own schema.

#include "store/postgres/pg_locker.hpp"
#include "pg_test_support.hpp"
#include "store/postgres/pg_pool.hpp"
#include "support/run_awaitable.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace vidup::store {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using core::Errc;
using test::TestSchema;

constexpr auto kLease = 1000ms;
constexpr auto kPoll = 20ms;

PgLockerOptions options(const std::string& node) {
  PgLockerOptions o;
  o.lease = kLease;
  o.poll = kPoll;
  o.node_id = node;
  return o;
}

// Waits (on this thread) until `done()` holds, at most `limit`.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 3000ms) {
  const auto until = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

net::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  net::steady_timer t(co_await net::this_coro::executor, d);
  co_await t.async_wait(net::use_awaitable);
}

// Two nodes: each its own pool, its own listener, its own node id, on one fresh schema.
class PgLockerTest : public ::testing::Test {
 protected:
  PgLockerTest() : pool_a_(schema_.conninfo(), 2), pool_b_(schema_.conninfo(), 2) {
    pg_migrate(pool_a_);
    a_ = std::make_unique<PgLocker>(schema_.conninfo(), pool_a_, blocking_, options("node-a"));
    b_ = std::make_unique<PgLocker>(schema_.conninfo(), pool_b_, blocking_, options("node-b"));
  }
  ~PgLockerTest() override {
    a_.reset();
    b_.reset();
    blocking_.join();
  }

  template <class T>
  T run(net::awaitable<T> a) {
    return test::run(io_, std::move(a));
  }

  Result<std::unique_ptr<Lock>> take(
      PgLocker& node, const std::string& id, std::chrono::milliseconds wait = 0ms,
      std::function<void()> on_release = [] {}) {
    return run(node.acquire(id, std::move(on_release), wait));
  }

  std::vector<std::string> rows() {
    return schema_.admin().query("SELECT id || ' ' || owner FROM " + schema_.name() + ".upload_locks ORDER BY id");
  }

  TestSchema schema_;
  PgPool pool_a_;
  PgPool pool_b_;
  net::thread_pool blocking_{4};
  net::io_context io_;
  std::unique_ptr<PgLocker> a_;
  std::unique_ptr<PgLocker> b_;
};

TEST_F(PgLockerTest, OneNodeHoldsAnIdTheOtherIsLockedOutUntilItIsReleased) {
  auto held = take(*a_, "u1");
  ASSERT_TRUE(held);
  EXPECT_EQ(rows(), std::vector<std::string>{"u1 node-a"});
  auto refused = take(*b_, "u1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), Errc::locked);
  auto other = take(*b_, "u2");
  ASSERT_TRUE(other) << "another id is free";
  EXPECT_EQ(a_->held(), 1u);
  EXPECT_EQ(b_->held(), 1u);

  held->reset();
  EXPECT_EQ(a_->held(), 0u);
  const auto start = Clock::now();
  auto after = take(*b_, "u1", 5s);
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_LT(Clock::now() - start, 2s);
  after->reset();
  other->reset();
  EXPECT_TRUE(eventually([&] { return rows().empty(); })) << "released rows are deleted";
}

// The newcomer's node asks the holder's node; the holder drops its lock and the newcomer gets
// it long before its wait runs out.
struct HandOver {
  std::unique_ptr<Lock> first;
  std::atomic<int> asked{0};
  bool got = false;
};

net::awaitable<void> hand_over(PgLocker& holder, PgLocker& newcomer, std::shared_ptr<HandOver> h) {
  auto ex = co_await net::this_coro::executor;
  std::function<void()> on_release = [ex, h] {
    h->asked.fetch_add(1);
    net::post(ex, [h] { h->first.reset(); });
  };
  auto r = co_await holder.acquire("u1", std::move(on_release), 0ms);
  EXPECT_TRUE(r);
  if (!r) {
    co_return;
  }
  h->first = std::move(*r);

  const auto start = Clock::now();
  auto second = co_await newcomer.acquire(
      "u1", [] {}, 10s);
  EXPECT_TRUE(second);
  const auto took = Clock::now() - start;
  std::cout << "handed over in " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  EXPECT_LT(took, 5s) << "the holder let go when asked, not the deadline";
  EXPECT_EQ(h->first, nullptr);
  h->got = second.has_value();
}

TEST_F(PgLockerTest, ANewcomerOnAnotherNodeAsksTheHolderAndGetsTheLockWhenItIsDropped) {
  auto h = std::make_shared<HandOver>();
  run(hand_over(*a_, *b_, h));
  EXPECT_TRUE(h->got);
  EXPECT_EQ(h->asked.load(), 1);
  EXPECT_EQ(a_->held(), 0u);
  EXPECT_EQ(b_->held(), 0u);
}

TEST_F(PgLockerTest, OnOneNodeANewcomerAsksTheHolderLikeLocalLocker) {
  auto h = std::make_shared<HandOver>();
  run(hand_over(*a_, *a_, h));
  EXPECT_TRUE(h->got);
  EXPECT_EQ(h->asked.load(), 1);
  EXPECT_EQ(a_->held(), 0u);
}

TEST_F(PgLockerTest, AHolderThatNeverLetsGoMakesTheOtherNodeFailWithLockedAfterItsWait) {
  std::atomic<int> asked{0};
  auto first = take(*a_, "u1", 0ms, [&asked] { asked.fetch_add(1); });
  ASSERT_TRUE(first);
  const auto start = Clock::now();
  auto second = take(*b_, "u1", 300ms);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), Errc::locked);
  EXPECT_GE(Clock::now() - start, 300ms);
  EXPECT_TRUE(eventually([&] { return asked.load() == 1; })) << "the holder is asked";
  auto third = take(*b_, "u1");
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error(), Errc::locked);
  auto same_node = take(*a_, "u1");
  ASSERT_FALSE(same_node);
  EXPECT_EQ(same_node.error(), Errc::locked);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(asked.load(), 1) << "the holder is asked once";
  EXPECT_EQ(a_->held(), 1u);
}

TEST_F(PgLockerTest, RenewalKeepsALockHeldPastSeveralLeases) {
  auto held = take(*a_, "u1");
  ASSERT_TRUE(held);
  const auto until = Clock::now() + 3 * kLease + 500ms;
  int refusals = 0;
  while (Clock::now() < until) {
    auto r = take(*b_, "u1");
    ASSERT_FALSE(r) << "taken while its node was alive and renewing";
    EXPECT_EQ(r.error(), Errc::locked);
    ++refusals;
    std::this_thread::sleep_for(250ms);
  }
  EXPECT_GE(refusals, 10);
  EXPECT_EQ(schema_.admin().query("SELECT count(*) FROM " + schema_.name() +
                                  ".upload_locks WHERE expires_at > now() + interval '300 milliseconds'"),
            std::vector<std::string>{"1"})
      << "renewed recently (every lease/3)";
  held->reset();
  EXPECT_TRUE(take(*b_, "u1", 2s));
}

// The lease row of a node that died (kill -9) frees up after the lease: nothing renews it. The
// dead node is a forked process, forked before this process starts any thread.
TEST(PgLockerDeath, TheLocksOfANodeKilledWithSigkillFreeUpAfterTheLease) {
  TestSchema schema;
  {
    PgPool migrate(schema.conninfo(), 1);
    pg_migrate(migrate);
  }
  const auto rows = [&schema] {
    return schema.admin().query("SELECT id || ' ' || owner FROM " + schema.name() + ".upload_locks ORDER BY id");
  };
  std::array<int, 2> ready{};
  ASSERT_EQ(::pipe(ready.data()), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The doomed node: its own pool, locker and threads; it never returns into the test.
    ::close(ready[0]);
    try {
      net::io_context io;
      net::thread_pool blocking(1);
      PgPool pool(schema.conninfo(), 1);
      PgLocker node(schema.conninfo(), pool, blocking, options("node-dead"));
      auto lock = test::run(io, node.acquire(
                                    "u1", [] {}, 0ms));
      const char ok = lock ? 'y' : 'n';
      (void)::write(ready[1], &ok, 1);
      for (;;) {
        ::pause();
      }
    } catch (...) {
      ::_exit(3);
    }
  }
  ::close(ready[1]);
  char ok = 0;
  const auto got = ::read(ready[0], &ok, 1);
  ::close(ready[0]);
  if (got != 1 || ok != 'y') {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    FAIL() << "the child node did not take the lock";
  }

  net::io_context io;
  net::thread_pool blocking(2);
  PgPool pool(schema.conninfo(), 2);
  auto node = std::make_unique<PgLocker>(schema.conninfo(), pool, blocking, options("node-a"));
  const auto take = [&](std::chrono::milliseconds wait) {
    return test::run(io, node->acquire(
                             "u1", [] {}, wait));
  };
  EXPECT_EQ(rows(), std::vector<std::string>{"u1 node-dead"});
  EXPECT_FALSE(take(0ms)) << "the child is alive and renewing";
  std::this_thread::sleep_for(kLease);  // the live child renews through a whole lease
  EXPECT_FALSE(take(0ms)) << "renewed while alive";

  ASSERT_EQ(::kill(child, SIGKILL), 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  const auto killed = Clock::now();
  auto taken = take(5s);
  const auto waited = Clock::now() - killed;
  ASSERT_TRUE(taken) << taken.error().message();
  const auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(waited).count();
  std::cout << "lock taken over " << waited_ms << " ms after SIGKILL (lease " << kLease.count() << " ms)\n";
  EXPECT_GE(waited, kLease / 2) << "not before the dead node's last renewal ran out";
  EXPECT_LT(waited, kLease + 1s);
  EXPECT_EQ(rows(), std::vector<std::string>{"u1 node-a"});
  taken->reset();
  node.reset();
  blocking.join();
}

TEST_F(PgLockerTest, DestroyingALockerReleasesWhatItHolds) {
  auto u1 = take(*a_, "u1");
  auto u2 = take(*a_, "u2");
  ASSERT_TRUE(u1);
  ASSERT_TRUE(u2);
  a_.reset();
  EXPECT_TRUE(rows().empty());
  auto now_b = take(*b_, "u1");
  EXPECT_TRUE(now_b);
  u1->reset();  // a Lock may outlive its locker: dropping it must not touch the dead locker
  u2->reset();
  EXPECT_EQ(rows(), std::vector<std::string>{"u1 node-b"});
}

// The listener's connection drops: it reconnects, LISTENs again, and a holder is asked again.
TEST_F(PgLockerTest, TheListenerReconnectsAndHearsRequestsAgain) {
  schema_.terminate_connections("vidup-locks " + a_->node_id());
  ASSERT_TRUE(eventually([&] {
    return !schema_.admin()
                .query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1", {"vidup-locks " + a_->node_id()})
                .empty();
  })) << "the listener connected again";
  auto h = std::make_shared<HandOver>();
  run(hand_over(*a_, *b_, h));
  EXPECT_TRUE(h->got);
  EXPECT_EQ(h->asked.load(), 1);
}

// Workers on both nodes fight over one id on a 2-thread io_context: at most one holds it at any
// time, and every worker gets through.
struct Arena {
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> entries{0};
  std::atomic<int> asked{0};
};

constexpr int kWorkersPerNode = 4;
constexpr int kRounds = 10;

net::awaitable<void> worker(PgLocker& node, std::shared_ptr<Arena> a) {
  for (int i = 0; i < kRounds; ++i) {
    std::function<void()> on_release = [a] { a->asked.fetch_add(1); };
    auto lock = co_await node.acquire("shared", std::move(on_release), 30s);
    EXPECT_TRUE(lock) << lock.error().message();
    if (!lock) {
      co_return;
    }
    if (a->inside.fetch_add(1) != 0) {
      a->overlaps.fetch_add(1);
    }
    a->entries.fetch_add(1);
    co_await sleep_for(2ms);
    a->inside.fetch_sub(1);
  }
}

TEST_F(PgLockerTest, ManyAcquiresFromBothNodesNeverOverlap) {
  auto arena = std::make_shared<Arena>();
  net::io_context io(2);
  std::vector<std::future<void>> done;
  for (int w = 0; w < kWorkersPerNode; ++w) {
    done.push_back(net::co_spawn(net::make_strand(io), worker(*a_, arena), net::use_future));
    done.push_back(net::co_spawn(net::make_strand(io), worker(*b_, arena), net::use_future));
  }
  std::thread t1([&] { io.run(); });
  std::thread t2([&] { io.run(); });
  t1.join();
  t2.join();
  for (auto& f : done) {
    f.get();
  }
  EXPECT_EQ(arena->overlaps.load(), 0);
  EXPECT_EQ(arena->entries.load(), 2 * kWorkersPerNode * kRounds);
  EXPECT_GT(arena->asked.load(), 0);
  EXPECT_EQ(a_->held(), 0u);
  EXPECT_EQ(b_->held(), 0u);
  EXPECT_TRUE(eventually([&] { return rows().empty(); }));
}

TEST(PgLocker, AnUnreachableServerThrowsAtStartUp) {
  net::thread_pool blocking(1);
  TestSchema schema;
  PgPool pool(schema.conninfo(), 1);
  pg_migrate(pool);
  EXPECT_THROW(PgLocker("postgres://vidup:pw@127.0.0.1:1/x", pool, blocking), std::runtime_error);
  PgLockerOptions spaced;
  spaced.node_id = "has space";
  EXPECT_THROW(PgLocker(schema.conninfo(), pool, blocking, spaced), std::invalid_argument);
  blocking.join();
}

}  // namespace
}  // namespace vidup::store
