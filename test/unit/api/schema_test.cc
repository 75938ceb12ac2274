#include "api/schema.h"

#include <filesystem>
#include <fstream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace nanokube::api {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const ResourceInfo& resource(std::string_view apiVersion, std::string_view kind) {
  const ResourceInfo* r = findByKind(apiVersion, kind);
  if (r == nullptr) throw std::runtime_error("not served: " + std::string(kind));
  return *r;
}

std::string gvPath(const GroupVersion& gv) {
  return gv.group.empty() ? "api/" + gv.version : "apis/" + gv.group + "/" + gv.version;
}

// The seed manifests of /work/shared/seeds/manifests, converted from YAML to JSON.
Json loadTestdata(const std::string& name) {
  const auto dir = std::filesystem::path(__FILE__).parent_path() / "testdata";
  std::ifstream in(dir / name);
  if (!in) throw std::runtime_error("missing testdata " + name);
  return Json::parse(in);
}

TEST(SchemaOpenApiTest, IndexListsEveryServedGroupVersionWithContentHash) {
  const Json index = openapiV3Index();
  ASSERT_TRUE(index.contains("paths"));
  const auto gvs = servedGroupVersions();
  EXPECT_EQ(index["paths"].size(), gvs.size());
  for (const auto& gv : gvs) {
    const std::string path = gvPath(gv);
    ASSERT_TRUE(index["paths"].contains(path)) << path;
    const std::string url = index["paths"][path]["serverRelativeURL"];
    const std::string hash(openapiV3DocumentHash(path));
    EXPECT_EQ(hash.size(), 128u) << "SHA-512 in hex";
    EXPECT_EQ(url, "/openapi/v3/" + path + "?hash=" + hash);
  }
}

TEST(SchemaOpenApiTest, HashesDifferBetweenDocuments) {
  std::set<std::string> hashes;
  for (const auto& gv : servedGroupVersions()) hashes.emplace(openapiV3DocumentHash(gvPath(gv)));
  EXPECT_EQ(hashes.size(), servedGroupVersions().size());
}

TEST(SchemaOpenApiTest, UnservedGroupVersionIsNull) {
  EXPECT_TRUE(openapiV3Document("apis/networking.k8s.io/v1").is_null());
  EXPECT_FALSE(openapiV3DocumentText("apis/autoscaling/v1").has_value());
  EXPECT_TRUE(openapiV3DocumentHash("api/v2").empty());
}

// kubectl's QueryParamVerifierV3 decides whether the server validates fields by looking for a
// PATCH operation tagged with the object's group-version-kind and carrying fieldValidation.
bool hasPatchWithFieldValidation(const Json& doc, const ResourceInfo& r) {
  for (const auto& [path, item] : doc["paths"].items()) {
    if (!item.contains("patch")) continue;
    const Json& op = item["patch"];
    const Json& gvk = op.value("x-kubernetes-group-version-kind", Json::object());
    if (gvk.value("group", "?") != r.group || gvk.value("version", "") != r.version ||
        gvk.value("kind", "") != r.kind) {
      continue;
    }
    for (const auto& p : op.value("parameters", Json::array())) {
      if (p.value("name", "") == "fieldValidation" && p.value("in", "") == "query") return true;
    }
  }
  return false;
}

TEST(SchemaOpenApiTest, EveryServedKindHasPatchWithFieldValidationAndSchema) {
  for (const auto& r : allResources()) {
    const Json doc = openapiV3Document(gvPath({r.group, r.version}));
    ASSERT_TRUE(doc.is_object()) << r.apiVersion();
    EXPECT_EQ(doc["openapi"], "3.0.0");
    EXPECT_TRUE(hasPatchWithFieldValidation(doc, r)) << r.kind;
    // `kubectl explain` finds the kind's schema by its x-kubernetes-group-version-kind.
    bool found = false;
    for (const auto& [name, s] : doc["components"]["schemas"].items()) {
      for (const auto& gvk : s.value("x-kubernetes-group-version-kind", Json::array())) {
        found |= gvk["group"] == r.group && gvk["version"] == r.version && gvk["kind"] == r.kind;
      }
    }
    EXPECT_TRUE(found) << r.kind;
  }
}

TEST(SchemaOpenApiTest, CreateAndScaleOperationsAreKept) {
  const Json core = openapiV3Document("api/v1");
  const Json& paths = core["paths"];
  const Json& create = paths["/api/v1/namespaces/{namespace}/pods"]["post"];
  bool fieldValidation = false;
  for (const auto& p : create["parameters"]) fieldValidation |= p["name"] == "fieldValidation";
  EXPECT_TRUE(fieldValidation);
  EXPECT_TRUE(paths.contains("/api/v1/namespaces/{namespace}/replicationcontrollers/{name}/scale"));
  EXPECT_TRUE(core["components"]["schemas"].contains("io.k8s.api.autoscaling.v1.Scale"));
  // Resources nanokube does not serve are left out.
  EXPECT_FALSE(paths.contains("/api/v1/namespaces/{namespace}/secrets"));
  EXPECT_FALSE(paths.contains("/api/v1/namespaces/{namespace}/pods/{name}/eviction"));
  // Services have no deletecollection in the resource table.
  EXPECT_FALSE(paths["/api/v1/namespaces/{namespace}/services"].contains("delete"));
}

TEST(SchemaOpenApiTest, ExplainDataIsPresent) {
  const Json core = openapiV3Document("api/v1");
  const Json& containers =
      core["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
  EXPECT_FALSE(containers.value("description", "").empty());
  EXPECT_EQ(containers["x-kubernetes-patch-merge-key"], "name");
  EXPECT_EQ(containers["x-kubernetes-patch-strategy"], "merge");
}

TEST(SchemaOpenApiTest, TextIsTheParsedDocument) {
  const auto text = openapiV3DocumentText("apis/apps/v1");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(Json::parse(*text), openapiV3Document("apis/apps/v1"));
}

TEST(SchemaStrictTest, FindsUnknownContainerField) {
  const Json pod = {{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata", {{"name", "p"}}},
                    {"spec", {{"containers", {{{"name", "c"}, {"image", "nginx"}, {"foo", 1}}}}}}};
  EXPECT_THAT(unknownFields(resource("v1", "Pod"), pod), ElementsAre("spec.containers[0].foo"));
}

TEST(SchemaStrictTest, FindsUnknownMetadataAndTopLevelFields) {
  const Json pod = {{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"bogusTop", true},
                    {"metadata", {{"name", "p"}, {"bogus", "x"}}},
                    {"spec", {{"containers", Json::array()}}}};
  EXPECT_THAT(unknownFields(resource("v1", "Pod"), pod), ElementsAre("bogusTop", "metadata.bogus"));
}

TEST(SchemaStrictTest, FindsUnknownFieldInReplicationControllerTemplate) {
  Json rc = loadTestdata("nginxrc.json");
  rc["spec"]["template"]["spec"]["containers"][0]["bogus"] = "x";
  EXPECT_THAT(unknownFields(resource("v1", "ReplicationController"), rc),
              ElementsAre("spec.template.spec.containers[0].bogus"));
}

TEST(SchemaStrictTest, FieldNamesAreCaseSensitive) {
  const Json pod = {{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"spec", {{"containers", {{{"name", "c"}, {"Image", "nginx"}}}}}}};
  EXPECT_THAT(unknownFields(resource("v1", "Pod"), pod), ElementsAre("spec.containers[0].Image"));
}

TEST(SchemaStrictTest, AcceptsEverySeedManifest) {
  for (const char* name : {"nginxpod.json", "onepod-multicontiner01.json",
                           "onepod-multicontiner02.json", "nginxrc.json", "nginx-rc.json",
                           "nginxsvc.json"}) {
    const Json obj = loadTestdata(name);
    EXPECT_THAT(unknownFields(resource(obj["apiVersion"].get<std::string>(),
                                      obj["kind"].get<std::string>()),
                              obj),
                IsEmpty())
        << name;
  }
  // The Job seed names the long-gone extensions/v1beta1; its fields are those of batch/v1.
  EXPECT_THAT(unknownFields(resource("batch/v1", "Job"), loadTestdata("job-dpkg.json")),
              IsEmpty());
}

TEST(SchemaStrictTest, AcceptsMapsQuantitiesAndIntOrString) {
  const Json svc = Json::parse(R"({
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "s", "labels": {"app": "x", "tier/a.b": "y"},
                 "annotations": {"anything.example.com/whatever": "z"}},
    "spec": {"selector": {"app": "x"},
             "ports": [{"name": "http", "port": 80, "targetPort": "http"},
                       {"port": 81, "targetPort": 8081, "protocol": "TCP"}]},
    "status": {"loadBalancer": {}}})");
  EXPECT_THAT(unknownFields(resource("v1", "Service"), svc), IsEmpty());

  const Json pod = Json::parse(R"({
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
    "spec": {"containers": [{"name": "c", "image": "i",
      "resources": {"limits": {"cpu": "500m", "memory": "128Mi", "example.com/gpu": 1},
                    "requests": {"cpu": 0.25}}}]}})");
  EXPECT_THAT(unknownFields(resource("v1", "Pod"), pod), IsEmpty());
}

TEST(SchemaStrictTest, AcceptsFullFeaturedPod) {
  const Json pod = Json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "full", "namespace": "default", "uid": "u", "resourceVersion": "5",
      "creationTimestamp": "2024-01-01T00:00:00Z", "generation": 1, "finalizers": ["f"],
      "ownerReferences": [{"apiVersion": "v1", "kind": "ReplicationController", "name": "rc",
                           "uid": "u2", "controller": true, "blockOwnerDeletion": true}],
      "managedFields": [{"manager": "kubectl", "operation": "Update", "apiVersion": "v1",
                         "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:x": {}}}}]},
    "spec": {
      "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "nodeName": "n",
      "serviceAccountName": "default", "terminationGracePeriodSeconds": 30,
      "nodeSelector": {"kubernetes.io/os": "linux"},
      "securityContext": {"runAsUser": 1000, "fsGroup": 2000, "runAsNonRoot": true,
                          "seccompProfile": {"type": "RuntimeDefault"}},
      "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
      "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
          {"key": "zone", "operator": "In", "values": ["a"]}]}]}}},
      "initContainers": [{"name": "sidecar", "image": "busybox", "restartPolicy": "Always"}],
      "containers": [{
        "name": "app", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent",
        "command": ["nginx"], "args": ["-g", "daemon off;"], "workingDir": "/",
        "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP", "hostPort": 8080}],
        "env": [{"name": "A", "value": "1"},
                {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "C", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}},
                {"name": "D", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu",
                                                                 "divisor": "1m"}}}],
        "envFrom": [{"configMapRef": {"name": "cm"}, "prefix": "X_"}],
        "resources": {"limits": {"cpu": "1"}, "requests": {"memory": "64Mi"}},
        "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": true}],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP",
                                      "httpHeaders": [{"name": "X", "value": "y"}]},
                          "initialDelaySeconds": 3, "periodSeconds": 10, "failureThreshold": 3},
        "readinessProbe": {"tcpSocket": {"port": 80}, "timeoutSeconds": 1},
        "startupProbe": {"exec": {"command": ["true"]}, "successThreshold": 1},
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "1"]}},
                      "postStart": {"httpGet": {"port": 80}}},
        "securityContext": {"privileged": false, "readOnlyRootFilesystem": true,
                            "allowPrivilegeEscalation": false,
                            "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File", "stdin": false, "tty": false}],
      "volumes": [{"name": "data", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}},
                  {"name": "cfg", "configMap": {"name": "cm", "defaultMode": 420,
                                                "items": [{"key": "k", "path": "p"}]}},
                  {"name": "sec", "secret": {"secretName": "s", "optional": true}},
                  {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
                  {"name": "proj", "projected": {"sources": [{"serviceAccountToken": {
                    "path": "token", "expirationSeconds": 3600}}]}}]},
    "status": {"phase": "Running", "podIP": "10.244.0.5", "podIPs": [{"ip": "10.244.0.5"}],
      "hostIP": "10.0.0.10", "startTime": "2024-01-01T00:00:00Z", "qosClass": "Burstable",
      "conditions": [{"type": "Ready", "status": "True",
                      "lastTransitionTime": "2024-01-01T00:00:00Z"}],
      "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "image": "nginx",
        "imageID": "sha256:x", "containerID": "runc://abc", "started": true,
        "state": {"running": {"startedAt": "2024-01-01T00:00:01Z"}},
        "lastState": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}})");
  EXPECT_THAT(unknownFields(resource("v1", "Pod"), pod), IsEmpty());
}

TEST(SchemaStrictTest, ReportsEveryUnknownFieldInNestedStructures) {
  const Json deploy = Json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "x"}, "nope": 1},
      "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
      "template": {"metadata": {"labels": {"app": "x"}},
        "spec": {"containers": [{"name": "a", "image": "i"},
                                {"name": "b", "image": "i", "env": [{"name": "E", "valueFrom": {"bad": {}}}]}],
                 "volumes": [{"name": "v", "emptyDir": {}, "weird": true}]}}}})");
  EXPECT_THAT(unknownFields(resource("apps/v1", "Deployment"), deploy),
              ElementsAre("spec.selector.nope", "spec.template.spec.containers[1].env[0].valueFrom.bad",
                          "spec.template.spec.volumes[0].weird"));
}

TEST(SchemaStrictTest, OtherKindsAndSubresourceBodies) {
  const Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                      {"kind", "Lease"},
                      {"spec", {{"holderIdentity", "n"}, {"renewTime", "2024-01-01T00:00:00.000000Z"},
                                {"leaseDurationSeconds", 40}, {"extra", 1}}}};
  EXPECT_THAT(unknownFields(resource("coordination.k8s.io/v1", "Lease"), lease),
              ElementsAre("spec.extra"));
  const Json scale = {{"apiVersion", "autoscaling/v1"},
                      {"kind", "Scale"},
                      {"spec", {{"replicas", 3}}},
                      {"status", {{"replicas", 1}, {"selector", "app=x"}}}};
  EXPECT_THAT(unknownFieldsOfKind("autoscaling/v1", "Scale", scale), IsEmpty());
  EXPECT_THAT(unknownFieldsOfKind("v1", "DeleteOptions",
                                  {{"propagationPolicy", "Background"}, {"x", 1}}),
              ElementsAre("x"));
  EXPECT_THAT(unknownFieldsOfKind("v1", "NoSuchKind", {{"x", 1}}), IsEmpty());
}

TEST(SchemaStrictTest, MessagesMatchKubernetes) {
  EXPECT_EQ(strictDecodingMessage({"spec.containers[0].foo", "metadata.bogus"}),
            "strict decoding error: unknown field \"spec.containers[0].foo\", unknown field "
            "\"metadata.bogus\"");
  const Error e = strictDecodingError(resource("apps/v1", "Deployment"), {"spec.foo"});
  EXPECT_EQ(e.code, Code::kBadRequest);
  EXPECT_EQ(e.message,
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding "
            "error: unknown field \"spec.foo\"");
}

// The message checkFieldTypes() returns, or "ok".
std::string typeError(std::string_view apiVersion, std::string_view kind, const Json& obj,
                      std::string_view body = {}) {
  const Result<void> r = checkFieldTypes(resource(apiVersion, kind), obj, body);
  if (r) return "ok";
  EXPECT_EQ(r.error().code, Code::kBadRequest);
  return r.error().message;
}

Json podWithContainer(const Json& container) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", "p"}}},
          {"spec", {{"containers", Json::array({container})}}}};
}

TEST(SchemaTypesTest, AcceptsWellTypedObjects) {
  for (const char* name : {"nginxpod.json", "onepod-multicontiner01.json",
                           "onepod-multicontiner02.json", "nginxrc.json", "nginx-rc.json",
                           "nginxsvc.json"}) {
    const Json obj = loadTestdata(name);
    EXPECT_EQ(typeError(obj["apiVersion"].get<std::string>(), obj["kind"].get<std::string>(), obj),
              "ok")
        << name;
  }
  EXPECT_EQ(typeError("batch/v1", "Job", loadTestdata("job-dpkg.json")), "ok");
}

TEST(SchemaTypesTest, MetadataNameMustBeAString) {
  EXPECT_EQ(typeError("v1", "Pod", {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", 5}}}}),
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number into "
            "Go struct field ObjectMeta.metadata.name of type string");
}

TEST(SchemaTypesTest, MapValuesNameTheMapField) {
  // The text Kubernetes answers (seen verbatim in the wild for a Helm chart).
  const Json cm = {{"apiVersion", "v1"},
                   {"kind", "ConfigMap"},
                   {"metadata", {{"name", "c"}}},
                   {"data", {{"host", "h"}, {"port", 8080}}}};
  EXPECT_EQ(typeError("v1", "ConfigMap", cm),
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal "
            "number into Go struct field ConfigMap.data of type string");
  Json pod = podWithContainer({{"name", "c"}, {"image", "i"}});
  pod["metadata"]["labels"] = {{"app", "x"}, {"tier", 3}};
  EXPECT_EQ(typeError("v1", "Pod", pod),
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number into "
            "Go struct field ObjectMeta.metadata.labels of type string");
}

TEST(SchemaTypesTest, ContainersMustBeAList) {
  const Json pod = {{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata", {{"name", "p"}}},
                    {"spec", {{"containers", {{"name", "c"}, {"image", "i"}}}}}};
  EXPECT_EQ(typeError("v1", "Pod", pod),
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal object into "
            "Go struct field PodSpec.spec.containers of type []v1.Container");
  Json elem = pod;
  elem["spec"]["containers"] = Json::array({"nginx"});
  EXPECT_EQ(typeError("v1", "Pod", elem),
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal string into "
            "Go struct field PodSpec.spec.containers of type v1.Container");
  Json spec = pod;
  spec["spec"] = "x";
  EXPECT_EQ(typeError("v1", "Pod", spec),
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal string into "
            "Go struct field Pod.spec of type v1.PodSpec");
}

TEST(SchemaTypesTest, IntegerFieldsTakeOnlyIntegralNumbersInRange) {
  Json svc = Json::parse(R"({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
    "spec": {"ports": [{"port": "80", "targetPort": "http"}]}})");
  EXPECT_EQ(typeError("v1", "Service", svc),
            "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal "
            "string into Go struct field ServicePort.spec.ports.port of type int32");
  svc["spec"]["ports"][0]["port"] = 80.5;
  EXPECT_EQ(typeError("v1", "Service", svc),
            "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal "
            "number 80.5 into Go struct field ServicePort.spec.ports.port of type int32");
  svc["spec"]["ports"][0]["port"] = 3000000000LL;
  EXPECT_EQ(typeError("v1", "Service", svc),
            "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal "
            "number 3000000000 into Go struct field ServicePort.spec.ports.port of type int32");
  svc["spec"]["ports"][0]["port"] = 80;
  EXPECT_EQ(typeError("v1", "Service", svc), "ok");

  // The path has every struct field from the top and no list index, as Kubernetes prints it.
  const Json deploy = Json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "d"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}},
      "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [
        {"name": "c", "image": "i", "ports": [{"containerPort": "8080"}]}]}}}})");
  EXPECT_EQ(typeError("apps/v1", "Deployment", deploy),
            "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot "
            "unmarshal string into Go struct field ContainerPort.spec.template.spec.containers."
            "ports.containerPort of type int32");

  // int64 fields take what int32 fields refuse.
  Json pod = podWithContainer({{"name", "c"}, {"image", "i"}});
  pod["spec"]["activeDeadlineSeconds"] = 3000000000LL;
  EXPECT_EQ(typeError("v1", "Pod", pod), "ok");
  pod["spec"]["activeDeadlineSeconds"] = 3.0;
  EXPECT_EQ(typeError("v1", "Pod", pod),
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number 3.0 "
            "into Go struct field PodSpec.spec.activeDeadlineSeconds of type int64");
}

TEST(SchemaTypesTest, BoolAndNamedStringTypes) {
  EXPECT_EQ(typeError("v1", "Pod", podWithContainer({{"name", "c"}, {"image", "i"}, {"stdin", "true"}})),
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal string into "
            "Go struct field Container.spec.containers.stdin of type bool");
  // Go prints the named type of the field, which the OpenAPI documents do not carry.
  EXPECT_EQ(typeError("v1", "Pod", podWithContainer({{"name", "c"}, {"image", "i"},
                                                     {"ports", {{{"containerPort", 80}, {"protocol", 6}}}}})),
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number into "
            "Go struct field ContainerPort.spec.containers.ports.protocol of type v1.Protocol");
  Json pod = podWithContainer({{"name", "c"}, {"image", "i"}});
  pod["metadata"]["uid"] = 7;
  EXPECT_EQ(typeError("v1", "Pod", pod),
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number into "
            "Go struct field ObjectMeta.metadata.uid of type types.UID");
  EXPECT_EQ(typeError("v1", "Pod", podWithContainer({{"name", "c"}, {"image", "i"},
                                                     {"securityContext", {{"capabilities", {{"add", {1}}}}}}})),
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number into "
            "Go struct field Capabilities.spec.containers.securityContext.capabilities.add of type "
            "v1.Capability");
  EXPECT_EQ(typeError("v1", "Pod", podWithContainer({{"name", "c"}, {"image", "i"},
                                                     {"resources", {{"limits", "1"}}}})),
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal string into "
            "Go struct field ResourceRequirements.spec.containers.resources.limits of type "
            "v1.ResourceList");
}

TEST(SchemaTypesTest, IntOrStringTakesStringsAndInt32) {
  Json svc = Json::parse(R"({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
    "spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8081}]}})");
  EXPECT_EQ(typeError("v1", "Service", svc), "ok");
  // IntOrString decodes with the standard library, whose errors carry no field context.
  svc["spec"]["ports"][1]["targetPort"] = true;
  EXPECT_EQ(typeError("v1", "Service", svc),
            "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal bool "
            "into Go value of type int32");
  svc["spec"]["ports"][1]["targetPort"] = 1.5;
  EXPECT_EQ(typeError("v1", "Service", svc),
            "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal "
            "number 1.5 into Go value of type int32");
  // Such an error stops the decoder, so it wins over a plain type error seen before it.
  svc["metadata"]["name"] = 5;
  EXPECT_EQ(typeError("v1", "Service", svc),
            "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal "
            "number 1.5 into Go value of type int32");
}

TEST(SchemaTypesTest, QuantitiesTakeStringsAndNumbers) {
  const auto pod = [](const Json& limits) {
    return podWithContainer({{"name", "c"}, {"image", "i"}, {"resources", {{"limits", limits}}}});
  };
  EXPECT_EQ(typeError("v1", "Pod", pod({{"cpu", 0.5}, {"memory", "128Mi"}, {"example.com/gpu", 1}})),
            "ok");
  EXPECT_EQ(typeError("v1", "Pod", pod({{"cpu", "1e3"}, {"memory", " 1Gi "}})), "ok");
  const std::string formatWrong =
      "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular "
      "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
  EXPECT_EQ(typeError("v1", "Pod", pod({{"cpu", true}})), formatWrong);
  EXPECT_EQ(typeError("v1", "Pod", pod({{"cpu", "abc"}})), formatWrong);
  EXPECT_EQ(typeError("v1", "Pod", pod({{"cpu", ""}})), formatWrong);
  EXPECT_EQ(typeError("v1", "Pod", pod({{"memory", "1ii"}})),
            "Pod in version \"v1\" cannot be handled as a Pod: unable to parse quantity's suffix");
}

TEST(SchemaTypesTest, TimesAndBytes) {
  Json pod = podWithContainer({{"name", "c"}, {"image", "i"}});
  pod["metadata"]["creationTimestamp"] = 1700000000;
  EXPECT_EQ(typeError("v1", "Pod", pod),
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number into "
            "Go value of type string");
  pod["metadata"]["creationTimestamp"] = "2024-01-01T00:00:00Z";
  EXPECT_EQ(typeError("v1", "Pod", pod), "ok");

  Json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "c"}}},
             {"binaryData", {{"a", "aGVsbG8="}, {"b", "aGVsbG8h\nd29ybGQ="}}}};
  EXPECT_EQ(typeError("v1", "ConfigMap", cm), "ok");
  cm["binaryData"]["b"] = "abc";
  EXPECT_EQ(typeError("v1", "ConfigMap", cm),
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: illegal base64 data at "
            "input byte 0");
  cm["binaryData"]["b"] = "ab=c";
  EXPECT_EQ(typeError("v1", "ConfigMap", cm),
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: illegal base64 data at "
            "input byte 2");
  cm["binaryData"]["b"] = 12;
  EXPECT_EQ(typeError("v1", "ConfigMap", cm),
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal "
            "number into Go struct field ConfigMap.binaryData of type []uint8");
}

TEST(SchemaTypesTest, NullIsTheZeroValueEverywhere) {
  const Json pod = Json::parse(R"({"apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": null, "labels": {"a": null}, "annotations": null},
    "spec": {"containers": [null, {"name": "c", "image": null, "ports": [null],
      "resources": {"limits": {"cpu": null}}}], "activeDeadlineSeconds": null},
    "status": {"startTime": null}})");
  EXPECT_EQ(typeError("v1", "Pod", pod), "ok");
}

TEST(SchemaTypesTest, FirstPlainErrorInKeyOrderIsReported) {
  Json pod = podWithContainer({{"name", 1}, {"image", 2}});
  pod["metadata"]["namespace"] = false;
  EXPECT_EQ(typeError("v1", "Pod", pod),
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal bool into "
            "Go struct field ObjectMeta.metadata.namespace of type string");
}

TEST(SchemaTypesTest, ApiVersionAndKindFailBeforeDecoding) {
  EXPECT_EQ(typeError("v1", "Pod", {{"apiVersion", "v1"}, {"kind", 1}},
                      R"({"apiVersion":"v1","kind":1})"),
            "the object provided is unrecognized (must be of type Pod): couldn't get version/kind; "
            "json parse error: json: cannot unmarshal number into Go struct field .kind of type "
            "string ({\"apiVersion\":\"v1\",\"kind\":1})");
  // Without the body, the compact dump stands in for it, cut at 30 bytes as Kubernetes does.
  EXPECT_EQ(typeError("v1", "Pod", {{"apiVersion", true}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}}}),
            "the object provided is unrecognized (must be of type Pod): couldn't get version/kind; "
            "json parse error: json: cannot unmarshal bool into Go struct field .apiVersion of "
            "type string ({\"apiVersion\":true,\"kind\":\"Pod ...)");
  // A body that does not start with '{' is summarized as a hex dump.
  EXPECT_EQ(typeError("v1", "Pod", Json::array({1}), "[1]"),
            "the object provided is unrecognized (must be of type Pod): couldn't get version/kind; "
            "json parse error: json: cannot unmarshal array into Go value of type struct { "
            "APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string "
            "\"json:\\\"kind,omitempty\\\"\" } (00000000  5b 31 5d" +
                std::string(42, ' ') + "|[1]|\n)");
}

TEST(SchemaPruneTest, RemovesUnknownFieldsAndKeepsMapsAndFreeForm) {
  Json pod = Json::parse(R"({"apiVersion": "v1", "kind": "Pod", "bogus": 1,
    "metadata": {"name": "p", "foo": "x",
      "labels": {"app": "x", "example.com/foo": "y"},
      "annotations": {"bar": "z"},
      "managedFields": [{"manager": "m", "fieldsType": "FieldsV1",
                         "fieldsV1": {"f:spec": {"f:anything": {}}}, "extra": 1}]},
    "spec": {"containers": [{"name": "c", "image": "i", "bar": true,
      "resources": {"limits": {"cpu": "1", "example.com/gpu": 1}}}],
      "nodeSelector": {"foo": "bar"}}})");
  const Json want = Json::parse(R"({"apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p",
      "labels": {"app": "x", "example.com/foo": "y"},
      "annotations": {"bar": "z"},
      "managedFields": [{"manager": "m", "fieldsType": "FieldsV1",
                         "fieldsV1": {"f:spec": {"f:anything": {}}}}]},
    "spec": {"containers": [{"name": "c", "image": "i",
      "resources": {"limits": {"cpu": "1", "example.com/gpu": 1}}}],
      "nodeSelector": {"foo": "bar"}}})");
  const ResourceInfo& r = resource("v1", "Pod");
  EXPECT_THAT(unknownFields(r, pod),
              ElementsAre("bogus", "metadata.foo", "metadata.managedFields[0].extra",
                          "spec.containers[0].bar"));
  pruneUnknownFields(r, pod);
  EXPECT_EQ(pod, want);
  EXPECT_THAT(unknownFields(r, pod), IsEmpty());
}

TEST(SchemaPruneTest, LeavesWellFormedObjectsUnchanged) {
  const Json rc = loadTestdata("nginxrc.json");
  Json copy = rc;
  pruneUnknownFields(resource("v1", "ReplicationController"), copy);
  EXPECT_EQ(copy, rc);
}

}  // namespace
}  // namespace nanokube::api
