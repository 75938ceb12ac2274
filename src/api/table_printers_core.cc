// Cells for nodes, events and the small core kinds, ported from printNode, printEvent,
// printNamespace, printConfigMap, printServiceAccount and printLease in Kubernetes'
// pkg/printers/internalversion/printers.go, plus the generic fallback of
// apiserver pkg/registry/rest/table.go.

#include <set>

#include "api/table.h"
#include "api/table_internal.h"

namespace nanokube::api::table {

namespace {

constexpr std::string_view kNodeRolePrefix = "node-role.kubernetes.io/";
constexpr std::string_view kNodeRoleLabel = "kubernetes.io/role";

std::string name(const Json& obj) { return str(obj, {"metadata", "name"}); }

// printers.go findNodeRoles: a sorted set of role names.
std::string nodeRoles(const Json& node) {
  std::set<std::string> roles;
  const Json* labels = at(node, {"metadata", "labels"});
  if (labels != nullptr && labels->is_object()) {
    for (const auto& [k, v] : labels->items()) {
      std::string value = v.is_string() ? v.get<std::string>() : "";
      if (k.starts_with(kNodeRolePrefix)) {
        if (k.size() > kNodeRolePrefix.size()) roles.insert(k.substr(kNodeRolePrefix.size()));
      } else if (k == kNodeRoleLabel && !value.empty()) {
        roles.insert(value);
      }
    }
  }
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : ",") + r;
  return out.empty() ? "<none>" : out;
}

// Only the Ready condition counts (NodeAllConditions in printNode).
std::string nodeStatus(const Json& node) {
  std::string status;
  for (const auto& c : arr(node, {"status", "conditions"})) {
    if (str(c, {"type"}) != "Ready") continue;
    // printNode keeps the last condition of a type, as its map overwrites earlier ones.
    status = str(c, {"status"}) == "True" ? "Ready" : "NotReady";
  }
  if (status.empty()) status = "Unknown";
  if (flag(node, {"spec", "unschedulable"})) status += ",SchedulingDisabled";
  return status;
}

std::string nodeAddress(const Json& node, std::string_view type) {
  for (const auto& a : arr(node, {"status", "addresses"})) {
    if (str(a, {"type"}) == type) return str(a, {"address"});
  }
  return "<none>";
}

std::string orUnknown(std::string s) { return s.empty() ? "<unknown>" : s; }

// metav1.Time.IsZero over JSON: absent, null or unparsable counts as zero.
bool isZeroTime(const Json* t) {
  return t == nullptr || !t->is_string() || !parseRfc3339(t->get<std::string>());
}

std::string trimSpace(const std::string& s) {
  const char* ws = " \t\n\r\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// printers.go formatEventSource: component (or reportingComponent), then ", host".
std::string eventSource(const Json& ev) {
  std::string component = str(ev, {"source", "component"});
  if (component.empty()) component = str(ev, {"reportingComponent"});
  std::string host = str(ev, {"source", "host"});
  if (host.empty()) host = str(ev, {"reportingInstance"});
  return host.empty() ? component : component + ", " + host;
}

}  // namespace

Json nodeCells(const Json& node, TimePoint now) {
  const Json* info = at(node, {"status", "nodeInfo"});
  static const Json kEmpty = Json::object();
  const Json& ni = info != nullptr ? *info : kEmpty;
  return Json::array({name(node), nodeStatus(node), nodeRoles(node), age(node, now),
                      str(ni, {"kubeletVersion"}), nodeAddress(node, "InternalIP"),
                      nodeAddress(node, "ExternalIP"), orUnknown(str(ni, {"osImage"})),
                      orUnknown(str(ni, {"kernelVersion"})),
                      orUnknown(str(ni, {"containerRuntimeVersion"}))});
}

Json eventCells(const Json& ev, TimePoint now) {
  const Json* first = at(ev, {"firstTimestamp"});
  std::string firstSeen = isZeroTime(first) ? since(at(ev, {"eventTime"}), now) : since(first, now);
  const Json* last = at(ev, {"lastTimestamp"});
  std::string lastSeen = isZeroTime(last) ? firstSeen : since(last, now);
  std::int64_t count = num(ev, {"count"});
  const Json* series = at(ev, {"series"});
  if (series != nullptr && series->is_object()) {
    lastSeen = since(at(*series, {"lastObservedTime"}), now);
    count = num(*series, {"count"});
  } else if (count == 0) {
    count = 1;  // singleton events of the events.k8s.io API carry no count
  }
  std::string kind = str(ev, {"involvedObject", "kind"});
  for (auto& ch : kind) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string objName = str(ev, {"involvedObject", "name"});
  std::string target = objName.empty() ? kind : kind + "/" + objName;
  return Json::array({lastSeen, str(ev, {"type"}), str(ev, {"reason"}), target,
                      str(ev, {"involvedObject", "fieldPath"}), eventSource(ev),
                      trimSpace(str(ev, {"message"})), firstSeen, count, name(ev)});
}

Json namespaceCells(const Json& ns, TimePoint now) {
  return Json::array({name(ns), str(ns, {"status", "phase"}), age(ns, now)});
}

Json configMapCells(const Json& cm, TimePoint now) {
  auto size = [&](const char* key) -> std::int64_t {
    const Json* m = at(cm, {key});
    return m != nullptr && m->is_object() ? static_cast<std::int64_t>(m->size()) : 0;
  };
  return Json::array({name(cm), size("data") + size("binaryData"), age(cm, now)});
}

Json serviceAccountCells(const Json& sa, TimePoint now) {
  return Json::array({name(sa), static_cast<std::int64_t>(arr(sa, {"secrets"}).size()), age(sa, now)});
}

Json leaseCells(const Json& lease, TimePoint now) {
  return Json::array({name(lease), str(lease, {"spec", "holderIdentity"}), age(lease, now)});
}

// The generic convertor prints creationTimestamp in RFC 3339 rather than as an age.
Json defaultCells(const Json& obj, TimePoint now) {
  const Json* ts = at(obj, {"metadata", "creationTimestamp"});
  std::string created;
  if (!isZeroTime(ts)) created = formatRfc3339(*parseRfc3339(ts->get<std::string>()));
  return Json::array({name(obj), created});
}

}  // namespace nanokube::api::table
