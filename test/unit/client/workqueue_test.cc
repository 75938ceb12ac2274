#include "client/workqueue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace nanokube::client {
namespace {

using namespace std::chrono_literals;

TEST(WorkQueue, DedupsAndKeepsFirstAddOrder) {
  WorkQueue q;
  q.add("b");
  q.add("a");
  q.add("b");
  q.add("c");
  q.add("a");
  EXPECT_EQ(q.len(), 3u);
  EXPECT_EQ(q.get(), "b");
  EXPECT_EQ(q.get(), "a");
  EXPECT_EQ(q.get(), "c");
  EXPECT_EQ(q.tryGet(), std::nullopt);
}

TEST(WorkQueue, KeyAddedWhileProcessingComesBackOnceAfterDone) {
  WorkQueue q;
  q.add("k");
  auto k = q.get();
  ASSERT_EQ(k, "k");
  q.add("k");
  q.add("k");
  // Not handed to a second worker while the first holds it.
  EXPECT_EQ(q.tryGet(), std::nullopt);
  EXPECT_EQ(q.len(), 0u);
  q.done("k");
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(q.get(), "k");
  q.done("k");
  EXPECT_EQ(q.tryGet(), std::nullopt);
}

TEST(WorkQueue, GetBlocksUntilAddAndShutDownWakes) {
  WorkQueue q;
  std::optional<std::string> got;
  std::thread worker([&] { got = q.get(); });
  q.add("x");
  worker.join();
  EXPECT_EQ(got, "x");

  std::thread waiter([&] { got = q.get(); });
  q.shutDown();
  waiter.join();
  EXPECT_EQ(got, std::nullopt);
  q.add("ignored");
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkQueue, ShutDownStillDrainsQueuedKeys) {
  WorkQueue q;
  q.add("a");
  q.shutDown();
  EXPECT_EQ(q.get(), "a");
  EXPECT_EQ(q.get(), std::nullopt);
}

TEST(ExponentialBackoff, DoublesFromFiveMillisecondsToAThousandSeconds) {
  ExponentialBackoff b;
  std::vector<std::chrono::nanoseconds> want = {5ms, 10ms, 20ms, 40ms, 80ms, 160ms, 320ms, 640ms, 1280ms};
  for (auto w : want) EXPECT_EQ(b.when("k"), w);
  EXPECT_EQ(b.numRequeues("k"), 9);
  // 5 ms * 2^17 = 655.36 s, 2^18 is past the cap.
  for (int i = 9; i < 17; ++i) b.when("k");
  EXPECT_EQ(b.when("k"), std::chrono::nanoseconds(655'360ms));
  EXPECT_EQ(b.when("k"), std::chrono::nanoseconds(1000s));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(b.when("k"), std::chrono::nanoseconds(1000s));
  // Keys are independent; forget resets.
  EXPECT_EQ(b.when("other"), std::chrono::nanoseconds(5ms));
  b.forget("k");
  EXPECT_EQ(b.numRequeues("k"), 0);
  EXPECT_EQ(b.when("k"), std::chrono::nanoseconds(5ms));
}

TEST(WorkQueue, AddRateLimitedWaitsForTheBackoffOnTheClock) {
  auto clock = std::make_shared<FakeClock>();
  WorkQueue q(clock);
  q.addRateLimited("k");  // 5 ms
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.waiting(), 1u);
  clock->advance(4ms);
  EXPECT_EQ(q.tryGet(), std::nullopt);
  clock->advance(1ms);
  EXPECT_EQ(q.tryGet(), "k");
  q.done("k");

  q.addRateLimited("k");  // 10 ms
  clock->advance(9ms);
  EXPECT_EQ(q.len(), 0u);
  clock->advance(1ms);
  EXPECT_EQ(q.get(), "k");
  q.done("k");
  EXPECT_EQ(q.numRequeues("k"), 2);
  q.forget("k");
  EXPECT_EQ(q.numRequeues("k"), 0);
  q.addRateLimited("k");
  clock->advance(5ms);
  EXPECT_EQ(q.tryGet(), "k");
}

TEST(WorkQueue, DelayedKeysComeOutInTimeOrderAndKeepTheEarliestTime) {
  auto clock = std::make_shared<FakeClock>();
  WorkQueue q(clock);
  q.addAfter("late", 30ms);
  q.addAfter("early", 10ms);
  q.addAfter("late", 50ms);   // later than what is pending: ignored
  q.addAfter("early", 20ms);  // ignored too
  q.addAfter("mid", 20ms);
  EXPECT_EQ(q.waiting(), 3u);
  clock->advance(10ms);
  EXPECT_EQ(q.len(), 1u);
  clock->advance(20ms);
  EXPECT_EQ(q.get(), "early");
  EXPECT_EQ(q.get(), "mid");
  EXPECT_EQ(q.get(), "late");
  EXPECT_EQ(q.waiting(), 0u);
}

TEST(WorkQueue, DelayedKeyAlreadyQueuedIsNotDoubled) {
  auto clock = std::make_shared<FakeClock>();
  WorkQueue q(clock);
  q.add("k");
  q.addAfter("k", 1ms);
  clock->advance(1ms);
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(q.get(), "k");
  EXPECT_EQ(q.tryGet(), std::nullopt);
}

TEST(WorkQueue, ZeroDelayAddsAtOnce) {
  auto clock = std::make_shared<FakeClock>();
  WorkQueue q(clock);
  q.addAfter("k", 0ms);
  EXPECT_EQ(q.tryGet(), "k");
}

TEST(WorkQueue, ManyWorkersNeverHoldTheSameKey) {
  WorkQueue q;
  std::mutex mu;
  std::set<std::string> held;
  std::atomic<int> processed{0}, overlaps{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.get()) {
        {
          std::lock_guard lock(mu);
          if (!held.insert(*key).second) ++overlaps;
        }
        std::this_thread::yield();
        {
          std::lock_guard lock(mu);
          held.erase(*key);
        }
        ++processed;
        q.done(*key);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) q.add("key-" + std::to_string(i % 7));
  while (q.len() > 0) std::this_thread::yield();
  q.shutDown();
  for (auto& t : workers) t.join();
  EXPECT_EQ(overlaps, 0);
  EXPECT_GE(processed, 7);
}

}  // namespace
}  // namespace nanokube::client
