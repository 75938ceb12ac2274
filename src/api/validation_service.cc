// Service validation (ValidateService / ValidateServiceUpdate in
// pkg/apis/core/validation/validation.go). Node port ranges and cluster IP
// ranges belong to the API server's allocators, not here.

#include <set>

#include "api/validation_internal.h"

namespace nanokube::api::detail {

namespace {

const std::vector<std::string> kProtocols = {"SCTP", "TCP", "UDP"};

std::vector<std::string> clusterIPs(const Json& spec) {
  std::vector<std::string> ips;
  for (const auto& ip : array(spec, "clusterIPs")) {
    if (ip.is_string()) ips.push_back(ip.get<std::string>());
  }
  if (ips.empty() && !str(spec, "clusterIP").empty()) ips.push_back(str(spec, "clusterIP"));
  return ips;
}

void validateTargetPort(const Json* tp, const std::string& path, ErrorList& errs) {
  if (tp == nullptr) return;  // defaulted to the port before validation
  if (tp->is_number()) {
    for (const auto& m : isValidPortNum(tp->get<int64_t>())) errs.push_back(invalid(path, tp->dump(), m));
  } else if (tp->is_string()) {
    std::string s = tp->get<std::string>();
    for (const auto& m : isValidPortName(s)) errs.push_back(invalid(path, quote(s), m));
  }
}

void validateServicePort(const Json& port, bool requireName, std::set<std::string>& names,
                         const std::string& path, ErrorList& errs) {
  std::string name = str(port, "name");
  if (requireName && name.empty()) {
    errs.push_back(required(path + ".name"));
  } else if (!name.empty()) {
    for (const auto& m : checkDns1123Label(name)) errs.push_back(invalid(path + ".name", quote(name), m));
    if (!names.insert(name).second) errs.push_back(duplicate(path + ".name", quote(name)));
  }
  int64_t p = integer(port, "port").value_or(0);
  for (const auto& m : isValidPortNum(p)) errs.push_back(invalid(path + ".port", std::to_string(p), m));
  std::string proto = str(port, "protocol");
  if (proto.empty()) {
    errs.push_back(required(path + ".protocol"));
  } else if (proto != "TCP" && proto != "UDP" && proto != "SCTP") {
    errs.push_back(notSupported(path + ".protocol", quote(proto), kProtocols));
  }
  validateTargetPort(child(port, "targetPort"), path + ".targetPort", errs);
}

// The Go value Kubernetes prints for a duplicate (protocol, port) key.
std::string servicePortKey(const std::string& proto, int64_t port) {
  return "core.ServicePort{Name:\"\", Protocol:" + quote(proto) +
         ", AppProtocol:(*string)(nil), Port:" + std::to_string(port) +
         ", TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}";
}

void validatePorts(const Json& spec, const std::string& type, ErrorList& errs) {
  const Json& ports = array(spec, "ports");
  bool headless = str(spec, "clusterIP") == "None";
  if (ports.empty() && !headless && type != "ExternalName") errs.push_back(required("spec.ports"));
  std::set<std::string> names;
  std::set<std::pair<std::string, int64_t>> seen, seenNode;
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string p = idx("spec.ports", i);
    validateServicePort(ports[i], ports.size() > 1, names, p, errs);
    std::string proto = str(ports[i], "protocol");
    int64_t nodePort = integer(ports[i], "nodePort").value_or(0);
    if (type == "ClusterIP" && nodePort != 0) {
      errs.push_back(forbidden(p + ".nodePort", "may not be used when `type` is 'ClusterIP'"));
    }
    if (nodePort != 0 && !seenNode.insert({proto, nodePort}).second) {
      errs.push_back(duplicate(p + ".nodePort", std::to_string(nodePort)));
    }
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string proto = str(ports[i], "protocol");
    int64_t port = integer(ports[i], "port").value_or(0);
    if (!seen.insert({proto, port}).second) {
      errs.push_back(duplicate(idx("spec.ports", i), servicePortKey(proto, port)));
    }
  }
}

void validateTypeAndIPs(const Json& spec, const std::string& type, ErrorList& errs) {
  std::string clusterIP = str(spec, "clusterIP");
  if (type == "LoadBalancer" || type == "NodePort") {
    if (clusterIP == "None") {
      errs.push_back(invalid("spec.clusterIP", quote(clusterIP), "may not be set to 'None' for " + type + " services"));
    }
  } else if (type == "ExternalName") {
    if (!clusterIP.empty()) errs.push_back(forbidden("spec.clusterIP", "may not be set for ExternalName services"));
    std::string ext = str(spec, "externalName");
    if (ext.empty()) errs.push_back(required("spec.externalName"));
    for (const auto& m : ext.empty() ? std::vector<std::string>{} : checkDns1123Subdomain(ext)) {
      errs.push_back(invalid("spec.externalName", quote(ext), m));
    }
  }
  auto ips = clusterIPs(spec);
  if (!clusterIP.empty() && !ips.empty() && ips[0] != clusterIP) {
    errs.push_back(invalid("spec.clusterIPs", goStringSlice(ips), "first value must match `clusterIP`"));
  }
  for (size_t i = 0; i < ips.size(); ++i) {
    if (i == 0 && ips[i] == "None") continue;
    for (const auto& m : isValidIp(ips[i])) errs.push_back(invalid(idx("spec.clusterIPs", i), quote(ips[i]), m));
  }
}

void validatePolicies(const Json& spec, const std::string& type, ErrorList& errs) {
  std::string affinity = str(spec, "sessionAffinity");
  if (affinity.empty()) {
    errs.push_back(required("spec.sessionAffinity"));
  } else if (affinity != "ClientIP" && affinity != "None") {
    errs.push_back(notSupported("spec.sessionAffinity", quote(affinity), {"ClientIP", "None"}));
  }
  if (type.empty()) {
    errs.push_back(required("spec.type"));
  } else if (type != "ClusterIP" && type != "NodePort" && type != "LoadBalancer" && type != "ExternalName") {
    errs.push_back(notSupported("spec.type", quote(type), {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"}));
  }
  std::string etp = str(spec, "externalTrafficPolicy");
  if (!etp.empty() && type != "NodePort" && type != "LoadBalancer") {
    errs.push_back(invalid("spec.externalTrafficPolicy", quote(etp), "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));
  } else if (!etp.empty() && etp != "Cluster" && etp != "Local") {
    errs.push_back(notSupported("spec.externalTrafficPolicy", quote(etp), {"Cluster", "Local"}));
  }
  std::string itp = str(spec, "internalTrafficPolicy");
  if (!itp.empty() && itp != "Cluster" && itp != "Local") {
    errs.push_back(notSupported("spec.internalTrafficPolicy", quote(itp), {"Cluster", "Local"}));
  }
  std::string fp = str(spec, "ipFamilyPolicy");
  if (!fp.empty() && fp != "SingleStack" && fp != "PreferDualStack" && fp != "RequireDualStack") {
    errs.push_back(notSupported("spec.ipFamilyPolicy", quote(fp), {"SingleStack", "PreferDualStack", "RequireDualStack"}));
  }
}

// validateUpgradeDowngradeClusterIPs: an allocated cluster IP never changes,
// except when the service turns into or out of ExternalName.
void validateClusterIPUpdate(const Json& spec, const Json& oldSpec, ErrorList& errs) {
  if (str(spec, "type") == "ExternalName" || str(oldSpec, "type") == "ExternalName") return;
  auto now = clusterIPs(spec);
  auto before = clusterIPs(oldSpec);
  if (before.empty()) return;
  bool headless = !now.empty() && now[0] == "None" && before[0] == "None";
  if (headless) return;
  if (now.empty()) {
    errs.push_back(invalid("spec.clusterIPs[0]", goStringSlice(now), "primary clusterIP can not be unset"));
    return;
  }
  for (size_t i = 0; i < before.size() && i < now.size(); ++i) {
    if (before[i] != now[i]) errs.push_back(invalid(idx("spec.clusterIPs", i), goStringSlice(now), "may not change once set"));
  }
}

}  // namespace

void validateService(const Json& obj, const Json* old, ErrorList& errs) {
  if (old != nullptr) validateObjectMetaUpdate(obj, *old, errs);
  if (old != nullptr) validateClusterIPUpdate(object(obj, "spec"), object(*old, "spec"), errs);
  validateObjectMeta(obj, true, nameIsDns1035Label, errs);
  const Json& spec = object(obj, "spec");
  std::string type = str(spec, "type");
  validateTypeAndIPs(spec, type, errs);
  validatePorts(spec, type, errs);
  validateLabels(object(spec, "selector"), "spec.selector", errs);
  validatePolicies(spec, type, errs);
}

}  // namespace nanokube::api::detail
