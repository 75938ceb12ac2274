#include "controllers/endpoints.h"

#include <gtest/gtest.h>

namespace nanokube::controllers {
namespace {

Json service(Json ports, Json selector = {{"app", "nginx"}}) {
  return {{"metadata", {{"name", "web"}, {"namespace", "default"}, {"uid", "svc-uid"}, {"labels", {{"app", "nginx"}}}}},
          {"spec", {{"selector", selector}, {"ports", ports}, {"clusterIP", "10.96.0.20"}}}};
}

Json pod(const std::string& name, const std::string& ip, bool ready, Json labels = {{"app", "nginx"}}) {
  Json p = {{"metadata", {{"name", name}, {"namespace", "default"}, {"uid", name + "-uid"}, {"labels", labels}}},
            {"spec",
             {{"nodeName", "node-1"},
              {"containers", Json::array({{{"name", "c"},
                                           {"ports", Json::array({{{"name", "http"},
                                                                   {"containerPort", 8080},
                                                                   {"protocol", "TCP"}}})}}})}}},
            {"status", {{"conditions", Json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}})}}}};
  if (!ip.empty()) p["status"]["podIP"] = ip;
  return p;
}

TEST(Endpoints, NoPodsMeansNoSubsets) {
  Json ep = desiredEndpoints(service(Json::array({{{"port", 80}, {"targetPort", 80}, {"protocol", "TCP"}}})), {});
  EXPECT_EQ(ep["metadata"]["name"], "web");
  EXPECT_EQ(ep["metadata"]["labels"]["app"], "nginx");
  EXPECT_FALSE(ep.contains("subsets"));
}

TEST(Endpoints, ReadyAndNotReadyPodsSortedByIp) {
  Json svc = service(Json::array({{{"port", 80}, {"targetPort", "http"}, {"protocol", "TCP"}}}));
  std::vector<Json> pods = {pod("b", "10.244.0.12", true), pod("a", "10.244.0.11", true),
                            pod("c", "10.244.0.13", false), pod("d", "", true),
                            pod("e", "10.244.0.14", true, {{"app", "other"}})};
  Json ep = desiredEndpoints(svc, pods);
  ASSERT_EQ(ep["subsets"].size(), 1u);
  const Json& s = ep["subsets"][0];
  ASSERT_EQ(s["addresses"].size(), 2u);
  EXPECT_EQ(s["addresses"][0]["ip"], "10.244.0.11");
  EXPECT_EQ(s["addresses"][1]["ip"], "10.244.0.12");
  EXPECT_EQ(s["addresses"][0]["targetRef"]["name"], "a");
  EXPECT_EQ(s["addresses"][0]["nodeName"], "node-1");
  ASSERT_EQ(s["notReadyAddresses"].size(), 1u);
  EXPECT_EQ(s["notReadyAddresses"][0]["ip"], "10.244.0.13");
  EXPECT_EQ(s["ports"][0]["port"], 8080);  // the named port resolved on the pod
}

TEST(Endpoints, UnresolvableNamedPortLeavesThePodOut) {
  Json svc = service(Json::array({{{"port", 80}, {"targetPort", "metrics"}, {"protocol", "TCP"}}}));
  Json ep = desiredEndpoints(svc, {pod("a", "10.244.0.11", true)});
  EXPECT_FALSE(ep.contains("subsets"));
}

TEST(Endpoints, ServicesWithoutSelectorAreNotManaged) {
  Json svc = service(Json::array({{{"port", 80}}}), Json::object());
  EXPECT_FALSE(managesEndpoints(svc));
  svc["spec"].erase("selector");
  EXPECT_FALSE(managesEndpoints(svc));
  EXPECT_TRUE(managesEndpoints(service(Json::array({{{"port", 80}}}))));
}

TEST(EndpointSlice, LabelsOwnerAndConditions) {
  Json svc = service(Json::array({{{"name", "web"}, {"port", 80}, {"targetPort", 8080}, {"protocol", "TCP"}}}));
  Json slice = desiredEndpointSlice(svc, {pod("a", "10.244.0.11", true), pod("c", "10.244.0.13", false)});
  EXPECT_EQ(slice["metadata"]["generateName"], "web-");
  EXPECT_EQ(slice["metadata"]["labels"]["kubernetes.io/service-name"], "web");
  EXPECT_EQ(slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"], "endpointslice-controller.k8s.io");
  EXPECT_EQ(slice["metadata"]["ownerReferences"][0]["uid"], "svc-uid");
  EXPECT_EQ(slice["addressType"], "IPv4");
  ASSERT_EQ(slice["endpoints"].size(), 2u);
  EXPECT_EQ(slice["endpoints"][0]["addresses"][0], "10.244.0.11");
  EXPECT_EQ(slice["endpoints"][0]["conditions"]["ready"], true);
  EXPECT_EQ(slice["endpoints"][1]["conditions"]["ready"], false);
  EXPECT_EQ(slice["ports"][0]["port"], 8080);
  EXPECT_EQ(slice["ports"][0]["name"], "web");
  EXPECT_TRUE(sliceUpToDate(slice, slice));
  Json changed = slice;
  changed["endpoints"][0]["addresses"][0] = "10.244.0.99";
  EXPECT_FALSE(sliceUpToDate(changed, slice));
}

}  // namespace
}  // namespace nanokube::controllers
