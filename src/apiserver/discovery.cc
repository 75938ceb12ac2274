#include "apiserver/discovery.h"

#include <fmt/format.h>

#include "api/resources.h"

namespace nanokube::apiserver {

namespace {

constexpr const char* kAggregatedV2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

bool wantsAggregated(const std::string& accept) {
  return accept.find("g=apidiscovery.k8s.io") != std::string::npos &&
         accept.find("v=v2;") != std::string::npos && accept.find("as=APIGroupDiscoveryList") != std::string::npos;
}

Json subresourceVerbs(const std::string& sub) {
  if (sub == "status" || sub == "scale") return {"get", "patch", "update"};
  if (sub == "binding") return {"create"};
  if (sub == "log") return {"get"};
  if (sub == "exec" || sub == "attach") return {"create", "get"};
  if (sub == "finalize") return {"update"};
  return {"get"};
}

// The kind a subresource answers with (Scale for /scale, Binding, ...).
Json subresourceKind(const api::ResourceInfo& r, const std::string& sub) {
  if (sub == "scale") return {{"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"}};
  if (sub == "binding") return {{"group", ""}, {"version", "v1"}, {"kind", "Binding"}};
  if (sub == "log" || sub == "exec" || sub == "attach") return {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}};
  return {{"group", r.group}, {"version", r.version}, {"kind", r.kind}};
}

Json aggregatedResource(const api::ResourceInfo& r) {
  Json res = {{"resource", r.plural},
              {"responseKind", {{"group", r.group}, {"version", r.version}, {"kind", r.kind}}},
              {"scope", r.namespaced ? "Namespaced" : "Cluster"},
              {"singularResource", r.singular},
              {"verbs", r.verbs}};
  if (!r.shortNames.empty()) res["shortNames"] = r.shortNames;
  if (!r.categories.empty()) res["categories"] = r.categories;
  if (!r.subresources.empty()) {
    Json subs = Json::array();
    for (const auto& s : r.subresources) {
      subs.push_back({{"subresource", s}, {"responseKind", subresourceKind(r, s)}, {"verbs", subresourceVerbs(s)}});
    }
    res["subresources"] = subs;
  }
  return res;
}

Json aggregatedList(bool core) {
  Json items = Json::array();
  for (const auto& gv : api::servedGroupVersions()) {
    if (core != gv.group.empty()) continue;
    Json resources = Json::array();
    for (const auto& r : api::allResources()) {
      if (r.group == gv.group && r.version == gv.version) resources.push_back(aggregatedResource(r));
    }
    items.push_back({{"metadata", {{"name", gv.group}, {"creationTimestamp", nullptr}}},
                     {"versions", Json::array({{{"version", gv.version},
                                                {"resources", resources},
                                                {"freshness", "Current"}}})}});
  }
  return {{"kind", "APIGroupDiscoveryList"},
          {"apiVersion", "apidiscovery.k8s.io/v2"},
          {"metadata", Json::object()},
          {"items", items}};
}

Json resourceList(const std::string& group, const std::string& version) {
  Json resources = Json::array();
  for (const auto& r : api::allResources()) {
    if (r.group != group || r.version != version) continue;
    Json res = {{"name", r.plural},      {"singularName", r.singular}, {"namespaced", r.namespaced},
                {"kind", r.kind},        {"verbs", r.verbs}};
    if (!r.shortNames.empty()) res["shortNames"] = r.shortNames;
    if (!r.categories.empty()) res["categories"] = r.categories;
    resources.push_back(res);
    for (const auto& s : r.subresources) {
      Json kind = subresourceKind(r, s);
      Json sub = {{"name", r.plural + "/" + s},
                  {"singularName", ""},
                  {"namespaced", r.namespaced},
                  {"kind", kind["kind"]},
                  {"verbs", subresourceVerbs(s)}};
      if (kind["group"] != r.group) {
        sub["group"] = kind["group"];
        sub["version"] = kind["version"];
      }
      resources.push_back(sub);
    }
  }
  std::string gv = group.empty() ? version : group + "/" + version;
  return {{"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", gv}, {"resources", resources}};
}

Json groupJson(const std::string& group) {
  Json versions = Json::array();
  for (const auto& gv : api::servedGroupVersions()) {
    if (gv.group == group) versions.push_back({{"groupVersion", gv.str()}, {"version", gv.version}});
  }
  return {{"name", group}, {"versions", versions}, {"preferredVersion", versions.at(0)}};
}

HttpResponse json(const Json& body, const char* contentType = "application/json") {
  HttpResponse resp;
  resp.body = body.dump();
  resp.contentType = contentType;
  return resp;
}

}  // namespace

Json versionInfo() {
  return {{"major", "1"},
          {"minor", "32"},
          {"gitVersion", kKubernetesVersion},
          {"gitCommit", "nanokube"},
          {"gitTreeState", "clean"},
          {"buildDate", "2026-01-01T00:00:00Z"},
          {"goVersion", "n/a (C++)"},
          {"compiler", "g++"},
          {"platform", "linux/amd64"}};
}

std::optional<HttpResponse> discoveryResponse(const std::string& rawPath, const std::string& accept,
                                              const std::string& serverAddress) {
  std::string path = rawPath;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path == "/api") {
    if (wantsAggregated(accept)) return json(aggregatedList(true), kAggregatedV2);
    return json({{"kind", "APIVersions"},
                 {"versions", {"v1"}},
                 {"serverAddressByClientCIDRs",
                  Json::array({{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", serverAddress}}})}});
  }
  if (path == "/apis") {
    if (wantsAggregated(accept)) return json(aggregatedList(false), kAggregatedV2);
    Json groups = Json::array();
    std::vector<std::string> seen;
    for (const auto& gv : api::servedGroupVersions()) {
      if (gv.group.empty() || std::find(seen.begin(), seen.end(), gv.group) != seen.end()) continue;
      seen.push_back(gv.group);
      groups.push_back(groupJson(gv.group));
    }
    return json({{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}});
  }
  if (path == "/api/v1") return json(resourceList("", "v1"));
  for (const auto& gv : api::servedGroupVersions()) {
    if (gv.group.empty()) continue;
    if (path == "/apis/" + gv.group) {
      Json g = groupJson(gv.group);
      g["kind"] = "APIGroup";
      g["apiVersion"] = "v1";
      return json(g);
    }
    if (path == "/apis/" + gv.str()) return json(resourceList(gv.group, gv.version));
  }
  return std::nullopt;
}

}  // namespace nanokube::apiserver
