// Node pod CIDRs: every Node gets a subnet of the cluster CIDR when it is
// written without one, keeps it for life, and gives it back when it goes. In
// Kubernetes the node IPAM controller does this after the fact
// (pkg/controller/nodeipam/ipam/range_allocator.go); doing it in the write
// means an agent sees its podCIDR in the answer to its registration.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/object.h"
#include "apiserver/registry.h"

namespace nanokube::apiserver {

namespace {

Error invalidNode(const std::string& name, const std::string& field, const std::string& detail) {
  return Error{Code::kInvalid, fmt::format("Node \"{}\" is invalid: {}: {}", name, field, detail),
               Json{{"name", name},
                    {"kind", "Node"},
                    {"causes", Json::array({{{"reason", "FieldValueInvalid"}, {"message", detail}, {"field", field}}})}}};
}

// spec.podCIDR, or the first of spec.podCIDRs (the v1 API keeps the two in step).
std::string podCidrOf(const Json& node) {
  std::string cidr = api::strField(node, "spec", "podCIDR");
  if (!cidr.empty()) return cidr;
  const Json& spec = node.is_object() && node.contains("spec") ? node["spec"] : Json();
  if (spec.is_object() && spec.contains("podCIDRs") && spec["podCIDRs"].is_array() && !spec["podCIDRs"].empty() &&
      spec["podCIDRs"][0].is_string()) {
    return spec["podCIDRs"][0].get<std::string>();
  }
  return {};
}

void setPodCidr(Json& node, const std::string& cidr) {
  Json& spec = node["spec"];
  spec["podCIDR"] = cidr;
  if (!spec.contains("podCIDRs") || !spec["podCIDRs"].is_array() || spec["podCIDRs"].empty() ||
      spec["podCIDRs"][0] != cidr) {
    spec["podCIDRs"] = Json::array({cidr});
  }
}

}  // namespace

Result<std::string> Registry::allocateNodeCidr(Json& node, const Json* old) {
  std::string name = api::nameOf(node);
  if (!node.contains("spec") || !node["spec"].is_object()) node["spec"] = Json::object();
  std::string want = podCidrOf(node);
  std::string had = old ? podCidrOf(*old) : std::string();
  if (!had.empty()) {
    // Once set, a podCIDR stays (ValidateNodeUpdate: "node updates may not
    // change podCIDR except from \"\" to valid"); an update that leaves it
    // out keeps it, as Services keep their allocated values.
    if (!want.empty() && want != had) {
      return std::unexpected(invalidNode(
          name, "spec.podCIDRs", "Forbidden: node updates may not change podCIDR except from \"\" to valid"));
    }
    setPodCidr(node, had);
    return std::string();
  }
  // A create of a name that exists fails later with AlreadyExists; it must not
  // take (nor, on that failure, give back) a subnet.
  const auto* nodes = api::findResource("", "v1", "nodes");
  if (old == nullptr && store_.get(key(*nodes, "", name))) return std::string();
  if (!want.empty()) {
    if (auto o = podCidrs_.occupy(want, name); !o) {
      return std::unexpected(
          invalidNode(name, "spec.podCIDR", fmt::format("Invalid value: \"{}\": {}", want, o.error().message)));
    }
    setPodCidr(node, want);
    return want;
  }
  auto next = podCidrs_.allocateNext(name);
  if (!next) {
    // Kubernetes leaves such a node without a podCIDR (event CIDRNotAvailable)
    // rather than refusing it.
    spdlog::warn("node {}: {}", name, next.error().message);
    return std::string();
  }
  setPodCidr(node, *next);
  return *next;
}

void Registry::releaseNodeCidr(const Json& node) {
  std::string cidr = podCidrOf(node);
  if (!cidr.empty()) podCidrs_.release(cidr, api::nameOf(node));
}

Result<void> Registry::rebuildNodeCidrs() {
  const auto* nodes = api::findResource("", "v1", "nodes");
  auto page = store_.list(prefix(*nodes, ""), 0, 0, {});
  if (!page) return std::unexpected(page.error());
  for (const auto& kv : page->items) {
    Json node = decode(kv);
    std::string cidr = podCidrOf(node);
    if (cidr.empty()) continue;
    if (auto o = podCidrs_.occupy(cidr, api::nameOf(node)); !o) {
      spdlog::warn("node {}: podCIDR {}: {}", api::nameOf(node), cidr, o.error().message);
    }
  }
  return {};
}

}  // namespace nanokube::apiserver
