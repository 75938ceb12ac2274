#pragma once
// The vxlan backend, flannel's design: one kernel VXLAN device per node and, per peer, a
// route, a permanent neighbour entry and an FDB entry, so the kernel never floods or learns.
//
//   ip link add nk.1 type vxlan id 1 local <LAN IP> dev <LAN link> dstport 8472 nolearning
//   ip link set nk.1 mtu <LAN MTU - 50> address <vtepMac(podCIDR)> up
//   ip addr add 10.244.X.0/32 dev nk.1          # the node's own traffic to peers' pods
//   per peer P:
//   ip route replace 10.244.P.0/24 via 10.244.P.0 dev nk.1 onlink
//   ip neigh replace 10.244.P.0 lladdr <P's VTEP MAC> dev nk.1 nud permanent
//   bridge fdb replace <P's VTEP MAC> dev nk.1 dst <P's LAN IP> self permanent
//
// A packet from pod 10.244.1.5 to 10.244.2.7 leaves nk0, is routed to nk.1 with next hop
// 10.244.2.0, whose MAC the neighbour entry gives; the FDB maps that MAC to node 2's LAN
// address; the kernel wraps the frame in UDP to port 8472 there, and node 2's nk.1
// unwraps it and routes it to nk0. The pod's address is kept end to end (no NAT).

#include <memory>

#include "net/netlink.h"
#include "net/overlay/overlay.h"

namespace nanokube::net::overlay {

// As makeVxlanOverlay, with the way to open the netlink socket: called once with -1 on the
// first call that needs it, so the socket belongs to the calling thread's namespace. Unit
// tests pass FakeKernel::opener().
std::unique_ptr<Overlay> makeVxlanOverlay(const OverlayConfig& config, NetlinkOpener open);

}  // namespace nanokube::net::overlay
