#include "api/defaults.h"

#include <gtest/gtest.h>

#include "api/resources.h"

namespace nanokube::api {
namespace {

const ResourceInfo& kind(const char* apiVersion, const char* k) {
  const ResourceInfo* r = findByKind(apiVersion, k);
  EXPECT_NE(r, nullptr) << k;
  return *r;
}

Json defaulted(const char* apiVersion, const char* k, Json obj) {
  applyDefaults(kind(apiVersion, k), obj);
  return obj;
}

TEST(Defaults, PodSpecAndContainers) {
  Json pod = defaulted("v1", "Pod", Json::parse(R"({"metadata":{"name":"p"},"spec":{"containers":[
      {"name":"a","image":"nginx","ports":[{"containerPort":80}],
       "livenessProbe":{"httpGet":{"port":80}}},
      {"name":"b","image":"busybox:1.36"},
      {"name":"c","image":"registry:5000/x"},
      {"name":"d","image":"x@sha256:abc"}]}})"));
  const Json& spec = pod["spec"];
  EXPECT_EQ(spec["restartPolicy"], "Always");
  EXPECT_EQ(spec["dnsPolicy"], "ClusterFirst");
  EXPECT_EQ(spec["schedulerName"], "default-scheduler");
  EXPECT_EQ(spec["terminationGracePeriodSeconds"], 30);
  EXPECT_EQ(spec["securityContext"], Json::object());
  EXPECT_EQ(spec["enableServiceLinks"], true);
  EXPECT_EQ(spec["priority"], 0);
  EXPECT_EQ(spec["serviceAccountName"], "default");
  EXPECT_EQ(spec["serviceAccount"], "default");
  EXPECT_EQ(spec["tolerations"].size(), 2u);
  const Json& a = spec["containers"][0];
  EXPECT_EQ(a["imagePullPolicy"], "Always");
  EXPECT_EQ(a["terminationMessagePath"], "/dev/termination-log");
  EXPECT_EQ(a["terminationMessagePolicy"], "File");
  EXPECT_EQ(a["resources"], Json::object());
  EXPECT_EQ(a["ports"][0]["protocol"], "TCP");
  EXPECT_EQ(a["livenessProbe"], Json::parse(R"({"httpGet":{"port":80,"path":"/","scheme":"HTTP"},
      "timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3})"));
  EXPECT_EQ(spec["containers"][1]["imagePullPolicy"], "IfNotPresent");
  // A registry port is not a tag.
  EXPECT_EQ(spec["containers"][2]["imagePullPolicy"], "Always");
  EXPECT_EQ(spec["containers"][3]["imagePullPolicy"], "IfNotPresent");
  EXPECT_EQ(pod["status"], Json::parse(R"({"phase":"Pending","qosClass":"BestEffort"})"));
}

TEST(Defaults, PodQosClass) {
  struct Case {
    const char* resources;
    const char* want;
  } cases[] = {
      {R"({})", "BestEffort"},
      {R"({"requests":{"cpu":"100m"}})", "Burstable"},
      {R"({"limits":{"cpu":"1","memory":"1Gi"}})", "Guaranteed"},
      {R"({"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"500m"}})", "Burstable"},
      {R"({"limits":{"cpu":"1000m","memory":"1024Mi"},"requests":{"cpu":"1","memory":"1Gi"}})", "Guaranteed"},
      {R"({"limits":{"cpu":"1"}})", "Burstable"},
  };
  for (const auto& c : cases) {
    Json pod = {{"spec", {{"containers", {{{"name", "a"}, {"image", "x"}, {"resources", Json::parse(c.resources)}}}}}}};
    applyDefaults(kind("v1", "Pod"), pod);
    EXPECT_EQ(pod["status"]["qosClass"], c.want) << c.resources;
  }
}

TEST(Defaults, RequestsCopiedFromLimits) {
  Json pod = defaulted("v1", "Pod", Json::parse(R"({"spec":{"containers":[{"name":"a","image":"x",
      "resources":{"limits":{"cpu":"1"},"requests":{"memory":"1Mi"}}}]}})"));
  EXPECT_EQ(pod["spec"]["containers"][0]["resources"]["requests"],
            Json::parse(R"({"cpu":"1","memory":"1Mi"})"));
}

TEST(Defaults, Service) {
  Json svc = defaulted("v1", "Service", Json::parse(
      R"({"metadata":{"name":"s"},"spec":{"selector":{"app":"x"},"ports":[{"port":80},{"port":53,"protocol":"UDP","targetPort":"dns"}]}})"));
  const Json& spec = svc["spec"];
  EXPECT_EQ(spec["type"], "ClusterIP");
  EXPECT_EQ(spec["sessionAffinity"], "None");
  EXPECT_EQ(spec["ports"][0], Json::parse(R"({"port":80,"protocol":"TCP","targetPort":80})"));
  EXPECT_EQ(spec["ports"][1]["targetPort"], "dns");
  EXPECT_EQ(spec["ipFamilies"], Json::parse(R"(["IPv4"])"));
  EXPECT_EQ(spec["ipFamilyPolicy"], "SingleStack");
  EXPECT_EQ(spec["internalTrafficPolicy"], "Cluster");
  EXPECT_FALSE(spec.contains("externalTrafficPolicy"));
  EXPECT_FALSE(spec.contains("clusterIP"));  // allocation is the API server's
  EXPECT_EQ(svc["status"], Json::parse(R"({"loadBalancer":{}})"));

  Json lb = defaulted("v1", "Service", Json::parse(R"({"spec":{"type":"LoadBalancer","ports":[{"port":80}]}})"));
  EXPECT_EQ(lb["spec"]["externalTrafficPolicy"], "Cluster");
  EXPECT_EQ(lb["spec"]["allocateLoadBalancerNodePorts"], true);
}

TEST(Defaults, ReplicationControllerTakesTemplateLabels) {
  Json rc = defaulted("v1", "ReplicationController", Json::parse(R"({"metadata":{"name":"r"},
      "spec":{"template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"a","image":"x"}]}}}})"));
  EXPECT_EQ(rc["spec"]["selector"], Json::parse(R"({"app":"x"})"));
  EXPECT_EQ(rc["metadata"]["labels"], Json::parse(R"({"app":"x"})"));
  EXPECT_EQ(rc["spec"]["replicas"], 1);
  EXPECT_EQ(rc["spec"]["template"]["spec"]["restartPolicy"], "Always");
  // Template specs get pod-spec defaults but not the admission values of pods.
  EXPECT_FALSE(rc["spec"]["template"]["spec"].contains("serviceAccountName"));
}

TEST(Defaults, Workloads) {
  Json d = defaulted("apps/v1", "Deployment", Json::parse(R"({"spec":{"template":{}}})"));
  EXPECT_EQ(d["spec"]["replicas"], 1);
  EXPECT_EQ(d["spec"]["strategy"], Json::parse(R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}})"));
  EXPECT_EQ(d["spec"]["revisionHistoryLimit"], 10);
  EXPECT_EQ(d["spec"]["progressDeadlineSeconds"], 600);

  Json recreate = defaulted("apps/v1", "Deployment", Json::parse(R"({"spec":{"strategy":{"type":"Recreate"}}})"));
  EXPECT_FALSE(recreate["spec"]["strategy"].contains("rollingUpdate"));

  Json ds = defaulted("apps/v1", "DaemonSet", Json::parse(R"({"spec":{}})"));
  EXPECT_EQ(ds["spec"]["updateStrategy"], Json::parse(R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}})"));

  Json job = defaulted("batch/v1", "Job", Json::parse(R"({"spec":{"template":{"metadata":{"labels":{"a":"b"}}}}})"));
  EXPECT_EQ(job["spec"]["completions"], 1);
  EXPECT_EQ(job["spec"]["parallelism"], 1);
  EXPECT_EQ(job["spec"]["backoffLimit"], 6);
  EXPECT_EQ(job["spec"]["completionMode"], "NonIndexed");
  EXPECT_EQ(job["spec"]["suspend"], false);
  EXPECT_EQ(job["metadata"]["labels"], Json::parse(R"({"a":"b"})"));

  Json parallel = defaulted("batch/v1", "Job", Json::parse(R"({"spec":{"parallelism":3}})"));
  EXPECT_FALSE(parallel["spec"].contains("completions"));
}

TEST(Defaults, JobSelectorGeneration) {
  Json job = Json::parse(R"({"metadata":{"name":"pi","uid":"u-1"},"spec":{"template":{}}})");
  generateJobSelector(job);
  EXPECT_EQ(job["spec"]["selector"], Json::parse(R"({"matchLabels":{"batch.kubernetes.io/controller-uid":"u-1"}})"));
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"]["job-name"], "pi");
  Json manual = Json::parse(R"({"metadata":{"name":"pi","uid":"u-1"},"spec":{"manualSelector":true}})");
  generateJobSelector(manual);
  EXPECT_FALSE(manual["spec"].contains("selector"));
}

TEST(Defaults, Namespace) {
  Json ns = defaulted("v1", "Namespace", Json::parse(R"({"metadata":{"name":"team-a"}})"));
  EXPECT_EQ(ns["spec"]["finalizers"], Json::parse(R"(["kubernetes"])"));
  EXPECT_EQ(ns["status"]["phase"], "Active");
  EXPECT_EQ(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "team-a");
}

TEST(Defaults, Idempotent) {
  const char* objects[][3] = {
      {"v1", "Pod", R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"x","resources":{"limits":{"cpu":"1"}}}]}})"},
      {"v1", "Service", R"({"spec":{"type":"NodePort","ports":[{"port":80}]}})"},
      {"v1", "ReplicationController", R"({"spec":{"template":{"metadata":{"labels":{"a":"b"}}}}})"},
      {"apps/v1", "Deployment", R"({"spec":{}})"},
      {"apps/v1", "DaemonSet", R"({"spec":{}})"},
      {"batch/v1", "Job", R"({"spec":{}})"},
      {"v1", "Namespace", R"({"metadata":{"name":"n"}})"},
  };
  for (const auto& o : objects) {
    Json once = defaulted(o[0], o[1], Json::parse(o[2]));
    Json twice = defaulted(o[0], o[1], once);
    EXPECT_EQ(once, twice) << o[1];
  }
}

}  // namespace
}  // namespace nanokube::api
