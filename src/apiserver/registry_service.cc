// Service cluster IPs and node ports, allocated when a Service is written and
// released when it goes, and the objects every cluster starts with.

#include <fmt/format.h>

#include <set>

#include "api/object.h"
#include "apiserver/registry.h"

namespace nanokube::apiserver {

namespace {

Error invalidService(const std::string& name, const std::string& field, const std::string& value,
                     const std::string& detail) {
  std::string msg = fmt::format("Invalid value: {}: {}", value, detail);
  return Error{Code::kInvalid, fmt::format("Service \"{}\" is invalid: {}: {}", name, field, msg),
               Json{{"name", name},
                    {"kind", "Service"},
                    {"causes", Json::array({{{"reason", "FieldValueInvalid"}, {"message", msg}, {"field", field}}})}}};
}

bool usesNodePorts(const Json& svc) {
  std::string type = api::strField(svc, "spec", "type");
  return type == "NodePort" || type == "LoadBalancer";
}

std::string clusterIpOf(const Json& svc) { return api::strField(svc, "spec", "clusterIP"); }

std::set<int> nodePortsOf(const Json& svc) {
  std::set<int> out;
  if (!usesNodePorts(svc)) return out;
  const Json& ports = svc["spec"]["ports"];
  if (!ports.is_array()) return out;
  for (const auto& p : ports) {
    if (p.is_object() && p.contains("nodePort") && p["nodePort"].is_number_integer()) {
      out.insert(p["nodePort"].get<int>());
    }
  }
  return out;
}

// The nodePort the stored Service had for the same port and protocol, or 0.
int previousNodePort(const Json* old, const Json& port) {
  if (old == nullptr || !usesNodePorts(*old)) return 0;
  for (const auto& p : (*old)["spec"]["ports"]) {
    if (p.value("port", 0) == port.value("port", -1) && p.value("protocol", "TCP") == port.value("protocol", "TCP")) {
      return p.value("nodePort", 0);
    }
  }
  return 0;
}

}  // namespace

Result<void> Registry::allocateService(Json& svc, const Json* old) {
  std::string name = api::nameOf(svc);
  Json& spec = svc["spec"];
  std::string type = spec.value("type", "ClusterIP");
  std::vector<std::string> ips;  // allocated by this call, released on failure
  std::vector<int> ports;
  auto rollback = [&] {
    for (const auto& ip : ips) serviceIps_.release(ip);
    for (int p : ports) nodePorts_.release(p);
  };

  if (type == "ExternalName") {
    spec.erase("clusterIP");
    spec.erase("clusterIPs");
  } else {
    std::string ip = spec.value("clusterIP", "");
    std::string oldIp = old ? clusterIpOf(*old) : "";
    if (ip.empty() && !oldIp.empty()) ip = oldIp;
    if (ip == "None") {
      // Headless: no virtual IP.
    } else if (ip.empty()) {
      auto next = serviceIps_.allocateNext();
      if (!next) return std::unexpected(next.error());
      ip = *next;
      ips.push_back(ip);
    } else if (ip != oldIp) {
      if (auto a = serviceIps_.allocate(ip); !a) {
        return std::unexpected(
            invalidService(name, "spec.clusterIPs", fmt::format("[]string{{\"{}\"}}", ip), a.error().message));
      }
      ips.push_back(ip);
    }
    spec["clusterIP"] = ip;
    spec["clusterIPs"] = Json::array({ip});
  }

  if (type == "NodePort" || type == "LoadBalancer") {
    std::set<int> oldPorts = old ? nodePortsOf(*old) : std::set<int>();
    Json& list = spec["ports"];
    for (size_t i = 0; list.is_array() && i < list.size(); ++i) {
      Json& port = list[i];
      int want = port.value("nodePort", 0);
      if (want == 0) want = previousNodePort(old, port);
      if (want == 0) {
        auto next = nodePorts_.allocateNext();
        if (!next) {
          rollback();
          return std::unexpected(next.error());
        }
        ports.push_back(*next);
        port["nodePort"] = *next;
        continue;
      }
      if (oldPorts.count(want)) {
        port["nodePort"] = want;
        continue;
      }
      if (auto a = nodePorts_.allocate(want); !a) {
        rollback();
        return std::unexpected(
            invalidService(name, fmt::format("spec.ports[{}].nodePort", i), std::to_string(want), a.error().message));
      }
      ports.push_back(want);
      port["nodePort"] = want;
    }
  } else if (spec.contains("ports") && spec["ports"].is_array()) {
    for (auto& port : spec["ports"]) {
      if (port.is_object()) port.erase("nodePort");
    }
  }
  return {};
}

void Registry::keepAllocatedValues(Json& svc, const Json& old) {
  Json& spec = svc["spec"];
  if (!spec.is_object()) return;
  const Json& oldSpec = old["spec"];
  // Fields that only make sense for the old type go with it (dropTypeDependentFields
  // in pkg/registry/core/service/strategy.go), unless the client changed them.
  std::string type = spec.value("type", "ClusterIP");
  bool external = type == "NodePort" || type == "LoadBalancer";
  if (!external && usesNodePorts(old)) {
    for (const char* f : {"externalTrafficPolicy", "healthCheckNodePort"}) {
      if (spec.contains(f) && oldSpec.contains(f) && spec[f] == oldSpec[f]) spec.erase(f);
    }
    if (spec.contains("ports") && spec["ports"].is_array()) {
      for (auto& port : spec["ports"]) {
        if (port.is_object() && port.contains("nodePort") && port["nodePort"] == previousNodePort(&old, port)) {
          port.erase("nodePort");
        }
      }
    }
  }
  if (type != "LoadBalancer" && oldSpec.value("type", "") == "LoadBalancer") {
    for (const char* f : {"allocateLoadBalancerNodePorts", "loadBalancerClass"}) {
      if (spec.contains(f) && oldSpec.contains(f) && spec[f] == oldSpec[f]) spec.erase(f);
    }
  }
  bool wasExternalName = oldSpec.value("type", "ClusterIP") == "ExternalName";
  bool isExternalName = spec.value("type", "ClusterIP") == "ExternalName";
  if (!wasExternalName && !isExternalName) {
    if (spec.value("clusterIP", "").empty() && oldSpec.contains("clusterIP")) spec["clusterIP"] = oldSpec["clusterIP"];
    if ((!spec.contains("clusterIPs") || spec["clusterIPs"].empty()) && oldSpec.contains("clusterIPs")) {
      spec["clusterIPs"] = oldSpec["clusterIPs"];
    }
  }
  if (usesNodePorts(svc) && spec.contains("ports") && spec["ports"].is_array()) {
    for (auto& port : spec["ports"]) {
      if (port.is_object() && port.value("nodePort", 0) == 0) {
        int prev = previousNodePort(&old, port);
        if (prev != 0) port["nodePort"] = prev;
      }
    }
  }
}

void Registry::releaseService(const Json& svc, const Json* keep) {
  std::string ip = clusterIpOf(svc);
  if (!ip.empty() && ip != "None" && (keep == nullptr || clusterIpOf(*keep) != ip)) serviceIps_.release(ip);
  std::set<int> kept = keep ? nodePortsOf(*keep) : std::set<int>();
  for (int p : nodePortsOf(svc)) {
    if (!kept.count(p)) nodePorts_.release(p);
  }
}

Result<void> Registry::rebuildAllocations() {
  const auto* services = api::findResource("", "v1", "services");
  auto page = store_.list(prefix(*services, ""), 0, 0, {});
  if (!page) return std::unexpected(page.error());
  for (const auto& kv : page->items) {
    Json svc = decode(kv);
    std::string ip = clusterIpOf(svc);
    if (!ip.empty() && ip != "None") (void)serviceIps_.allocate(ip);
    for (int p : nodePortsOf(svc)) (void)nodePorts_.allocate(p);
  }
  return {};
}

Result<void> Registry::bootstrap(const std::string& apiServerAddress, int apiServerPort) {
  options_.apiServerAddress = apiServerAddress;
  options_.apiServerPort = apiServerPort;
  const auto* namespaces = api::findResource("", "v1", "namespaces");
  const auto* services = api::findResource("", "v1", "services");
  const auto* endpoints = api::findResource("", "v1", "endpoints");
  const auto* slices = api::findResource("discovery.k8s.io", "v1", "endpointslices");
  const auto* accounts = api::findResource("", "v1", "serviceaccounts");
  WriteOptions opts{FieldValidation::kIgnore, false};
  auto ensure = [&](const api::ResourceInfo& r, const std::string& ns, Json obj) -> Result<void> {
    if (store_.get(key(r, ns, api::nameOf(obj)))) return {};
    auto w = create(r, ns, std::move(obj), opts);
    if (!w && w.error().code != Code::kAlreadyExists) return std::unexpected(w.error());
    return {};
  };
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    if (auto r = ensure(*namespaces, "", Json{{"metadata", {{"name", ns}}}}); !r) return r;
    if (auto r = ensure(*accounts, ns, Json{{"metadata", {{"name", "default"}}}}); !r) return r;
  }
  Json svc = {{"metadata",
               {{"name", "kubernetes"}, {"labels", {{"component", "apiserver"}, {"provider", "kubernetes"}}}}},
              {"spec",
               {{"type", "ClusterIP"},
                {"clusterIP", formatIpv4(serviceIps_.cidr().base + 1)},
                {"ports", Json::array({{{"name", "https"},
                                        {"port", 443},
                                        {"protocol", "TCP"},
                                        {"targetPort", options_.apiServerPort}}})}}}};
  if (auto r = ensure(*services, "default", svc); !r) return r;
  Json ep = {{"metadata", {{"name", "kubernetes"}, {"labels", {{"endpointslice.kubernetes.io/skip-mirror", "true"}}}}},
             {"subsets", Json::array({{{"addresses", Json::array({{{"ip", options_.apiServerAddress}}})},
                                       {"ports", Json::array({{{"name", "https"},
                                                               {"port", options_.apiServerPort},
                                                               {"protocol", "TCP"}}})}}})}};
  if (auto r = ensure(*endpoints, "default", ep); !r) return r;
  Json slice = {{"metadata", {{"name", "kubernetes"}, {"labels", {{"kubernetes.io/service-name", "kubernetes"}}}}},
                {"addressType", "IPv4"},
                {"endpoints", Json::array({{{"addresses", Json::array({options_.apiServerAddress})},
                                            {"conditions", {{"ready", true}}}}})},
                {"ports", Json::array({{{"name", "https"}, {"port", options_.apiServerPort}, {"protocol", "TCP"}}})}};
  return ensure(*slices, "default", slice);
}

}  // namespace nanokube::apiserver
