// The node lifecycle controller's health check.

#include <gtest/gtest.h>

#include "controllers/node_lifecycle.h"

namespace nanokube::controllers {
namespace {

TimePoint at(const char* text) { return *parseRfc3339(text); }

Json node(const char* ready) {
  Json n = Json::parse(R"({"metadata":{"name":"node-1","creationTimestamp":"2026-01-01T00:00:00Z"},
    "spec":{"podCIDR":"10.244.0.0/24"},
    "status":{"conditions":[{"type":"MemoryPressure","status":"False","lastHeartbeatTime":"2026-01-01T00:00:00Z"},
                            {"type":"Ready","status":"READY","reason":"KubeletReady","lastHeartbeatTime":"2026-01-01T00:00:00Z"}]}})");
  n["status"]["conditions"][1]["status"] = ready;
  return n;
}

TEST(NodeLifecycle, FreshLeaseChangesNothing) {
  auto c = checkNodeHealth(node("True"), at("2026-01-01T00:01:00Z"), at("2026-01-01T00:01:30Z"));
  EXPECT_FALSE(c.spec);
  EXPECT_FALSE(c.status);
}

TEST(NodeLifecycle, StaleLeaseMarksUnknownAndTaints) {
  auto c = checkNodeHealth(node("True"), at("2026-01-01T00:01:00Z"), at("2026-01-01T00:01:41Z"));
  ASSERT_TRUE(c.status);
  const Json& ready = (*c.status)["conditions"][1];
  EXPECT_EQ(ready["status"], "Unknown");
  EXPECT_EQ(ready["reason"], "NodeStatusUnknown");
  EXPECT_EQ(ready["message"], "Kubelet stopped posting node status.");
  EXPECT_EQ(ready["lastTransitionTime"], "2026-01-01T00:01:41Z");
  EXPECT_EQ(ready["lastHeartbeatTime"], "2026-01-01T00:00:00Z");  // kept
  EXPECT_EQ((*c.status)["conditions"][0]["status"], "Unknown");
  ASSERT_TRUE(c.spec);
  EXPECT_EQ((*c.spec)["taints"], Json::parse(R"([{"key":"node.kubernetes.io/unreachable","effect":"NoSchedule"},
    {"key":"node.kubernetes.io/unreachable","effect":"NoExecute","timeAdded":"2026-01-01T00:01:41Z"}])"));
  EXPECT_EQ((*c.spec)["podCIDR"], "10.244.0.0/24");
}

TEST(NodeLifecycle, NoLeaseCountsFromCreation) {
  EXPECT_FALSE(checkNodeHealth(node("True"), std::nullopt, at("2026-01-01T00:00:30Z")).status);
  EXPECT_TRUE(checkNodeHealth(node("True"), std::nullopt, at("2026-01-01T00:00:41Z")).status);
}

TEST(NodeLifecycle, ReadyAgainLosesTheTaints) {
  Json n = node("True");
  n["spec"]["taints"] = Json::parse(R"([{"key":"dedicated","value":"x","effect":"NoSchedule"},
    {"key":"node.kubernetes.io/unreachable","effect":"NoSchedule"}])");
  auto c = checkNodeHealth(n, at("2026-01-01T00:01:00Z"), at("2026-01-01T00:01:05Z"));
  EXPECT_FALSE(c.status);
  ASSERT_TRUE(c.spec);
  EXPECT_EQ((*c.spec)["taints"], Json::parse(R"([{"key":"dedicated","value":"x","effect":"NoSchedule"}])"));
  // Still Unknown (the agent has not reported yet): the taints stay.
  Json unknown = node("Unknown");
  unknown["spec"]["taints"] = n["spec"]["taints"];
  EXPECT_FALSE(checkNodeHealth(unknown, at("2026-01-01T00:01:00Z"), at("2026-01-01T00:01:05Z")).spec);
}

}  // namespace
}  // namespace nanokube::controllers
