#pragma once
// Pod networking on a node, as a CNI bridge plugin does it, in the NODE's network namespace:
// a bridge (nk0) holding the podCIDR's gateway address, and per pod a veth pair whose host end
// is a port of the bridge and whose other end is the pod's eth0 with an IP from IPAM and a
// default route via the gateway.
//
// The desired state of the bridge and of a pod (names, addresses, routes, MTU) comes from pure
// functions (planBridge, planPod, staleVeths); PodNetwork applies it through Netlink and keeps
// no state of its own beyond IPAM's file, so a restarted agent finds everything again from
// the pod UIDs: the host veth's name is derived from the UID.

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "net/ip.h"
#include "net/ipam.h"
#include "net/netlink.h"

namespace nanokube::net {

inline constexpr char kBridgeName[] = "nk0";
inline constexpr char kPodInterface[] = "eth0";

struct NodeNetworkConfig {
  std::string bridge = kBridgeName;
  // The MTU of the bridge, the veths and the pods' eth0. The overlay backend decides it
  // (1450 under VXLAN on a 1500 underlay); pods must not send more than the path carries.
  unsigned mtu = 1500;
};

struct BridgePlan {
  std::string name;
  Ipv4Cidr address;  // the gateway, "10.244.1.1/24"
  std::string mac;   // fixed, see bridgeMac
  unsigned mtu = 0;
};

struct PodPlan {
  std::string uid;
  std::string hostVeth;                  // "veth1a2b3c4d", in the node namespace
  std::string podInterface = kPodInterface;
  std::string bridge;
  Ipv4Cidr address;                      // "10.244.1.5/24" on the pod's eth0
  Route defaultRoute;                    // "default via 10.244.1.1 dev eth0"
  unsigned mtu = 0;
};

// "veth" + the first 8 hex digits of the FNV-1a hash of the UID: deterministic across runs
// and builds (std::hash is neither), and 12 characters, within IFNAMSIZ (15 + NUL).
std::string hostVethName(std::string_view podUid);

// The bridge's MAC: 0a:58 (locally administered, unicast) followed by the gateway's four
// bytes. A bridge with a kernel-chosen MAC takes the lowest MAC of its ports, so it would
// change as pods come and go and leave the pods' ARP entries for the gateway stale; a MAC
// set by the user stays.
std::string bridgeMac(Ipv4 gateway);

BridgePlan planBridge(const NodeNetworkConfig& config, const Ipv4Cidr& podCidr);

// The pod's side of the network for `ip`; kInvalid when `ip` is not a pod address of podCidr.
Result<PodPlan> planPod(const NodeNetworkConfig& config, const Ipv4Cidr& podCidr, const std::string& uid, Ipv4 ip);

// The host veths among `nodeLinks` that belong to no pod in `liveUids`: veths named as
// hostVethName names them whose name (or alias, the UID written at setup) is not a live pod's.
std::vector<std::string> staleVeths(const std::vector<LinkInfo>& nodeLinks, const std::set<std::string>& liveUids);

class PodNetwork {
 public:
  // `node` is bound to the node's namespace; `openNetlink` opens one in a pod's namespace.
  PodNetwork(Netlink& node, IpamStore& ipam, NetlinkOpener openNetlink, NodeNetworkConfig config = {})
      : node_(node), ipam_(ipam), openNetlink_(std::move(openNetlink)), config_(std::move(config)) {}

  // Makes the bridge exist, with the gateway address and MTU, and up. Idempotent.
  Result<void> ensureBridge();

  // Connects the pod whose network namespace is `podNetnsFd` and returns its IP. Idempotent:
  // called again for the same UID it converges the same links and returns the same IP. On
  // failure the IP stays allocated (the next call reuses it); tearDown frees it.
  Result<Ipv4> setUp(const std::string& uid, int podNetnsFd);

  // Deletes the pod's veth (both ends) if present and frees its IP. Idempotent; needs no
  // pod namespace, so it works after the namespace is gone or the agent restarted.
  Result<void> tearDown(const std::string& uid);

  // After a restart: removes the veths and IPs of every pod not in `liveUids`.
  Result<void> reconcile(const std::set<std::string>& liveUids);

  const NodeNetworkConfig& config() const { return config_; }

 private:
  Result<void> connectHostEnd(const PodPlan& plan, int podNetnsFd, Netlink& pod);
  Result<void> configurePodEnd(const PodPlan& plan, Netlink& pod);

  Netlink& node_;
  IpamStore& ipam_;
  NetlinkOpener openNetlink_;
  NodeNetworkConfig config_;
};

}  // namespace nanokube::net
