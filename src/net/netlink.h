#pragma once
// The slice of rtnetlink the pod network and the overlay need: links (bridge, veth, vxlan),
// IPv4 addresses, IPv4 routes in the main table, permanent IPv4 neighbours and a VXLAN
// device's FDB entries. One Netlink is bound to ONE network namespace for its whole
// life; the pod network holds one for the node's namespace and opens a short-lived one per
// pod namespace.
//
// Errors name the request, the object and the kernel's errno, as `ip` would report them:
//   RTM_NEWROUTE default via 10.244.1.1 dev eth0: Network is unreachable (ENETUNREACH)
// EEXIST maps to Code::kAlreadyExists and ENODEV/ENOENT/ESRCH to Code::kNotFound, so callers
// that want idempotence test the code, never the text.
//
// Threading: calls on one Netlink are serialised internally and may come from any thread;
// the namespace is fixed by the socket, not by the calling thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "net/ip.h"

namespace nanokube::net {

// The parameters of a VXLAN device that the overlay sets and compares (IFLA_VXLAN_*):
//   ip link add nk.1 type vxlan id 1 local 192.168.250.2 dev eth0 dstport 8472 nolearning
struct VxlanInfo {
  uint32_t vni = 0;        // IFLA_VXLAN_ID
  Ipv4 local;              // IFLA_VXLAN_LOCAL: the source address of encapsulated packets
  uint16_t port = 0;       // IFLA_VXLAN_PORT: UDP destination port
  int underlayIndex = 0;   // IFLA_VXLAN_LINK: the link encapsulated packets leave by
  bool learning = false;   // IFLA_VXLAN_LEARNING: learn remote MACs from received packets
  auto operator<=>(const VxlanInfo&) const = default;
};

struct LinkInfo {
  std::string name;
  int index = 0;
  std::string kind;     // IFLA_INFO_KIND: "bridge", "veth"; empty for lo and physical links
  unsigned mtu = 0;
  bool up = false;      // administratively up (IFF_UP)
  int masterIndex = 0;  // the bridge a port is attached to; 0 when none
  int peerIndex = 0;    // IFLA_LINK: for a veth, its peer's ifindex in the peer's namespace
  std::string alias;    // IFLA_IFALIAS; the pod network writes the pod UID here
  std::string mac;      // "0a:58:0a:f4:01:01"
  std::optional<VxlanInfo> vxlan;  // the device's parameters when kind is "vxlan"
};

struct AddressInfo {
  std::string link;
  Ipv4Cidr cidr;  // "10.244.1.5/24"
  auto operator<=>(const AddressInfo&) const = default;
};

// An IPv4 route in the main table. No destination means the default route.
struct Route {
  std::optional<Ipv4Cidr> dst;
  std::optional<Ipv4> via;
  std::string dev;
  // RTNH_F_ONLINK: the gateway is taken to be on `dev` without a connected route to it
  // (the vxlan overlay routes via the peer's 10.244.P.0, which no local prefix covers).
  bool onlink = false;

  // "default via 10.244.1.1 dev eth0", "10.244.1.0/24 dev nk0",
  // "10.244.2.0/24 via 10.244.2.0 dev nk.1 onlink".
  std::string toString() const;
  auto operator<=>(const Route&) const = default;
};

// A permanent IPv4 neighbour (ARP) entry, as `ip neigh replace IP lladdr MAC dev DEV nud permanent`.
struct Neighbour {
  std::string dev;
  Ipv4 ip;
  std::string mac;  // lower-case "0a:58:0a:f4:02:00"

  std::string toString() const;  // "10.244.2.0 lladdr 0a:58:0a:f4:02:00 dev nk.1"
  auto operator<=>(const Neighbour&) const = default;
};

// A forwarding entry of a VXLAN device's own table (NTF_SELF), pointing a MAC at a remote
// VTEP, as `bridge fdb replace MAC dev DEV dst IP self permanent`.
struct FdbEntry {
  std::string dev;
  std::string mac;
  Ipv4 dst;  // NDA_DST: the remote VTEP's underlay address

  std::string toString() const;  // "0a:58:0a:f4:02:00 dev nk.1 dst 192.168.250.3"
  auto operator<=>(const FdbEntry&) const = default;
};

class Netlink {
 public:
  virtual ~Netlink() = default;

  // Creates bridge `name` with `mtu` and, when not empty, MAC `mac`; if it already exists as
  // a bridge, sets the MTU and MAC it should have. A link of another kind with that name is a
  // kConflict. The bridge is left down; setUp brings it up.
  virtual Result<void> ensureBridge(const std::string& name, unsigned mtu, const std::string& mac) = 0;

  // Creates a veth pair in one request: `hostName` in this namespace and `peerName` directly
  // in the namespace `peerNetnsFd` (-1: this namespace), both with `mtu`, both down.
  virtual Result<void> createVethPair(const std::string& hostName, const std::string& peerName,
                                      int peerNetnsFd, unsigned mtu) = 0;

  virtual Result<void> setMaster(const std::string& link, const std::string& master) = 0;
  virtual Result<void> setUp(const std::string& link) = 0;
  virtual Result<void> setMtu(const std::string& link, unsigned mtu) = 0;
  virtual Result<void> setAlias(const std::string& link, const std::string& alias) = 0;

  // Adds an IPv4 address; kAlreadyExists when the link already has it.
  virtual Result<void> addAddress(const std::string& link, const Ipv4Cidr& cidr) = 0;
  // Adds a route to the main table; kAlreadyExists when the same destination is routed.
  // A gateway must be reachable through an up link with a matching address (ENETUNREACH).
  virtual Result<void> addRoute(const Route& route) = 0;

  // Deletes a link (both ends, for a veth); kNotFound when absent.
  virtual Result<void> deleteLink(const std::string& name) = 0;

  // Creates VXLAN device `name` with `vxlan`'s parameters, `mtu` and, when not empty, MAC
  // `mac`, down. kAlreadyExists when the name is taken (callers compare LinkInfo::vxlan and
  // delete and recreate: the kernel cannot change a VXLAN device's id, local or port).
  virtual Result<void> createVxlan(const std::string& name, const VxlanInfo& vxlan, unsigned mtu,
                                   const std::string& mac) = 0;
  // Sets the MAC of a link (RTM_NEWLINK IFLA_ADDRESS).
  virtual Result<void> setMac(const std::string& link, const std::string& mac) = 0;
  // Deletes an IPv4 address; kNotFound (EADDRNOTAVAIL) when the link does not have it.
  virtual Result<void> deleteAddress(const std::string& link, const Ipv4Cidr& cidr) = 0;

  // Adds or replaces the route to `route.dst` (NLM_F_CREATE|NLM_F_REPLACE): one request, so
  // packets never see the destination unrouted.
  virtual Result<void> replaceRoute(const Route& route) = 0;
  // Deletes the route to `route.dst` through `route.via`/`route.dev`; kNotFound (ESRCH) when absent.
  virtual Result<void> deleteRoute(const Route& route) = 0;

  // Adds or replaces a permanent neighbour entry; deletes one (kNotFound when absent); lists
  // the permanent IPv4 entries of `dev`.
  virtual Result<void> replaceNeighbour(const Neighbour& neighbour) = 0;
  virtual Result<void> deleteNeighbour(const Neighbour& neighbour) = 0;
  virtual Result<std::vector<Neighbour>> listNeighbours(const std::string& dev) = 0;

  // Adds or replaces a permanent FDB entry on a VXLAN device (AF_BRIDGE, NTF_SELF); deletes
  // one (kNotFound when absent); lists the unicast entries of `dev` that have a destination.
  virtual Result<void> replaceFdb(const FdbEntry& entry) = 0;
  virtual Result<void> deleteFdb(const FdbEntry& entry) = 0;
  virtual Result<std::vector<FdbEntry>> listFdb(const std::string& dev) = 0;

  // The link called `name`; kNotFound when absent.
  virtual Result<LinkInfo> link(const std::string& name) = 0;
  virtual Result<std::vector<LinkInfo>> listLinks() = 0;
  virtual Result<std::vector<AddressInfo>> listAddresses() = 0;  // IPv4 only
  virtual Result<std::vector<Route>> listRoutes() = 0;           // IPv4 main table, unicast

  Result<int> linkIndex(const std::string& name);
  Result<bool> exists(const std::string& name);
};

// The error for a failed kernel request: "<what>: File exists (EEXIST)", with the code the
// errno maps to (kAlreadyExists, kNotFound, otherwise kInternal). Shared with the fake.
Error kernelError(const std::string& what, int err);

// Opens a netlink socket inside the namespace `netnsFd` (entered on a dedicated thread, see
// netns.h), or in the caller's namespace when `netnsFd` is -1. The fd may be closed afterwards.
Result<std::unique_ptr<Netlink>> openNetlink(int netnsFd);

// How the pod network opens a Netlink for a namespace; unit tests pass NetlinkFake's.
using NetlinkOpener = std::function<Result<std::unique_ptr<Netlink>>(int netnsFd)>;

}  // namespace nanokube::net
