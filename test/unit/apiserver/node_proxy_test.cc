// pods/log and pods/exec routing: which container, which agent, which path,
// with kube-apiserver's messages.

#include "apiserver/node_proxy.h"

#include <gtest/gtest.h>

namespace nanokube::apiserver {
namespace {

Json pod(std::vector<std::string> containers, std::vector<std::string> init = {}) {
  Json p = {{"metadata", {{"name", "web"}}}, {"spec", {{"containers", Json::array()}}}};
  for (const auto& c : containers) p["spec"]["containers"].push_back({{"name", c}});
  for (const auto& c : init) p["spec"]["initContainers"].push_back({{"name", c}});
  return p;
}

TEST(NodeProxy, RequestedContainer) {
  EXPECT_EQ(requestedContainer(pod({"only"}), ""), "only");
  EXPECT_EQ(requestedContainer(pod({"a", "b"}), "b"), "b");
  EXPECT_EQ(requestedContainer(pod({"a"}, {"setup"}), "setup"), "setup");
  auto many = requestedContainer(pod({"a", "b"}, {"setup"}), "");
  ASSERT_FALSE(many);
  EXPECT_EQ(many.error().code, Code::kBadRequest);
  EXPECT_EQ(many.error().message, "a container name must be specified for pod web, choose one of: [setup a b]");
  auto wrong = requestedContainer(pod({"a"}), "x");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message, "container x is not valid for pod web");
}

TEST(NodeProxy, KubeletEndpoint) {
  Json node = {{"metadata", {{"name", "n1"}}},
               {"status",
                {{"addresses", Json::array({{{"type", "Hostname"}, {"address", "n1"}},
                                            {{"type", "InternalIP"}, {"address", "192.168.250.11"}}})},
                 {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10251}}}}}}}};
  auto e = kubeletEndpoint(node);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->first, "192.168.250.11");
  EXPECT_EQ(e->second, 10251);
  node["status"].erase("daemonEndpoints");
  EXPECT_EQ(kubeletEndpoint(node)->second, 10250);
  auto none = kubeletEndpoint(Json{{"metadata", {{"name", "n2"}}}, {"status", Json::object()}});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no preferred addresses found for node n2"), std::string::npos);
}

TEST(NodeProxy, AgentTarget) {
  std::string path;
  Query q;
  splitTarget("/api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&command=echo%20a%26b&container=c1"
              "&stdout=true",
              path, q);
  EXPECT_EQ(agentTarget("exec", "default", "web", "c1", q),
            "/exec/default/web/c1?command=sh&command=-c&command=echo%20a%26b&stdout=true");
  splitTarget("/x?follow=true&tailLines=10", path, q);
  EXPECT_EQ(agentTarget("log", "ns", "web", "c", q), "/containerLogs/ns/web/c?follow=true&tailLines=10");
  q.clear();
  EXPECT_EQ(agentTarget("log", "ns", "web", "c", q), "/containerLogs/ns/web/c");
}

}  // namespace
}  // namespace nanokube::apiserver
