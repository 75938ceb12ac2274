#include "cluster/plan.h"

#include <gtest/gtest.h>

#include "cluster/state.h"

namespace nanokube::cluster {
namespace {

TEST(PlanCluster, NamesAddressesAndFilesOfThreeNodes) {
  auto plan = planCluster("/var/tmp/nk/", 3);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->dataDir, "/var/tmp/nk");
  EXPECT_EQ(plan->id, clusterId("/var/tmp/nk"));
  EXPECT_EQ(plan->id.size(), 8u);
  ASSERT_EQ(plan->nodes.size(), 3u);
  struct Want {
    const char* name;
    const char* ip;
    const char* dir;
    const char* netns;
  };
  Want want[] = {{"node-1", "192.168.250.11", "/var/tmp/nk/nodes/node-1", "/var/tmp/nk/netns/node-1"},
                 {"node-2", "192.168.250.12", "/var/tmp/nk/nodes/node-2", "/var/tmp/nk/netns/node-2"},
                 {"node-3", "192.168.250.13", "/var/tmp/nk/nodes/node-3", "/var/tmp/nk/netns/node-3"}};
  for (int i = 0; i < 3; ++i) {
    const auto& node = plan->nodes[i];
    EXPECT_EQ(node.index, i + 1);
    EXPECT_EQ(node.name, want[i].name);
    EXPECT_EQ(node.ip, want[i].ip);
    EXPECT_EQ(node.dir, want[i].dir);
    EXPECT_EQ(node.netns, want[i].netns);
    EXPECT_EQ(node.cgroupRoot, "/nanokube-" + plan->id + "/" + want[i].name);
    EXPECT_EQ(node.kubeconfig(), node.dir / "kubeconfig");
  }
  EXPECT_EQ(plan->serverUrl(), "https://192.168.250.1:6443");
  EXPECT_EQ(plan->lanNetns(), "/var/tmp/nk/netns/lan");
  EXPECT_EQ(plan->caCert(), "/var/tmp/nk/server/pki/ca.crt");
  EXPECT_EQ(plan->hostLinkAlias(), "nanokube /var/tmp/nk");
  EXPECT_EQ(dataDirFromAlias(plan->hostLinkAlias()), "/var/tmp/nk");
  EXPECT_EQ(dataDirFromAlias("some other link"), "");
}

TEST(PlanCluster, RelativeDirsBecomeAbsoluteAndIdsDiffer) {
  auto plan = planCluster("a/../b", 1);
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->dataDir.is_absolute());
  EXPECT_EQ(plan->dataDir.filename(), "b");
  EXPECT_NE(clusterId("/x/one"), clusterId("/x/two"));
  EXPECT_EQ(clusterId("/x/one"), clusterId("/x/one"));
}

TEST(PlanCluster, NodeCountLimits) {
  EXPECT_FALSE(planCluster("/d", 0));
  EXPECT_EQ(planCluster("/d", 0).error().code, Code::kInvalid);
  EXPECT_FALSE(planCluster("/d", kMaxNodes + 1));
  auto largest = planCluster("/d", kMaxNodes);
  ASSERT_TRUE(largest);
  // The last node stays below the LoadBalancer pool (192.168.250.200-250).
  EXPECT_EQ(largest->nodes.back().ip, "192.168.250.199");
  EXPECT_FALSE(planCluster("", 1));
}

TEST(NodeIndex, ParsesOnlyNodeNames) {
  struct Case {
    const char* name;
    int index;
  };
  for (auto [name, index] : {Case{"node-1", 1}, Case{"node-12", 12}, Case{"node-189", 189}, Case{"node-190", 0},
                             Case{"node-0", 0}, Case{"node-01", 0}, Case{"node-", 0}, Case{"node-1x", 0},
                             Case{"lan", 0}, Case{"nodes-1", 0}}) {
    EXPECT_EQ(nodeIndex(name), index) << name;
  }
}

TEST(Argv, ServerAndAgentFollowTheContract) {
  auto plan = *planCluster("/c", 2);
  EXPECT_EQ(serverArgv(plan, "/b/nanokube"),
            (std::vector<std::string>{"/b/nanokube", "server", "--data-dir", "/c/server", "--listen",
                                      "192.168.250.1:6443"}));
  EXPECT_EQ(agentArgv(plan, plan.nodes[1], "/b/nanokube", "/b/nanokube-pause"),
            (std::vector<std::string>{"/b/nanokube", "agent", "--kubeconfig", "/c/nodes/node-2/kubeconfig",
                                      "--node-name", "node-2", "--node-ip", "192.168.250.12", "--data-dir",
                                      "/c/nodes/node-2", "--image-store", "/c/images", "--tls-cert",
                                      "/c/nodes/node-2/kubelet.crt", "--tls-key", "/c/nodes/node-2/kubelet.key",
                                      "--client-ca", "/c/server/pki/ca.crt", "--cgroup-root",
                                      "/nanokube-" + plan.id + "/node-2", "--pause", "/b/nanokube-pause", "--overlay", "vxlan"}));
}

TEST(State, RoundTripsAndRejectsGarbage) {
  ClusterState state{"0123abcd", 3, "/c"};
  auto back = stateFromJson(stateToJson(state));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, "0123abcd");
  EXPECT_EQ(back->nodes, 3);
  EXPECT_EQ(back->dataDir, "/c");
  EXPECT_FALSE(stateFromJson(Json::array()));
  EXPECT_FALSE(stateFromJson(Json{{"nodes", "two"}}));
  EXPECT_FALSE(stateFromJson(Json{{"nodes", -1}}));
}

}  // namespace
}  // namespace nanokube::cluster
