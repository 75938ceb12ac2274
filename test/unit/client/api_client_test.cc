#include "client/api_client.h"

#include <gtest/gtest.h>

#include "client/api_client_fake.h"
#include "client/api_client_impl.h"

namespace nanokube::client {
namespace {

TEST(ApiPath, CoreAndGroupsNamespacedAndCluster) {
  EXPECT_EQ(apiPath("v1", "pods", "ns", "web"), "/api/v1/namespaces/ns/pods/web");
  EXPECT_EQ(apiPath("v1", "pods"), "/api/v1/pods");
  EXPECT_EQ(apiPath("v1", "nodes", "", "n1"), "/api/v1/nodes/n1");
  EXPECT_EQ(apiPath("apps/v1", "deployments", "ns"), "/apis/apps/v1/namespaces/ns/deployments");
}

TEST(ObjectKey, NamespacedAndClusterScoped) {
  EXPECT_EQ(objectKey(Json{{"metadata", {{"name", "a"}, {"namespace", "ns"}}}}), "ns/a");
  EXPECT_EQ(objectKey(Json{{"metadata", {{"name", "n1"}}}}), "n1");
  EXPECT_EQ(objectKey(Json{{"kind", "Pod"}}), "");
  EXPECT_EQ(objectKey(Json("x")), "");
}

TEST(EncodeQuery, PercentEncodesSelectors) {
  EXPECT_EQ(encodeQuery({}), "");
  EXPECT_EQ(encodeQuery({{"labelSelector", "app=web,tier in (a,b)"}, {"limit", "5"}}),
            "?labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29&limit=5");
  EXPECT_EQ(encodeQuery({{"fieldSelector", "spec.nodeName!=n-1_x~"}}), "?fieldSelector=spec.nodeName%21%3Dn-1_x~");
}

TEST(PatchContentType, Kubernetes) {
  EXPECT_EQ(patchContentType(PatchType::kMerge), "application/merge-patch+json");
  EXPECT_EQ(patchContentType(PatchType::kStrategic), "application/strategic-merge-patch+json");
  EXPECT_EQ(patchContentType(PatchType::kJson), "application/json-patch+json");
}

TEST(ParseServerUrl, HostsPortsAndPrefixes) {
  auto a = parseServerUrl("https://127.0.0.1:6443");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, "6443");
  EXPECT_TRUE(a->hostIsIp);
  EXPECT_EQ(a->basePath, "");
  auto b = parseServerUrl("https://api.example.com/k8s/");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "api.example.com");
  EXPECT_EQ(b->port, "443");
  EXPECT_FALSE(b->hostIsIp);
  EXPECT_EQ(b->basePath, "/k8s");
  auto c = parseServerUrl("https://[::1]:8443");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, "8443");
  EXPECT_TRUE(c->hostIsIp);
  for (const char* bad : {"http://127.0.0.1:6443", "https://", "https://h:port", "https://[::1", "127.0.0.1:6443",
                          "https://h:123456"}) {
    EXPECT_FALSE(parseServerUrl(bad)) << bad;
  }
}

TEST(ApiClientImpl, RefusesBadPemsAtCreation) {
  ClientConfig c;
  c.server = "https://127.0.0.1:1";
  c.caData = "not a certificate";
  auto client = ApiClientImpl::create(c);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, Code::kBadRequest);
  EXPECT_NE(client.error().message.find("CA"), std::string::npos) << client.error().message;
}

Json cm(const std::string& name) {
  return Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", {{"k", "v"}}}};
}

const std::string kCms = "/api/v1/namespaces/ns/configmaps";

WatchQuery fromRv(std::string rv) {
  WatchQuery q;
  q.resourceVersion = std::move(rv);
  return q;
}

TEST(ApiClientFake, CrudWithKubernetesErrors) {
  ApiClientFake fake;
  auto created = fake.create(kCms, cm("a"));
  ASSERT_TRUE(created);
  EXPECT_EQ((*created)["metadata"]["namespace"], "ns");
  EXPECT_EQ((*created)["metadata"]["resourceVersion"], "1");
  auto dup = fake.create(kCms, cm("a"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Code::kAlreadyExists);
  EXPECT_EQ(dup.error().message, "configmaps \"a\" already exists");
  auto missing = fake.get(kCms + "/zz");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  EXPECT_EQ(missing.error().message, "configmaps \"zz\" not found");

  Json stale = *created;
  ASSERT_TRUE(fake.patch(kCms + "/a", PatchType::kMerge, Json{{"data", {{"k", "patched"}}}}));
  stale["data"]["k"] = "stale";
  auto conflict = fake.update(kCms + "/a", stale);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, Code::kConflict);
  auto fresh = fake.get(kCms + "/a");
  (*fresh)["data"]["k"] = "updated";
  auto updated = fake.update(kCms + "/a", *fresh);
  ASSERT_TRUE(updated);
  EXPECT_EQ((*updated)["data"]["k"], "updated");
  EXPECT_EQ((*updated)["metadata"]["resourceVersion"], "3");

  ASSERT_TRUE(fake.create("/api/v1/namespaces/other/configmaps", cm("b")));
  EXPECT_EQ((*fake.list(kCms))["items"].size(), 1u);
  EXPECT_EQ((*fake.list("/api/v1/configmaps"))["items"].size(), 2u);
  EXPECT_EQ((*fake.list(kCms))["kind"], "ConfigMapList");
  ASSERT_TRUE(fake.remove(kCms + "/a"));
  EXPECT_FALSE(fake.get(kCms + "/a"));

  fake.injectError("get", Error{Code::kUnavailable, "injected"});
  EXPECT_EQ(fake.get(kCms + "/b").error().code, Code::kUnavailable);
  auto actions = fake.actions();
  EXPECT_EQ(actions.back().verb, "get");
}

TEST(ApiClientFake, BindingSetsNodeName) {
  ApiClientFake fake;
  Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}}, {"spec", Json::object()}};
  ASSERT_TRUE(fake.create("/api/v1/namespaces/ns/pods", pod));
  Json binding = {{"apiVersion", "v1"}, {"kind", "Binding"}, {"target", {{"kind", "Node"}, {"name", "n1"}}}};
  ASSERT_TRUE(fake.create("/api/v1/namespaces/ns/pods/p/binding", binding));
  EXPECT_EQ((*fake.get("/api/v1/namespaces/ns/pods/p"))["spec"]["nodeName"], "n1");
  EXPECT_EQ(fake.create("/api/v1/namespaces/ns/pods/p/binding", binding).error().code, Code::kConflict);
}

TEST(ApiClientFake, WatchReplaysFromAResourceVersionAndExpiresAfterCompaction) {
  ApiClientFake fake;
  ASSERT_TRUE(fake.create(kCms, cm("a")));  // rv 1
  ASSERT_TRUE(fake.create(kCms, cm("b")));  // rv 2
  std::vector<std::string> seen;
  auto record = [&](std::string_view type, const Json& obj) {
    seen.push_back(std::string(type) + " " + obj["metadata"].value("name", ""));
  };
  {
    auto w = fake.watch(kCms, fromRv("1"), record);
    ASSERT_TRUE(w);
    ASSERT_TRUE(fake.remove(kCms + "/a"));
  }
  ASSERT_TRUE(fake.create(kCms, cm("c")));  // the watch is gone: not seen
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED b", "DELETED a"}));

  fake.compact();
  seen.clear();
  bool ended = false;
  auto w = fake.watch(kCms, fromRv("2"), record, [&](const Result<void>&) { ended = true; });
  ASSERT_TRUE(w);
  EXPECT_EQ(seen, (std::vector<std::string>{"ERROR "}));
  EXPECT_TRUE(ended);
  EXPECT_TRUE((*w)->done());
}

}  // namespace
}  // namespace nanokube::client
