#pragma once
// The desired state of the vxlan and host-gw backends as pure functions of the peers, and
// the difference between it and what the kernel holds. No I/O here: vxlan.cc and hostgw.cc
// read the kernel's tables, call these, and apply the result.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/netlink.h"
#include "net/overlay/overlay.h"

namespace nanokube::net::overlay {

// flannel's vxlan defaults: device flannel.1 with VNI 1 on UDP 8472 (the Linux kernel's
// historical port, not IANA's 4789), 50 bytes of headroom (outer IPv4 20 + UDP 8 + VXLAN 8 +
// inner Ethernet 14).
inline constexpr char kVxlanDevice[] = "nk.1";
inline constexpr uint32_t kVxlanVni = 1;
inline constexpr uint16_t kVxlanPort = 8472;
inline constexpr unsigned kVxlanOverhead = 50;

// The VTEP MAC of the node owning `podCidr`: 0a:58 (locally administered, unicast, the
// prefix CNI uses for address-derived MACs) followed by the podCIDR's network address, e.g.
// 0a:58:0a:f4:01:00 for 10.244.1.0/24. Derived, not random, so that it survives an agent
// restart and a re-created device, and the neighbour entries peers hold stay right. It
// cannot equal the bridge's MAC (bridgeMac: the gateway .1) nor a pod's.
std::string vtepMac(const Ipv4Cidr& podCidr);

// "0A:58:..." -> "0a:58:..."; nullopt for anything but six hex pairs separated by colons.
std::optional<std::string> normalizeMac(std::string_view text);

// A peer left out of a plan, with the reason.
struct SkippedPeer {
  std::string node;
  std::string reason;
  bool operator==(const SkippedPeer&) const = default;
};

// Per peer (sorted by podCIDR):
//   route      <podCIDR> via <podCIDR network> dev nk.1 onlink
//   neighbour  <podCIDR network> lladdr <VTEP MAC> dev nk.1        (nud permanent)
//   fdb        <VTEP MAC> dev nk.1 dst <public IP>                 (self permanent)
struct VxlanPlan {
  std::vector<Route> routes;
  std::vector<Neighbour> neighbours;
  std::vector<FdbEntry> fdb;
  std::vector<SkippedPeer> skipped;
};

// Per peer: route <podCIDR> via <public IP> dev <lanInterface>.
struct HostGwPlan {
  std::vector<Route> routes;
  std::vector<SkippedPeer> skipped;
};

// What a plan is made from besides the peers.
struct PlanInput {
  Ipv4Cidr clusterCidr;              // a peer's podCIDR must lie inside it
  std::optional<NodeInfo> self;      // peers that claim its name or podCIDR are skipped
  std::string lanInterface;          // host-gw's device
};

// Peers are skipped when they use another backend, lack what the backend needs (public IP,
// VTEP MAC), have a podCIDR outside the cluster CIDR, or claim a podCIDR (or, for vxlan, a
// VTEP MAC or public IP) that a peer earlier by name, or self, already holds.
VxlanPlan planVxlan(const PlanInput& input, const std::vector<NodeInfo>& peers);
HostGwPlan planHostGw(const PlanInput& input, const std::vector<NodeInfo>& peers);

// Which of the kernel's entries the overlay owns and may therefore remove: routes into the
// cluster CIDR through a gateway on `dev` (nk.1 for vxlan, the LAN link for host-gw). Other
// routes, and everything on other devices, are never touched.
bool ownsRoute(const Route& route, const std::string& dev, const Ipv4Cidr& clusterCidr);

// The steps from `current` to `desired`: `remove` first, then `put` (add or replace).
template <class T>
struct Changes {
  std::vector<T> remove;
  std::vector<T> put;
  bool empty() const { return remove.empty() && put.empty(); }
  bool operator==(const Changes&) const = default;
};

// Routes are keyed by destination and neighbours by (dev, IP): a wrong one is replaced in
// place (one request), a departed one removed. FDB entries are compared whole, because a
// VXLAN device may hold several destinations for one MAC: every entry that is not desired
// is removed, every desired one missing is put.
Changes<Route> diffRoutes(const std::vector<Route>& desired, const std::vector<Route>& current);
Changes<Neighbour> diffNeighbours(const std::vector<Neighbour>& desired, const std::vector<Neighbour>& current);
Changes<FdbEntry> diffFdb(const std::vector<FdbEntry>& desired, const std::vector<FdbEntry>& current);

// Applying changes (the one part of this file that calls the kernel, through Netlink).
// Every step is tried even when one fails, so that one bad peer does not hold back the
// others; the result names every failure. Removing what is already gone is success.
// Order: routes, neighbours and FDB entries are removed in that order, and put in the
// reverse one, so that a route never points at a peer whose MAC or VTEP is not known yet.
struct ApplyErrors {
  std::vector<Error> errors;
  void add(Result<void> result, bool missingIsFine = false);
  Result<void> result(const std::string& what) const;  // the first error's code, every message
};
void removeAll(Netlink& netlink, const Changes<Route>& routes, const Changes<Neighbour>& neighbours,
               const Changes<FdbEntry>& fdb, ApplyErrors& errors);
void putAll(Netlink& netlink, const Changes<Route>& routes, const Changes<Neighbour>& neighbours,
            const Changes<FdbEntry>& fdb, ApplyErrors& errors);

}  // namespace nanokube::net::overlay
