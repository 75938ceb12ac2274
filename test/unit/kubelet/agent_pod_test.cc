// The agent's pure pod logic: env, resources, resolv.conf, restart and
// back-off rules, probes, phase and status, the Node and its Lease.

#include <gtest/gtest.h>

#include "kubelet/agent/events.h"
#include "kubelet/agent/node_status.h"
#include "kubelet/agent/pod_spec.h"
#include "kubelet/agent/pod_status.h"
#include "kubelet/agent/probe.h"

namespace nanokube::kubelet {
namespace {

Json pod(const char* restartPolicy = "Always") {
  std::string s = R"({"metadata":{"name":"web","namespace":"shop","uid":"u-1","labels":{"app":"web"}},
    "spec":{"restartPolicy":"RESTART","nodeName":"node-1","containers":[{"name":"a","image":"nginx",
      "resources":{"limits":{"cpu":"500m","memory":"64Mi"},"requests":{"cpu":"250m"}},
      "ports":[{"name":"http","containerPort":80}]},{"name":"b","image":"busybox"}]},
    "status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"}]}})";
  s.replace(s.find("RESTART"), 7, restartPolicy);
  return Json::parse(s);
}

TEST(AgentEnv, ValuesExpandAndFieldRefs) {
  Json p = pod();
  Json c = Json::parse(R"JSON({"name":"a","env":[{"name":"A","value":"x"},{"name":"B","value":"$(A)-y-$(NOPE)"},
    {"name":"POD","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},
    {"name":"IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}},
    {"name":"NODE","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}},
    {"name":"APP","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['app']"}}},
    {"name":"MEM","valueFrom":{"resourceFieldRef":{"resource":"limits.memory","divisor":"1Mi"}}}],
    "resources":{"limits":{"memory":"64Mi"}}})JSON");
  auto env = containerEnv(p, c, {"node-1", "192.168.250.11", "10.244.0.7"}, {{"SVC_HOST", "10.96.0.5"}});
  ASSERT_TRUE(env) << env.error().message;
  EnvList want = {{"SVC_HOST", "10.96.0.5"}, {"A", "x"},        {"B", "x-y-$(NOPE)"}, {"POD", "web"},
                  {"IP", "10.244.0.7"},      {"NODE", "node-1"}, {"APP", "web"},       {"MEM", "64"}};
  EXPECT_EQ(*env, want);
}

TEST(AgentEnv, SecretsAreRefusedWithAClearMessage) {
  Json c = Json::parse(R"({"name":"a","env":[{"name":"S","valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}}]})");
  auto env = containerEnv(pod(), c, {});
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message, "env S: secretKeyRef is not supported by nanokube's agent yet");
}

TEST(AgentResources, CpuAndMemory) {
  auto r = containerResources(pod()["spec"]["containers"][0]);
  EXPECT_EQ(r.cpuRequestMilli, 250);
  EXPECT_EQ(r.cpuLimitMilli, 500);
  EXPECT_EQ(r.memoryLimitBytes, 64 * 1024 * 1024);
  auto none = containerResources(pod()["spec"]["containers"][1]);
  EXPECT_FALSE(none.cpuLimitMilli);
  EXPECT_FALSE(none.memoryLimitBytes);
}

TEST(AgentDns, ClusterFirstDefaultAndNone) {
  Json p = pod();
  EXPECT_EQ(resolvConfFor(p, "10.96.0.10", "cluster.local", ""),
            "nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n");
  p["spec"]["dnsPolicy"] = "Default";
  EXPECT_EQ(resolvConfFor(p, "10.96.0.10", "cluster.local", "# host\nnameserver 1.1.1.1\nsearch corp\n"),
            "nameserver 1.1.1.1\nsearch corp\n");
  p["spec"]["dnsPolicy"] = "None";
  p["spec"]["dnsConfig"] = Json::parse(R"({"nameservers":["9.9.9.9"],"options":[{"name":"ndots","value":"2"},{"name":"edns0"}]})");
  EXPECT_EQ(resolvConfFor(p, "10.96.0.10", "cluster.local", ""), "nameserver 9.9.9.9\noptions ndots:2 edns0\n");
}

TEST(AgentRestart, PolicyAndBackoff) {
  EXPECT_TRUE(shouldRestart("Always", 0));
  EXPECT_TRUE(shouldRestart("OnFailure", 1));
  EXPECT_FALSE(shouldRestart("OnFailure", 0));
  EXPECT_FALSE(shouldRestart("Never", 1));
  std::chrono::seconds b{0};
  std::vector<int> seen;
  for (int i = 0; i < 7; ++i) seen.push_back(static_cast<int>((b = nextBackoff(b)).count()));
  EXPECT_EQ(seen, (std::vector<int>{10, 20, 40, 80, 160, 300, 300}));
  EXPECT_EQ(podDesc(pod()), "web_shop(u-1)");
}

TEST(AgentProbe, ParsesNamedPortsAndDefaults) {
  Json c = pod()["spec"]["containers"][0];
  c["readinessProbe"] = Json::parse(R"({"httpGet":{"path":"healthz","port":"http"},"periodSeconds":2})");
  auto p = parseProbe(c, "readinessProbe");
  ASSERT_TRUE(p && *p);
  EXPECT_EQ((*p)->port, 80);
  EXPECT_EQ((*p)->path, "/healthz");
  EXPECT_EQ((*p)->periodSeconds, 2);
  EXPECT_EQ((*p)->failureThreshold, 3);
  c["livenessProbe"] = Json::parse(R"({"tcpSocket":{"port":"nope"}})");
  EXPECT_FALSE(parseProbe(c, "livenessProbe"));
  auto none = parseProbe(c, "startupProbe");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  EXPECT_EQ(parseHttpStatusLine("HTTP/1.1 404 Not Found\r\n"), 404);
  EXPECT_EQ(parseHttpStatusLine("SSH-2.0"), -1);
}

ContainerObservation running(const char* name, bool ready = true) {
  ContainerObservation c;
  c.name = name;
  c.state = ContainerObservation::State::kRunning;
  c.startedAt = "2026-01-01T00:00:01Z";
  c.ready = ready;
  c.started = true;
  return c;
}

ContainerObservation exited(const char* name, int code, bool restarting = false) {
  ContainerObservation c;
  c.name = name;
  TerminatedState t{code, 0, code == 0 ? "Completed" : "Error", "", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z", ""};
  if (restarting) {
    c.state = ContainerObservation::State::kWaiting;
    c.waitingReason = "CrashLoopBackOff";
    c.lastTerminated = t;
  } else {
    c.state = ContainerObservation::State::kTerminated;
    c.terminated = t;
  }
  return c;
}

TEST(AgentPhase, AsTheKubeletComputesIt) {
  ContainerObservation creating;
  creating.name = "a";
  EXPECT_EQ(podPhase(pod(), {creating, running("b")}), "Pending");
  EXPECT_EQ(podPhase(pod(), {running("a"), exited("b", 1, true)}), "Running");
  EXPECT_EQ(podPhase(pod("Never"), {exited("a", 0), exited("b", 0)}), "Succeeded");
  EXPECT_EQ(podPhase(pod("Never"), {exited("a", 0), exited("b", 2)}), "Failed");
  EXPECT_EQ(podPhase(pod("OnFailure"), {exited("a", 0), exited("b", 2)}), "Running");
  EXPECT_EQ(podPhase(pod("Always"), {exited("a", 0), exited("b", 0)}), "Running");
}

TEST(AgentStatus, ConditionsStatusesAndIps) {
  PodObservation obs{true, "10.244.0.7", "192.168.250.11", "2026-01-01T00:00:00Z", {running("b"), running("a", false)}};
  Json st = podStatus(pod(), obs, "2026-01-01T00:00:05Z");
  EXPECT_EQ(st["phase"], "Running");
  EXPECT_EQ(st["podIP"], "10.244.0.7");
  EXPECT_EQ(st["podIPs"], Json::parse(R"([{"ip":"10.244.0.7"}])"));
  EXPECT_EQ(st["hostIP"], "192.168.250.11");
  EXPECT_EQ(st["containerStatuses"][0]["name"], "a");  // sorted by name, as the kubelet does
  EXPECT_EQ(st["containerStatuses"][0]["ready"], false);
  EXPECT_EQ(st["qosClass"], "Burstable");
  std::map<std::string, Json> byType;
  for (const auto& c : st["conditions"]) byType[c["type"]] = c;
  EXPECT_EQ(byType["Ready"]["status"], "False");
  EXPECT_EQ(byType["Ready"]["message"], "containers with unready status: [a]");
  EXPECT_EQ(byType["PodReadyToStartContainers"]["status"], "True");
  EXPECT_EQ(byType["PodScheduled"]["lastTransitionTime"], "2026-01-01T00:00:00Z");  // kept
  // A second computation later keeps the transition times of unchanged conditions.
  Json p = pod();
  p["status"] = st;
  Json again = podStatus(p, obs, "2026-01-01T00:09:00Z");
  EXPECT_EQ(again, st);
}

TEST(AgentStatus, CrashLoopShowsWaitingAndLastState) {
  auto c = exited("b", 1, true);
  c.restartCount = 3;
  Json j = containerStatusJson(c);
  EXPECT_EQ(j["state"]["waiting"]["reason"], "CrashLoopBackOff");
  EXPECT_EQ(j["lastState"]["terminated"]["exitCode"], 1);
  EXPECT_EQ(j["lastState"]["terminated"]["reason"], "Error");
  EXPECT_EQ(j["restartCount"], 3);
  EXPECT_EQ(j["started"], false);
}

TEST(AgentNode, RegistrationObjectAndLease) {
  NodeFacts f;
  f.name = "node-1";
  f.ip = "192.168.250.11";
  f.hostname = "node-1";
  f.cpuCores = 2;
  f.memoryBytes = 4096LL * 1024 * 1024;
  Json n = nodeObject(f, "2026-01-01T00:00:00Z");
  EXPECT_EQ(n["metadata"]["labels"]["kubernetes.io/hostname"], "node-1");
  EXPECT_EQ(n["status"]["capacity"]["cpu"], "2");
  EXPECT_EQ(n["status"]["capacity"]["memory"], "4194304Ki");
  EXPECT_EQ(n["status"]["addresses"][0], Json::parse(R"({"type":"InternalIP","address":"192.168.250.11"})"));
  EXPECT_EQ(n["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"], 10250);
  EXPECT_EQ(n["status"]["conditions"][3]["type"], "Ready");
  EXPECT_EQ(n["status"]["conditions"][3]["reason"], "KubeletReady");
  Json l = leaseObject("node-1", "uid-n", "2026-01-01T00:00:00.000001Z");
  EXPECT_EQ(l["metadata"]["namespace"], "kube-node-lease");
  EXPECT_EQ(l["spec"]["leaseDurationSeconds"], 40);
  EXPECT_EQ(l["metadata"]["ownerReferences"][0]["uid"], "uid-n");
}

TEST(AgentEvents, PodEventFields) {
  Json e = podEvent(pod(), "spec.containers{a}", "Normal", "Started", "Started container a", "node-1", "web.1",
                    "2026-01-01T00:00:00Z");
  EXPECT_EQ(e["involvedObject"]["fieldPath"], "spec.containers{a}");
  EXPECT_EQ(e["involvedObject"]["uid"], "u-1");
  EXPECT_EQ(e["source"], Json::parse(R"({"component":"kubelet","host":"node-1"})"));
  EXPECT_EQ(e["metadata"]["namespace"], "shop");
  EXPECT_EQ(e["count"], 1);
}

}  // namespace
}  // namespace nanokube::kubelet
