#include "net/podnet.h"

#include <cstdio>

namespace nanokube::net {

namespace {

// Applying a step that may already have been applied (the same address, the same route) is
// success: setUp converges, it does not insist on a fresh namespace.
Result<void> tolerateExisting(Result<void> result) {
  if (!result && result.error().code == Code::kAlreadyExists) return {};
  return result;
}

bool isHostVethName(const std::string& name) {
  if (name.size() != 12 || !name.starts_with("veth")) return false;
  return name.find_first_not_of("0123456789abcdef", 4) == std::string::npos;
}

}  // namespace

std::string hostVethName(std::string_view podUid) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : podUid) {
    hash ^= c;
    hash *= 16777619u;
  }
  char out[16];
  std::snprintf(out, sizeof out, "veth%08x", hash);
  return out;
}

std::string bridgeMac(Ipv4 gateway) {
  char out[18];
  std::snprintf(out, sizeof out, "0a:58:%02x:%02x:%02x:%02x", gateway.value >> 24, (gateway.value >> 16) & 0xff,
                (gateway.value >> 8) & 0xff, gateway.value & 0xff);
  return out;
}

BridgePlan planBridge(const NodeNetworkConfig& config, const Ipv4Cidr& podCidr) {
  Ipv4 gateway{podCidr.network().value + 1};
  return BridgePlan{config.bridge, Ipv4Cidr{gateway, podCidr.prefix}, bridgeMac(gateway), config.mtu};
}

Result<PodPlan> planPod(const NodeNetworkConfig& config, const Ipv4Cidr& podCidr, const std::string& uid, Ipv4 ip) {
  Ipv4 gateway{podCidr.network().value + 1};
  if (!podCidr.contains(ip) || ip == podCidr.network() || ip == podCidr.broadcast() || ip == gateway) {
    return fail(Code::kInvalid, ip.toString() + " is not a pod address of " + podCidr.toString());
  }
  PodPlan plan;
  plan.uid = uid;
  plan.hostVeth = hostVethName(uid);
  plan.bridge = config.bridge;
  plan.address = Ipv4Cidr{ip, podCidr.prefix};
  plan.defaultRoute = Route{std::nullopt, gateway, kPodInterface};
  plan.mtu = config.mtu;
  return plan;
}

std::vector<std::string> staleVeths(const std::vector<LinkInfo>& nodeLinks, const std::set<std::string>& liveUids) {
  std::set<std::string> liveNames;
  for (const auto& uid : liveUids) liveNames.insert(hostVethName(uid));
  std::vector<std::string> stale;
  for (const auto& link : nodeLinks) {
    if (link.kind != "veth" || !isHostVethName(link.name)) continue;
    // The alias is the owner when setup got as far as writing it; a veth left by a setup
    // interrupted before that is judged by its name alone.
    bool live = link.alias.empty() ? liveNames.count(link.name) != 0 : liveUids.count(link.alias) != 0;
    if (!live) stale.push_back(link.name);
  }
  return stale;
}

Result<void> PodNetwork::ensureBridge() {
  BridgePlan plan = planBridge(config_, ipam_.podCidr());
  auto ensured = node_.ensureBridge(plan.name, plan.mtu, plan.mac);
  // Two pod workers may race to create the bridge; the loser sees EEXIST and checks again.
  if (!ensured && ensured.error().code == Code::kAlreadyExists) ensured = node_.ensureBridge(plan.name, plan.mtu, plan.mac);
  if (!ensured) return ensured;
  if (auto ok = tolerateExisting(node_.addAddress(plan.name, plan.address)); !ok) return ok;
  return node_.setUp(plan.name);
}

Result<Ipv4> PodNetwork::setUp(const std::string& uid, int podNetnsFd) {
  if (auto ok = ensureBridge(); !ok) return std::unexpected(ok.error());
  auto ip = ipam_.allocate(uid);
  if (!ip) return ip;
  auto plan = planPod(config_, ipam_.podCidr(), uid, *ip);
  if (!plan) return std::unexpected(plan.error());
  auto pod = openNetlink_(podNetnsFd);
  if (!pod) return std::unexpected(pod.error());
  if (auto ok = connectHostEnd(*plan, podNetnsFd, **pod); !ok) return std::unexpected(ok.error());
  if (auto ok = configurePodEnd(*plan, **pod); !ok) return std::unexpected(ok.error());
  return *ip;
}

Result<void> PodNetwork::connectHostEnd(const PodPlan& plan, int podNetnsFd, Netlink& pod) {
  auto host = node_.link(plan.hostVeth);
  if (!host && host.error().code != Code::kNotFound) return std::unexpected(host.error());
  if (!host) {
    // The pod end is created directly in the pod's namespace under its final name, so there
    // is never an "eth0" in the node's namespace, nor a pod end with a temporary name to
    // rename if setup is interrupted.
    if (auto ok = node_.createVethPair(plan.hostVeth, plan.podInterface, podNetnsFd, plan.mtu); !ok) return ok;
    host = node_.link(plan.hostVeth);
    if (!host) return std::unexpected(host.error());
  } else if (host->kind != "veth" || (!host->alias.empty() && host->alias != plan.uid)) {
    return fail(Code::kConflict, "link " + plan.hostVeth + " for pod " + plan.uid + " already belongs to " +
                                     (host->alias.empty() ? "another " + host->kind : "pod " + host->alias));
  }
  // The existing veth must be this pod's: its peer is the eth0 of the namespace we were given.
  auto podEnd = pod.link(plan.podInterface);
  if (!podEnd || podEnd->peerIndex != host->index) {
    return fail(Code::kConflict, "veth " + plan.hostVeth + " exists but " + plan.podInterface +
                                     " of pod " + plan.uid + "'s namespace is not its peer");
  }
  if (host->alias != plan.uid) {
    if (auto ok = node_.setAlias(plan.hostVeth, plan.uid); !ok) return ok;
  }
  if (host->mtu != plan.mtu) {
    if (auto ok = node_.setMtu(plan.hostVeth, plan.mtu); !ok) return ok;
  }
  if (auto ok = node_.setMaster(plan.hostVeth, plan.bridge); !ok) return ok;
  return node_.setUp(plan.hostVeth);
}

Result<void> PodNetwork::configurePodEnd(const PodPlan& plan, Netlink& pod) {
  // Order matters: the gateway is reachable only once eth0 is up with its address (the
  // kernel refuses the route with ENETUNREACH before).
  if (auto ok = pod.setUp("lo"); !ok) return ok;
  if (auto ok = pod.setMtu(plan.podInterface, plan.mtu); !ok) return ok;
  if (auto ok = tolerateExisting(pod.addAddress(plan.podInterface, plan.address)); !ok) return ok;
  if (auto ok = pod.setUp(plan.podInterface); !ok) return ok;
  return tolerateExisting(pod.addRoute(plan.defaultRoute));
}

Result<void> PodNetwork::tearDown(const std::string& uid) {
  std::string name = hostVethName(uid);
  auto host = node_.link(name);
  if (!host && host.error().code != Code::kNotFound) return std::unexpected(host.error());
  // A veth whose alias names another pod is that pod's (the 32-bit names collided); leave it.
  if (host && (host->alias.empty() || host->alias == uid)) {
    auto deleted = node_.deleteLink(name);
    if (!deleted && deleted.error().code != Code::kNotFound) return deleted;
  }
  return ipam_.release(uid);
}

Result<void> PodNetwork::reconcile(const std::set<std::string>& liveUids) {
  auto links = node_.listLinks();
  if (!links) return std::unexpected(links.error());
  for (const auto& name : staleVeths(*links, liveUids)) {
    auto deleted = node_.deleteLink(name);
    if (!deleted && deleted.error().code != Code::kNotFound) return deleted;
  }
  auto freed = ipam_.reconcile(liveUids);
  if (!freed) return std::unexpected(freed.error());
  return {};
}

}  // namespace nanokube::net
