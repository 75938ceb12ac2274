// Defaulting after pkg/apis/core/v1/defaults.go, pkg/apis/apps/v1/defaults.go,
// pkg/apis/batch/v1/defaults.go and pkg/apis/discovery/v1/defaults.go, plus the
// few values Kubernetes' admission plugins and registry strategies always add
// on create (service account, priority, default tolerations, pod status,
// namespace finalizer). Every default is written only when the field is absent,
// so applying them twice changes nothing.

#include "api/defaults.h"

#include <map>
#include <string_view>
#include <vector>

#include "api/object.h"
#include "api/validation.h"

namespace nanokube::api {

namespace {

// Sets obj[key] = value unless a non-null value is already there.
void setDefault(Json& obj, const char* key, Json value) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) obj[key] = std::move(value);
}

Json& objectAt(Json& obj, const char* key) {
  setDefault(obj, key, Json::object());
  return obj[key];
}

// Runs fn on every object element of obj[key] when it is an array.
template <class Fn>
void forEach(Json& obj, const char* key, Fn fn) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) return;
  for (auto& e : *it) {
    if (e.is_object()) fn(e);
  }
}

// The tag of an image reference, "latest" when it carries neither tag nor
// digest (parsers.ParseImageName in pkg/util/parsers).
std::string imageTag(std::string_view image) {
  bool digest = false;
  if (auto at = image.find('@'); at != std::string_view::npos) {
    image = image.substr(0, at);
    digest = true;
  }
  auto colon = image.rfind(':');
  auto slash = image.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    return std::string(image.substr(colon + 1));
  }
  return digest ? "" : "latest";
}

void defaultProbe(Json& c, const char* key) {
  auto it = c.find(key);
  if (it == c.end() || !it->is_object()) return;
  Json& p = *it;
  setDefault(p, "timeoutSeconds", 1);
  setDefault(p, "periodSeconds", 10);
  setDefault(p, "successThreshold", 1);
  setDefault(p, "failureThreshold", 3);
  if (p.contains("httpGet") && p["httpGet"].is_object()) {
    setDefault(p["httpGet"], "path", "/");
    setDefault(p["httpGet"], "scheme", "HTTP");
  }
}

void defaultContainer(Json& c, bool hostNetwork) {
  setDefault(c, "terminationMessagePath", "/dev/termination-log");
  setDefault(c, "terminationMessagePolicy", "File");
  if (!c.contains("imagePullPolicy") || c["imagePullPolicy"].is_null()) {
    auto it = c.find("image");
    std::string image = it != c.end() && it->is_string() ? it->get<std::string>() : "";
    c["imagePullPolicy"] = imageTag(image) == "latest" ? "Always" : "IfNotPresent";
  }
  setDefault(c, "resources", Json::object());
  forEach(c, "ports", [&](Json& p) {
    setDefault(p, "protocol", "TCP");
    // With host networking the container port is the host port (defaultHostNetworkPorts).
    if (hostNetwork && p.contains("containerPort")) setDefault(p, "hostPort", p["containerPort"]);
  });
  forEach(c, "env", [](Json& e) {
    auto vf = e.find("valueFrom");
    if (vf != e.end() && vf->is_object() && vf->contains("fieldRef") && (*vf)["fieldRef"].is_object()) {
      setDefault((*vf)["fieldRef"], "apiVersion", "v1");
    }
  });
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) defaultProbe(c, probe);
}

void defaultVolume(Json& v) {
  static const char* kModeSources[] = {"secret", "configMap", "downwardAPI", "projected"};
  bool hasSource = false;
  for (const auto& [k, val] : v.items()) hasSource = hasSource || (k != "name" && !val.is_null());
  if (!hasSource) v["emptyDir"] = Json::object();  // SetDefaults_Volume
  for (const char* s : kModeSources) {
    if (v.contains(s) && v[s].is_object()) setDefault(v[s], "defaultMode", 420);
  }
  if (v.contains("hostPath") && v["hostPath"].is_object()) setDefault(v["hostPath"], "type", "");
}

// SetDefaults_PodSpec and the container/volume/probe defaults below it.
void defaultPodSpec(Json& spec) {
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "restartPolicy", "Always");
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "securityContext", Json::object());
  setDefault(spec, "schedulerName", "default-scheduler");
  setDefault(spec, "enableServiceLinks", true);
  bool hostNetwork = spec.value("hostNetwork", Json(false)) == Json(true);
  forEach(spec, "containers", [&](Json& c) { defaultContainer(c, hostNetwork); });
  forEach(spec, "initContainers", [&](Json& c) { defaultContainer(c, hostNetwork); });
  forEach(spec, "volumes", defaultVolume);
}

// SetDefaults_Pod: a container that sets only limits requests the same amounts.
void defaultRequestsFromLimits(Json& c) {
  auto res = c.find("resources");
  if (res == c.end() || !res->is_object()) return;
  auto limits = res->find("limits");
  if (limits == res->end() || !limits->is_object()) return;
  Json& requests = objectAt(*res, "requests");
  if (!requests.is_object()) return;
  for (const auto& [k, v] : limits->items()) setDefault(requests, k.c_str(), v);
}

// Values the API server's admission plugins add to every new pod:
// ServiceAccount (plugin/pkg/admission/serviceaccount), Priority
// (plugin/pkg/admission/priority) and DefaultTolerationSeconds
// (plugin/pkg/admission/defaulttolerationseconds).
void admitPod(Json& spec) {
  setDefault(spec, "serviceAccountName", "default");
  setDefault(spec, "serviceAccount", spec["serviceAccountName"]);
  setDefault(spec, "priority", 0);
  setDefault(spec, "tolerations", Json::array());
  Json& tolerations = spec["tolerations"];
  if (!tolerations.is_array()) return;
  for (const char* key : {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}) {
    bool present = false;
    for (const auto& t : tolerations) {
      bool sameKey = t.is_object() && t.value("key", Json("")) == Json(key);
      bool noExecute = t.is_object() && (t.value("effect", Json("")) == Json("NoExecute") ||
                                         t.value("effect", Json("")) == Json(""));
      present = present || (sameKey && noExecute);
    }
    if (!present) {
      tolerations.push_back({{"key", key}, {"operator", "Exists"}, {"effect", "NoExecute"},
                             {"tolerationSeconds", 300}});
    }
  }
}

void defaultPod(Json& pod) {
  Json& spec = objectAt(pod, "spec");
  if (!spec.is_object()) return;
  defaultPodSpec(spec);
  forEach(spec, "containers", defaultRequestsFromLimits);
  forEach(spec, "initContainers", defaultRequestsFromLimits);
  admitPod(spec);
  // The pod strategy's PrepareForCreate starts every pod Pending with its QoS class.
  Json& status = objectAt(pod, "status");
  if (!status.is_object()) return;
  setDefault(status, "phase", "Pending");
  setDefault(status, "qosClass", podQosClass(pod));
}

void defaultTemplate(Json& spec) {
  auto it = spec.find("template");
  if (it == spec.end() || !it->is_object()) return;
  Json& podSpec = objectAt(*it, "spec");
  if (podSpec.is_object()) defaultPodSpec(podSpec);
}

const Json* templateLabels(const Json& spec) {
  auto t = spec.find("template");
  if (t == spec.end() || !t->is_object()) return nullptr;
  auto m = t->find("metadata");
  if (m == t->end() || !m->is_object()) return nullptr;
  auto l = m->find("labels");
  return l != m->end() && l->is_object() ? &*l : nullptr;
}

// metadata.labels <- template labels when the object has none (RC and Job).
void labelsFromTemplate(Json& obj, const Json& spec) {
  const Json* labels = templateLabels(spec);
  if (labels == nullptr || labels->empty()) return;
  Json& meta = objectAt(obj, "metadata");
  if (!meta.is_object()) return;
  auto l = meta.find("labels");
  if (l == meta.end() || l->is_null() || (l->is_object() && l->empty())) meta["labels"] = *labels;
}

void defaultReplicationController(Json& rc) {
  Json& spec = objectAt(rc, "spec");
  if (!spec.is_object()) return;
  if (const Json* labels = templateLabels(spec); labels != nullptr && !labels->empty()) {
    auto sel = spec.find("selector");
    if (sel == spec.end() || sel->is_null() || (sel->is_object() && sel->empty())) {
      spec["selector"] = *labels;
    }
  }
  labelsFromTemplate(rc, spec);
  setDefault(spec, "replicas", 1);
  defaultTemplate(spec);
}

void defaultWorkload(const std::string& kind, Json& obj) {
  Json& spec = objectAt(obj, "spec");
  if (!spec.is_object()) return;
  if (kind == "ReplicaSet" || kind == "Deployment") setDefault(spec, "replicas", 1);
  if (kind == "Deployment") {
    Json& strategy = objectAt(spec, "strategy");
    setDefault(strategy, "type", "RollingUpdate");
    if (strategy["type"] == "RollingUpdate") {
      Json& ru = objectAt(strategy, "rollingUpdate");
      setDefault(ru, "maxUnavailable", "25%");
      setDefault(ru, "maxSurge", "25%");
    }
    setDefault(spec, "revisionHistoryLimit", 10);
    setDefault(spec, "progressDeadlineSeconds", 600);
  }
  if (kind == "DaemonSet") {
    Json& strategy = objectAt(spec, "updateStrategy");
    setDefault(strategy, "type", "RollingUpdate");
    if (strategy["type"] == "RollingUpdate") {
      Json& ru = objectAt(strategy, "rollingUpdate");
      setDefault(ru, "maxUnavailable", 1);
      setDefault(ru, "maxSurge", 0);
    }
    setDefault(spec, "revisionHistoryLimit", 10);
  }
  if (kind == "Job") {
    if (!spec.contains("completions") && !spec.contains("parallelism")) spec["completions"] = 1;
    setDefault(spec, "parallelism", 1);
    setDefault(spec, "backoffLimit", spec.contains("backoffLimitPerIndex") ? 2147483647 : 6);
    setDefault(spec, "completionMode", "NonIndexed");
    setDefault(spec, "suspend", false);
    setDefault(spec, "podReplacementPolicy", spec.contains("podFailurePolicy") ? "Failed" : "TerminatingOrFailed");
    labelsFromTemplate(obj, spec);
  }
  defaultTemplate(spec);
}

void defaultService(Json& svc) {
  Json& spec = objectAt(svc, "spec");
  if (!spec.is_object()) return;
  setDefault(spec, "type", "ClusterIP");
  setDefault(spec, "sessionAffinity", "None");
  std::string type = spec["type"].is_string() ? spec["type"].get<std::string>() : "";
  if (spec["sessionAffinity"] == "ClientIP") {
    Json& cfg = objectAt(objectAt(spec, "sessionAffinityConfig"), "clientIP");
    setDefault(cfg, "timeoutSeconds", 10800);
  }
  forEach(spec, "ports", [](Json& p) {
    setDefault(p, "protocol", "TCP");
    auto tp = p.find("targetPort");
    bool unset = tp == p.end() || tp->is_null() || *tp == Json(0) || *tp == Json("");
    if (unset && p.contains("port")) p["targetPort"] = p["port"];
  });
  if (type != "ExternalName") {
    setDefault(spec, "internalTrafficPolicy", "Cluster");
    // Single-stack IPv4 cluster: the family fields the service registry fills in.
    setDefault(spec, "ipFamilyPolicy", "SingleStack");
    setDefault(spec, "ipFamilies", Json::array({"IPv4"}));
  }
  if (type == "NodePort" || type == "LoadBalancer") setDefault(spec, "externalTrafficPolicy", "Cluster");
  if (type == "LoadBalancer") setDefault(spec, "allocateLoadBalancerNodePorts", true);
  objectAt(objectAt(svc, "status"), "loadBalancer");
}

void defaultOther(const std::string& kind, Json& obj) {
  if (kind == "Namespace") {
    // The namespace strategy's PrepareForCreate and SetDefaults_Namespace.
    Json& spec = objectAt(obj, "spec");
    setDefault(spec, "finalizers", Json::array({"kubernetes"}));
    setDefault(objectAt(obj, "status"), "phase", "Active");
    std::string name = nameOf(obj);
    if (!name.empty()) objectAt(objectAt(obj, "metadata"), "labels")["kubernetes.io/metadata.name"] = name;
  } else if (kind == "Node") {
    Json& status = objectAt(obj, "status");
    if (status.is_object() && status.contains("capacity")) setDefault(status, "allocatable", status["capacity"]);
  } else if (kind == "Endpoints") {
    forEach(obj, "subsets", [](Json& ss) { forEach(ss, "ports", [](Json& p) { setDefault(p, "protocol", "TCP"); }); });
  } else if (kind == "EndpointSlice") {
    forEach(obj, "ports", [](Json& p) {
      setDefault(p, "name", "");
      setDefault(p, "protocol", "TCP");
    });
  }
}

// Sums the positive cpu and memory amounts of a ResourceList into `sum` and
// returns the names found (pkg/apis/core/helper/qos/qos.go).
std::vector<std::string> addQosResources(const Json& list, std::map<std::string, Quantity>& sum) {
  std::vector<std::string> found;
  if (!list.is_object()) return found;
  for (const auto& [name, value] : list.items()) {
    if (name != "cpu" && name != "memory") continue;
    auto q = parseQuantity(value);
    if (!q || q->nanos <= 0) continue;
    sum[name].nanos += q->nanos;
    found.push_back(name);
  }
  return found;
}

}  // namespace

std::string podQosClass(const Json& pod) {
  std::map<std::string, Quantity> requests, limits;
  bool guaranteed = true;
  auto spec = pod.find("spec");
  if (spec == pod.end() || !spec->is_object()) return "BestEffort";
  for (const char* list : {"containers", "initContainers"}) {
    auto cs = spec->find(list);
    if (cs == spec->end() || !cs->is_array()) continue;
    for (const auto& c : *cs) {
      Json res = c.is_object() ? c.value("resources", Json::object()) : Json::object();
      if (!res.is_object()) continue;
      addQosResources(res.value("requests", Json::object()), requests);
      auto found = addQosResources(res.value("limits", Json::object()), limits);
      if (found.size() < 2) guaranteed = false;  // both cpu and memory limits are needed
    }
  }
  if (requests.empty() && limits.empty()) return "BestEffort";
  for (const auto& [name, req] : requests) {
    auto lim = limits.find(name);
    if (lim == limits.end() || lim->second.compare(req) != 0) guaranteed = false;
  }
  return guaranteed && requests.size() == limits.size() ? "Guaranteed" : "Burstable";
}

void generateJobSelector(Json& job) {
  if (!job.is_object()) return;
  std::string uid = strField(job, "metadata", "uid");
  Json& spec = objectAt(job, "spec");
  if (uid.empty() || !spec.is_object() || spec.value("manualSelector", Json(false)) == Json(true)) return;
  Json& labels = objectAt(objectAt(objectAt(spec, "template"), "metadata"), "labels");
  if (!labels.is_object()) return;
  // pkg/registry/batch/job/strategy.go generateSelector: the prefixed labels and,
  // for older clients, the legacy unprefixed ones.
  std::string name = nameOf(job);
  setDefault(labels, "batch.kubernetes.io/controller-uid", uid);
  setDefault(labels, "batch.kubernetes.io/job-name", name);
  setDefault(labels, "controller-uid", uid);
  setDefault(labels, "job-name", name);
  setDefault(spec, "selector", {{"matchLabels", {{"batch.kubernetes.io/controller-uid", uid}}}});
}

void applyDefaults(const ResourceInfo& r, Json& obj) {
  if (!obj.is_object()) return;
  const std::string& k = r.kind;
  if (k == "Pod") defaultPod(obj);
  else if (k == "Service") defaultService(obj);
  else if (k == "ReplicationController") defaultReplicationController(obj);
  else if (k == "ReplicaSet" || k == "Deployment" || k == "DaemonSet" || k == "Job") defaultWorkload(k, obj);
  else defaultOther(k, obj);
}

}  // namespace nanokube::api
