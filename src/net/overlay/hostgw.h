#pragma once
// The host-gw backend, flannel's design: no encapsulation, one route per peer through the
// peer's LAN address, so every node must reach every other one directly on the LAN.
//
//   per peer P: ip route replace 10.244.P.0/24 via <P's LAN IP> dev <LAN link>
//
// The pod MTU is the LAN's. Routes into the cluster CIDR through a gateway on the LAN link
// are the backend's own: sync removes those of departed peers, tearDown all of them.

#include <memory>

#include "net/netlink.h"
#include "net/overlay/overlay.h"

namespace nanokube::net::overlay {

// As makeHostGwOverlay, with the way to open the netlink socket (see makeVxlanOverlay in vxlan.h).
std::unique_ptr<Overlay> makeHostGwOverlay(const OverlayConfig& config, NetlinkOpener open);

}  // namespace nanokube::net::overlay
