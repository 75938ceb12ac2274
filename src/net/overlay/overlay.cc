// What every backend shares: names, the Node annotations, and the choice of backend.
#include "net/overlay/overlay.h"

#include "net/overlay/plan.h"

namespace nanokube::net::overlay {

namespace {

// The string at `path` inside `json`, or "" when any step is missing or not of that type.
std::string stringAt(const Json& json, std::initializer_list<const char*> path) {
  const Json* at = &json;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return "";
    at = &(*at)[key];
  }
  return at->is_string() ? at->get<std::string>() : "";
}

std::optional<Ipv4> internalIp(const Json& node) {
  const Json* addresses = node.contains("status") && node["status"].is_object() && node["status"].contains("addresses")
                              ? &node["status"]["addresses"]
                              : nullptr;
  if (!addresses || !addresses->is_array()) return std::nullopt;
  for (const auto& a : *addresses) {
    if (stringAt(a, {"type"}) == "InternalIP") {
      if (auto ip = Ipv4::parse(stringAt(a, {"address"}))) return ip;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view backendName(Backend b) {
  switch (b) {
    case Backend::kVxlan: return "vxlan";
    case Backend::kUdp: return "udp";
    case Backend::kHostGw: return "host-gw";
  }
  return "unknown";
}

Result<Backend> parseBackend(std::string_view name) {
  for (Backend b : {Backend::kVxlan, Backend::kUdp, Backend::kHostGw}) {
    if (name == backendName(b)) return b;
  }
  return fail(Code::kInvalid, "overlay backend \"" + std::string(name) + "\" is not one of vxlan, udp, host-gw");
}

std::optional<NodeInfo> nodeInfoOf(const Json& node) {
  if (!node.is_object()) return std::nullopt;
  NodeInfo info;
  info.name = stringAt(node, {"metadata", "name"});
  auto cidr = Ipv4Cidr::parse(stringAt(node, {"spec", "podCIDR"}));
  if (info.name.empty() || !cidr) return std::nullopt;
  info.podCidr = Ipv4Cidr{cidr->network(), cidr->prefix};
  // flannel's public-ip is the address peers send to; a node publishes it because its
  // InternalIP may not be the interface it tunnels from. It wins when both are there.
  std::string annotated = stringAt(node, {"metadata", "annotations", kAnnotationPublicIp});
  auto ip = !annotated.empty() ? Ipv4::parse(annotated) : internalIp(node);
  if (!ip) return std::nullopt;
  info.publicIp = *ip;
  info.backend = stringAt(node, {"metadata", "annotations", kAnnotationBackendType});
  if (info.backend.empty()) return std::nullopt;
  if (info.backend == "vxlan") {
    // backend-data is a JSON document in a string: {"VNI":1,"VtepMAC":"0a:58:0a:f4:01:00"}.
    Json data = Json::parse(stringAt(node, {"metadata", "annotations", kAnnotationBackendData}), nullptr, false);
    auto mac = normalizeMac(stringAt(data, {"VtepMAC"}));
    if (!mac) return std::nullopt;
    info.vtepMac = *mac;
  }
  return info;
}

std::map<std::string, std::string> annotationsFor(Backend backend, const NodeInfo& self) {
  std::map<std::string, std::string> out;
  out[kAnnotationBackendType] = std::string(backendName(backend));
  out[kAnnotationPublicIp] = self.publicIp.toString();
  if (backend == Backend::kVxlan) {
    out[kAnnotationBackendData] = Json{{"VNI", kVxlanVni}, {"VtepMAC", self.vtepMac}}.dump();
  } else {
    out[kAnnotationBackendData] = "null";
  }
  return out;
}

Result<std::unique_ptr<Overlay>> makeOverlay(const OverlayConfig& config) {
  if (config.lanInterface.empty()) return fail(Code::kInvalid, "overlay: no LAN interface given");
  unsigned overhead = config.backend == Backend::kVxlan ? kVxlanOverhead : config.backend == Backend::kUdp ? 28 : 0;
  if (config.lanMtu < 576 + overhead) {
    return fail(Code::kInvalid, "overlay " + std::string(backendName(config.backend)) + ": LAN MTU " +
                                    std::to_string(config.lanMtu) + " leaves pods less than 576 bytes");
  }
  switch (config.backend) {
    case Backend::kVxlan: return makeVxlanOverlay(config);
    case Backend::kUdp: return makeUdpOverlay(config);
    case Backend::kHostGw: return makeHostGwOverlay(config);
  }
  return fail(Code::kInvalid, "overlay: unknown backend");
}

}  // namespace nanokube::net::overlay
