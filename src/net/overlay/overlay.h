#pragma once
// The pod <-> pod overlay between nodes: every node has a podCIDR (a /24 of
// 10.244.0.0/16) on its bridge nk0; the overlay carries packets for another
// node's podCIDR to that node, without NAT, as flannel does.
//
// Backends (chosen with `--overlay`):
//   vxlan    a kernel VXLAN device (nk.1, VNI 1, UDP 8472), one route + one
//            permanent neighbour + one FDB entry per peer node;
//   udp      a TUN device (nk-tun0) and nanokube's own encapsulation over a UDP
//            socket (port 8285): flannel's udp backend, the seeds' flannel0;
//   host-gw  plain routes via the peer node's LAN address (nodes on one LAN).
//
// What a node publishes for its peers lives in its Node object's annotations,
// as flannel does (flannel.alpha.coreos.com/...): the backend, the node's
// public (LAN) address and the backend's data (the VTEP MAC for vxlan).
//
// Everything here runs in the calling thread's network namespace: the agent
// runs in the node's namespace.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "net/ip.h"

namespace nanokube::net::overlay {

enum class Backend { kVxlan, kUdp, kHostGw };

std::string_view backendName(Backend b);                 // "vxlan", "udp", "host-gw"
Result<Backend> parseBackend(std::string_view name);     // kInvalid with the valid names

inline constexpr char kAnnotationBackendType[] = "flannel.alpha.coreos.com/backend-type";
inline constexpr char kAnnotationBackendData[] = "flannel.alpha.coreos.com/backend-data";
inline constexpr char kAnnotationPublicIp[] = "flannel.alpha.coreos.com/public-ip";

// A node as its peers see it.
struct NodeInfo {
  std::string name;
  Ipv4 publicIp;            // the node's InternalIP on the LAN
  Ipv4Cidr podCidr;         // spec.podCIDR
  std::string backend;      // from the annotation; peers of another backend are skipped
  std::string vtepMac;      // vxlan: the node's VTEP MAC ("aa:bb:..."); empty otherwise
  bool operator==(const NodeInfo&) const = default;
};

// The NodeInfo of a Node object: nullopt while it lacks a podCIDR, an
// InternalIP or the overlay annotations (a node still starting). Pure.
std::optional<NodeInfo> nodeInfoOf(const Json& node);

// The annotations a node publishes for `self`. Pure.
std::map<std::string, std::string> annotationsFor(Backend backend, const NodeInfo& self);

struct OverlayConfig {
  Backend backend = Backend::kVxlan;
  std::string lanInterface = "eth0";  // the node's LAN link (host-gw routes, vxlan's underlay)
  unsigned lanMtu = 1500;
  // The cluster's pod CIDR: sync only ever removes routes into it (DESIGN.md: 10.244.0.0/16).
  Ipv4Cidr clusterCidr{Ipv4{0x0af40000}, 16};
};

class Overlay {
 public:
  virtual ~Overlay() = default;
  // Creates the backend's device(s) for this node (idempotent) and returns
  // `self` completed with what peers need (the VTEP MAC for vxlan).
  virtual Result<NodeInfo> setUp(const NodeInfo& self) = 0;
  // Converges the routes / neighbours / FDB / peer table to exactly `peers`
  // (every other node; the caller filters out itself). Idempotent; removes
  // what belongs to nodes no longer listed.
  virtual Result<void> sync(const std::vector<NodeInfo>& peers) = 0;
  // Removes the devices, routes and threads it made. Idempotent.
  virtual Result<void> tearDown() = 0;
  // The MTU pods must use so that nothing fragments: the LAN MTU minus the
  // encapsulation (vxlan 50, udp 28, host-gw 0).
  virtual unsigned podMtu() const = 0;
};

// The backend's overlay for this node (overlay.cc dispatches to the three below).
Result<std::unique_ptr<Overlay>> makeOverlay(const OverlayConfig& config);

// Each defined in its backend's file: vxlan.cc, hostgw.cc, udp.cc.
std::unique_ptr<Overlay> makeVxlanOverlay(const OverlayConfig& config);
std::unique_ptr<Overlay> makeHostGwOverlay(const OverlayConfig& config);
std::unique_ptr<Overlay> makeUdpOverlay(const OverlayConfig& config);

}  // namespace nanokube::net::overlay
