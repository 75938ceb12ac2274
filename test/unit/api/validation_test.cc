#include "api/validation.h"

#include <gtest/gtest.h>

#include "api/defaults.h"
#include "api/resources.h"

namespace nanokube::api {
namespace {

const ResourceInfo& kind(const char* apiVersion, const char* k) {
  const ResourceInfo* r = findByKind(apiVersion, k);
  EXPECT_NE(r, nullptr) << k;
  return *r;
}

// Defaults then validates, returning the error message ("" when valid).
std::string check(const char* apiVersion, const char* k, const std::string& json,
                  const Json* old = nullptr) {
  Json obj = Json::parse(json);
  applyDefaults(kind(apiVersion, k), obj);
  auto r = validateObject(kind(apiVersion, k), obj, old);
  return r ? "" : r.error().message;
}

Json defaultedObject(const char* apiVersion, const char* k, const std::string& json) {
  Json obj = Json::parse(json);
  applyDefaults(kind(apiVersion, k), obj);
  return obj;
}

// apimachinery's RegexError writes "'<example>', " and joins examples with " or ",
// so Kubernetes' messages carry a double space between examples.
const std::string kSubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const std::string kLabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

TEST(Validation, DnsChecks) {
  EXPECT_TRUE(checkDns1123Subdomain("a.b-c").empty());
  EXPECT_EQ(checkDns1123Subdomain("Foo"), std::vector<std::string>{kSubdomainMsg});
  EXPECT_EQ(checkDns1123Subdomain(std::string(254, 'a')),
            (std::vector<std::string>{"must be no more than 253 characters"}));
  EXPECT_TRUE(checkDns1123Label("web-1").empty());
  EXPECT_EQ(checkDns1123Label("a.b"), std::vector<std::string>{"must not contain dots"});
  EXPECT_EQ(checkDns1123Label("-x"), std::vector<std::string>{kLabelMsg});
}

const char* kPod = R"({"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"c","image":"nginx"}]}})";

TEST(Validation, ValidObjectsPass) {
  EXPECT_EQ(check("v1", "Pod", kPod), "");
  EXPECT_EQ(check("v1", "Service", R"({"metadata":{"name":"s","namespace":"default"},"spec":{"selector":{"app":"x"},"ports":[{"port":80}]}})"), "");
  EXPECT_EQ(check("v1", "Namespace", R"({"metadata":{"name":"team-a"}})"), "");
  EXPECT_EQ(check("v1", "ReplicationController", R"({"metadata":{"name":"r","namespace":"default"},"spec":{"template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}})"), "");
  EXPECT_EQ(check("apps/v1", "Deployment", R"({"metadata":{"name":"d","namespace":"default"},"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}})"), "");
  EXPECT_EQ(check("v1", "ConfigMap", R"({"metadata":{"name":"cm","namespace":"default"},"data":{"a.b":"1"}})"), "");
  EXPECT_EQ(check("discovery.k8s.io/v1", "EndpointSlice", R"({"metadata":{"name":"e","namespace":"default"},"addressType":"IPv4","endpoints":[{"addresses":["10.0.0.1"]}],"ports":[{"port":80}]})"), "");
}

TEST(Validation, GeneratedJobSelectorPasses) {
  Json job = Json::parse(R"({"metadata":{"name":"pi","namespace":"default","uid":"0b6c"},
      "spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"x"}]}}}})");
  generateJobSelector(job);
  applyDefaults(kind("batch/v1", "Job"), job);
  auto r = validateObject(kind("batch/v1", "Job"), job, nullptr);
  EXPECT_TRUE(r) << r.error().message;
}

TEST(Validation, StatusShape) {
  Json pod = defaultedObject("v1", "Pod", R"({"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"image":"x"}]}})");
  auto r = validateObject(kind("v1", "Pod"), pod, nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalid);
  EXPECT_EQ(r.error().message, "Pod \"p\" is invalid: spec.containers[0].name: Required value");
  EXPECT_EQ(r.error().details, Json::parse(R"({"name":"p","kind":"Pod","causes":[
      {"reason":"FieldValueRequired","message":"Required value","field":"spec.containers[0].name"}]})"));

  Json d = defaultedObject("apps/v1", "Deployment", R"({"metadata":{"name":"d","namespace":"default"},"spec":{"template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}})");
  auto rd = validateObject(kind("apps/v1", "Deployment"), d, nullptr);
  ASSERT_FALSE(rd);
  EXPECT_EQ(rd.error().message,
            "Deployment.apps \"d\" is invalid: [spec.selector: Required value, "
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: "
            "`selector` does not match template `labels`]");
  EXPECT_EQ(rd.error().details["group"], "apps");
  EXPECT_EQ(rd.error().details["kind"], "Deployment");
  EXPECT_EQ(rd.error().details["causes"].size(), 2u);
}

struct Case {
  const char* name;
  const char* apiVersion;
  const char* kind;
  const char* json;
  const char* want;
};

class Messages : public testing::TestWithParam<Case> {};

TEST_P(Messages, Exact) {
  const Case& c = GetParam();
  EXPECT_EQ(check(c.apiVersion, c.kind, c.json), c.want);
}

const Case kCases[] = {
    {"PodBadName", "v1", "Pod", R"({"metadata":{"name":"Foo","namespace":"default"},"spec":{"containers":[{"name":"c","image":"x"}]}})",
     "Pod \"Foo\" is invalid: metadata.name: Invalid value: \"Foo\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"},
    {"PodNoName", "v1", "Pod", R"({"metadata":{"namespace":"default"},"spec":{"containers":[{"name":"c","image":"x"}]}})",
     "Pod \"\" is invalid: metadata.name: Required value: name or generateName is required"},
    {"PodNoContainers", "v1", "Pod", R"({"metadata":{"name":"p","namespace":"default"},"spec":{}})",
     "Pod \"p\" is invalid: spec.containers: Required value"},
    {"PodDuplicateContainer", "v1", "Pod", R"({"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"x","image":"a"},{"name":"x","image":"b"}]}})",
     "Pod \"p\" is invalid: spec.containers[1].name: Duplicate value: \"x\""},
    {"PodNoImage", "v1", "Pod", R"({"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"c"}]}})",
     "Pod \"p\" is invalid: spec.containers[0].image: Required value"},
    {"PodPortRange", "v1", "Pod", R"({"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"c","image":"x","ports":[{"containerPort":70000}]}]}})",
     "Pod \"p\" is invalid: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"},
    {"PodPortName", "v1", "Pod", R"({"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"c","image":"x","ports":[{"name":"123","containerPort":80}]}]}})",
     "Pod \"p\" is invalid: spec.containers[0].ports[0].name: Invalid value: \"123\": must contain at least one letter (a-z)"},
    {"PodHostPortConflict", "v1", "Pod", R"({"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"a","image":"x","ports":[{"containerPort":80,"hostPort":8080}]},{"name":"b","image":"x","ports":[{"containerPort":81,"hostPort":8080}]}]}})",
     "Pod \"p\" is invalid: spec.containers[1].ports[0].hostPort: Duplicate value: \"/TCP/8080\""},
    {"PodRestartPolicy", "v1", "Pod", R"({"metadata":{"name":"p","namespace":"default"},"spec":{"restartPolicy":"Sometimes","containers":[{"name":"c","image":"x"}]}})",
     "Pod \"p\" is invalid: spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""},
    {"PodRequestsOverLimits", "v1", "Pod", R"({"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"c","image":"x","resources":{"requests":{"cpu":"2"},"limits":{"cpu":"1000m"}}}]}})",
     "Pod \"p\" is invalid: spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1"},
    {"PodEnvName", "v1", "Pod", R"({"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"c","image":"x","env":[{"name":"A=B","value":"1"}]}]}})",
     "Pod \"p\" is invalid: spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='"},
    {"PodMountUnknownVolume", "v1", "Pod", R"({"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"c","image":"x","volumeMounts":[{"name":"data","mountPath":"/d"}]}]}})",
     "Pod \"p\" is invalid: spec.containers[0].volumeMounts[0].name: Not found: \"data\""},
    {"PodBadLabel", "v1", "Pod", R"({"metadata":{"name":"p","namespace":"default","labels":{"app":"-x"}},"spec":{"containers":[{"name":"c","image":"x"}]}})",
     "Pod \"p\" is invalid: metadata.labels: Invalid value: \"-x\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"},
    {"ServiceName", "v1", "Service", R"({"metadata":{"name":"1svc","namespace":"default"},"spec":{"ports":[{"port":80}]}})",
     "Service \"1svc\" is invalid: metadata.name: Invalid value: \"1svc\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"},
    {"ServiceNoPorts", "v1", "Service", R"({"metadata":{"name":"s","namespace":"default"},"spec":{}})",
     "Service \"s\" is invalid: spec.ports: Required value"},
    {"ServiceHeadlessNoPorts", "v1", "Service", R"({"metadata":{"name":"s","namespace":"default"},"spec":{"clusterIP":"None"}})", ""},
    {"ServiceDuplicatePort", "v1", "Service", R"({"metadata":{"name":"s","namespace":"default"},"spec":{"ports":[{"name":"a","port":80},{"name":"b","port":80}]}})",
     "Service \"s\" is invalid: spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}"},
    {"ServiceUnnamedPorts", "v1", "Service", R"({"metadata":{"name":"s","namespace":"default"},"spec":{"ports":[{"port":80},{"port":81}]}})",
     "Service \"s\" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]"},
    {"ServiceType", "v1", "Service", R"({"metadata":{"name":"s","namespace":"default"},"spec":{"type":"Magic","ports":[{"port":80}]}})",
     "Service \"s\" is invalid: spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""},
    {"ServicePortZero", "v1", "Service", R"({"metadata":{"name":"s","namespace":"default"},"spec":{"ports":[{"port":0,"targetPort":80}]}})",
     "Service \"s\" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"},
    {"RcSelectorMismatch", "v1", "ReplicationController", R"({"metadata":{"name":"r","namespace":"default"},"spec":{"selector":{"app":"y"},"template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}})",
     "ReplicationController \"r\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: selector does not match template labels"},
    {"RcNoTemplate", "v1", "ReplicationController", R"({"metadata":{"name":"r","namespace":"default"},"spec":{"selector":{"app":"y"}}})",
     "ReplicationController \"r\" is invalid: spec.template: Required value"},
    {"RcRestartPolicy", "v1", "ReplicationController", R"({"metadata":{"name":"r","namespace":"default"},"spec":{"replicas":-1,"template":{"metadata":{"labels":{"app":"x"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"x"}]}}}})",
     "ReplicationController \"r\" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"]"},
    {"RsEmptySelector", "apps/v1", "ReplicaSet", R"({"metadata":{"name":"r","namespace":"default"},"spec":{"selector":{},"template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}})",
     "ReplicaSet.apps \"r\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"},
    {"DeploymentBadOperator", "apps/v1", "Deployment", R"({"metadata":{"name":"d","namespace":"default"},"spec":{"selector":{"matchExpressions":[{"key":"app","operator":"In"}]},"template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}})",
     "Deployment.apps \"d\" is invalid: [spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn', "
     "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:\"app\", Operator:\"In\", Values:[]string(nil)}}}: invalid label selector]"},
    {"DaemonSetMismatch", "apps/v1", "DaemonSet", R"({"metadata":{"name":"d","namespace":"default"},"spec":{"selector":{"matchLabels":{"app":"y"}},"template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}})",
     "DaemonSet.apps \"d\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`"},
    {"JobRestartPolicy", "batch/v1", "Job", R"({"metadata":{"name":"j","namespace":"default"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}})",
     "Job.batch \"j\" is invalid: spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""},
    {"JobNegativeCompletions", "batch/v1", "Job", R"({"metadata":{"name":"j","namespace":"default"},"spec":{"completions":-1,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"x"}]}}}})",
     "Job.batch \"j\" is invalid: spec.completions: Invalid value: -1: must be greater than or equal to 0"},
    {"NamespaceName", "v1", "Namespace", R"({"metadata":{"name":"a.b"}})",
     "Namespace \"a.b\" is invalid: metadata.name: Invalid value: \"a.b\": must not contain dots"},
    {"ConfigMapKey", "v1", "ConfigMap", R"({"metadata":{"name":"cm","namespace":"default"},"data":{"a b":"1"}})",
     "ConfigMap \"cm\" is invalid: data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"},
    {"EventNamespace", "v1", "Event", R"({"metadata":{"name":"e","namespace":"default"},"involvedObject":{"kind":"Pod","name":"p","namespace":"other"}})",
     "Event \"e\" is invalid: involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"},
    {"EndpointSliceAddressType", "discovery.k8s.io/v1", "EndpointSlice", R"({"metadata":{"name":"e","namespace":"default"},"addressType":"IPX"})",
     "EndpointSlice.discovery.k8s.io \"e\" is invalid: addressType: Unsupported value: \"IPX\": supported values: \"FQDN\", \"IPv4\", \"IPv6\""},
    {"LeaseDuration", "coordination.k8s.io/v1", "Lease", R"({"metadata":{"name":"l","namespace":"default"},"spec":{"leaseDurationSeconds":0}})",
     "Lease.coordination.k8s.io \"l\" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"},
};

INSTANTIATE_TEST_SUITE_P(Validation, Messages, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

TEST(Validation, ConfigMapTooLarge) {
  Json cm = {{"metadata", {{"name", "cm"}, {"namespace", "default"}}},
             {"data", {{"big", std::string(1024 * 1024 + 1, 'x')}}}};
  auto r = validateObject(kind("v1", "ConfigMap"), cm, nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "ConfigMap \"cm\" is invalid: : Too long: may not be more than 1048576 bytes");
}

TEST(Validation, PodUpdates) {
  Json old = defaultedObject("v1", "Pod", kPod);
  Json image = old;
  image["spec"]["containers"][0]["image"] = "nginx:2";
  image["metadata"]["labels"] = {{"a", "b"}};
  EXPECT_TRUE(validateObject(kind("v1", "Pod"), image, &old));

  Json ports = old;
  ports["spec"]["containers"][0]["ports"] = Json::parse(R"([{"containerPort":80,"protocol":"TCP"}])");
  auto r = validateObject(kind("v1", "Pod"), ports, &old);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "Pod \"p\" is invalid: spec: Forbidden: pod updates may not change fields other than "
            "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
            "`spec.tolerations` (only additions to existing tolerations),"
            "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)");
  EXPECT_EQ(r.error().details["causes"][0]["reason"], "FieldValueForbidden");

  Json added = old;
  added["spec"]["containers"].push_back({{"name", "d"}, {"image", "x"}});
  added = defaultedObject("v1", "Pod", added.dump());
  auto ra = validateObject(kind("v1", "Pod"), added, &old);
  ASSERT_FALSE(ra);
  EXPECT_EQ(ra.error().message, "Pod \"p\" is invalid: spec.containers: Forbidden: pod updates may not add or remove containers");
}

TEST(Validation, ImmutableFields) {
  Json old = defaultedObject("apps/v1", "Deployment", R"({"metadata":{"name":"d","namespace":"default"},"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x","v":"1"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}})");
  Json now = old;
  now["spec"]["selector"]["matchLabels"]["v"] = "1";
  auto r = validateObject(kind("apps/v1", "Deployment"), now, &old);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "Deployment.apps \"d\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"x\", \"v\":\"1\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");

  Json svc = defaultedObject("v1", "Service", R"({"metadata":{"name":"s","namespace":"default"},"spec":{"clusterIP":"10.96.0.5","clusterIPs":["10.96.0.5"],"ports":[{"port":80}]}})");
  Json moved = svc;
  moved["spec"]["clusterIP"] = "10.96.0.6";
  moved["spec"]["clusterIPs"] = {"10.96.0.6"};
  auto rs = validateObject(kind("v1", "Service"), moved, &svc);
  ASSERT_FALSE(rs);
  EXPECT_EQ(rs.error().message,
            "Service \"s\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.6\"}: may not change once set");
}

TEST(Validation, Quantities) {
  struct {
    const char* in;
    const char* canonical;
  } cases[] = {{"500m", "500m"}, {"0.5", "500m"}, {"1000m", "1"}, {"1024Mi", "1Gi"}, {"1000", "1k"},
               {"1500", "1500"}, {"128974848", "128974848"}, {"129e6", "129e6"}, {"100Mi", "100Mi"}, {"512", "512"}};
  for (const auto& c : cases) {
    auto q = parseQuantity(std::string_view(c.in));
    ASSERT_TRUE(q) << c.in;
    EXPECT_EQ(q->str(), c.canonical) << c.in;
  }
  EXPECT_FALSE(parseQuantity(std::string_view("1.2.3")));
  EXPECT_FALSE(parseQuantity(std::string_view("abc")));
  EXPECT_EQ(parseQuantity(std::string_view("1Gi"))->compare(*parseQuantity(std::string_view("1000Mi"))), 1);
}

}  // namespace
}  // namespace nanokube::api
