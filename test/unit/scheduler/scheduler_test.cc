// chooseNode: Kubernetes' filters, scores and FailedScheduling message, table-driven.

#include "scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <set>

namespace nanokube::scheduler {
namespace {

Json readyCondition(const std::string& status) { return {{"type", "Ready"}, {"status", status}}; }

Json node(const std::string& name, const std::string& cpu = "2", const std::string& memory = "4Gi",
          int pods = 110, Json labels = Json::object()) {
  return {{"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", Json::object()},
          {"status",
           {{"allocatable", {{"cpu", cpu}, {"memory", memory}, {"pods", std::to_string(pods)}}},
            {"conditions", Json::array({readyCondition("True")})}}}};
}

Json container(const std::string& cpu = "", const std::string& memory = "", int hostPort = 0) {
  Json c = {{"name", "c"}, {"image", "nginx"}};
  Json requests = Json::object();
  if (!cpu.empty()) requests["cpu"] = cpu;
  if (!memory.empty()) requests["memory"] = memory;
  if (!requests.empty()) c["resources"] = {{"requests", requests}};
  if (hostPort) c["ports"] = Json::array({{{"containerPort", 80}, {"hostPort", hostPort}, {"protocol", "TCP"}}});
  return c;
}

Json pod(const std::string& name, Json containers = Json::array({container()})) {
  return {{"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}}},
          {"spec", {{"containers", containers}}}};
}

Json boundTo(Json p, const std::string& nodeName) {
  p["spec"]["nodeName"] = nodeName;
  return p;
}

struct Case {
  std::string name;
  Json pod;
  std::vector<Json> nodes;
  std::vector<Json> pods;
  std::string node;     // expected node, or
  std::string message;  // the expected FailedScheduling message
};

class ChooseNodeTest : public ::testing::TestWithParam<Case> {};

TEST_P(ChooseNodeTest, Decides) {
  const Case& c = GetParam();
  auto got = chooseNode(c.pod, c.nodes, c.pods, 0);
  if (!c.node.empty()) {
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(*got, c.node);
  } else {
    ASSERT_FALSE(got) << "chose " << *got;
    EXPECT_EQ(got.error().code, Code::kUnavailable);
    EXPECT_EQ(got.error().message, c.message);
  }
}

Json withSelector(Json p, Json selector) {
  p["spec"]["nodeSelector"] = std::move(selector);
  return p;
}
Json withTaint(Json n, const std::string& key, const std::string& value, const std::string& effect) {
  n["spec"]["taints"].push_back({{"key", key}, {"value", value}, {"effect", effect}});
  return n;
}
Json withToleration(Json p, Json toleration) {
  p["spec"]["tolerations"].push_back(std::move(toleration));
  return p;
}
Json withReady(Json n, const std::string& status) {
  n["status"]["conditions"] = Json::array({readyCondition(status)});
  return n;
}
Json unschedulable(Json n) {
  n["spec"]["unschedulable"] = true;
  return n;
}
Json withAffinity(Json p, Json expressions) {
  p["spec"]["affinity"] = {
      {"nodeAffinity",
       {{"requiredDuringSchedulingIgnoredDuringExecution",
         {{"nodeSelectorTerms", Json::array({{{"matchExpressions", std::move(expressions)}}})}}}}}};
  return p;
}

const std::string kNoVictims2 =
    " preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.";
const std::string kNotHelpful2 = " preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.";

INSTANTIATE_TEST_SUITE_P(
    Filters, ChooseNodeTest,
    ::testing::Values(
        Case{"SingleReadyNode", pod("p"), {node("n1")}, {}, "n1", ""},
        Case{"NoNodes", pod("p"), {}, {}, "", "no nodes available to schedule pods"},
        Case{"NotReadyNodesCarryTheLifecycleTaints",
             pod("p"),
             {withReady(node("n1"), "False"), withReady(node("n2"), "Unknown")},
             {},
             "",
             "0/2 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, "
             "1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }." + kNotHelpful2},
        Case{"NodeWithoutReadyConditionIsUnreachable",
             pod("p"),
             {[] { Json n = node("n1"); n["status"].erase("conditions"); return n; }(), node("n2")},
             {},
             "n2",
             ""},
        Case{"ToleratedNotReadyTaint",
             withToleration(pod("p"), {{"key", "node.kubernetes.io/not-ready"}, {"operator", "Exists"}}),
             {withReady(node("n1"), "False")},
             {},
             "n1",
             ""},
        Case{"Unschedulable",
             pod("p"),
             {unschedulable(node("n1")), node("n2")},
             {},
             "n2",
             ""},
        Case{"AllUnschedulable",
             pod("p"),
             {unschedulable(node("n1")), unschedulable(node("n2"))},
             {},
             "",
             "0/2 nodes are available: 2 node(s) were unschedulable." + kNotHelpful2},
        Case{"NodeSelector",
             withSelector(pod("p"), {{"disk", "ssd"}}),
             {node("n1"), node("n2", "2", "4Gi", 110, {{"disk", "ssd"}})},
             {},
             "n2",
             ""},
        Case{"NodeAffinityIn",
             withAffinity(pod("p"), Json::array({{{"key", "zone"}, {"operator", "In"}, {"values", {"b"}}}})),
             {node("n1", "2", "4Gi", 110, {{"zone", "a"}}), node("n2", "2", "4Gi", 110, {{"zone", "b"}})},
             {},
             "n2",
             ""},
        Case{"NodeAffinityNotIn",
             withAffinity(pod("p"), Json::array({{{"key", "zone"}, {"operator", "NotIn"}, {"values", {"b"}}}})),
             {node("n1", "2", "4Gi", 110, {{"zone", "a"}}), node("n2", "2", "4Gi", 110, {{"zone", "b"}})},
             {},
             "n1",
             ""},
        Case{"NoSelectorMatch",
             withSelector(pod("p"), {{"disk", "ssd"}}),
             {node("n1"), node("n2")},
             {},
             "",
             "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector." + kNotHelpful2},
        Case{"UntoleratedTaint",
             pod("p"),
             {withTaint(node("n1"), "dedicated", "gpu", "NoSchedule"), node("n2")},
             {},
             "n2",
             ""},
        Case{"NoExecuteTaintFilters",
             pod("p"),
             {withTaint(node("n1"), "dedicated", "gpu", "NoExecute")},
             {},
             "",
             "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/1 nodes are "
             "available: 1 Preemption is not helpful for scheduling."},
        Case{"ToleratedTaintByValue",
             withToleration(pod("p"), {{"key", "dedicated"}, {"operator", "Equal"}, {"value", "gpu"},
                                       {"effect", "NoSchedule"}}),
             {withTaint(node("n1"), "dedicated", "gpu", "NoSchedule")},
             {},
             "n1",
             ""},
        Case{"WrongToleratedValue",
             withToleration(pod("p"), {{"key", "dedicated"}, {"value", "cpu"}}),
             {withTaint(node("n1"), "dedicated", "gpu", "NoSchedule")},
             {},
             "",
             "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/1 nodes are "
             "available: 1 Preemption is not helpful for scheduling."},
        Case{"PreferNoScheduleOnlyScores",
             pod("p"),
             {withTaint(node("n1"), "soft", "", "PreferNoSchedule"), node("n2")},
             {},
             "n2",
             ""},
        Case{"InsufficientMemory",
             pod("p", Json::array({container("", "64Gi")})),
             {node("n1"), node("n2")},
             {},
             "",
             "0/2 nodes are available: 2 Insufficient memory." + kNoVictims2},
        Case{"InsufficientCpuAndSelector",
             withSelector(pod("p", Json::array({container("3")})), {{"disk", "ssd"}}),
             {node("n1", "2", "4Gi", 110, {{"disk", "ssd"}}), node("n2")},
             {},
             "",
             "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector. "
             "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is "
             "not helpful for scheduling."},
        Case{"BothResourcesOnOneNode",
             pod("p", Json::array({container("3", "8Gi")})),
             {node("n1")},
             {},
             "",
             "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are "
             "available: 1 No preemption victims found for incoming pod."},
        Case{"RequestsOfBoundPodsCount",
             pod("p", Json::array({container("1500m")})),
             {node("n1"), node("n2")},
             {boundTo(pod("a", Json::array({container("1")})), "n1")},
             "n2",
             ""},
        Case{"TerminalPodsDoNotCount",
             pod("p", Json::array({container("1500m")})),
             {node("n1")},
             {[] { Json p = boundTo(pod("a", Json::array({container("1")})), "n1");
                   p["status"]["phase"] = "Succeeded"; return p; }()},
             "n1",
             ""},
        Case{"InitContainersTakeTheMax",
             [] { Json p = pod("p", Json::array({container("500m")}));
                  p["spec"]["initContainers"] = Json::array({container("3")}); return p; }(),
             {node("n1")},
             {},
             "",
             "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption "
             "victims found for incoming pod."},
        Case{"LimitsStandInForRequests",
             [] { Json p = pod("p");
                  p["spec"]["containers"][0]["resources"] = {{"limits", {{"memory", "5Gi"}}}}; return p; }(),
             {node("n1")},
             {},
             "",
             "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption "
             "victims found for incoming pod."},
        Case{"TooManyPods",
             pod("p"),
             {node("n1", "2", "4Gi", 1), node("n2", "2", "4Gi", 1)},
             {boundTo(pod("a"), "n1"), boundTo(pod("b"), "n2")},
             "",
             "0/2 nodes are available: 2 Too many pods." + kNoVictims2},
        Case{"HostPortConflict",
             pod("p", Json::array({container("", "", 8080)})),
             {node("n1"), node("n2")},
             {boundTo(pod("a", Json::array({container("", "", 8080)})), "n1")},
             "n2",
             ""},
        Case{"HostPortOtherProtocolNoConflict",
             pod("p", Json::array({container("", "", 53)})),
             {node("n1")},
             {[] { Json p = boundTo(pod("a", Json::array({container("", "", 53)})), "n1");
                   p["spec"]["containers"][0]["ports"][0]["protocol"] = "UDP"; return p; }()},
             "n1",
             ""},
        Case{"HostPortOnDistinctHostIps",
             [] { Json p = pod("p", Json::array({container("", "", 80)}));
                  p["spec"]["containers"][0]["ports"][0]["hostIP"] = "10.0.0.1"; return p; }(),
             {node("n1")},
             {[] { Json p = boundTo(pod("a", Json::array({container("", "", 80)})), "n1");
                   p["spec"]["containers"][0]["ports"][0]["hostIP"] = "10.0.0.2"; return p; }()},
             "n1",
             ""},
        Case{"HostPortEverywhere",
             pod("p", Json::array({container("", "", 80)})),
             {node("n1"), node("n2")},
             {boundTo(pod("a", Json::array({container("", "", 80)})), "n1"),
              boundTo(pod("b", Json::array({container("", "", 80)})), "n2")},
             "",
             "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports." + kNoVictims2},
        Case{"LeastRequestedWins",
             pod("p"),
             {node("n1"), node("n2")},
             {boundTo(pod("a", Json::array({container("1", "1Gi")})), "n1")},
             "n2",
             ""},
        Case{"BiggerNodeWins",
             pod("p"),
             {node("n1", "2", "4Gi"), node("n2", "8", "16Gi")},
             {},
             "n2",
             ""},
        Case{"PreemptionPolicyNever",
             [] { Json p = pod("p", Json::array({container("", "64Gi")}));
                  p["spec"]["preemptionPolicy"] = "Never"; return p; }(),
             {node("n1")},
             {},
             "",
             "0/1 nodes are available: 1 Insufficient memory. preemption: not eligible due to preemptionPolicy=Never."}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

Json owned(Json p, const std::string& ownerUid) {
  p["metadata"]["ownerReferences"] =
      Json::array({{{"apiVersion", "v1"}, {"kind", "ReplicationController"}, {"name", "rc"}, {"uid", ownerUid},
                    {"controller", true}}});
  return p;
}

TEST(ChooseNode, SpreadsPodsOfOneController) {
  // Equal requests elsewhere: n1 holds one pod of the controller, n2 one pod of
  // another; the new pod of the controller goes to n2.
  std::vector<Json> nodes = {node("n1"), node("n2")};
  std::vector<Json> pods = {boundTo(owned(pod("a"), "rc-1"), "n1"), boundTo(owned(pod("b"), "rc-2"), "n2")};
  for (uint64_t seed = 0; seed < 4; ++seed) {
    auto got = chooseNode(owned(pod("p"), "rc-1"), nodes, pods, seed);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(*got, "n2") << "seed " << seed;
  }
}

TEST(ChooseNode, TieBreakFollowsTheSeed) {
  std::vector<Json> nodes = {node("n2"), node("n1"), node("n3")};
  std::set<std::string> chosen;
  for (uint64_t seed = 0; seed < 3; ++seed) {
    auto got = chooseNode(pod("p"), nodes, {}, seed);
    ASSERT_TRUE(got);
    chosen.insert(*got);
    // The same seed gives the same answer.
    EXPECT_EQ(*got, *chooseNode(pod("p"), nodes, {}, seed));
  }
  EXPECT_EQ(chosen, (std::set<std::string>{"n1", "n2", "n3"}));
  EXPECT_EQ(*chooseNode(pod("p"), nodes, {}, 0), "n1");
}

TEST(ChooseNode, ReasonsSortAsStrings) {
  // Kubernetes sorts "count reason" strings, so "10 ..." comes before "2 ...".
  std::vector<Json> nodes;
  for (int i = 0; i < 10; ++i) nodes.push_back(unschedulable(node("u" + std::to_string(i))));
  nodes.push_back(withReady(node("x1"), "False"));
  nodes.push_back(withReady(node("x2"), "False"));
  auto got = chooseNode(pod("p"), nodes, {}, 0);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message,
            "0/12 nodes are available: 10 node(s) were unschedulable, 2 node(s) had untolerated taint "
            "{node.kubernetes.io/not-ready: }. preemption: 0/12 nodes are available: 12 Preemption is not helpful "
            "for scheduling.");
}

TEST(ChooseNode, BadInputIsAnErrorNotACrash) {
  EXPECT_EQ(chooseNode(Json("x"), {node("n1")}, {}, 0).error().code, Code::kBadRequest);
  Json weird = pod("p");
  weird["spec"]["containers"] = Json::array({{{"name", 3}, {"resources", {{"requests", {{"cpu", "lots"}}}}},
                                              {"ports", "eighty"}}});
  weird["spec"]["tolerations"] = "all";
  weird["spec"]["nodeSelector"] = Json::array();
  Json badNode = node("n1");
  badNode["spec"]["taints"] = Json::array({5, {{"key", 1}}});
  badNode["status"]["allocatable"]["cpu"] = Json::array();
  auto got = chooseNode(weird, {badNode, Json(7), Json::object()}, {Json(1), Json::object()}, 0);
  EXPECT_TRUE(got || got.error().code == Code::kUnavailable);
}

TEST(PodRequests, SumsContainersMaxOfInitPlusOverhead) {
  Json p = pod("p", Json::array({container("250m", "64Mi"), container("250m", "64Mi")}));
  p["spec"]["initContainers"] = Json::array({container("1", "32Mi")});
  p["spec"]["overhead"] = {{"cpu", "10m"}, {"memory", "1Mi"}};
  Resources r = podRequests(p);
  EXPECT_EQ(r.milliCpu, 1010);
  EXPECT_EQ(r.memory, 129LL * 1024 * 1024);
}

}  // namespace
}  // namespace nanokube::scheduler
