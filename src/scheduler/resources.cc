// Pod requests and taint toleration, as the scheduler's framework computes them.

#include <algorithm>

#include "api/validation.h"
#include "scheduler/internal.h"
#include "scheduler/scheduler.h"

namespace nanokube::scheduler {

using detail::array;
using detail::field;
using detail::str;

namespace {

// Quantity.MilliValue() and Quantity.Value() round up, so a request of 1.5
// bytes takes 2.
int64_t ceilDiv(__int128 nanos, int64_t unit) {
  if (nanos <= 0) return 0;
  __int128 v = (nanos + unit - 1) / unit;
  return v > INT64_MAX ? INT64_MAX : static_cast<int64_t>(v);
}

int64_t quantity(const Json& list, const char* name, int64_t nanosPerUnit) {
  if (!list.is_object() || !list.contains(name)) return 0;
  auto q = api::parseQuantity(list[name]);
  return q ? ceilDiv(q->nanos, nanosPerUnit) : 0;
}

// A container's requests; limits stand in for absent requests (the defaulting
// in SetDefaults_Pod does this for pods that came through the API anyway).
Resources containerRequests(const Json& c) {
  Resources r;
  const Json& res = field(c, "resources");
  const Json& requests = field(res, "requests");
  const Json& limits = field(res, "limits");
  auto pick = [&](const char* name) -> const Json& {
    return requests.is_object() && requests.contains(name) ? requests : limits;
  };
  r.milliCpu = quantity(pick("cpu"), "cpu", 1'000'000);
  r.memory = quantity(pick("memory"), "memory", 1'000'000'000);
  return r;
}

}  // namespace

Resources podRequests(const Json& pod) {
  Resources sum;
  const Json& spec = field(pod, "spec");
  for (const auto& c : array(spec, "containers")) {
    Resources r = containerRequests(c);
    sum.milliCpu += r.milliCpu;
    sum.memory += r.memory;
  }
  // Init containers run one at a time before the app containers: the pod needs
  // the largest of them, or the app containers' sum if that is more.
  for (const auto& c : array(spec, "initContainers")) {
    Resources r = containerRequests(c);
    sum.milliCpu = std::max(sum.milliCpu, r.milliCpu);
    sum.memory = std::max(sum.memory, r.memory);
  }
  sum.milliCpu += quantity(field(spec, "overhead"), "cpu", 1'000'000);
  sum.memory += quantity(field(spec, "overhead"), "memory", 1'000'000'000);
  return sum;
}

bool toleratesTaint(const Json& tolerations, const Json& taint) {
  if (!tolerations.is_array() || !taint.is_object()) return false;
  std::string key = str(taint, "key"), value = str(taint, "value"), effect = str(taint, "effect");
  for (const auto& t : tolerations) {
    if (!t.is_object()) continue;
    std::string tEffect = str(t, "effect");
    if (!tEffect.empty() && tEffect != effect) continue;
    std::string tKey = str(t, "key");
    std::string op = str(t, "operator");
    // An empty key with Exists tolerates every taint (v1.Toleration.ToleratesTaint).
    if (!tKey.empty() && tKey != key) continue;
    if (op == "Exists") return true;
    if ((op == "Equal" || op.empty()) && str(t, "value") == value) return true;
  }
  return false;
}

Json effectiveTaints(const Json& node) {
  Json taints = array(field(node, "spec"), "taints");
  std::string ready = "Unknown";
  for (const auto& c : array(field(node, "status"), "conditions")) {
    if (str(c, "type") == "Ready") ready = str(c, "status");
  }
  if (ready != "True") {
    std::string key = ready == "False" ? "node.kubernetes.io/not-ready" : "node.kubernetes.io/unreachable";
    bool present = false;
    for (const auto& t : taints) {
      present = present || (str(t, "key") == key && str(t, "effect") == "NoSchedule");
    }
    if (!present) taints.push_back({{"key", key}, {"effect", "NoSchedule"}});
  }
  return taints;
}

}  // namespace nanokube::scheduler
