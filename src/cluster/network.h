#pragma once
// The cluster's LAN, made and removed through netlink and pinned namespaces
// (see plan.h for the layout). Needs root; exercised by the e2e tests.

#include <optional>
#include <string>

#include "cluster/plan.h"
#include "common/error.h"

namespace nanokube::cluster {

// Who holds the LAN on this host: the data directory in the alias of the host
// link, "" for a host link of ours without one (an interrupted up), nullopt
// when there is no host link.
Result<std::optional<std::string>> lanOwner();

// The host link (other than ours) that already has kHostAddress, if any.
Result<std::optional<std::string>> hostAddressUser();

// The lan namespace with its bridge, the host veth pair with kHostAddress/24 on
// the host end (IPv6 off on it, so the host sends nothing there by itself).
Result<void> setupLan(const ClusterPlan& plan);

// The node's namespace: eth0 with its address on the LAN bridge, lo up,
// ip_forward on.
Result<void> setupNode(const ClusterPlan& plan, const NodePlan& node);

// Deletes the node and lan namespaces (their links, bridges and nftables tables
// go with them), the host link when it is this cluster's, and the netns
// directory. Idempotent; carries on past failures and reports the first.
Result<void> teardownNetwork(const ClusterPlan& plan);

}  // namespace nanokube::cluster
