// JSON merge patch, JSON patch and strategic merge patch, with the results
// apimachinery's strategicpatch gives for the same documents.

#include "api/patch.h"

#include <gtest/gtest.h>

namespace nanokube::api {
namespace {

const ResourceInfo& res(std::string_view apiVersion, std::string_view kind) {
  const ResourceInfo* r = findByKind(apiVersion, kind);
  EXPECT_NE(r, nullptr) << kind;
  return *r;
}

TEST(MergePatch, Rfc7386) {
  struct Case {
    const char* original;
    const char* patch;
    const char* want;
  };
  const Case cases[] = {
      {R"({"a":1,"b":{"c":2}})", R"({"b":{"c":null,"d":3},"e":null})", R"({"a":1,"b":{"d":3}})"},
      {R"({"a":[1,2]})", R"({"a":[3]})", R"({"a":[3]})"},
      {R"({"a":1})", "[1]", "[1]"},
      {R"({"a":1})", R"("x")", R"("x")"},
      {"5", R"({"a":{"b":null,"c":1}})", R"({"a":{"c":1}})"},
      {R"({"metadata":{"labels":{"app":"web"}}})", R"({"metadata":{"labels":{"tier":"fe","app":null}}})",
       R"({"metadata":{"labels":{"tier":"fe"}}})"},
      {R"({"spec":{"replicas":1}})", R"({"spec":{"replicas":3}})", R"({"spec":{"replicas":3}})"},
  };
  for (const auto& c : cases) {
    auto got = applyMergePatch(Json::parse(c.original), Json::parse(c.patch));
    ASSERT_TRUE(got.has_value()) << c.patch;
    EXPECT_EQ(*got, Json::parse(c.want)) << c.patch;
  }
}

TEST(JsonPatch, AppliesAndMapsErrors) {
  Json doc = Json::parse(R"({"metadata":{"labels":{"a":"1"}},"spec":{"replicas":1}})");
  auto ok = applyJsonPatch(doc, Json::parse(R"([{"op":"test","path":"/spec/replicas","value":1},
      {"op":"replace","path":"/spec/replicas","value":3},{"op":"add","path":"/metadata/labels/b","value":"2"},
      {"op":"remove","path":"/metadata/labels/a"}])"));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(*ok, Json::parse(R"({"metadata":{"labels":{"b":"2"}},"spec":{"replicas":3}})"));

  struct Case {
    const char* patch;
    Code code;
  };
  const Case cases[] = {
      {R"({"op":"add"})", Code::kBadRequest},
      {R"([{"path":"/a"}])", Code::kBadRequest},
      {R"([{"op":"jump","path":"/a"}])", Code::kBadRequest},
      {R"([{"op":"remove","path":"/spec/missing"}])", Code::kInvalid},
      {R"([{"op":"test","path":"/spec/replicas","value":2}])", Code::kInvalid},
  };
  for (const auto& c : cases) {
    auto got = applyJsonPatch(doc, Json::parse(c.patch));
    ASSERT_FALSE(got.has_value()) << c.patch;
    EXPECT_EQ(got.error().code, c.code) << c.patch << ": " << got.error().message;
    EXPECT_EQ(got.error().message.find("[json.exception"), std::string::npos) << got.error().message;
  }
}

Json pod() {
  return Json::parse(R"({"apiVersion":"v1","kind":"Pod",
    "metadata":{"name":"p","labels":{"app":"web","tier":"fe"},"finalizers":["a","b"],
                "ownerReferences":[{"uid":"u1","name":"rs1"},{"uid":"u2","name":"rs2"}]},
    "spec":{"containers":[
        {"name":"a","image":"nginx:1","args":["-x"],"env":[{"name":"X","value":"1"},{"name":"Y","value":"1"}],
         "ports":[{"containerPort":80}]},
        {"name":"b","image":"busybox"}],
      "tolerations":[{"key":"t1"}],"securityContext":{"runAsUser":1},
      "volumes":[{"name":"v","emptyDir":{}}]},
    "status":{"conditions":[{"type":"Ready","status":"False"},{"type":"PodScheduled","status":"True"}]}})");
}

// Each case patches pod() and checks one path of the result.
TEST(StrategicMergePatch, PodCases) {
  struct Case {
    const char* name;
    const char* patch;
    const char* pointer;
    const char* want;
  };
  const Case cases[] = {
      {"set image keeps the other containers", R"({"spec":{"containers":[{"name":"b","image":"busybox:2"}]}})",
       "/spec/containers",
       R"([{"name":"a","image":"nginx:1","args":["-x"],"env":[{"name":"X","value":"1"},{"name":"Y","value":"1"}],
          "ports":[{"containerPort":80}]},{"name":"b","image":"busybox:2"}])"},
      {"a new container goes first, as mergeSortedSlice places it",
       R"({"spec":{"containers":[{"name":"c","image":"x"}]}})", "/spec/containers/0/name", R"("c")"},
      {"env merged by name", R"({"spec":{"containers":[{"name":"a","env":[{"name":"X","value":"2"},{"name":"Y","value":null}]}]}})",
       "/spec/containers/0/env", R"([{"name":"X","value":"2"},{"name":"Y"}])"},
      {"ports merged by containerPort",
       R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":80,"name":"http"},{"containerPort":443}]}]}})",
       "/spec/containers/0/ports", R"([{"containerPort":80,"name":"http"},{"containerPort":443}])"},
      {"args are replaced", R"({"spec":{"containers":[{"name":"a","args":["-y"]}]}})", "/spec/containers/0/args",
       R"(["-y"])"},
      {"tolerations are replaced", R"({"spec":{"tolerations":[{"key":"t2"}]}})", "/spec/tolerations",
       R"([{"key":"t2"}])"},
      {"$patch delete removes one container", R"({"spec":{"containers":[{"name":"a","$patch":"delete"}]}})",
       "/spec/containers", R"([{"name":"b","image":"busybox"}])"},
      {"$patch replace on a list", R"({"spec":{"containers":[{"name":"z","image":"z"},{"$patch":"replace"}]}})",
       "/spec/containers", R"([{"name":"z","image":"z"}])"},
      {"$patch replace on a map", R"({"metadata":{"labels":{"$patch":"replace","only":"this"}}})",
       "/metadata/labels", R"({"only":"this"})"},
      {"$patch delete on a map", R"({"spec":{"securityContext":{"$patch":"delete"}}})", "/spec/securityContext",
       "{}"},
      {"null deletes a key", R"({"metadata":{"labels":{"app":null}}})", "/metadata/labels", R"({"tier":"fe"})"},
      {"finalizers merge as a set", R"({"metadata":{"finalizers":["c","a"]}})", "/metadata/finalizers",
       R"(["c","a","b"])"},
      {"$deleteFromPrimitiveList", R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})",
       "/metadata/finalizers", R"(["b"])"},
      {"ownerReferences merged by uid", R"({"metadata":{"ownerReferences":[{"uid":"u2","controller":true}]}})",
       "/metadata/ownerReferences", R"([{"uid":"u1","name":"rs1"},{"uid":"u2","name":"rs2","controller":true}])"},
      {"conditions merged by type", R"({"status":{"conditions":[{"type":"Ready","status":"True"}]}})",
       "/status/conditions", R"([{"type":"Ready","status":"True"},{"type":"PodScheduled","status":"True"}])"},
      {"$setElementOrder reorders", R"({"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}]}})",
       "/spec/containers/0/name", R"("b")"},
      {"$retainKeys inside a merged volume",
       R"({"spec":{"volumes":[{"name":"v","configMap":{"name":"c"},"$retainKeys":["configMap","name"]}]}})",
       "/spec/volumes", R"([{"name":"v","configMap":{"name":"c"}}])"},
      {"a new map keeps no directives or nulls",
       R"({"spec":{"dnsConfig":{"options":[{"name":"ndots","value":null}],"nameservers":["1.1.1.1"],"x":null}}})",
       "/spec/dnsConfig", R"({"options":[{"name":"ndots"}],"nameservers":["1.1.1.1"]})"},
      {"a list replaces a scalar", R"({"spec":{"securityContext":[1]}})", "/spec/securityContext", "[1]"},
  };
  for (const auto& c : cases) {
    auto got = applyStrategicMergePatch(res("v1", "Pod"), pod(), Json::parse(c.patch));
    ASSERT_TRUE(got.has_value()) << c.name << ": " << got.error().message;
    EXPECT_EQ(got->at(Json::json_pointer(c.pointer)), Json::parse(c.want)) << c.name;
  }
}

// What `kubectl apply` sends after a manifest changed one container's image.
TEST(StrategicMergePatch, KubectlApplyPatch) {
  Json patch = Json::parse(R"({"metadata":{"annotations":{
      "kubectl.kubernetes.io/last-applied-configuration":"{\"kind\":\"Pod\"}\n"}},
    "spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],
            "containers":[{"image":"nginx:2","name":"a"}]}})");
  auto got = applyStrategicMergePatch(res("v1", "Pod"), pod(), patch);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  Json want = pod();
  want["metadata"]["annotations"] = {{"kubectl.kubernetes.io/last-applied-configuration", "{\"kind\":\"Pod\"}\n"}};
  want["spec"]["containers"][0]["image"] = "nginx:2";
  EXPECT_EQ(*got, want);

  // A container added by the manifest lands where $setElementOrder puts it.
  Json add = Json::parse(R"({"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"n"},{"name":"b"}],
      "containers":[{"name":"n","image":"new"}]}})");
  got = applyStrategicMergePatch(res("v1", "Pod"), pod(), add);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  std::vector<std::string> names;
  for (const auto& c : (*got)["spec"]["containers"]) names.push_back(c["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "n", "b"}));
}

TEST(StrategicMergePatch, WorkloadsAndServices) {
  Json deploy = Json::parse(R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}},
      "template":{"metadata":{"labels":{"app":"w"}},"spec":{"containers":[{"name":"a","image":"1"},{"name":"b","image":"1"}]}}}})");
  auto got = applyStrategicMergePatch(res("apps/v1", "Deployment"), deploy, Json::parse(R"({"spec":{
      "strategy":{"$retainKeys":["type"],"type":"Recreate"},
      "template":{"spec":{"containers":[{"name":"b","image":"2"}]}}}})"));
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ((*got)["spec"]["strategy"], Json::parse(R"({"type":"Recreate"})"));
  EXPECT_EQ((*got)["spec"]["template"]["spec"]["containers"],
            Json::parse(R"([{"name":"a","image":"1"},{"name":"b","image":"2"}])"));

  Json svc = Json::parse(R"({"spec":{"ports":[{"port":80,"targetPort":80},{"port":443,"targetPort":443}]}})");
  got = applyStrategicMergePatch(res("v1", "Service"), svc,
                                 Json::parse(R"({"spec":{"ports":[{"port":443,"targetPort":8443}]}})"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ((*got)["spec"]["ports"], Json::parse(R"([{"port":80,"targetPort":80},{"port":443,"targetPort":8443}])"));

  Json node = Json::parse(R"({"spec":{"taints":[{"key":"a"}]}})");
  got = applyStrategicMergePatch(res("v1", "Node"), node, Json::parse(R"({"spec":{"unschedulable":true}})"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, Json::parse(R"({"spec":{"taints":[{"key":"a"}],"unschedulable":true}})"));

  Json cm = Json::parse(R"({"metadata":{"finalizers":["x"]},"data":{"a":"1","b":"2"}})");
  got = applyStrategicMergePatch(res("v1", "ConfigMap"), cm,
                                 Json::parse(R"({"metadata":{"finalizers":["y"]},"data":{"a":null,"c":"3"}})"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, Json::parse(R"({"metadata":{"finalizers":["y","x"]},"data":{"b":"2","c":"3"}})"));
}

TEST(StrategicMergePatch, Errors) {
  struct Case {
    const char* patch;
    const char* want;
  };
  const Case cases[] = {
      {"[1]", "invalid JSON document"},
      {R"({"spec":{"containers":[{"image":"x"}]}})",
       R"(map: {"image":"x"} does not contain declared merge key: name)"},
      {R"({"spec":{"containers":[{"$patch":"delete"}]}})",
       R"(map: {"$patch":"delete"} does not contain declared merge key: name)"},
      {R"({"metadata":{"labels":{"$patch":"frob"}}})", R"(unknown patch type: "frob" in map: {"$patch":"frob"})"},
      {R"({"spec":{"containers":[{"name":"a","$patch":"merge"}]}})", "merging lists cannot yet be specified in the patch"},
      {R"({"spec":{"$retainKeys":["containers"],"volumes":[]}})", "invalid patch format of retainKeys"},
      {R"({"spec":{"$setElementOrder/containers":[{"name":"a"}],"containers":[{"name":"b","image":"x"}]}})",
       "invalid patch format of setElementOrder list"},
      {R"({"metadata":{"$deleteFromPrimitiveList/finalizers":"a"}})", "invalid patch format of primitive list"},
  };
  for (const auto& c : cases) {
    auto got = applyStrategicMergePatch(res("v1", "Pod"), pod(), Json::parse(c.patch));
    ASSERT_FALSE(got.has_value()) << c.patch;
    EXPECT_EQ(got.error().code, Code::kBadRequest);
    EXPECT_EQ(got.error().message, c.want) << c.patch;
  }
}

}  // namespace
}  // namespace nanokube::api
