#pragma once
// A stateful stand-in for the kernel's rtnetlink, for unit tests of the code above Netlink.
// One FakeKernel holds every namespace; each NetlinkFake is bound to one of them by the
// netns fd it was opened with, as NetlinkImpl is. It keeps the rules the pod network depends
// on, so that a wrong order of calls fails in a unit test as it would on a real kernel:
//   - names are unique per namespace (EEXIST), unknown links are ENODEV;
//   - a veth pair's ends know each other's index and die together;
//   - a link's connected route exists while it is up and has an address;
//   - a gateway must be reachable through such a route (ENETUNREACH), a device route needs
//     its link up (ENETDOWN);
//   - the same address or destination twice is EEXIST;
//   - an onlink route needs its device up, not a route to its gateway;
//   - FDB entries exist only on vxlan links; a link's neighbours, FDB and routes die with it.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/netlink.h"

namespace nanokube::net {

class FakeKernel {
 public:
  struct Namespace {
    std::map<std::string, LinkInfo> links;
    std::vector<AddressInfo> addresses;
    std::vector<Route> routes;  // added routes; connected routes are derived
    std::vector<Neighbour> neighbours;
    std::vector<FdbEntry> fdb;
  };

  // Namespace `netnsFd` (created with a down `lo` on first use). -1 is the "node" namespace.
  Namespace& ns(int netnsFd);
  bool hasNamespace(int netnsFd) const { return namespaces_.count(netnsFd) != 0; }

  // Makes the next call of `op` (a Netlink method name such as "addRoute") fail with `err`.
  void failNext(const std::string& op, int err) { failures_[op] = err; }

  // Mutating calls in order, as "<netns> <op> <object>", for tests that check ordering.
  const std::vector<std::string>& calls() const { return calls_; }

  // An opener handing out NetlinkFakes over this kernel, for the pod network's constructor.
  NetlinkOpener opener();

 private:
  friend class NetlinkFake;
  std::recursive_mutex mu_;
  std::map<int, Namespace> namespaces_;
  std::map<std::string, int> failures_;
  std::vector<std::string> calls_;
  int nextIndex_ = 2;
};

class NetlinkFake final : public Netlink {
 public:
  NetlinkFake(FakeKernel& kernel, int netnsFd) : kernel_(kernel), netns_(netnsFd) {}

  Result<void> ensureBridge(const std::string& name, unsigned mtu, const std::string& mac) override;
  Result<void> createVethPair(const std::string& hostName, const std::string& peerName, int peerNetnsFd,
                              unsigned mtu) override;
  Result<void> setMaster(const std::string& link, const std::string& master) override;
  Result<void> setUp(const std::string& link) override;
  Result<void> setMtu(const std::string& link, unsigned mtu) override;
  Result<void> setAlias(const std::string& link, const std::string& alias) override;
  Result<void> addAddress(const std::string& link, const Ipv4Cidr& cidr) override;
  Result<void> addRoute(const Route& route) override;
  Result<void> deleteLink(const std::string& name) override;
  Result<void> createVxlan(const std::string& name, const VxlanInfo& vxlan, unsigned mtu,
                           const std::string& mac) override;
  Result<void> setMac(const std::string& link, const std::string& mac) override;
  Result<void> deleteAddress(const std::string& link, const Ipv4Cidr& cidr) override;
  Result<void> replaceRoute(const Route& route) override;
  Result<void> deleteRoute(const Route& route) override;
  Result<void> replaceNeighbour(const Neighbour& neighbour) override;
  Result<void> deleteNeighbour(const Neighbour& neighbour) override;
  Result<std::vector<Neighbour>> listNeighbours(const std::string& dev) override;
  Result<void> replaceFdb(const FdbEntry& entry) override;
  Result<void> deleteFdb(const FdbEntry& entry) override;
  Result<std::vector<FdbEntry>> listFdb(const std::string& dev) override;
  Result<LinkInfo> link(const std::string& name) override;
  Result<std::vector<LinkInfo>> listLinks() override;
  Result<std::vector<AddressInfo>> listAddresses() override;
  Result<std::vector<Route>> listRoutes() override;

 private:
  // Records the call and returns the injected failure for `op`, if any.
  std::optional<Error> enter(const std::string& op, const std::string& what);
  Result<LinkInfo*> find(const std::string& name, const std::string& what);
  void removeLink(FakeKernel::Namespace& ns, const std::string& name);
  std::vector<Route> connectedRoutes();
  // The checks addRoute and replaceRoute share: device up, gateway reachable or onlink.
  std::optional<Error> checkRoute(const Route& route, const std::string& what);
  // `route` as the kernel stores it: the destination's host bits cleared, the device filled in.
  Route stored(const Route& route);

  FakeKernel& kernel_;
  int netns_;
};

}  // namespace nanokube::net
