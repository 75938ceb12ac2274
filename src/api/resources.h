#pragma once
// The table of every resource nanokube serves: the single source that discovery,
// OpenAPI, routing, storage keys and Table printing read.

#include <string>
#include <string_view>
#include <vector>

namespace nanokube::api {

struct ResourceInfo {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string kind;      // "Pod"
  std::string plural;    // "pods"
  std::string singular;  // "pod"
  bool namespaced = true;
  std::vector<std::string> shortNames;
  std::vector<std::string> categories;  // "all" puts it in `kubectl get all`
  std::vector<std::string> verbs;
  // Subresources served under /<plural>/<name>/<sub>: "status", "binding", "scale", "log", "exec".
  std::vector<std::string> subresources;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string listKind() const { return kind + "List"; }
  // "pods" or "deployments.apps": how Kubernetes names the resource in messages.
  std::string qualifiedName() const { return group.empty() ? plural : plural + "." + group; }
  bool hasSubresource(std::string_view sub) const;
};

// Every served resource, in discovery order.
const std::vector<ResourceInfo>& allResources();

// Lookup by URL coordinates; nullptr when not served.
const ResourceInfo* findResource(std::string_view group, std::string_view version,
                                 std::string_view plural);
// Lookup by apiVersion ("v1", "apps/v1") and kind; nullptr when not served.
const ResourceInfo* findByKind(std::string_view apiVersion, std::string_view kind);

// The group-versions served, in discovery order: {"", "v1"}, {"apps", "v1"}, ...
struct GroupVersion {
  std::string group;
  std::string version;
  std::string str() const { return group.empty() ? version : group + "/" + version; }
};
std::vector<GroupVersion> servedGroupVersions();

}  // namespace nanokube::api
