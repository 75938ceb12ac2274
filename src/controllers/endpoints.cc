#include "controllers/endpoints.h"

#include <algorithm>

#include "api/object.h"
#include "api/selector.h"

namespace nanokube::controllers {

namespace {

bool podReady(const Json& pod) {
  const Json conditions = pod.contains("status") ? pod["status"].value("conditions", Json::array()) : Json::array();
  for (const auto& c : conditions) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

// The container port a Service port targets on this pod: a number as is, a name
// looked up among the pod's container ports (FindPort in pkg/api/v1/pod).
std::optional<int> resolveTargetPort(const Json& servicePort, const Json& pod) {
  Json target = servicePort.value("targetPort", servicePort.value("port", Json(0)));
  if (target.is_number_integer()) return target.get<int>();
  if (!target.is_string()) return std::nullopt;
  std::string name = target.get<std::string>();
  std::string protocol = servicePort.value("protocol", "TCP");
  for (const auto& c : pod["spec"].value("containers", Json::array())) {
    for (const auto& p : c.value("ports", Json::array())) {
      if (p.value("name", "") == name && p.value("protocol", "TCP") == protocol) return p.value("containerPort", 0);
    }
  }
  return std::nullopt;
}

struct Member {
  std::string ip;
  bool ready = false;
  Json address;
  std::vector<int> ports;  // resolved target port per Service port
};

std::vector<Member> members(const Json& service, const std::vector<Json>& pods) {
  const Json& spec = service["spec"];
  api::LabelSelector selector = api::labelSelectorFromMap(spec.value("selector", Json::object()));
  bool publishNotReady = spec.value("publishNotReadyAddresses", false);
  const Json ports = spec.value("ports", Json::array());
  std::vector<Member> out;
  for (const auto& pod : pods) {
    if (!selector.matches(api::labelsOf(pod))) continue;
    std::string ip = api::strField(pod, "status", "podIP");
    if (ip.empty()) continue;
    if (pod["metadata"].contains("deletionTimestamp") && !publishNotReady) continue;
    Member m;
    m.ip = ip;
    m.ready = publishNotReady || podReady(pod);
    bool resolved = true;
    for (const auto& port : ports) {
      auto p = resolveTargetPort(port, pod);
      if (!p) resolved = false;
      else m.ports.push_back(*p);
    }
    if (!resolved) continue;
    m.address = {{"ip", ip},
                 {"targetRef",
                  {{"kind", "Pod"},
                   {"namespace", api::namespaceOf(pod)},
                   {"name", api::nameOf(pod)},
                   {"uid", api::strField(pod, "metadata", "uid")}}}};
    std::string node = api::strField(pod, "spec", "nodeName");
    if (!node.empty()) m.address["nodeName"] = node;
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const Member& a, const Member& b) { return a.ip < b.ip; });
  return out;
}

Json endpointPort(const Json& servicePort, int port) {
  Json p = {{"port", port}, {"protocol", servicePort.value("protocol", "TCP")}};
  if (servicePort.contains("name") && !servicePort["name"].get<std::string>().empty()) p["name"] = servicePort["name"];
  if (servicePort.contains("appProtocol")) p["appProtocol"] = servicePort["appProtocol"];
  return p;
}

}  // namespace

bool managesEndpoints(const Json& service) {
  const Json& spec = service["spec"];
  if (!spec.is_object() || spec.value("type", "ClusterIP") == "ExternalName") return false;
  return spec.contains("selector") && spec["selector"].is_object() && !spec["selector"].empty();
}

Json desiredEndpoints(const Json& service, const std::vector<Json>& pods) {
  Json ep = {{"apiVersion", "v1"}, {"kind", "Endpoints"}};
  ep["metadata"] = {{"name", api::nameOf(service)}, {"namespace", api::namespaceOf(service)}};
  Json labels = api::labelsOf(service);
  if (api::strField(service, "spec", "clusterIP") == "None") labels["service.kubernetes.io/headless"] = "";
  if (!labels.empty()) ep["metadata"]["labels"] = labels;
  const Json ports = service["spec"].value("ports", Json::array());
  // Members with the same resolved ports share a subset (RepackSubsets).
  std::vector<std::pair<std::vector<int>, Json>> subsets;
  for (const auto& m : members(service, pods)) {
    auto it = std::find_if(subsets.begin(), subsets.end(), [&](const auto& s) { return s.first == m.ports; });
    if (it == subsets.end()) {
      Json subset = Json::object();
      Json ps = Json::array();
      for (size_t i = 0; i < ports.size(); ++i) ps.push_back(endpointPort(ports[i], m.ports[i]));
      if (!ps.empty()) subset["ports"] = ps;
      subsets.push_back({m.ports, subset});
      it = subsets.end() - 1;
    }
    it->second[m.ready ? "addresses" : "notReadyAddresses"].push_back(m.address);
  }
  if (!subsets.empty()) {
    ep["subsets"] = Json::array();
    for (auto& s : subsets) ep["subsets"].push_back(std::move(s.second));
  }
  return ep;
}

Json desiredEndpointSlice(const Json& service, const std::vector<Json>& pods) {
  std::string name = api::nameOf(service);
  Json slice = {{"apiVersion", "discovery.k8s.io/v1"}, {"kind", "EndpointSlice"}, {"addressType", "IPv4"}};
  Json labels = api::labelsOf(service);
  labels["kubernetes.io/service-name"] = name;
  labels["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io";
  slice["metadata"] = {{"namespace", api::namespaceOf(service)},
                       {"generateName", name + "-"},
                       {"labels", labels},
                       {"ownerReferences", Json::array({{{"apiVersion", "v1"},
                                                         {"kind", "Service"},
                                                         {"name", name},
                                                         {"uid", api::strField(service, "metadata", "uid")},
                                                         {"controller", true},
                                                         {"blockOwnerDeletion", true}}})}};
  const Json ports = service["spec"].value("ports", Json::array());
  auto ms = members(service, pods);
  Json endpoints = Json::array();
  for (const auto& m : ms) {
    bool terminating = false;
    Json e = {{"addresses", Json::array({m.ip})},
              {"conditions", {{"ready", m.ready && !terminating}, {"serving", m.ready}, {"terminating", terminating}}},
              {"targetRef", m.address["targetRef"]}};
    if (m.address.contains("nodeName")) e["nodeName"] = m.address["nodeName"];
    endpoints.push_back(std::move(e));
  }
  slice["endpoints"] = endpoints;
  // One slice carries one port set: that of the first member, or the Service's
  // own target ports while there is none.
  Json ps = Json::array();
  for (size_t i = 0; i < ports.size(); ++i) {
    int port = !ms.empty() ? ms.front().ports[i]
                           : (ports[i].contains("targetPort") && ports[i]["targetPort"].is_number_integer()
                                  ? ports[i]["targetPort"].get<int>()
                                  : ports[i].value("port", 0));
    ps.push_back(endpointPort(ports[i], port));
  }
  slice["ports"] = ps;
  return slice;
}

bool endpointsUpToDate(const Json& current, const Json& desired) {
  return api::labelsOf(current) == api::labelsOf(desired) &&
         current.value("subsets", Json::array()) == desired.value("subsets", Json::array());
}

bool sliceUpToDate(const Json& current, const Json& desired) {
  return api::labelsOf(current) == api::labelsOf(desired) &&
         current.value("endpoints", Json::array()) == desired.value("endpoints", Json::array()) &&
         current.value("ports", Json::array()) == desired.value("ports", Json::array()) &&
         current["metadata"].value("ownerReferences", Json::array()) ==
             desired["metadata"].value("ownerReferences", Json::array());
}

}  // namespace nanokube::controllers
