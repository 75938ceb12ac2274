#pragma once
// The slice of rtnetlink the pod network needs: links (bridge, veth), IPv4 addresses and
// IPv4 routes in the main table. One Netlink is bound to ONE network namespace for its whole
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

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "net/ip.h"

namespace nanokube::net {

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

  // "default via 10.244.1.1 dev eth0", "10.244.1.0/24 dev nk0".
  std::string toString() const;
  auto operator<=>(const Route&) const = default;
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
