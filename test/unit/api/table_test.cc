// Table cells checked against what Kubernetes' printers.go prints for the same objects.

#include "api/table.h"

#include <gtest/gtest.h>

namespace nanokube::api {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kNow = *parseRfc3339("2026-01-01T12:00:00Z");

std::string ago(std::chrono::seconds d) { return formatRfc3339(kNow - d); }

const ResourceInfo& res(std::string_view apiVersion, std::string_view kind) {
  const ResourceInfo* r = findByKind(apiVersion, kind);
  EXPECT_NE(r, nullptr) << kind;
  return *r;
}

Json cells(std::string_view apiVersion, std::string_view kind, const Json& obj) {
  return tableRow(res(apiVersion, kind), obj, kNow, IncludeObject::kNone)["cells"];
}

TEST(HumanDuration, MatchesApimachinery) {
  struct Case {
    std::chrono::nanoseconds d;
    const char* want;
  };
  const Case cases[] = {
      {seconds(-2), "<invalid>"}, {seconds(-1), "0s"},        {std::chrono::milliseconds(-1500), "0s"},
      {seconds(0), "0s"},         {seconds(59), "59s"},       {seconds(119), "119s"},
      {seconds(120), "2m"},       {seconds(125), "2m5s"},     {minutes(10), "10m"},
      {minutes(179), "179m"},     {hours(3), "3h"},           {minutes(210), "3h30m"},
      {hours(8), "8h"},           {hours(47), "47h"},         {hours(48), "2d"},
      {hours(50), "2d2h"},        {hours(24 * 8), "8d"},      {hours(24 * 729), "729d"},
      {hours(24 * 730), "2y"},    {hours(24 * 731), "2y1d"},  {hours(24 * 365 * 8), "8y"},
      {hours(24 * 365 * 9 + 5), "9y"},
  };
  for (const auto& c : cases) EXPECT_EQ(humanDuration(c.d), c.want) << c.d.count();
}

Json runningPod() {
  return Json::parse(R"({
    "metadata": {"name": "nginxpod", "namespace": "default", "uid": "u1",
                 "labels": {"app": "nginx"}},
    "spec": {"nodeName": "mock-node", "containers": [{"name": "a"}, {"name": "b"}]},
    "status": {"phase": "Running", "podIPs": [{"ip": "10.244.0.11"}],
               "conditions": [{"type": "Ready", "status": "True"}],
               "containerStatuses": [
                 {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
                 {"name": "b", "ready": true, "restartCount": 0, "state": {"running": {}}}]}})");
}

TEST(PodTable, RunningPodHasAllWideCells) {
  Json pod = runningPod();
  pod["metadata"]["creationTimestamp"] = ago(seconds(5));
  EXPECT_EQ(cells("v1", "Pod", pod),
            Json::parse(R"(["nginxpod","2/2","Running","0","5s","10.244.0.11","mock-node","<none>","<none>"])"));
}

// Each case edits a running pod and checks Ready, Status and Restarts.
TEST(PodTable, StatusReadyAndRestarts) {
  struct Case {
    const char* name;
    const char* patch;  // merged into runningPod() with merge_patch
    const char* ready;
    const char* status;
    const char* restarts;
  };
  const Case cases[] = {
      {"pending without statuses",
       R"({"status":{"phase":"Pending","conditions":null,"containerStatuses":null}})", "0/2", "Pending", "0"},
      {"status.reason wins over phase", R"({"status":{"phase":"Failed","reason":"Evicted","containerStatuses":null}})",
       "0/2", "Evicted", "0"},
      {"waiting reason of the first container wins",
       R"({"status":{"containerStatuses":[
          {"name":"a","ready":false,"restartCount":3,"state":{"waiting":{"reason":"CrashLoopBackOff"}},
           "lastState":{"terminated":{"exitCode":1,"finishedAt":"2026-01-01T11:55:00Z"}}},
          {"name":"b","ready":false,"restartCount":1,"state":{"waiting":{"reason":"ImagePullBackOff"}}}]}})",
       "0/2", "CrashLoopBackOff", "4 (5m ago)"},
      {"restarts without a last termination have no age",
       R"({"status":{"containerStatuses":[{"name":"a","ready":true,"restartCount":2,"state":{"running":{}}}]}})",
       "1/2", "Running", "2"},
      {"terminated without reason shows the exit code",
       R"({"status":{"containerStatuses":[{"name":"a","state":{"terminated":{"exitCode":2}}}]}})", "0/2",
       "ExitCode:2", "0"},
      {"terminated by a signal", R"({"status":{"containerStatuses":[{"name":"a","state":{"terminated":{"exitCode":137,"signal":9}}}]}})",
       "0/2", "Signal:9", "0"},
      {"completed pod", R"({"status":{"phase":"Succeeded","containerStatuses":[
          {"name":"a","state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
          {"name":"b","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})",
       "0/2", "Completed", "0"},
      {"completed container next to a running one, pod ready", R"({"status":{"containerStatuses":[
          {"name":"a","ready":true,"state":{"running":{}}},
          {"name":"b","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})",
       "1/2", "Running", "0"},
      {"completed container next to a running one, pod not ready",
       R"({"status":{"conditions":[{"type":"Ready","status":"False"}],"containerStatuses":[
          {"name":"a","ready":true,"state":{"running":{}}},
          {"name":"b","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})",
       "1/2", "NotReady", "0"},
      {"first init container still waiting",
       R"({"spec":{"initContainers":[{"name":"i1"},{"name":"i2"}]},"status":{"phase":"Pending",
          "initContainerStatuses":[{"name":"i1","state":{"waiting":{"reason":"PodInitializing"}}},
                                   {"name":"i2","state":{"waiting":{}}}]}})",
       "0/2", "Init:0/2", "0"},
      {"second init container running",
       R"({"spec":{"initContainers":[{"name":"i1"},{"name":"i2"}]},"status":{"phase":"Pending",
          "initContainerStatuses":[{"name":"i1","state":{"terminated":{"exitCode":0}}},
                                   {"name":"i2","state":{"running":{}}}]}})",
       "0/2", "Init:1/2", "0"},
      {"init container failed with a reason",
       R"({"spec":{"initContainers":[{"name":"i1"}]},"status":{"phase":"Pending",
          "initContainerStatuses":[{"name":"i1","restartCount":2,"state":{"terminated":{"exitCode":1,"reason":"Error"}}}]}})",
       "0/2", "Init:Error", "2"},
      {"init container failed without a reason",
       R"({"spec":{"initContainers":[{"name":"i1"}]},"status":{"phase":"Pending",
          "initContainerStatuses":[{"name":"i1","state":{"terminated":{"exitCode":3}}}]}})",
       "0/2", "Init:ExitCode:3", "0"},
      {"init container cannot pull",
       R"({"spec":{"initContainers":[{"name":"i1"}]},"status":{"phase":"Pending",
          "initContainerStatuses":[{"name":"i1","state":{"waiting":{"reason":"ErrImagePull"}}}]}})",
       "0/2", "Init:ErrImagePull", "0"},
      {"running sidecar counts as a container",
       R"({"spec":{"initContainers":[{"name":"side","restartPolicy":"Always"}]},"status":{
          "initContainerStatuses":[{"name":"side","started":true,"ready":true,"restartCount":1,
            "state":{"running":{}},"lastState":{"terminated":{"finishedAt":"2026-01-01T08:00:00Z"}}}]}})",
       "3/3", "Running", "1 (4h ago)"},
      {"scheduling gated", R"({"status":{"phase":"Pending","containerStatuses":null,
          "conditions":[{"type":"PodScheduled","status":"False","reason":"SchedulingGated"}]}})",
       "0/2", "SchedulingGated", "0"},
      {"terminating", R"({"metadata":{"deletionTimestamp":"2026-01-01T11:59:00Z"}})", "2/2", "Terminating", "0"},
      {"a deleted succeeded pod stays Completed", R"({"metadata":{"deletionTimestamp":"2026-01-01T11:59:00Z"},
          "status":{"phase":"Succeeded","containerStatuses":[{"name":"a","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})",
       "0/2", "Completed", "0"},
      {"deleted on a lost node", R"({"metadata":{"deletionTimestamp":"2026-01-01T11:59:00Z"},
          "status":{"reason":"NodeLost"}})", "2/2", "Unknown", "0"},
  };
  for (const auto& c : cases) {
    Json pod = runningPod();
    pod.merge_patch(Json::parse(c.patch));
    Json got = cells("v1", "Pod", pod);
    EXPECT_EQ(got[1], c.ready) << c.name;
    EXPECT_EQ(got[2], c.status) << c.name;
    EXPECT_EQ(got[3], c.restarts) << c.name;
    EXPECT_EQ(got[4], "<unknown>") << c.name;  // no creationTimestamp
  }
}

TEST(PodTable, WideCellsAndConditions) {
  Json pod = runningPod();
  pod["status"].erase("podIPs");
  pod["status"]["podIP"] = "10.0.0.9";
  pod["status"]["nominatedNodeName"] = "other";
  pod["spec"]["readinessGates"] = Json::parse(R"([{"conditionType":"x/a"},{"conditionType":"x/b"}])");
  pod["status"]["conditions"].push_back({{"type", "x/a"}, {"status", "True"}});
  pod["status"]["conditions"].push_back({{"type", "x/b"}, {"status", "False"}});
  Json got = cells("v1", "Pod", pod);
  EXPECT_EQ(got[5], "10.0.0.9");
  EXPECT_EQ(got[7], "other");
  EXPECT_EQ(got[8], "1/2");

  Json row = tableRow(res("v1", "Pod"), pod, kNow, IncludeObject::kNone);
  EXPECT_FALSE(row.contains("conditions"));
  pod["status"]["phase"] = "Succeeded";
  row = tableRow(res("v1", "Pod"), pod, kNow, IncludeObject::kNone);
  EXPECT_EQ(row["conditions"], Json::parse(R"([{"type":"Completed","status":"True","reason":"Succeeded",
      "message":"The pod has completed successfully."}])"));
}

TEST(ServiceTable, Cells) {
  struct Case {
    const char* name;
    const char* svc;
    const char* want;
  };
  const Case cases[] = {
      {"cluster ip", R"({"metadata":{"name":"my-nginx"},"spec":{"type":"ClusterIP","clusterIP":"10.96.0.10",
          "clusterIPs":["10.96.0.10"],"ports":[{"port":80,"protocol":"TCP","targetPort":80}],"selector":{"app":"nginx"}}})",
       R"(["my-nginx","ClusterIP","10.96.0.10","<none>","80/TCP","<unknown>","app=nginx"])"},
      {"pending load balancer", R"({"metadata":{"name":"my-second"},"spec":{"type":"LoadBalancer",
          "clusterIPs":["10.96.0.12"],"ports":[{"port":80,"nodePort":30081,"protocol":"TCP"},
          {"port":443,"nodePort":30443,"protocol":"TCP"}]},"status":{"loadBalancer":{}}})",
       R"(["my-second","LoadBalancer","10.96.0.12","<pending>","80:30081/TCP,443:30443/TCP","<unknown>","<none>"])"},
      {"load balancer with ingress and external ips, never clipped on the server",
       R"({"metadata":{"name":"lb"},"spec":{"type":"LoadBalancer","clusterIPs":["10.96.0.13"],
          "externalIPs":["192.0.2.9"],"ports":[]},"status":{"loadBalancer":{"ingress":[
          {"ip":"203.0.113.7"},{"hostname":"lb.example.com"},{"ip":"203.0.113.7"}]}}})",
       R"(["lb","LoadBalancer","10.96.0.13","203.0.113.7,lb.example.com,192.0.2.9","<none>","<unknown>","<none>"])"},
      {"node port with external ips", R"({"metadata":{"name":"np"},"spec":{"type":"NodePort",
          "clusterIPs":["10.96.0.14"],"externalIPs":["1.2.3.4","5.6.7.8"],"ports":[{"port":53,"nodePort":30053,"protocol":"UDP"}]}})",
       R"(["np","NodePort","10.96.0.14","1.2.3.4,5.6.7.8","53:30053/UDP","<unknown>","<none>"])"},
      {"external name", R"({"metadata":{"name":"ext"},"spec":{"type":"ExternalName","externalName":"example.com"}})",
       R"(["ext","ExternalName","<none>","example.com","<none>","<unknown>","<none>"])"},
      {"headless", R"({"metadata":{"name":"h"},"spec":{"type":"ClusterIP","clusterIP":"None","clusterIPs":["None"],
          "selector":{"b":"2","a":"1"}}})",
       R"(["h","ClusterIP","None","<none>","<none>","<unknown>","a=1,b=2"])"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(cells("v1", "Service", Json::parse(c.svc)), Json::parse(c.want)) << c.name;
  }
}

TEST(EndpointsTable, FirstThreeThenMore) {
  struct Case {
    const char* name;
    const char* subsets;
    const char* want;
  };
  const Case cases[] = {
      {"none", "[]", "<none>"},
      {"one port", R"([{"addresses":[{"ip":"10.244.0.11"},{"ip":"10.244.0.13"}],"ports":[{"port":80}]}])",
       "10.244.0.11:80,10.244.0.13:80"},
      {"more than three",
       R"([{"addresses":[{"ip":"a"},{"ip":"b"},{"ip":"c"},{"ip":"d"}],"ports":[{"port":80},{"port":81}]}])",
       "a:80,b:80,c:80 + 5 more..."},
      {"headless without ports", R"([{"addresses":[{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}]}])", "10.0.0.1,10.0.0.2"},
      {"ipv6", R"([{"addresses":[{"ip":"fd00::1"}],"ports":[{"port":8080}]}])", "[fd00::1]:8080"},
  };
  for (const auto& c : cases) {
    Json ep = {{"metadata", {{"name", "svc"}, {"creationTimestamp", ago(seconds(6))}}},
               {"subsets", Json::parse(c.subsets)}};
    EXPECT_EQ(cells("v1", "Endpoints", ep), Json::array({"svc", c.want, "6s"})) << c.name;
  }
}

TEST(EndpointSliceTable, PortsAndEndpoints) {
  Json slice = Json::parse(R"({"metadata":{"name":"s1"},"addressType":"IPv4",
      "ports":[{"port":80},{"name":"dns"},{}],
      "endpoints":[{"addresses":["10.0.0.1"]},{"addresses":["10.0.0.2","10.0.0.3","10.0.0.4"]}]})");
  EXPECT_EQ(cells("discovery.k8s.io/v1", "EndpointSlice", slice),
            Json::parse(R"(["s1","IPv4","80,dns,*","10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...","<unknown>"])"));
  Json empty = Json::parse(R"({"metadata":{"name":"s2"},"addressType":"IPv6"})");
  EXPECT_EQ(cells("discovery.k8s.io/v1", "EndpointSlice", empty),
            Json::parse(R"(["s2","IPv6","<unset>","<unset>","<unknown>"])"));
}

TEST(NodeTable, StatusRolesAndInfo) {
  Json node = Json::parse(R"({"metadata":{"name":"mock-node","labels":{
      "node-role.kubernetes.io/control-plane":"","node-role.kubernetes.io/":"",
      "kubernetes.io/role":"worker","node-role.kubernetes.io/a-role":""}},
      "status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}],
      "addresses":[{"type":"Hostname","address":"h"},{"type":"InternalIP","address":"10.0.0.10"}],
      "nodeInfo":{"kubeletVersion":"v1.32.0","osImage":"Debian","kernelVersion":"6.1","containerRuntimeVersion":""}}})");
  node["metadata"]["creationTimestamp"] = ago(hours(26));
  EXPECT_EQ(cells("v1", "Node", node),
            Json::parse(R"(["mock-node","Ready","a-role,control-plane,worker","26h","v1.32.0","10.0.0.10",
                            "<none>","Debian","6.1","<unknown>"])"));

  node["spec"]["unschedulable"] = true;
  node["status"]["conditions"][1]["status"] = "Unknown";
  EXPECT_EQ(cells("v1", "Node", node)[1], "NotReady,SchedulingDisabled");
  node["status"].erase("conditions");
  node["metadata"].erase("labels");
  Json got = cells("v1", "Node", node);
  EXPECT_EQ(got[1], "Unknown,SchedulingDisabled");
  EXPECT_EQ(got[2], "<none>");
}

TEST(EventTable, Cells) {
  Json ev = Json::parse(R"({"metadata":{"name":"nginx.17a"},"type":"Normal","reason":"Scheduled",
      "involvedObject":{"kind":"Pod","name":"nginx","fieldPath":"spec.containers{nginx}"},
      "source":{"component":"kubelet","host":"node1"},"message":"  Pulled image\n","count":3})");
  ev["firstTimestamp"] = ago(minutes(10));
  ev["lastTimestamp"] = ago(seconds(30));
  EXPECT_EQ(cells("v1", "Event", ev),
            Json::parse(R"(["30s","Normal","Scheduled","pod/nginx","spec.containers{nginx}","kubelet, node1",
                            "Pulled image","10m",3,"nginx.17a"])"));

  // New-style event: eventTime only, reporting fields, no count, no object name.
  Json ev2 = Json::parse(R"({"metadata":{"name":"e2"},"type":"Warning","reason":"R",
      "involvedObject":{"kind":"Node"},"reportingComponent":"ctrl","reportingInstance":"i-1",
      "firstTimestamp":null,"message":"m"})");
  ev2["eventTime"] = formatRfc3339Micro(kNow - seconds(90));
  EXPECT_EQ(cells("v1", "Event", ev2),
            Json::parse(R"(["90s","Warning","R","node","","ctrl, i-1","m","90s",1,"e2"])"));

  ev2["series"] = {{"count", 7}, {"lastObservedTime", formatRfc3339Micro(kNow - seconds(4))}};
  Json got = cells("v1", "Event", ev2);
  EXPECT_EQ(got[0], "4s");
  EXPECT_EQ(got[8], 7);
}

TEST(WorkloadTables, ReplicationControllerReplicaSetDeployment) {
  Json rc = Json::parse(R"({"metadata":{"name":"my-nginx"},"spec":{"replicas":3,"selector":{"app":"nginx"},
      "template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1"},{"name":"side","image":"busybox"}]}}},
      "status":{"replicas":3,"readyReplicas":2}})");
  Json got = cells("v1", "ReplicationController", rc);
  EXPECT_EQ(got, Json::parse(R"(["my-nginx",3,3,2,"<unknown>","nginx,side","nginx:1,busybox","app=nginx"])"));
  EXPECT_TRUE(got[1].is_number_integer());

  Json rs = Json::parse(R"({"metadata":{"name":"rs"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"x"},
      "matchExpressions":[{"key":"tier","operator":"In","values":["b","a"]}]},
      "template":{"spec":{"containers":[{"name":"c","image":"i"}]}}},"status":{}})");
  EXPECT_EQ(cells("apps/v1", "ReplicaSet", rs),
            Json::parse(R"j(["rs",2,0,0,"<unknown>","c","i","app=x,tier in (a,b)"])j"));

  Json d = Json::parse(R"({"metadata":{"name":"web"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
      "template":{"spec":{"containers":[{"name":"c","image":"i"}]}}},
      "status":{"readyReplicas":1,"updatedReplicas":2,"availableReplicas":1}})");
  EXPECT_EQ(cells("apps/v1", "Deployment", d), Json::parse(R"(["web","1/3",2,1,"<unknown>","c","i","app=web"])"));
  d["spec"]["selector"] = Json::object();
  EXPECT_EQ(cells("apps/v1", "Deployment", d)[7], "");
}

TEST(WorkloadTables, DaemonSet) {
  Json ds = Json::parse(R"({"metadata":{"name":"proxy"},"spec":{"selector":{"matchLabels":{"k":"p"}},
      "template":{"spec":{"nodeSelector":{"kubernetes.io/os":"linux"},"containers":[{"name":"p","image":"img"}]}}},
      "status":{"desiredNumberScheduled":2,"currentNumberScheduled":2,"numberReady":1,
                "updatedNumberScheduled":2,"numberAvailable":1}})");
  EXPECT_EQ(cells("apps/v1", "DaemonSet", ds),
            Json::parse(R"(["proxy",2,2,1,2,1,"kubernetes.io/os=linux","<unknown>","p","img","k=p"])"));
}

TEST(WorkloadTables, JobStatusCompletionsDuration) {
  struct Case {
    const char* name;
    const char* job;
    const char* status;
    const char* completions;
    const char* duration;
  };
  const Case cases[] = {
      {"running, completions unset", R"({"spec":{},"status":{"startTime":"2026-01-01T11:58:00Z"}})", "Running",
       "0/1", "2m"},
      {"parallel", R"({"spec":{"parallelism":3},"status":{"succeeded":1}})", "Running", "1/1 of 3", ""},
      {"complete", R"({"spec":{"completions":2},"status":{"succeeded":2,"startTime":"2026-01-01T11:00:00Z",
          "completionTime":"2026-01-01T11:00:42Z","conditions":[{"type":"Complete","status":"True"}]}})",
       "Complete", "2/2", "42s"},
      {"failed", R"({"spec":{"completions":1},"status":{"conditions":[{"type":"Failed","status":"True"}]}})",
       "Failed", "0/1", ""},
      {"suspended", R"({"spec":{},"status":{"conditions":[{"type":"Suspended","status":"True"}]}})", "Suspended",
       "0/1", ""},
      {"terminating", R"({"metadata":{"deletionTimestamp":"2026-01-01T11:00:00Z"},"spec":{},"status":{}})",
       "Terminating", "0/1", ""},
      {"failure target", R"({"spec":{},"status":{"conditions":[{"type":"FailureTarget","status":"True"}]}})",
       "FailureTarget", "0/1", ""},
  };
  for (const auto& c : cases) {
    Json job = Json::parse(c.job);
    job["metadata"]["name"] = "j";
    Json got = cells("batch/v1", "Job", job);
    EXPECT_EQ(got[1], c.status) << c.name;
    EXPECT_EQ(got[2], c.completions) << c.name;
    EXPECT_EQ(got[3], c.duration) << c.name;
    EXPECT_EQ(got[7], "<none>") << c.name;
  }
}

TEST(SmallTables, NamespaceConfigMapServiceAccountLease) {
  Json ns = {{"metadata", {{"name", "default"}, {"creationTimestamp", ago(hours(24 * 3))}}},
             {"status", {{"phase", "Active"}}}};
  EXPECT_EQ(cells("v1", "Namespace", ns), Json::parse(R"(["default","Active","3d"])"));
  Json cm = Json::parse(R"({"metadata":{"name":"cfg"},"data":{"a":"1","b":"2"},"binaryData":{"c":"AA=="}})");
  EXPECT_EQ(cells("v1", "ConfigMap", cm), Json::parse(R"(["cfg",3,"<unknown>"])"));
  Json sa = Json::parse(R"({"metadata":{"name":"default"},"secrets":[{"name":"t"}]})");
  EXPECT_EQ(cells("v1", "ServiceAccount", sa), Json::parse(R"(["default",1,"<unknown>"])"));
  Json lease = Json::parse(R"({"metadata":{"name":"node1"},"spec":{"holderIdentity":"node1"}})");
  EXPECT_EQ(cells("coordination.k8s.io/v1", "Lease", lease), Json::parse(R"(["node1","node1","<unknown>"])"));
}

TEST(Columns, MatchKubernetesDefinitions) {
  Json pods = columnDefinitions(res("v1", "Pod"));
  ASSERT_EQ(pods.size(), 9u);
  std::vector<std::string> names;
  for (const auto& c : pods) {
    names.push_back(c["name"]);
    EXPECT_EQ(c.size(), 5u) << c.dump();
  }
  EXPECT_EQ(names, (std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node",
                                             "Nominated Node", "Readiness Gates"}));
  EXPECT_EQ(pods[0]["format"], "name");
  EXPECT_EQ(pods[0]["priority"], 0);
  EXPECT_EQ(pods[5]["priority"], 1);
  EXPECT_TRUE(pods[0]["description"].get<std::string>().starts_with("Name must be unique within a namespace."));

  Json events = columnDefinitions(res("v1", "Event"));
  std::vector<std::pair<std::string, int>> ev;
  for (const auto& c : events) ev.emplace_back(c["name"], c["priority"]);
  EXPECT_EQ(ev, (std::vector<std::pair<std::string, int>>{{"Last Seen", 0}, {"Type", 0}, {"Reason", 0},
                                                           {"Object", 0}, {"Subobject", 1}, {"Source", 1},
                                                           {"Message", 0}, {"First Seen", 1}, {"Count", 1},
                                                           {"Name", 1}}));
  EXPECT_EQ(columnDefinitions(res("v1", "ReplicationController"))[1]["type"], "integer");
  // Every served kind has a printer whose cells line up with its columns.
  for (const auto& r : allResources()) {
    Json obj = {{"metadata", {{"name", "x"}}}};
    EXPECT_EQ(tableRow(r, obj, kNow, IncludeObject::kNone)["cells"].size(), columnDefinitions(r).size())
        << r.kind;
    EXPECT_NE(columnDefinitions(r)[1]["name"], "Created At") << r.kind;
  }
}

TEST(Table, RowObjectsAndEnvelope) {
  Json pod = runningPod();
  pod["metadata"]["creationTimestamp"] = ago(seconds(5));
  const ResourceInfo& r = res("v1", "Pod");
  Json table = toTable(r, {&pod}, Json{{"resourceVersion", "116"}}, kNow, IncludeObject::kMetadata);
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["apiVersion"], "meta.k8s.io/v1");
  EXPECT_EQ(table["metadata"], Json::parse(R"({"resourceVersion":"116"})"));
  EXPECT_EQ(table["columnDefinitions"].size(), 9u);
  ASSERT_EQ(table["rows"].size(), 1u);
  EXPECT_EQ(table["rows"][0]["object"], (Json{{"kind", "PartialObjectMetadata"},
                                              {"apiVersion", "meta.k8s.io/v1"},
                                              {"metadata", pod["metadata"]}}));

  Json full = toTable(r, {&pod}, nullptr, kNow, IncludeObject::kObject, false);
  EXPECT_EQ(full["rows"][0]["object"], pod);
  EXPECT_EQ(full["columnDefinitions"], Json::array());
  EXPECT_EQ(full["metadata"], Json::object());
  Json none = toTable(r, {&pod}, nullptr, kNow, IncludeObject::kNone);
  EXPECT_FALSE(none["rows"][0].contains("object"));
}

TEST(Table, KindsWithoutPrinterUseNameAndCreatedAt) {
  ResourceInfo widget{"example.com", "v1", "Widget", "widgets", "widget"};
  Json cols = columnDefinitions(widget);
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(cols[1]["name"], "Created At");
  EXPECT_EQ(cols[1]["type"], "date");
  Json obj = {{"metadata", {{"name", "w"}, {"creationTimestamp", "2025-12-31T00:00:00Z"}}}};
  EXPECT_EQ(tableRow(widget, obj, kNow, IncludeObject::kNone)["cells"],
            Json::array({"w", "2025-12-31T00:00:00Z"}));
}

}  // namespace
}  // namespace nanokube::api
