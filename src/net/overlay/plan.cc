#include "net/overlay/plan.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>

namespace nanokube::net::overlay {

namespace {

bool insideCluster(const Ipv4Cidr& cidr, const Ipv4Cidr& cluster) {
  return cidr.prefix >= cluster.prefix && cluster.contains(cidr.network());
}

// The checks every backend makes; the reason a peer is skipped, or nullopt.
std::optional<std::string> commonReason(const PlanInput& input, const NodeInfo& peer, std::string_view backend) {
  if (peer.backend != backend) {
    return "uses backend \"" + peer.backend + "\", not \"" + std::string(backend) + "\"";
  }
  if (input.self && peer.name == input.self->name) return std::string("is this node");
  if (peer.publicIp == Ipv4{}) return std::string("has no public IP");
  if (!insideCluster(peer.podCidr, input.clusterCidr)) {
    return "podCIDR " + peer.podCidr.toString() + " is outside the cluster CIDR " + input.clusterCidr.toString();
  }
  if (input.self && peer.podCidr.network() == input.self->podCidr.network()) {
    return "podCIDR " + peer.podCidr.toString() + " is this node's";
  }
  return std::nullopt;
}

// Peers in name order, so that which of two conflicting peers wins does not depend on the
// order the caller listed them in.
std::vector<NodeInfo> byName(std::vector<NodeInfo> peers) {
  std::ranges::sort(peers, {}, &NodeInfo::name);
  return peers;
}

template <class T, class Key>
Changes<T> diffByKey(const std::vector<T>& desired, const std::vector<T>& current, Key key) {
  Changes<T> out;
  std::set<decltype(key(desired.front()))> wanted;
  for (const auto& d : desired) wanted.insert(key(d));
  for (const auto& c : current) {
    if (!wanted.count(key(c))) out.remove.push_back(c);
  }
  for (const auto& d : desired) {
    if (std::ranges::find(current, d) == current.end()) out.put.push_back(d);
  }
  return out;
}

}  // namespace

std::string vtepMac(const Ipv4Cidr& podCidr) {
  uint32_t n = podCidr.network().value;
  char out[18];
  std::snprintf(out, sizeof out, "0a:58:%02x:%02x:%02x:%02x", n >> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
  return out;
}

std::optional<std::string> normalizeMac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i) {
    if (i % 3 == 2) {
      if (out[i] != ':') return std::nullopt;
    } else if (!std::isxdigit(static_cast<unsigned char>(out[i]))) {
      return std::nullopt;
    } else {
      out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
    }
  }
  return out;
}

VxlanPlan planVxlan(const PlanInput& input, const std::vector<NodeInfo>& peers) {
  VxlanPlan plan;
  std::map<uint32_t, std::string> cidrs;  // podCIDR network -> node
  std::map<std::string, std::string> macs;
  std::map<Ipv4, std::string> ips;
  if (input.self) {
    macs[input.self->vtepMac] = input.self->name;
    ips[input.self->publicIp] = input.self->name;
  }
  std::vector<NodeInfo> accepted;
  for (const auto& peer : byName(peers)) {
    auto reason = commonReason(input, peer, "vxlan");
    auto mac = normalizeMac(peer.vtepMac);
    if (!reason && !mac) reason = "has no VTEP MAC (\"" + peer.vtepMac + "\")";
    if (!reason && cidrs.count(peer.podCidr.network().value)) {
      reason = "podCIDR " + peer.podCidr.toString() + " is node " + cidrs[peer.podCidr.network().value] + "'s";
    }
    if (!reason && macs.count(*mac)) reason = "VTEP MAC " + *mac + " is node " + macs[*mac] + "'s";
    // Two FDB entries for one public IP are harmless, but two nodes on one address are a
    // misconfiguration that would send one node's traffic to the other.
    if (!reason && ips.count(peer.publicIp)) reason = "public IP " + peer.publicIp.toString() + " is node " + ips[peer.publicIp] + "'s";
    if (reason) {
      plan.skipped.push_back({peer.name, *reason});
      continue;
    }
    cidrs[peer.podCidr.network().value] = peer.name;
    macs[*mac] = peer.name;
    ips[peer.publicIp] = peer.name;
    NodeInfo p = peer;
    p.vtepMac = *mac;
    accepted.push_back(p);
  }
  std::ranges::sort(accepted, [](const NodeInfo& a, const NodeInfo& b) { return a.podCidr.network() < b.podCidr.network(); });
  for (const auto& p : accepted) {
    Ipv4 gateway = p.podCidr.network();
    plan.routes.push_back(Route{Ipv4Cidr{gateway, p.podCidr.prefix}, gateway, kVxlanDevice, true});
    plan.neighbours.push_back(Neighbour{kVxlanDevice, gateway, p.vtepMac});
    plan.fdb.push_back(FdbEntry{kVxlanDevice, p.vtepMac, p.publicIp});
  }
  return plan;
}

HostGwPlan planHostGw(const PlanInput& input, const std::vector<NodeInfo>& peers) {
  HostGwPlan plan;
  std::map<uint32_t, std::string> cidrs;
  std::vector<NodeInfo> accepted;
  for (const auto& peer : byName(peers)) {
    auto reason = commonReason(input, peer, "host-gw");
    if (!reason && cidrs.count(peer.podCidr.network().value)) {
      reason = "podCIDR " + peer.podCidr.toString() + " is node " + cidrs[peer.podCidr.network().value] + "'s";
    }
    if (!reason && input.self && peer.publicIp == input.self->publicIp) {
      reason = "public IP " + peer.publicIp.toString() + " is this node's";
    }
    if (reason) {
      plan.skipped.push_back({peer.name, *reason});
      continue;
    }
    cidrs[peer.podCidr.network().value] = peer.name;
    accepted.push_back(peer);
  }
  std::ranges::sort(accepted, [](const NodeInfo& a, const NodeInfo& b) { return a.podCidr.network() < b.podCidr.network(); });
  for (const auto& p : accepted) {
    plan.routes.push_back(Route{Ipv4Cidr{p.podCidr.network(), p.podCidr.prefix}, p.publicIp, input.lanInterface});
  }
  return plan;
}

bool ownsRoute(const Route& route, const std::string& dev, const Ipv4Cidr& clusterCidr) {
  return route.dev == dev && route.via && route.dst && insideCluster(*route.dst, clusterCidr);
}

Changes<Route> diffRoutes(const std::vector<Route>& desired, const std::vector<Route>& current) {
  return diffByKey(desired, current, [](const Route& r) { return r.dst; });
}

Changes<Neighbour> diffNeighbours(const std::vector<Neighbour>& desired, const std::vector<Neighbour>& current) {
  return diffByKey(desired, current, [](const Neighbour& n) { return std::pair(n.dev, n.ip); });
}

Changes<FdbEntry> diffFdb(const std::vector<FdbEntry>& desired, const std::vector<FdbEntry>& current) {
  return diffByKey(desired, current, [](const FdbEntry& e) { return e; });
}

void ApplyErrors::add(Result<void> result, bool missingIsFine) {
  if (result || (missingIsFine && result.error().code == Code::kNotFound)) return;
  errors.push_back(std::move(result.error()));
}

Result<void> ApplyErrors::result(const std::string& what) const {
  if (errors.empty()) return {};
  std::string message = what + ": ";
  for (size_t i = 0; i < errors.size(); ++i) message += (i ? "; " : "") + errors[i].message;
  return fail(errors.front().code, message);
}

void removeAll(Netlink& netlink, const Changes<Route>& routes, const Changes<Neighbour>& neighbours,
               const Changes<FdbEntry>& fdb, ApplyErrors& errors) {
  for (const auto& r : routes.remove) errors.add(netlink.deleteRoute(r), true);
  for (const auto& n : neighbours.remove) errors.add(netlink.deleteNeighbour(n), true);
  for (const auto& e : fdb.remove) errors.add(netlink.deleteFdb(e), true);
}

void putAll(Netlink& netlink, const Changes<Route>& routes, const Changes<Neighbour>& neighbours,
            const Changes<FdbEntry>& fdb, ApplyErrors& errors) {
  for (const auto& e : fdb.put) errors.add(netlink.replaceFdb(e));
  for (const auto& n : neighbours.put) errors.add(netlink.replaceNeighbour(n));
  for (const auto& r : routes.put) errors.add(netlink.replaceRoute(r));
}

}  // namespace nanokube::net::overlay
