#pragma once
// hostPort for pods, as the CNI portmap plugin and the kubelet's former hostport manager do it:
// a packet to nodeIP:hostPort (or hostIP:hostPort when the container port names one) is
// DNATed to podIP:containerPort, in the NODE's network namespace, by nanokube's own nftables
// table `table ip nanokube-hostport`. Nothing else in the namespace's ruleset is touched.
//
// The agent calls HostPorts::sync after every pod change with the complete list of the node's
// mappings; the table is re-derived from that list each time (level-triggered), so a restarted
// agent simply syncs again. The ruleset text comes from pure functions (planHostPorts,
// renderHostPorts, renderHostPortTransaction); HostPorts only hands it to libnftables.

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "net/ip.h"

namespace nanokube::net {

inline constexpr char kHostPortTable[] = "nanokube-hostport";

struct HostPortMapping {
  std::string podUid;         // written as the rules' comment; a tie-breaker in the order
  std::string protocol;       // "TCP" | "UDP" | "SCTP", as in the Pod API
  uint16_t hostPort = 0;
  std::string hostIp;         // "" or "0.0.0.0": every local address of the node
  Ipv4 podIp;
  uint16_t containerPort = 0;

  auto operator<=>(const HostPortMapping&) const = default;
};

struct RejectedHostPort {
  HostPortMapping mapping;
  std::string reason;  // "protocol \"ICMP\" is not TCP, UDP or SCTP", "hostPort 8080/TCP is taken by pod u1"
};

struct HostPortPlan {
  std::vector<HostPortMapping> accepted;  // sorted, without duplicates; what gets rendered
  std::vector<RejectedHostPort> rejected;
};

// Sorts the mappings (protocol, hostPort, hostIp, podUid, podIp, containerPort), drops exact
// duplicates and rejects what cannot be rendered or would be ambiguous:
//  - a protocol other than TCP/UDP/SCTP, hostPort or containerPort 0, a zero pod IP;
//  - a hostIp that is not an IPv4 address (an IPv6 hostIp belongs to another family, which
//    portmap skips as well);
//  - a mapping whose (protocol, hostPort) overlaps one accepted before it, on the same hostIp
//    or where either side is the wildcard. The scheduler keeps such pods apart (the NodePorts
//    filter treats 0.0.0.0 as conflicting with every address); should two meet anyway, the
//    first in the order above keeps the port rather than the kernel picking silently.
HostPortPlan planHostPorts(const std::vector<HostPortMapping>& mappings);

// The complete text of nanokube's table for the accepted mappings of planHostPorts, in a
// deterministic order; "" when no mapping is accepted (then no table is needed at all):
//  - chains `prerouting` (nat, priority dstnat) and `output` (nat, priority -100 = dstnat, for
//    connections made inside the node's namespace) jump to `hostip_hostports` for every
//    packet and to `hostports` for packets to a local address (`fib daddr type local`);
//  - `hostip_hostports`: `ip daddr <hostIp> <proto> dport <hostPort> dnat to <podIp>:<port>`;
//  - `hostports`: `<proto> dport <hostPort> dnat to <podIp>:<port>`;
//  - `postrouting` (nat, priority srcnat): hairpin, `ip saddr P ip daddr P masquerade` per pod
//    IP, so a pod reaching its own hostPort through a node address gets the answer back from
//    the address it called rather than from itself (which it would drop as a martian).
std::string renderHostPorts(const std::vector<HostPortMapping>& mappings);

// The one libnftables transaction that makes the table exactly renderHostPorts(mappings):
// "table ip nanokube-hostport" (creates it if absent, so the delete cannot fail), "delete table
// ip nanokube-hostport", then the new table, if any. The kernel applies the whole buffer
// atomically: a packet sees either the old or the new rules, never none.
std::string renderHostPortTransaction(const std::vector<HostPortMapping>& mappings);

// Applies the rules in the network namespace of the CALLING THREAD (the agent runs in the
// node's namespace; tests call it through runInNetns). Each call opens its own libnftables
// context, so it holds no socket or namespace between calls. Calls from several threads of
// one HostPorts or of several are serialized (libnftables keeps process-wide state).
class HostPorts {
 public:
  // Replaces the table's content with `mappings` in one transaction; the rejected mappings
  // of planHostPorts are logged and left out, the others applied. An empty list deletes the
  // table. Idempotent: the same list again yields the same ruleset.
  Result<void> sync(const std::vector<HostPortMapping>& mappings);

  // Deletes the table if present. Idempotent.
  Result<void> remove();
};

}  // namespace nanokube::net
