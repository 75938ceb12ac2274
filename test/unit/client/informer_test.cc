#include "client/informer.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "client/api_client_fake.h"

namespace nanokube::client {
namespace {

using namespace std::chrono_literals;

Json pod(const std::string& name, const std::string& app = "web") {
  return Json{{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"labels", {{"app", app}}}}},
              {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "nginx"}}})}}}};
}

const std::string kPods = "/api/v1/namespaces/ns/pods";

// The handler calls as "add ns/a", "update ns/a", "delete ns/a", waitable.
struct Log {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> lines;

  InformerHandlers handlers() {
    InformerHandlers h;
    h.onAdd = [this](const std::string& k, const ObjectPtr&) { push("add " + k); };
    h.onUpdate = [this](const std::string& k, const ObjectPtr&, const ObjectPtr&) { push("update " + k); };
    h.onDelete = [this](const std::string& k, const ObjectPtr&) { push("delete " + k); };
    return h;
  }
  void push(std::string s) {
    std::lock_guard lock(mu);
    lines.push_back(std::move(s));
    cv.notify_all();
  }
  // Waits until `n` lines have arrived and returns them.
  std::vector<std::string> waitFor(size_t n) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, 10s, [&] { return lines.size() >= n; });
    return lines;
  }
  void clear() {
    std::lock_guard lock(mu);
    lines.clear();
  }
};

InformerOptions options() {
  InformerOptions o;
  o.path = kPods;
  o.initialBackoff = 1ms;
  o.maxBackoff = 2ms;
  o.listPageSize = 0;
  return o;
}

// Waits (bounded) until `pred` holds; the informer works on its own thread.
template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 2000 && !pred(); ++i) std::this_thread::sleep_for(1ms);
  return pred();
}

TEST(Informer, ListsThenFollowsTheWatch) {
  ApiClientFake fake;
  ASSERT_TRUE(fake.create(kPods, pod("a")));
  ASSERT_TRUE(fake.create(kPods, pod("b")));
  Log log;
  Informer inf(fake, options(), log.handlers());
  inf.start();
  ASSERT_TRUE(inf.waitForSync(10s));
  EXPECT_EQ(inf.size(), 2u);
  ASSERT_NE(inf.get("ns/a"), nullptr);
  // List items get their kind back.
  EXPECT_EQ((*inf.get("ns/a"))["kind"], "Pod");
  EXPECT_EQ(log.waitFor(2), (std::vector<std::string>{"add ns/a", "add ns/b"}));
  ASSERT_TRUE(eventually([&] { return fake.openWatches() == 1; }));

  auto snap = inf.snapshot();
  EXPECT_EQ(snap, inf.snapshot());  // unchanged cache: the same snapshot
  ASSERT_TRUE(fake.create(kPods, pod("c")));
  ASSERT_TRUE(fake.patch(kPods + "/a", PatchType::kMerge, Json{{"metadata", {{"labels", {{"x", "y"}}}}}}));
  ASSERT_TRUE(fake.remove(kPods + "/b"));
  EXPECT_EQ(log.waitFor(5), (std::vector<std::string>{"add ns/a", "add ns/b", "add ns/c", "update ns/a",
                                                      "delete ns/b"}));
  EXPECT_EQ(inf.get("ns/b"), nullptr);
  EXPECT_EQ((*inf.get("ns/a"))["metadata"]["labels"]["x"], "y");
  EXPECT_EQ(inf.lastResourceVersion(), std::to_string(fake.resourceVersion()));
  // The old snapshot is immutable; a new one sees the changes.
  EXPECT_EQ(snap->size(), 2u);
  EXPECT_TRUE(snap->contains("ns/b"));
  EXPECT_EQ(inf.snapshot()->size(), 2u);
  EXPECT_TRUE(inf.snapshot()->contains("ns/c"));
  EXPECT_EQ(inf.listCount(), 1);
}

TEST(Informer, CleanWatchEndResumesFromTheLastResourceVersion) {
  ApiClientFake fake;
  ASSERT_TRUE(fake.create(kPods, pod("a")));
  Log log;
  Informer inf(fake, options(), log.handlers());
  inf.start();
  ASSERT_TRUE(inf.waitForSync(10s));
  ASSERT_TRUE(eventually([&] { return fake.openWatches() == 1; }));
  std::string rv = inf.lastResourceVersion();
  fake.clearActions();
  fake.endWatches(false);  // the server's timeoutSeconds
  ASSERT_TRUE(eventually([&] { return fake.openWatches() == 1; }));
  ASSERT_TRUE(fake.create(kPods, pod("b")));
  log.waitFor(2);
  EXPECT_EQ(inf.listCount(), 1);
  auto actions = fake.actions();
  ASSERT_FALSE(actions.empty());
  EXPECT_EQ(actions[0].verb, "watch");
  EXPECT_NE(inf.get("ns/b"), nullptr);
}

TEST(Informer, ExpiredWatchRelistsAndReportsWhatChangedMeanwhile) {
  ApiClientFake fake;
  ASSERT_TRUE(fake.create(kPods, pod("a")));
  ASSERT_TRUE(fake.create(kPods, pod("b")));
  Log log;
  // The first list's first handler call holds the informer until the world
  // has changed and the history is compacted, so that its watch from the
  // list's resourceVersion gets 410 and the changes are seen only by a relist.
  std::promise<void> holding, release;
  auto released = release.get_future().share();
  bool first = true;
  InformerHandlers h = log.handlers();
  auto add = h.onAdd;
  h.onAdd = [&](const std::string& k, const ObjectPtr& o) {
    if (std::exchange(first, false)) {
      holding.set_value();
      released.wait();
    }
    add(k, o);
  };
  Informer inf(fake, options(), h);
  inf.start();
  holding.get_future().wait();
  ASSERT_TRUE(fake.remove(kPods + "/b"));
  ASSERT_TRUE(fake.create(kPods, pod("c")));
  ASSERT_TRUE(fake.patch(kPods + "/a", PatchType::kMerge, Json{{"metadata", {{"labels", {{"v", "2"}}}}}}));
  fake.compact();
  release.set_value();

  EXPECT_EQ(log.waitFor(5), (std::vector<std::string>{"add ns/a", "add ns/b", "update ns/a", "add ns/c",
                                                      "delete ns/b"}));
  EXPECT_EQ(inf.listCount(), 2);
  EXPECT_EQ(inf.get("ns/b"), nullptr);
  EXPECT_NE(inf.get("ns/c"), nullptr);
  EXPECT_EQ((*inf.get("ns/a"))["metadata"]["labels"]["v"], "2");
  ASSERT_TRUE(eventually([&] { return fake.openWatches() == 1; }));
}

TEST(Informer, ErrorEventOnAnOpenWatchRelists) {
  ApiClientFake fake;
  ASSERT_TRUE(fake.create(kPods, pod("a")));
  Informer inf(fake, options());
  inf.start();
  ASSERT_TRUE(inf.waitForSync(10s));
  ASSERT_TRUE(eventually([&] { return fake.openWatches() == 1; }));
  fake.endWatches(true);
  ASSERT_TRUE(eventually([&] { return inf.listCount() == 2 && fake.openWatches() == 1; }));
}

TEST(Informer, DisconnectAndFailingListsAreRetried) {
  ApiClientFake fake;
  ASSERT_TRUE(fake.create(kPods, pod("a")));
  fake.injectError("list", Error{Code::kUnavailable, "down"});
  Informer inf(fake, options());
  inf.start();
  ASSERT_TRUE(inf.waitForSync(10s));
  EXPECT_EQ(inf.listCount(), 2);  // the first failed
  ASSERT_TRUE(eventually([&] { return fake.openWatches() == 1; }));
  fake.injectError("list", Error{Code::kUnavailable, "still down"});
  fake.endWatches(false, std::unexpected(Error{Code::kUnavailable, "connection reset"}));
  ASSERT_TRUE(eventually([&] { return inf.listCount() == 4 && fake.openWatches() == 1; }));
  ASSERT_TRUE(fake.create(kPods, pod("b")));
  ASSERT_TRUE(eventually([&] { return inf.get("ns/b") != nullptr; }));
  EXPECT_TRUE(inf.hasSynced());
}

TEST(Informer, LabelSelectorAndStop) {
  ApiClientFake fake;
  ASSERT_TRUE(fake.create(kPods, pod("a", "web")));
  ASSERT_TRUE(fake.create(kPods, pod("b", "db")));
  auto o = options();
  o.labelSelector = "app=web";
  Informer inf(fake, o);
  inf.start();
  ASSERT_TRUE(inf.waitForSync(10s));
  EXPECT_EQ(inf.size(), 1u);
  EXPECT_NE(inf.get("ns/a"), nullptr);
  ASSERT_TRUE(eventually([&] { return fake.openWatches() == 1; }));
  inf.stop();
  EXPECT_EQ(fake.openWatches(), 0u);
  EXPECT_EQ(inf.size(), 1u);  // the cache stays readable
}

TEST(Informer, WaitForSyncTimesOutWhileTheListFails) {
  ApiClientFake fake;
  for (int i = 0; i < 1000; ++i) fake.injectError("list", Error{Code::kForbidden, "no"});
  Informer inf(fake, options());
  inf.start();
  EXPECT_FALSE(inf.waitForSync(20ms));
  inf.stop();
}

}  // namespace
}  // namespace nanokube::client
