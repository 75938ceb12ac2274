#include "apiserver/request_info.h"

#include <gtest/gtest.h>

namespace nanokube::apiserver {
namespace {

struct Case {
  const char* method;
  const char* target;
  const char* verb;
  const char* group;
  const char* ns;
  const char* resource;
  const char* name;
  const char* sub;
};

TEST(RequestInfo, DecodesPathsLikeKubernetes) {
  const Case cases[] = {
      {"GET", "/api/v1/namespaces/default/pods", "list", "", "default", "pods", "", ""},
      {"GET", "/api/v1/namespaces/default/pods?watch=true", "watch", "", "default", "pods", "", ""},
      {"GET", "/api/v1/namespaces/default/pods/nginx", "get", "", "default", "pods", "nginx", ""},
      {"GET", "/api/v1/namespaces/default/pods/nginx/log", "get", "", "default", "pods", "nginx", "log"},
      {"POST", "/api/v1/namespaces/default/pods/nginx/binding", "create", "", "default", "pods", "nginx", "binding"},
      {"GET", "/api/v1/pods", "list", "", "", "pods", "", ""},
      {"GET", "/api/v1/namespaces", "list", "", "", "namespaces", "", ""},
      {"GET", "/api/v1/namespaces/kube-system", "get", "", "", "namespaces", "kube-system", ""},
      {"PUT", "/api/v1/namespaces/foo/finalize", "update", "", "", "namespaces", "foo", "finalize"},
      {"PATCH", "/api/v1/nodes/n1/status", "patch", "", "", "nodes", "n1", "status"},
      {"DELETE", "/apis/apps/v1/namespaces/x/deployments", "deletecollection", "apps", "x", "deployments", "", ""},
      {"DELETE", "/apis/apps/v1/namespaces/x/deployments/web", "delete", "apps", "x", "deployments", "web", ""},
      {"PATCH", "/api/v1/namespaces/d/replicationcontrollers/rc/scale", "patch", "", "d", "replicationcontrollers",
       "rc", "scale"},
  };
  for (const auto& c : cases) {
    std::string path;
    Query q;
    splitTarget(c.target, path, q);
    RequestInfo ri = parseRequestInfo(c.method, path, q);
    SCOPED_TRACE(c.target);
    EXPECT_TRUE(ri.isResourceRequest);
    EXPECT_EQ(ri.verb, c.verb);
    EXPECT_EQ(ri.group, c.group);
    EXPECT_EQ(ri.namespace_, c.ns);
    EXPECT_EQ(ri.resource, c.resource);
    EXPECT_EQ(ri.name, c.name);
    EXPECT_EQ(ri.subresource, c.sub);
    EXPECT_NE(ri.info, nullptr);
  }
}

TEST(RequestInfo, DiscoveryPathsAreNotResourceRequests) {
  for (const char* p : {"/api", "/api/v1", "/apis", "/apis/apps/v1", "/version", "/healthz"}) {
    RequestInfo ri = parseRequestInfo("GET", p, {});
    EXPECT_FALSE(ri.isResourceRequest) << p;
  }
}

TEST(RequestInfo, DecodesQueryStrings) {
  std::string path;
  Query q;
  splitTarget("/api/v1/pods?labelSelector=app%3Dnginx%2Ctier+in+(a)&limit=500&fieldSelector=", path, q);
  EXPECT_EQ(path, "/api/v1/pods");
  EXPECT_EQ(queryValue(q, "labelSelector"), "app=nginx,tier in (a)");
  EXPECT_EQ(queryValue(q, "limit"), "500");
  EXPECT_EQ(queryValue(q, "fieldSelector"), "");
  EXPECT_EQ(queryValue(q, "missing"), "");
}

TEST(RequestInfo, UnknownResourceHasNoInfo) {
  RequestInfo ri = parseRequestInfo("GET", "/api/v1/namespaces/default/widgets", {});
  EXPECT_TRUE(ri.isResourceRequest);
  EXPECT_EQ(ri.info, nullptr);
}

}  // namespace
}  // namespace nanokube::apiserver
