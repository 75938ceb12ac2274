// Filters, scores and the FailedScheduling message of Kubernetes' default
// scheduler profile. Plugin order and reason texts follow
// pkg/scheduler/framework/plugins/{nodeunschedulable,nodename,tainttoleration,
// nodeaffinity,nodeports,noderesources}; a node fails on the first plugin that
// rejects it, as RunFilterPlugins stops there.

#include "scheduler/scheduler.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "api/validation.h"
#include "scheduler/internal.h"

namespace nanokube::scheduler {

using detail::array;
using detail::field;
using detail::str;

namespace {

// The scheduler's defaults for a container without requests, used only when
// scoring (pkg/scheduler/util/pod_resources.go): 100m CPU and 200Mi memory.
constexpr int64_t kDefaultMilliCpuRequest = 100;
constexpr int64_t kDefaultMemoryRequest = 200LL * 1024 * 1024;
constexpr int64_t kMaxNodeScore = 100;
// Weights of the default profile's score plugins (pkg/scheduler/apis/config/v1/default_plugins.go).
constexpr int64_t kWeightTaintToleration = 3;
constexpr int64_t kWeightSpread = 2;
constexpr int64_t kWeightResources = 1;

// What a node failed on: the reasons of the rejecting plugin, and whether
// preemption could help (Unschedulable) or not (UnschedulableAndUnresolvable).
struct Rejection {
  std::vector<std::string> reasons;
  bool resolvable = false;
};

struct NodeState {
  const Json* node = nullptr;
  std::string name;
  std::vector<const Json*> pods;
};

int64_t allocatable(const Json& node, const char* name, int64_t nanosPerUnit) {
  const Json& status = field(node, "status");
  const Json& alloc = field(status, "allocatable").is_object() ? field(status, "allocatable") : field(status, "capacity");
  if (!alloc.is_object() || !alloc.contains(name)) return 0;
  auto q = api::parseQuantity(alloc[name]);
  if (!q || q->nanos <= 0) return 0;
  __int128 v = q->nanos / nanosPerUnit;
  return v > INT64_MAX ? INT64_MAX : static_cast<int64_t>(v);
}

bool labelsMatch(const Json& selector, const Json& labels) {
  if (!selector.is_object()) return true;
  for (const auto& [k, v] : selector.items()) {
    if (!labels.is_object() || !labels.contains(k) || labels[k] != v) return false;
  }
  return true;
}

// One NodeSelectorRequirement against a value lookup (labels or fields).
bool requirementMatches(const Json& req, const Json& values) {
  std::string key = str(req, "key"), op = str(req, "operator");
  bool has = values.is_object() && values.contains(key) && values[key].is_string();
  std::string value = has ? values[key].get<std::string>() : std::string();
  const Json& list = array(req, "values");
  auto inList = [&] {
    return std::any_of(list.begin(), list.end(), [&](const Json& v) { return v.is_string() && v == value; });
  };
  if (op == "In") return has && inList();
  if (op == "NotIn") return !has || !inList();
  if (op == "Exists") return has;
  if (op == "DoesNotExist") return !has;
  if (op == "Gt" || op == "Lt") {
    if (!has || list.size() != 1 || !list[0].is_string()) return false;
    try {
      long long a = std::stoll(value), b = std::stoll(list[0].get<std::string>());
      return op == "Gt" ? a > b : a < b;
    } catch (const std::exception&) {
      return false;
    }
  }
  return false;
}

// spec.nodeSelector and requiredDuringSchedulingIgnoredDuringExecution
// (component-helpers/scheduling/corev1/nodeaffinity): terms are ORed, the
// requirements of a term ANDed, and a term without requirements matches nothing.
bool nodeAffinityMatches(const Json& pod, const Json& node) {
  const Json& spec = field(pod, "spec");
  const Json& labels = field(field(node, "metadata"), "labels");
  if (!labelsMatch(field(spec, "nodeSelector"), labels)) return false;
  const Json& required =
      field(field(field(spec, "affinity"), "nodeAffinity"), "requiredDuringSchedulingIgnoredDuringExecution");
  if (!required.is_object()) return true;
  Json fields = {{"metadata.name", str(field(node, "metadata"), "name")}};
  for (const auto& term : array(required, "nodeSelectorTerms")) {
    const Json& exprs = array(term, "matchExpressions");
    const Json& fieldExprs = array(term, "matchFields");
    if (exprs.empty() && fieldExprs.empty()) continue;
    bool ok = std::all_of(exprs.begin(), exprs.end(), [&](const Json& r) { return requirementMatches(r, labels); });
    ok = ok && std::all_of(fieldExprs.begin(), fieldExprs.end(),
                           [&](const Json& r) { return requirementMatches(r, fields); });
    if (ok) return true;
  }
  return false;
}

struct HostPort {
  std::string protocol, hostIp;
  int64_t port;
};

std::vector<HostPort> hostPorts(const Json& pod) {
  std::vector<HostPort> out;
  for (const auto& c : array(field(pod, "spec"), "containers")) {
    for (const auto& p : array(c, "ports")) {
      const Json& hp = field(p, "hostPort");
      if (!hp.is_number_integer() || hp.get<int64_t>() <= 0) continue;
      std::string proto = str(p, "protocol");
      std::string ip = str(p, "hostIP");
      out.push_back({proto.empty() ? "TCP" : proto, ip.empty() ? "0.0.0.0" : ip, hp.get<int64_t>()});
    }
  }
  return out;
}

// HostPortInfo.CheckConflict: the same port and protocol clash when either
// side listens on 0.0.0.0 or both on the same address.
bool portsConflict(const std::vector<HostPort>& want, const std::vector<const Json*>& pods) {
  for (const Json* other : pods) {
    for (const auto& b : hostPorts(*other)) {
      for (const auto& a : want) {
        if (a.port == b.port && a.protocol == b.protocol &&
            (a.hostIp == b.hostIp || a.hostIp == "0.0.0.0" || b.hostIp == "0.0.0.0")) {
          return true;
        }
      }
    }
  }
  return false;
}

// The filters in the default profile's order; nullopt when the node fits.
std::optional<Rejection> filter(const Json& pod, const NodeState& n, const Resources& request) {
  const Json& spec = field(pod, "spec");
  const Json& tolerations = array(spec, "tolerations");
  if (field(field(*n.node, "spec"), "unschedulable") == Json(true) &&
      !toleratesTaint(tolerations, {{"key", "node.kubernetes.io/unschedulable"}, {"effect", "NoSchedule"}})) {
    return Rejection{{"node(s) were unschedulable"}, false};
  }
  std::string wanted = str(spec, "nodeName");
  if (!wanted.empty() && wanted != n.name) return Rejection{{"node(s) didn't match the requested node name"}, false};
  for (const auto& taint : effectiveTaints(*n.node)) {
    std::string effect = str(taint, "effect");
    if (effect != "NoSchedule" && effect != "NoExecute") continue;
    if (!toleratesTaint(tolerations, taint)) {
      return Rejection{{fmt::format("node(s) had untolerated taint {{{}: {}}}", str(taint, "key"), str(taint, "value"))},
                       false};
    }
  }
  if (!nodeAffinityMatches(pod, *n.node)) return Rejection{{"node(s) didn't match Pod's node affinity/selector"}, false};
  auto ports = hostPorts(pod);
  if (!ports.empty() && portsConflict(ports, n.pods)) {
    return Rejection{{"node(s) didn't have free ports for the requested pod ports"}, true};
  }
  // NodeResourcesFit (fitsRequest): pod count first, then cpu and memory
  // against allocatable minus what the node's pods already request.
  Rejection r{{}, true};
  if (static_cast<int64_t>(n.pods.size()) + 1 > allocatable(*n.node, "pods", 1'000'000'000)) {
    r.reasons.push_back("Too many pods");
  }
  if (request.milliCpu > 0 || request.memory > 0) {
    Resources used;
    for (const Json* p : n.pods) {
      Resources q = podRequests(*p);
      used.milliCpu += q.milliCpu;
      used.memory += q.memory;
    }
    if (request.milliCpu > 0 && request.milliCpu > allocatable(*n.node, "cpu", 1'000'000) - used.milliCpu) {
      r.reasons.push_back("Insufficient cpu");
    }
    if (request.memory > 0 && request.memory > allocatable(*n.node, "memory", 1'000'000'000) - used.memory) {
      r.reasons.push_back("Insufficient memory");
    }
  }
  if (!r.reasons.empty()) return r;
  return std::nullopt;
}

// Requests with the scoring defaults for containers that request nothing.
Resources nonZeroRequests(const Json& pod) {
  Resources sum;
  for (const auto& c : array(field(pod, "spec"), "containers")) {
    Json one = {{"spec", {{"containers", Json::array({c})}}}};
    Resources r = podRequests(one);
    sum.milliCpu += r.milliCpu > 0 ? r.milliCpu : kDefaultMilliCpuRequest;
    sum.memory += r.memory > 0 ? r.memory : kDefaultMemoryRequest;
  }
  return sum;
}

// NodeResourcesFit's LeastAllocated strategy: the share left free, cpu and
// memory weighted equally.
int64_t leastAllocatedScore(const Json& pod, const NodeState& n) {
  Resources req = nonZeroRequests(pod);
  for (const Json* p : n.pods) {
    Resources q = nonZeroRequests(*p);
    req.milliCpu += q.milliCpu;
    req.memory += q.memory;
  }
  auto score = [](int64_t requested, int64_t capacity) -> int64_t {
    if (capacity <= 0 || requested > capacity) return 0;
    return (capacity - requested) * kMaxNodeScore / capacity;
  };
  return (score(req.milliCpu, allocatable(*n.node, "cpu", 1'000'000)) +
          score(req.memory, allocatable(*n.node, "memory", 1'000'000'000))) /
         2;
}

std::string controllerUid(const Json& pod) {
  for (const auto& ref : array(field(pod, "metadata"), "ownerReferences")) {
    if (field(ref, "controller") == Json(true)) return str(ref, "uid");
  }
  return {};
}

int64_t intolerablePreferNoSchedule(const Json& pod, const NodeState& n) {
  int64_t count = 0;
  for (const auto& taint : effectiveTaints(*n.node)) {
    if (str(taint, "effect") == "PreferNoSchedule" && !toleratesTaint(array(field(pod, "spec"), "tolerations"), taint)) {
      ++count;
    }
  }
  return count;
}

// "0/N nodes are available: <count reason, ...>." with the reasons counted over
// nodes and sorted as strings (FitError.Error()).
std::string histogram(size_t total, const std::map<std::string, int>& counts) {
  std::vector<std::string> parts;
  for (const auto& [reason, count] : counts) parts.push_back(fmt::format("{} {}", count, reason));
  std::sort(parts.begin(), parts.end());
  std::string msg = fmt::format("0/{} nodes are available:", total);
  if (!parts.empty()) {
    msg += " ";
    for (size_t i = 0; i < parts.size(); ++i) msg += (i ? ", " : "") + parts[i];
    msg += ".";
  }
  return msg;
}

std::string failureMessage(const Json& pod, const std::vector<NodeState>& nodes,
                           const std::vector<Rejection>& rejections) {
  std::map<std::string, int> reasons;
  for (const auto& r : rejections) {
    for (const auto& reason : r.reasons) ++reasons[reason];
  }
  std::string msg = histogram(nodes.size(), reasons);
  // The DefaultPreemption post-filter's verdict (pkg/scheduler/framework/
  // preemption): nodes rejected for good are "not helpful"; on the others no
  // lower-priority pod is ever evicted here, which Kubernetes reports as no
  // victims found when the node holds no lower-priority pod.
  if (str(field(pod, "spec"), "preemptionPolicy") == "Never") {
    return msg + " preemption: not eligible due to preemptionPolicy=Never.";
  }
  std::map<std::string, int> preemption;
  for (const auto& r : rejections) {
    ++preemption[r.resolvable ? "No preemption victims found for incoming pod"
                              : "Preemption is not helpful for scheduling"];
  }
  return msg + " preemption: " + histogram(nodes.size(), preemption);
}

}  // namespace

Result<std::string> chooseNode(const Json& pod, const std::vector<Json>& nodes,
                               const std::vector<Json>& podsOnNodes, uint64_t seed) {
  if (!pod.is_object() || !field(pod, "spec").is_object()) return fail(Code::kBadRequest, "not a pod: no spec");
  // ErrNoNodesAvailable in pkg/scheduler/schedule_one.go.
  if (nodes.empty()) return fail(Code::kUnavailable, "no nodes available to schedule pods");

  std::vector<NodeState> states;
  std::map<std::string, size_t> byName;
  for (const auto& node : nodes) {
    std::string name = str(field(node, "metadata"), "name");
    if (name.empty() || byName.count(name)) continue;
    byName[name] = states.size();
    states.push_back({&node, name, {}});
  }
  if (states.empty()) return fail(Code::kUnavailable, "no nodes available to schedule pods");
  std::string self = str(field(pod, "metadata"), "uid");
  for (const auto& p : podsOnNodes) {
    auto it = byName.find(str(field(p, "spec"), "nodeName"));
    if (it == byName.end()) continue;
    std::string phase = str(field(p, "status"), "phase");
    if (phase == "Succeeded" || phase == "Failed") continue;
    if (!self.empty() && str(field(p, "metadata"), "uid") == self) continue;
    states[it->second].pods.push_back(&p);
  }

  Resources request = podRequests(pod);
  std::vector<const NodeState*> feasible;
  std::vector<Rejection> rejections;
  for (const auto& n : states) {
    if (auto r = filter(pod, n, request)) rejections.push_back(std::move(*r));
    else feasible.push_back(&n);
  }
  if (feasible.empty()) return fail(Code::kUnavailable, failureMessage(pod, states, rejections));

  // Scores, normalized per plugin over the feasible nodes as the framework does.
  std::string owner = controllerUid(pod);
  std::string ns = str(field(pod, "metadata"), "namespace");
  std::vector<int64_t> siblings(feasible.size()), taints(feasible.size());
  int64_t maxSiblings = 0, maxTaints = 0;
  for (size_t i = 0; i < feasible.size(); ++i) {
    if (!owner.empty()) {
      for (const Json* p : feasible[i]->pods) {
        if (controllerUid(*p) == owner && str(field(*p, "metadata"), "namespace") == ns) ++siblings[i];
      }
    }
    taints[i] = intolerablePreferNoSchedule(pod, *feasible[i]);
    maxSiblings = std::max(maxSiblings, siblings[i]);
    maxTaints = std::max(maxTaints, taints[i]);
  }
  int64_t best = -1;
  std::vector<std::string> winners;
  for (size_t i = 0; i < feasible.size(); ++i) {
    // Spreading (SelectorSpread's formula): fewer pods of the same controller score higher.
    int64_t spread = maxSiblings == 0 ? kMaxNodeScore : kMaxNodeScore * (maxSiblings - siblings[i]) / maxSiblings;
    int64_t taint = maxTaints == 0 ? kMaxNodeScore : kMaxNodeScore - kMaxNodeScore * taints[i] / maxTaints;
    int64_t score = kWeightResources * leastAllocatedScore(pod, *feasible[i]) + kWeightSpread * spread +
                    kWeightTaintToleration * taint;
    if (score > best) {
      best = score;
      winners.clear();
    }
    if (score == best) winners.push_back(feasible[i]->name);
  }
  std::sort(winners.begin(), winners.end());
  return winners[seed % winners.size()];
}

}  // namespace nanokube::scheduler
