// A coarse guard on the store's fast paths with 10,000 stored objects. The API
// server's targets are >= 500 creates/s with p99 <= 20 ms and >= 2000 GET/s on 2
// cores; the store alone must be far inside them. The bounds asserted here are the
// targets themselves (not tighter), because the machine is shared, and the measured
// figures are printed for the record.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "store_test_util.h"

namespace nanokube::store {
namespace {

using testing::openOrDie;
using testing::TempDir;
using Clock = std::chrono::steady_clock;

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double percentile(std::vector<double> samples, double p) {
  std::sort(samples.begin(), samples.end());
  return samples[static_cast<size_t>(p * static_cast<double>(samples.size() - 1))];
}

long rssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST(StorePerf, TenThousandObjects) {
  constexpr int kObjects = 10000;
  TempDir dir;
  auto store = openOrDie(dir.file("store.db"));
  ASSERT_NE(store, nullptr);
  // About the size of a pod's JSON.
  const std::string value(2048, 'x');
  auto key = [](int i) { return "/registry/pods/default/pod-" + std::to_string(i); };

  std::vector<double> createMicros;
  createMicros.reserve(kObjects);
  auto start = Clock::now();
  for (int i = 0; i < kObjects; ++i) {
    auto t0 = Clock::now();
    ASSERT_TRUE(store->create(key(i), value));
    createMicros.push_back(micros(Clock::now() - t0));
  }
  double createSeconds = micros(Clock::now() - start) / 1e6;
  double createsPerSecond = kObjects / createSeconds;

  // GET capacity: two threads reading at the latest revision as fast as they can.
  std::atomic<bool> stop = false;
  std::atomic<long> gets = 0;
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937 rng(r + 7);
      while (!stop) {
        ASSERT_TRUE(store->get(key(static_cast<int>(rng() % kObjects))));
        ++gets;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (auto& t : readers) t.join();
  double getsPerSecond = static_cast<double>(gets.load()) / 0.5;

  // The API server's target load together: 2000 GET/s and 500 updates/s for a second.
  std::vector<double> updateMicros;
  std::vector<double> getMicros;
  std::thread updater([&] {
    std::mt19937 rng(1);
    for (int i = 0; i < 500; ++i) {
      auto t0 = Clock::now();
      ASSERT_TRUE(store->update(key(static_cast<int>(rng() % kObjects)), value, 0));
      updateMicros.push_back(micros(Clock::now() - t0));
      std::this_thread::sleep_until(t0 + std::chrono::milliseconds(2));
    }
  });
  std::thread reader([&] {
    std::mt19937 rng(3);
    for (int batch = 0; batch < 100; ++batch) {
      auto batchStart = Clock::now();
      for (int i = 0; i < 20; ++i) {
        auto t0 = Clock::now();
        ASSERT_TRUE(store->get(key(static_cast<int>(rng() % kObjects))));
        getMicros.push_back(micros(Clock::now() - t0));
      }
      std::this_thread::sleep_until(batchStart + std::chrono::milliseconds(10));
    }
  });
  updater.join();
  reader.join();

  double listMillis[2];
  for (double& millis : listMillis) {
    auto listStart = Clock::now();
    auto all = store->list("/registry/pods/");
    millis = micros(Clock::now() - listStart) / 1000;
    ASSERT_TRUE(all);
    EXPECT_EQ(all->items.size(), static_cast<size_t>(kObjects));
  }

  int64_t old = kObjects / 2;
  auto oldStart = Clock::now();
  auto oldGet = store->get(key(0), old);
  double oldGetMicros = micros(Clock::now() - oldStart);
  ASSERT_TRUE(oldGet) << oldGet.error().message;

  auto compactStart = Clock::now();
  ASSERT_TRUE(store->compact(store->revision()));
  double compactMillis = micros(Clock::now() - compactStart) / 1000;

  std::printf(
      "creates: %.0f/s, p50 %.0f us, p99 %.0f us, max %.0f us\n"
      "get capacity (2 threads): %.0f/s\n"
      "at 2000 GET/s + 500 updates/s: get p99 %.0f us, update p50 %.0f us, p99 %.0f us\n"
      "list of %d: %.1f ms, again %.1f ms; get at an old revision: %.0f us; compact: %.1f ms; RSS %ld KiB\n",
      createsPerSecond, percentile(createMicros, 0.5), percentile(createMicros, 0.99),
      percentile(createMicros, 1.0), getsPerSecond, percentile(getMicros, 0.99),
      percentile(updateMicros, 0.5), percentile(updateMicros, 0.99), kObjects, listMillis[0],
      listMillis[1], oldGetMicros, compactMillis, rssKiB());

  EXPECT_GE(createsPerSecond, 500);
  EXPECT_LE(percentile(createMicros, 0.99), 20000);
  EXPECT_GE(getsPerSecond, 2000);
  EXPECT_LE(percentile(updateMicros, 0.99), 20000);
}

}  // namespace
}  // namespace nanokube::store
