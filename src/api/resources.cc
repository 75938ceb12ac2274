#include "api/resources.h"

#include <algorithm>

namespace nanokube::api {

namespace {

const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};
const std::vector<std::string> kNoCollectionDelete = {"create", "delete", "get", "list",
                                                      "patch",  "update", "watch"};

std::vector<ResourceInfo> buildTable() {
  std::vector<ResourceInfo> t;
  auto add = [&](ResourceInfo r) { t.push_back(std::move(r)); };
  // core/v1
  add({"", "v1", "Namespace", "namespaces", "namespace", false, {"ns"}, {}, kNoCollectionDelete,
       {"status", "finalize"}});
  add({"", "v1", "Node", "nodes", "node", false, {"no"}, {}, kAllVerbs, {"status"}});
  add({"", "v1", "Pod", "pods", "pod", true, {"po"}, {"all"}, kAllVerbs,
       {"status", "binding", "log", "exec"}});
  add({"", "v1", "Service", "services", "service", true, {"svc"}, {"all"}, kNoCollectionDelete,
       {"status"}});
  add({"", "v1", "Endpoints", "endpoints", "endpoints", true, {"ep"}, {}, kAllVerbs, {}});
  add({"", "v1", "ReplicationController", "replicationcontrollers", "replicationcontroller", true,
       {"rc"}, {"all"}, kAllVerbs, {"status", "scale"}});
  add({"", "v1", "Event", "events", "event", true, {"ev"}, {}, kAllVerbs, {}});
  add({"", "v1", "ConfigMap", "configmaps", "configmap", true, {"cm"}, {}, kAllVerbs, {}});
  add({"", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", true, {"sa"}, {},
       kAllVerbs, {}});
  // apps/v1
  add({"apps", "v1", "DaemonSet", "daemonsets", "daemonset", true, {"ds"}, {"all"}, kAllVerbs,
       {"status"}});
  add({"apps", "v1", "ReplicaSet", "replicasets", "replicaset", true, {"rs"}, {"all"}, kAllVerbs,
       {"status", "scale"}});
  add({"apps", "v1", "Deployment", "deployments", "deployment", true, {"deploy"}, {"all"},
       kAllVerbs, {"status", "scale"}});
  // batch/v1
  add({"batch", "v1", "Job", "jobs", "job", true, {}, {"all"}, kAllVerbs, {"status"}});
  // discovery.k8s.io/v1
  add({"discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", true, {}, {},
       kAllVerbs, {}});
  // coordination.k8s.io/v1
  add({"coordination.k8s.io", "v1", "Lease", "leases", "lease", true, {}, {}, kAllVerbs, {}});
  return t;
}

}  // namespace

bool ResourceInfo::hasSubresource(std::string_view sub) const {
  return std::find(subresources.begin(), subresources.end(), sub) != subresources.end();
}

const std::vector<ResourceInfo>& allResources() {
  static const std::vector<ResourceInfo> table = buildTable();
  return table;
}

const ResourceInfo* findResource(std::string_view group, std::string_view version,
                                 std::string_view plural) {
  for (const auto& r : allResources()) {
    if (r.group == group && r.version == version && r.plural == plural) return &r;
  }
  return nullptr;
}

const ResourceInfo* findByKind(std::string_view apiVersion, std::string_view kind) {
  for (const auto& r : allResources()) {
    if (r.kind == kind && r.apiVersion() == apiVersion) return &r;
  }
  return nullptr;
}

std::vector<GroupVersion> servedGroupVersions() {
  std::vector<GroupVersion> out;
  for (const auto& r : allResources()) {
    bool seen = std::any_of(out.begin(), out.end(), [&](const GroupVersion& gv) {
      return gv.group == r.group && gv.version == r.version;
    });
    if (!seen) out.push_back({r.group, r.version});
  }
  return out;
}

}  // namespace nanokube::api
