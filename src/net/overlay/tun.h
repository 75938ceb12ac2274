#pragma once
// A TUN device as the udp backend uses it: layer 3 (IFF_TUN), no packet-information prefix
// (IFF_NO_PI), optionally several queues and the virtio_net_hdr offloads. The device lives
// while one of its queue fds is open: closing them all removes it, with its addresses and
// routes, so a crashed agent leaves nothing behind.

#include <string>
#include <vector>

#include "common/error.h"
#include "net/netns.h"

namespace nanokube::net::overlay {

struct TunOptions {
  unsigned queues = 1;     // > 1: IFF_MULTI_QUEUE, one fd per queue
  bool vnetHeader = false; // IFF_VNET_HDR: every read and write starts with a virtio_net_hdr
  unsigned offloads = 0;   // TUNSETOFFLOAD flags (TUN_F_CSUM | TUN_F_TSO4 ...); needs vnetHeader
};

// Creates (or attaches to) TUN `name` in the calling thread's network namespace and returns
// one non-blocking fd per queue. Errors name the ioctl: "TUNSETIFF nk-tun0: Device or
// resource busy (EBUSY)".
Result<std::vector<Fd>> openTun(const std::string& name, const TunOptions& options);

}  // namespace nanokube::net::overlay
