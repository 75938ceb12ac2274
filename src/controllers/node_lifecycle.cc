#include "controllers/node_lifecycle.h"

#include "api/object.h"

namespace nanokube::controllers {

namespace {

bool isUnreachableTaint(const Json& t) { return t.is_object() && t.value("key", "") == kUnreachableTaint; }

std::string readyStatus(const Json& node) {
  if (const Json* conds = api::fieldAt(node, {"status", "conditions"}); conds && conds->is_array()) {
    for (const auto& c : *conds) {
      if (c.value("type", "") == "Ready") return c.value("status", "");
    }
  }
  return "";
}

}  // namespace

NodeHealthChange checkNodeHealth(const Json& node, std::optional<TimePoint> lastRenew, TimePoint now,
                                 std::chrono::seconds grace) {
  NodeHealthChange change;
  Json spec = node.contains("spec") && node["spec"].is_object() ? node["spec"] : Json::object();
  Json taints = spec.value("taints", Json::array());
  bool tainted = false;
  for (const auto& t : taints) tainted = tainted || isUnreachableTaint(t);

  auto since = lastRenew;
  if (!since) since = parseRfc3339(api::stringAt(node, {"metadata", "creationTimestamp"}));
  bool stale = since && now - *since > grace;
  std::string ready = readyStatus(node);
  std::string nowText = formatRfc3339(now);

  if (stale && ready != "Unknown") {
    Json status = node.value("status", Json::object());
    Json conds = status.value("conditions", Json::array());
    for (auto& c : conds) {
      std::string type = c.value("type", "");
      if (type != "Ready" && type != "MemoryPressure" && type != "DiskPressure" && type != "PIDPressure") continue;
      c["status"] = "Unknown";
      c["reason"] = "NodeStatusUnknown";
      c["message"] = "Kubelet stopped posting node status.";
      c["lastTransitionTime"] = nowText;
    }
    status["conditions"] = conds;
    change.status = status;
  }
  if (stale && !tainted) {
    taints.push_back({{"key", kUnreachableTaint}, {"effect", "NoSchedule"}});
    taints.push_back({{"key", kUnreachableTaint}, {"effect", "NoExecute"}, {"timeAdded", nowText}});
    spec["taints"] = taints;
    change.spec = spec;
  } else if (!stale && tainted && ready == "True") {
    Json kept = Json::array();
    for (const auto& t : taints) {
      if (!isUnreachableTaint(t)) kept.push_back(t);
    }
    if (kept.empty()) spec.erase("taints");
    else spec["taints"] = kept;
    change.spec = spec;
  }
  return change;
}

}  // namespace nanokube::controllers
