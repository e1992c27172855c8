#include "store/memory/local_locker.hpp"
#include "support/run_awaitable.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <vector>

namespace vidup::store {
namespace {

using namespace std::chrono_literals;
using core::Errc;

TEST(LocalLocker, AFreeLockIsTakenAtOnceAndReleasedWithTheLock) {
  net::io_context io;
  LocalLocker locker;
  auto lock = test::run(io, locker.acquire(
                                "u1", [] {}, 0ms));
  ASSERT_TRUE(lock);
  EXPECT_EQ(locker.held(), 1u);
  auto other = test::run(io, locker.acquire(
                                 "u2", [] {}, 0ms));
  ASSERT_TRUE(other);
  EXPECT_EQ(locker.held(), 2u);
  lock->reset();
  EXPECT_EQ(locker.held(), 1u);
  auto again = test::run(io, locker.acquire(
                                 "u1", [] {}, 0ms));
  EXPECT_TRUE(again);
}

// The newcomer asks the holder to let go; the holder drops its lock a moment later and the
// newcomer gets it, long before its wait runs out.
struct HandOver {
  LocalLocker locker;
  std::unique_ptr<Lock> first;
  int asked = 0;
  bool got = false;
};

// Takes "u1" as h->first, with a release callback that counts the ask and drops h->first.
net::awaitable<void> hold_until_asked(std::shared_ptr<HandOver> h) {
  auto ex = co_await net::this_coro::executor;
  // Named, not a temporary in the co_await: g++ 12 destroys a closure temporary's captures twice.
  std::function<void()> on_release = [ex, h] {
    ++h->asked;
    net::post(ex, [h] { h->first.reset(); });
  };
  auto r = co_await h->locker.acquire("u1", std::move(on_release), 0ms);
  EXPECT_TRUE(r);
  h->first = std::move(*r);
}

net::awaitable<void> hand_over(std::shared_ptr<HandOver> h) {
  co_await hold_until_asked(h);
  const auto start = std::chrono::steady_clock::now();
  auto second = co_await h->locker.acquire(
      "u1", [] {}, 10s);
  EXPECT_TRUE(second);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "woken by the release, not by the deadline";
  EXPECT_EQ(h->first, nullptr);
  EXPECT_EQ(h->locker.held(), 1u);
  h->got = second.has_value();
}

TEST(LocalLocker, SecondAcquireAsksTheHolderAndGetsTheLockWhenItIsDropped) {
  net::io_context io;
  auto h = std::make_shared<HandOver>();
  test::run(io, hand_over(h));
  EXPECT_EQ(h->asked, 1);
  EXPECT_TRUE(h->got);
  EXPECT_EQ(h->locker.held(), 0u);
  h->first.reset();  // breaks nothing: the callback that held `h` went with the first lock
}

// await_free (HEAD-14's reader): asks the holder like acquire, but takes nothing.
net::awaitable<void> await_free_after_hand_over(std::shared_ptr<HandOver> h) {
  co_await hold_until_asked(h);
  const auto start = std::chrono::steady_clock::now();
  auto settled = co_await h->locker.await_free("u1", 10s);
  EXPECT_TRUE(settled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "woken by the release, not by the deadline";
  EXPECT_EQ(h->first, nullptr);
  EXPECT_EQ(h->locker.held(), 0u) << "the reader took no lock";
  h->got = settled.has_value();
}

TEST(LocalLocker, AwaitFreeAsksTheHolderWaitsForTheReleaseAndTakesNothing) {
  net::io_context io;
  auto h = std::make_shared<HandOver>();
  test::run(io, await_free_after_hand_over(h));
  EXPECT_EQ(h->asked, 1);
  EXPECT_TRUE(h->got);
}

TEST(LocalLocker, AwaitFreeOnAFreeLockCompletesAtOnceAndReadersDoNotExcludeEachOther) {
  net::io_context io;
  LocalLocker locker;
  EXPECT_TRUE(test::run(io, locker.await_free("u1", 0ms)));
  EXPECT_TRUE(test::run(io, locker.await_free("u1", 0ms)));
  EXPECT_EQ(locker.held(), 0u);
  auto lock = test::run(io, locker.acquire(
                                "u1", [] {}, 0ms));
  EXPECT_TRUE(lock) << "a writer is not kept out by earlier readers";
}

TEST(LocalLocker, AwaitFreeOnAHolderThatNeverLetsGoFailsWithLocked) {
  net::io_context io;
  LocalLocker locker;
  int asked = 0;
  auto first = test::run(io, locker.acquire(
                                 "u1", [&] { ++asked; }, 0ms));
  ASSERT_TRUE(first);
  const auto start = std::chrono::steady_clock::now();
  auto settled = test::run(io, locker.await_free("u1", 50ms));
  ASSERT_FALSE(settled);
  EXPECT_EQ(settled.error(), Errc::locked);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(locker.held(), 1u);
}

TEST(LocalLocker, AHolderThatNeverLetsGoMakesTheNewcomerFailWithLocked) {
  net::io_context io;
  LocalLocker locker;
  int asked = 0;
  auto first = test::run(io, locker.acquire(
                                 "u1", [&] { ++asked; }, 0ms));
  ASSERT_TRUE(first);
  const auto start = std::chrono::steady_clock::now();
  auto second = test::run(io, locker.acquire(
                                  "u1", [] {}, 50ms));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), Errc::locked);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  auto third = test::run(io, locker.acquire(
                                 "u1", [] {}, 0ms));
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error(), Errc::locked);
  EXPECT_EQ(asked, 1) << "the holder is asked once";
  EXPECT_EQ(locker.held(), 1u);
}

TEST(LocalLocker, ALockMayOutliveItsLocker) {
  net::io_context io;
  auto locker = std::make_unique<LocalLocker>();
  auto lock = test::run(io, locker->acquire(
                                "u1", [] {}, 0ms));
  ASSERT_TRUE(lock);
  locker.reset();
  lock->reset();  // must not touch the dead locker
}

// Many workers fight over one id on a 2-thread io_context: at most one holds it at any time,
// every holder is asked to let go, and every worker eventually gets through.
struct Arena {
  LocalLocker locker;
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> entries{0};
  std::atomic<int> asked{0};
};

constexpr int kWorkers = 8;
constexpr int kRounds = 25;

net::awaitable<void> worker(std::shared_ptr<Arena> a) {
  auto ex = co_await net::this_coro::executor;
  for (int i = 0; i < kRounds; ++i) {
    std::function<void()> on_release = [a] { a->asked.fetch_add(1); };
    auto lock = co_await a->locker.acquire("shared", std::move(on_release), 30s);
    EXPECT_TRUE(lock);
    if (!lock) {
      co_return;
    }
    if (a->inside.fetch_add(1) != 0) {
      a->overlaps.fetch_add(1);
    }
    a->entries.fetch_add(1);
    net::steady_timer pause(ex, 100us);
    co_await pause.async_wait(net::use_awaitable);
    a->inside.fetch_sub(1);
  }
}

template <class MakeExecutor>
void contend(net::io_context& io, MakeExecutor make_executor) {
  auto a = std::make_shared<Arena>();
  std::vector<std::future<void>> done;
  for (int w = 0; w < kWorkers; ++w) {
    done.push_back(net::co_spawn(make_executor(), worker(a), net::use_future));
  }
  std::thread t1([&] { io.run(); });
  std::thread t2([&] { io.run(); });
  t1.join();
  t2.join();
  for (auto& f : done) {
    f.get();
  }
  EXPECT_EQ(a->overlaps.load(), 0);
  EXPECT_EQ(a->entries.load(), kWorkers * kRounds);
  EXPECT_GT(a->asked.load(), 0);
  EXPECT_EQ(a->locker.held(), 0u);
}

TEST(LocalLocker, ExcludesAcrossStrandsOfATwoThreadIoContext) {
  net::io_context io(2);
  contend(io, [&] { return net::make_strand(io); });
}

TEST(LocalLocker, ExcludesEvenWhenWaitersRunOnAPlainMultiThreadedExecutor) {
  net::io_context io(2);
  contend(io, [&] { return io.get_executor(); });
}

}  // namespace
}  // namespace vidup::store
