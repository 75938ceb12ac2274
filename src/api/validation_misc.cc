// The smaller kinds: Namespace, Node, ConfigMap, ServiceAccount, Event and
// Endpoints (pkg/apis/core/validation/validation.go), EndpointSlice
// (pkg/apis/discovery/validation) and Lease (pkg/apis/coordination/validation).

#include <set>

#include "api/object.h"
#include "api/validation_internal.h"

namespace nanokube::api::detail {

namespace {

constexpr int64_t kMaxConfigMapSize = 1024 * 1024;  // core.MaxSecretSize

void validateMeta(const Json& obj, const Json* old, bool namespaced, NameFn fn, ErrorList& errs) {
  validateObjectMeta(obj, namespaced, fn, errs);
  if (old != nullptr) validateObjectMetaUpdate(obj, *old, errs);
}

// validateFinalizerName: a qualified name, and unprefixed only for the standard "kubernetes".
void validateFinalizers(const Json& list, const std::string& path, ErrorList& errs) {
  for (size_t i = 0; i < list.size(); ++i) {
    std::string f = list[i].is_string() ? list[i].get<std::string>() : "";
    std::string p = idx(path, i);
    auto msgs = isQualifiedName(f);
    for (const auto& m : msgs) errs.push_back(invalid(p, quote(f), m));
    if (msgs.empty() && f.find('/') == std::string::npos && f != "kubernetes") {
      errs.push_back(invalid(p, quote(f), "name is neither a standard finalizer name nor is it fully qualified"));
    }
  }
}

void validateEndpointPort(const Json& port, bool requireName, const std::string& path, ErrorList& errs) {
  std::string name = str(port, "name");
  if (requireName && name.empty()) {
    errs.push_back(required(path + ".name"));
  } else if (!name.empty()) {
    for (const auto& m : checkDns1123Label(name)) errs.push_back(invalid(path + ".name", quote(name), m));
  }
  int64_t p = integer(port, "port").value_or(0);
  for (const auto& m : isValidPortNum(p)) errs.push_back(invalid(path + ".port", std::to_string(p), m));
  std::string proto = str(port, "protocol");
  if (proto.empty()) {
    errs.push_back(required(path + ".protocol"));
  } else if (proto != "TCP" && proto != "UDP" && proto != "SCTP") {
    errs.push_back(notSupported(path + ".protocol", quote(proto), {"SCTP", "TCP", "UDP"}));
  }
}

void validateEndpointAddresses(const Json& addrs, const std::string& path, ErrorList& errs) {
  for (size_t i = 0; i < addrs.size(); ++i) {
    std::string p = idx(path, i);
    std::string ip = str(addrs[i], "ip");
    for (const auto& m : isValidIp(ip)) errs.push_back(invalid(p + ".ip", quote(ip), m));
    std::string host = str(addrs[i], "hostname");
    for (const auto& m : host.empty() ? std::vector<std::string>{} : checkDns1123Label(host)) {
      errs.push_back(invalid(p + ".hostname", quote(host), m));
    }
  }
}

}  // namespace

void validateNamespace(const Json& obj, const Json* old, ErrorList& errs) {
  validateMeta(obj, old, false, nameIsDns1123Label, errs);
  validateFinalizers(array(object(obj, "spec"), "finalizers"), "spec.finalizers", errs);
}

void validateNode(const Json& obj, const Json* old, ErrorList& errs) {
  validateMeta(obj, old, false, nameIsDns1123Subdomain, errs);
  const Json& taints = array(object(obj, "spec"), "taints");
  for (size_t i = 0; i < taints.size(); ++i) {
    std::string p = idx("spec.taints", i);
    std::string key = str(taints[i], "key");
    for (const auto& m : isQualifiedName(key)) errs.push_back(invalid(p + ".key", quote(key), m));
    std::string effect = str(taints[i], "effect");
    if (effect.empty()) {
      errs.push_back(required(p + ".effect"));
    } else if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
      errs.push_back(notSupported(p + ".effect", quote(effect), {"NoSchedule", "PreferNoSchedule", "NoExecute"}));
    }
  }
}

void validateConfigMap(const Json& obj, const Json* old, ErrorList& errs) {
  validateMeta(obj, old, true, nameIsDns1123Subdomain, errs);
  int64_t total = 0;
  const Json& data = object(obj, "data");
  const Json& binary = object(obj, "binaryData");
  for (const auto& [key, value] : data.items()) {
    for (const auto& m : isConfigMapKey(key)) errs.push_back(invalid("data[" + key + "]", quote(key), m));
    if (binary.contains(key)) {
      errs.push_back(invalid("data[" + key + "]", quote(key), "duplicate of key present in binaryData"));
    }
    if (value.is_string()) total += static_cast<int64_t>(value.get_ref<const std::string&>().size());
  }
  for (const auto& [key, value] : binary.items()) {
    for (const auto& m : isConfigMapKey(key)) errs.push_back(invalid("binaryData[" + key + "]", quote(key), m));
    // binaryData travels base64-encoded; its size counts decoded.
    if (value.is_string()) total += static_cast<int64_t>(value.get_ref<const std::string&>().size()) * 3 / 4;
  }
  // Kubernetes reports the whole object with an empty field path.
  if (total > kMaxConfigMapSize) errs.push_back(tooLong("", kMaxConfigMapSize));
}

void validateServiceAccount(const Json& obj, const Json* old, ErrorList& errs) {
  validateMeta(obj, old, true, nameIsDns1123Subdomain, errs);
}

// legacyValidateEvent: an event without eventTime must sit in its object's
// namespace (or in "default" for a cluster-scoped object).
void validateEvent(const Json& obj, const Json* old, ErrorList& errs) {
  validateMeta(obj, old, true, nameIsDns1123Subdomain, errs);
  std::string ns = strField(obj, "metadata", "namespace");
  const Json& involved = object(obj, "involvedObject");
  std::string ins = str(involved, "namespace");
  bool newStyle = !str(obj, "eventTime").empty();
  if (!newStyle) {
    bool ok = ins.empty() ? (ns.empty() || ns == "default") : ns == ins;
    if (!ok) errs.push_back(invalid("involvedObject.namespace", quote(ins), "does not match event.namespace"));
  } else {
    if (ins.empty() && ns != "default" && ns != "kube-system") {
      errs.push_back(invalid("involvedObject.namespace", quote(ins), "does not match event.namespace"));
    }
    if (str(obj, "reportingComponent").empty()) errs.push_back(required("reportingComponent"));
    if (str(obj, "reportingInstance").empty()) errs.push_back(required("reportingInstance"));
    if (str(obj, "action").empty()) errs.push_back(required("action"));
    if (str(obj, "reason").empty()) errs.push_back(required("reason"));
  }
}

void validateEndpoints(const Json& obj, const Json* old, ErrorList& errs) {
  validateMeta(obj, old, true, nameIsDns1123Subdomain, errs);
  const Json& subsets = array(obj, "subsets");
  for (size_t i = 0; i < subsets.size(); ++i) {
    std::string p = idx("subsets", i);
    const Json& ss = subsets[i];
    if (array(ss, "addresses").empty() && array(ss, "notReadyAddresses").empty()) {
      errs.push_back(required(p, "must specify `addresses` or `notReadyAddresses`"));
    }
    validateEndpointAddresses(array(ss, "addresses"), p + ".addresses", errs);
    validateEndpointAddresses(array(ss, "notReadyAddresses"), p + ".notReadyAddresses", errs);
    const Json& ports = array(ss, "ports");
    for (size_t j = 0; j < ports.size(); ++j) {
      validateEndpointPort(ports[j], ports.size() > 1, idx(p + ".ports", j), errs);
    }
  }
}

namespace {

void validateSliceEndpoints(const Json& obj, const std::string& type, ErrorList& errs) {
  const Json& eps = array(obj, "endpoints");
  for (size_t i = 0; i < eps.size(); ++i) {
    std::string p = idx("endpoints", i);
    const Json& addrs = array(eps[i], "addresses");
    if (addrs.empty()) errs.push_back(required(p + ".addresses", "must contain at least 1 address"));
    for (size_t j = 0; j < addrs.size(); ++j) {
      std::string a = addrs[j].is_string() ? addrs[j].get<std::string>() : "";
      std::string ap = idx(p + ".addresses", j);
      bool v6 = a.find(':') != std::string::npos;
      if (type == "IPv4" && (v6 || !isValidIp(a).empty())) {
        errs.push_back(invalid(ap, quote(a), "must be a valid IPv4 address"));
      } else if (type == "IPv6" && (!v6 || !isValidIp(a).empty())) {
        errs.push_back(invalid(ap, quote(a), "must be a valid IPv6 address"));
      } else if (type == "FQDN") {
        for (const auto& m : checkDns1123Subdomain(a)) errs.push_back(invalid(ap, quote(a), m));
      }
    }
    std::string node = str(eps[i], "nodeName");
    for (const auto& m : node.empty() ? std::vector<std::string>{} : checkDns1123Subdomain(node)) {
      errs.push_back(invalid(p + ".nodeName", quote(node), m));
    }
  }
}

void validateSlicePorts(const Json& obj, ErrorList& errs) {
  const Json& ports = array(obj, "ports");
  std::set<std::string> names;
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string p = idx("ports", i);
    std::string name = str(ports[i], "name");
    if (!name.empty()) {
      for (const auto& m : checkDns1123Label(name)) errs.push_back(invalid(p + ".name", quote(name), m));
    }
    if (!names.insert(name).second) errs.push_back(duplicate(p + ".name", quote(name)));
    if (!has(ports[i], "protocol")) errs.push_back(required(p + ".protocol"));
    if (auto port = integer(ports[i], "port")) {
      for (const auto& m : isValidPortNum(*port)) errs.push_back(invalid(p + ".port", std::to_string(*port), m));
    }
  }
}

}  // namespace

void validateEndpointSlice(const Json& obj, const Json* old, ErrorList& errs) {
  validateMeta(obj, old, true, nameIsDns1123Subdomain, errs);
  std::string type = str(obj, "addressType");
  validateSliceEndpoints(obj, type, errs);
  validateSlicePorts(obj, errs);
  if (type.empty()) {
    errs.push_back(required("addressType"));
  } else if (type != "IPv4" && type != "IPv6" && type != "FQDN") {
    errs.push_back(notSupported("addressType", quote(type), {"FQDN", "IPv4", "IPv6"}));
  }
  if (old != nullptr && str(*old, "addressType") != type) {
    validateImmutable(quote(type), true, "addressType", errs);
  }
}

void validateLease(const Json& obj, const Json* old, ErrorList& errs) {
  validateMeta(obj, old, true, nameIsDns1123Subdomain, errs);
  const Json& spec = object(obj, "spec");
  auto duration = integer(spec, "leaseDurationSeconds");
  if (duration && *duration <= 0) {
    errs.push_back(invalid("spec.leaseDurationSeconds", std::to_string(*duration), "must be greater than 0"));
  }
  validateNonnegative(spec, "leaseTransitions", "spec.leaseTransitions", errs);
}

}  // namespace nanokube::api::detail
