// The scheduler loop over a real registry and SQLite store: pods created
// through the registry get bound, events and conditions as Kubernetes' scheduler
// writes them. Waits poll a condition with a deadline; nothing sleeps a fixed time.

#include "apiserver/scheduler_loop.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <thread>

#include "api/object.h"
#include "store/store.h"

namespace nanokube::apiserver {
namespace {

const api::ResourceInfo& res(const char* plural) { return *api::findResource("", "v1", plural); }

Json readyNode(const std::string& name, Json labels = Json::object()) {
  return {{"metadata", {{"name", name}, {"labels", labels}}},
          {"status",
           {{"capacity", {{"cpu", "2"}, {"memory", "4Gi"}, {"pods", "110"}}},
            {"allocatable", {{"cpu", "2"}, {"memory", "4Gi"}, {"pods", "110"}}},
            {"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}, {"reason", "KubeletReady"}}})}}}};
}

Json pod(const std::string& name, Json container = Json::object()) {
  Json c = {{"name", "c"}, {"image", "nginx"}};
  c.update(container);
  return {{"metadata", {{"name", name}}}, {"spec", {{"containers", Json::array({c})}}}};
}

Json condition(const Json& pod, const std::string& type) {
  if (!pod.contains("status") || !pod["status"].contains("conditions")) return Json();
  for (const auto& c : pod["status"]["conditions"]) {
    if (c.value("type", "") == type) return c;
  }
  return Json();
}

class SchedulerLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nk-schedloop-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto store = store::openSqliteStore(dir_ + "/store.db");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    auto registry = Registry::create(*store_, {}, systemNow);
    ASSERT_TRUE(registry) << registry.error().message;
    registry_ = std::move(*registry);
    ASSERT_TRUE(registry_->bootstrap());
    SchedulerLoop::Options opts;
    opts.seed = 7;
    opts.initialBackoff = std::chrono::milliseconds(20);
    opts.maxBackoff = std::chrono::milliseconds(100);
    opts.unschedulableFlush = std::chrono::milliseconds(60000);  // retries here come from cluster changes
    loop_ = std::make_unique<SchedulerLoop>(*registry_, opts);
    ASSERT_TRUE(loop_->start());
  }
  void TearDown() override {
    loop_.reset();
    registry_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Json create(const char* plural, const std::string& ns, Json obj) {
    auto w = registry_->create(res(plural), ns, std::move(obj), {});
    EXPECT_TRUE(w) << w.error().message;
    return w ? w->object : Json();
  }
  Json getPod(const std::string& name) {
    auto p = registry_->get(res("pods"), "default", name);
    return p ? *p : Json();
  }
  std::vector<Json> eventsFor(const std::string& podName, const std::string& reason) {
    std::vector<Json> out;
    auto list = registry_->list(res("events"), "default", {});
    if (!list) return out;
    for (const auto& ev : (*list)["items"]) {
      if (ev["involvedObject"].value("name", "") == podName && ev.value("reason", "") == reason) out.push_back(ev);
    }
    return out;
  }
  // Polls `done` until it holds or 10 s pass.
  bool eventually(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }
  std::string nodeOf(const std::string& podName) { return api::strField(getPod(podName), "spec", "nodeName"); }
  bool bound(const std::string& podName) { return !nodeOf(podName).empty(); }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<SchedulerLoop> loop_;
};

TEST_F(SchedulerLoopTest, BindsAPodRecordsScheduledAndSetsPodScheduled) {
  create("nodes", "", readyNode("node-1"));
  create("nodes", "", readyNode("node-2"));
  Json created = create("pods", "default", pod("nginxpod"));
  ASSERT_TRUE(eventually([&] { return bound("nginxpod") && !eventsFor("nginxpod", "Scheduled").empty(); }));
  Json p = getPod("nginxpod");
  std::string node = p["spec"]["nodeName"];
  EXPECT_TRUE(node == "node-1" || node == "node-2") << node;
  Json cond = condition(p, "PodScheduled");
  EXPECT_EQ(cond.value("status", ""), "True");
  EXPECT_TRUE(cond.contains("lastTransitionTime"));

  auto events = eventsFor("nginxpod", "Scheduled");
  ASSERT_EQ(events.size(), 1u);
  const Json& ev = events[0];
  EXPECT_EQ(ev["type"], "Normal");
  EXPECT_EQ(ev["message"], "Successfully assigned default/nginxpod to " + node);
  EXPECT_EQ(ev["source"]["component"], "default-scheduler");
  EXPECT_EQ(ev["reportingComponent"], "default-scheduler");
  EXPECT_EQ(ev["count"], 1);
  EXPECT_TRUE(ev.contains("firstTimestamp") && ev["firstTimestamp"] == ev["lastTimestamp"]);
  EXPECT_EQ(ev["involvedObject"]["kind"], "Pod");
  EXPECT_EQ(ev["involvedObject"]["apiVersion"], "v1");
  EXPECT_EQ(ev["involvedObject"]["namespace"], "default");
  EXPECT_EQ(ev["involvedObject"]["uid"], created["metadata"]["uid"]);
  EXPECT_FALSE(ev["involvedObject"].value("resourceVersion", "").empty());
  std::string name = ev["metadata"]["name"];
  EXPECT_EQ(name.rfind("nginxpod.", 0), 0u) << name;
  EXPECT_EQ(name.find_first_not_of("0123456789abcdef", 9), std::string::npos) << name;
}

TEST_F(SchedulerLoopTest, APodTooBigForEveryNodeGetsFailedSchedulingAndStaysPending) {
  create("nodes", "", readyNode("node-1"));
  create("nodes", "", readyNode("node-2"));
  create("pods", "default", pod("big", {{"resources", {{"requests", {{"memory", "64Gi"}}}}}}));
  const std::string message =
      "0/2 nodes are available: 2 Insufficient memory. preemption: 0/2 nodes are available: 2 No preemption "
      "victims found for incoming pod.";
  ASSERT_TRUE(eventually([&] {
    return !eventsFor("big", "FailedScheduling").empty() && condition(getPod("big"), "PodScheduled").is_object();
  }));
  auto events = eventsFor("big", "FailedScheduling");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "Warning");
  EXPECT_EQ(events[0]["message"], message);
  EXPECT_EQ(events[0]["source"]["component"], "default-scheduler");
  Json p = getPod("big");
  Json cond = condition(p, "PodScheduled");
  EXPECT_EQ(cond["status"], "False");
  EXPECT_EQ(cond["reason"], "Unschedulable");
  EXPECT_EQ(cond["message"], message);
  EXPECT_FALSE(p["spec"].contains("nodeName"));
  EXPECT_EQ(p["status"]["phase"], "Pending");

  // A node change brings a retry: the same failure counts on the same event.
  Json n1 = *registry_->get(res("nodes"), "", "node-1");
  n1["metadata"]["labels"]["touched"] = "yes";
  ASSERT_TRUE(registry_->update(res("nodes"), "", "node-1", n1, {}));
  ASSERT_TRUE(eventually([&] {
    auto evs = eventsFor("big", "FailedScheduling");
    return evs.size() == 1 && evs[0].value("count", 0) >= 2;
  }));
  // A node big enough arrives: the pod lands there.
  Json big = readyNode("node-big");
  big["status"]["allocatable"]["memory"] = "128Gi";
  create("nodes", "", big);
  ASSERT_TRUE(eventually([&] { return nodeOf("big") == "node-big"; }));
  ASSERT_TRUE(eventually([&] { return condition(getPod("big"), "PodScheduled").value("status", "") == "True"; }));
}

TEST_F(SchedulerLoopTest, ANodeSelectorPodLandsOnTheMatchingNode) {
  create("nodes", "", readyNode("node-1"));
  create("nodes", "", readyNode("node-2", {{"disk", "ssd"}}));
  for (int i = 0; i < 4; ++i) {
    Json p = pod("ssd-" + std::to_string(i));
    p["spec"]["nodeSelector"] = {{"disk", "ssd"}};
    create("pods", "default", p);
  }
  for (int i = 0; i < 4; ++i) {
    std::string name = "ssd-" + std::to_string(i);
    ASSERT_TRUE(eventually([&] { return bound(name); })) << name;
    EXPECT_EQ(nodeOf(name), "node-2") << name;
  }
}

TEST_F(SchedulerLoopTest, TwoPodsWithTheSameHostPortLandOnDifferentNodes) {
  create("nodes", "", readyNode("node-1"));
  create("nodes", "", readyNode("node-2"));
  Json port = {{"ports", Json::array({{{"containerPort", 80}, {"hostPort", 8080}, {"protocol", "TCP"}}})}};
  create("pods", "default", pod("web-a", port));
  create("pods", "default", pod("web-b", port));
  ASSERT_TRUE(eventually([&] { return bound("web-a") && bound("web-b"); }));
  EXPECT_NE(nodeOf("web-a"), nodeOf("web-b"));
  // A third has nowhere to go.
  create("pods", "default", pod("web-c", port));
  ASSERT_TRUE(eventually([&] { return !eventsFor("web-c", "FailedScheduling").empty(); }));
  EXPECT_EQ(eventsFor("web-c", "FailedScheduling")[0]["message"],
            "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports. preemption: 0/2 "
            "nodes are available: 2 No preemption victims found for incoming pod.");
  // Deleting a holder frees its port: the third pod takes its place.
  std::string freed = nodeOf("web-a");
  ASSERT_TRUE(registry_->remove(res("pods"), "default", "web-a", [] {
    DeleteOptions o;
    o.gracePeriodSeconds = 0;
    return o;
  }()));
  ASSERT_TRUE(eventually([&] { return nodeOf("web-c") == freed; }));
}

TEST_F(SchedulerLoopTest, PodsForOtherSchedulersOrBeingDeletedAreLeftAlone) {
  Json other = pod("other");
  other["spec"]["schedulerName"] = "my-scheduler";
  create("pods", "default", other);
  create("nodes", "", readyNode("node-1"));
  create("pods", "default", pod("mine"));
  ASSERT_TRUE(eventually([&] { return bound("mine"); }));
  EXPECT_FALSE(bound("other"));
  EXPECT_TRUE(eventsFor("other", "Scheduled").empty());
}

TEST_F(SchedulerLoopTest, NoReadyNodeMeansFailedSchedulingWithTheTaint) {
  Json n = readyNode("node-1");
  n["status"]["conditions"][0]["status"] = "False";
  create("nodes", "", n);
  create("pods", "default", pod("waiting"));
  ASSERT_TRUE(eventually([&] { return !eventsFor("waiting", "FailedScheduling").empty(); }));
  EXPECT_EQ(eventsFor("waiting", "FailedScheduling")[0]["message"],
            "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: "
            "0/1 nodes are available: 1 Preemption is not helpful for scheduling.");
  // The node becomes Ready (a status write, as the agent does it): the pod goes there.
  Json ready = *registry_->get(res("nodes"), "", "node-1");
  ready["status"]["conditions"][0]["status"] = "True";
  ASSERT_TRUE(registry_->update(res("nodes"), "", "node-1", ready, {}, "status"));
  ASSERT_TRUE(eventually([&] { return nodeOf("waiting") == "node-1"; }));
}

TEST_F(SchedulerLoopTest, WithoutAnyNodePodsStayAsCreatedUntilOneComes) {
  create("pods", "default", pod("early"));
  create("nodes", "", readyNode("node-1"));
  ASSERT_TRUE(eventually([&] { return nodeOf("early") == "node-1"; }));
  // The pod waited for the node without a FailedScheduling event or a status write.
  EXPECT_TRUE(eventsFor("early", "FailedScheduling").empty());
  EXPECT_EQ(condition(getPod("early"), "PodScheduled").value("status", ""), "True");
}

TEST_F(SchedulerLoopTest, ABoundPodIsNotRebound) {
  create("nodes", "", readyNode("node-1"));
  create("pods", "default", pod("p"));
  ASSERT_TRUE(eventually([&] { return bound("p"); }));
  auto again = registry_->bindPod("default", Json{{"metadata", {{"name", "p"}}}, {"target", {{"name", "node-2"}}}});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::kConflict);
  EXPECT_EQ(again.error().message,
            "Operation cannot be fulfilled on pods/binding \"p\": pod p is already assigned to node \"node-1\"");
  EXPECT_EQ(nodeOf("p"), "node-1");
}

}  // namespace
}  // namespace nanokube::apiserver
