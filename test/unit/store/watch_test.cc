#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "store_test_util.h"

namespace nanokube::store {
namespace {

using testing::openOrDie;
using testing::TempDir;

// Records events; callbacks may run on the writer's thread.
class Recorder {
 public:
  WatchCallback callback() {
    return [this](const Event& event) {
      std::lock_guard lock(mu_);
      events_.push_back(event);
    };
  }
  std::vector<Event> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<int64_t> revisions() const {
    std::vector<int64_t> out;
    for (const auto& e : events()) out.push_back(e.kv.modRevision);
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Event> events_;
};

class WatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = openOrDie(dir_.file("store.db"));
    ASSERT_NE(store_, nullptr);
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(WatchTest, ReplaysHistoryThenDeliversLiveEventsInOrder) {
  ASSERT_TRUE(store_->create("/pods/a", "a1"));     // 1
  ASSERT_TRUE(store_->create("/svc/x", "x1"));      // 2, other prefix
  ASSERT_TRUE(store_->update("/pods/a", "a2", 0));  // 3
  ASSERT_TRUE(store_->create("/pods/b", "b1"));     // 4

  Recorder recorder;
  auto watch = store_->watch("/pods/", 1, recorder.callback());
  ASSERT_TRUE(watch) << watch.error().message;
  EXPECT_EQ(recorder.revisions(), (std::vector<int64_t>{3, 4}));

  ASSERT_TRUE(store_->remove("/pods/a", 0));      // 5
  ASSERT_TRUE(store_->create("/svc/y", "y1"));    // 6, other prefix
  ASSERT_TRUE(store_->update("/pods/b", "b2", 4));  // 7

  auto events = recorder.events();
  ASSERT_EQ(recorder.revisions(), (std::vector<int64_t>{3, 4, 5, 7}));

  // Replayed update: carries the previous value.
  EXPECT_EQ(events[0].type, Event::Type::kPut);
  EXPECT_EQ(events[0].kv.value, "a2");
  EXPECT_EQ(events[0].kv.createRevision, 1);
  ASSERT_TRUE(events[0].prev.has_value());
  EXPECT_EQ(events[0].prev->value, "a1");
  EXPECT_EQ(events[0].prev->modRevision, 1);
  // Replayed create: no previous value.
  EXPECT_EQ(events[1].kv.key, "/pods/b");
  EXPECT_FALSE(events[1].prev.has_value());
  // Live delete: the last value, at the delete's revision.
  EXPECT_EQ(events[2].type, Event::Type::kDelete);
  EXPECT_EQ(events[2].kv.key, "/pods/a");
  EXPECT_EQ(events[2].kv.value, "a2");
  EXPECT_EQ(events[2].kv.createRevision, 1);
  ASSERT_TRUE(events[2].prev.has_value());
  EXPECT_EQ(events[2].prev->modRevision, 3);
  // Live update.
  EXPECT_EQ(events[3].kv.value, "b2");
  ASSERT_TRUE(events[3].prev.has_value());
  EXPECT_EQ(events[3].prev->value, "b1");
}

TEST_F(WatchTest, ReplayedDeleteCarriesTheDeletedValue) {
  ASSERT_TRUE(store_->create("/a", "1"));     // 1
  ASSERT_TRUE(store_->update("/a", "2", 0));  // 2
  ASSERT_TRUE(store_->remove("/a", 0));       // 3
  Recorder recorder;
  auto watch = store_->watch("/", 2, recorder.callback());
  ASSERT_TRUE(watch) << watch.error().message;
  auto events = recorder.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, Event::Type::kDelete);
  EXPECT_EQ(events[0].kv.value, "2");
  EXPECT_EQ(events[0].kv.modRevision, 3);
  EXPECT_EQ(events[0].kv.createRevision, 1);
  ASSERT_TRUE(events[0].prev.has_value());
  EXPECT_EQ(events[0].prev->modRevision, 2);
}

TEST_F(WatchTest, WatchFromCurrentRevisionSeesOnlyNewEvents) {
  ASSERT_TRUE(store_->create("/a", "1"));
  Recorder recorder;
  auto watch = store_->watch("", store_->revision(), recorder.callback());
  ASSERT_TRUE(watch);
  EXPECT_TRUE(recorder.events().empty());
  ASSERT_TRUE(store_->create("/b", "1"));
  EXPECT_EQ(recorder.revisions(), (std::vector<int64_t>{2}));
}

TEST_F(WatchTest, WatchFromTheFutureIsRefused) {
  ASSERT_TRUE(store_->create("/a", "1"));
  Recorder recorder;
  auto watch = store_->watch("", 5, recorder.callback());
  ASSERT_FALSE(watch);
  EXPECT_EQ(watch.error().code, Code::kTimeout);
  EXPECT_EQ(watch.error().message, "Too large resource version: 5, current: 1");
}

TEST_F(WatchTest, WatchBeforeCompactionPointIsGone) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->create("/k/" + std::to_string(i), "v"));
  ASSERT_TRUE(store_->update("/k/0", "w", 0));  // 6
  ASSERT_TRUE(store_->compact(3));
  Recorder recorder;
  auto gone = store_->watch("/k/", 2, recorder.callback());
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Code::kGone);
  EXPECT_EQ(gone.error().message, "too old resource version: 2 (3)");

  // From the compaction point itself, history after it is complete, prev included.
  auto ok = store_->watch("/k/", 3, recorder.callback());
  ASSERT_TRUE(ok) << ok.error().message;
  auto events = recorder.events();
  ASSERT_EQ(recorder.revisions(), (std::vector<int64_t>{4, 5, 6}));
  ASSERT_TRUE(events[2].prev.has_value());
  EXPECT_EQ(events[2].prev->modRevision, 1);
  EXPECT_EQ(events[2].prev->value, "v");
}

TEST_F(WatchTest, DestroyingTheHandleStopsDelivery) {
  Recorder recorder;
  auto watch = store_->watch("", 0, recorder.callback());
  ASSERT_TRUE(watch);
  ASSERT_TRUE(store_->create("/a", "1"));
  watch->reset();
  ASSERT_TRUE(store_->create("/b", "1"));
  EXPECT_EQ(recorder.revisions(), (std::vector<int64_t>{1}));
}

TEST_F(WatchTest, CallbackMayDestroyItsOwnWatch) {
  std::unique_ptr<Watch> handle;
  int calls = 0;
  auto watch = store_->watch("", 0, [&](const Event&) {
    ++calls;
    handle.reset();
  });
  ASSERT_TRUE(watch);
  handle = std::move(*watch);
  ASSERT_TRUE(store_->create("/a", "1"));
  ASSERT_TRUE(store_->create("/b", "1"));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(handle, nullptr);
}

TEST_F(WatchTest, HandleMayOutliveTheStore) {
  Recorder recorder;
  auto watch = store_->watch("", 0, recorder.callback());
  ASSERT_TRUE(watch);
  store_.reset();
  watch->reset();  // Must not touch the destroyed store.
  SUCCEED();
}

// Registering while another thread writes must neither lose nor repeat an event:
// replay and registration happen under the writer lock.
TEST_F(WatchTest, NoGapNoDuplicateWhileWritesRace) {
  constexpr int kWrites = 1500;
  std::atomic<bool> started = false;
  std::thread writer([&] {
    for (int i = 0; i < kWrites; ++i) {
      auto created = store_->create("/k/" + std::to_string(i), "v");
      ASSERT_TRUE(created) << created.error().message;
      started = true;
    }
  });
  while (!started) std::this_thread::yield();

  std::vector<std::unique_ptr<Watch>> watches;
  std::vector<std::unique_ptr<Recorder>> recorders;
  for (int i = 0; i < 5; ++i) {
    recorders.push_back(std::make_unique<Recorder>());
    auto watch = store_->watch("/k/", 0, recorders.back()->callback());
    ASSERT_TRUE(watch) << watch.error().message;
    watches.push_back(std::move(*watch));
    std::this_thread::yield();
  }
  writer.join();

  std::vector<int64_t> expected;
  for (int64_t r = 1; r <= kWrites; ++r) expected.push_back(r);
  for (const auto& recorder : recorders) EXPECT_EQ(recorder->revisions(), expected);
}

}  // namespace
}  // namespace nanokube::store
