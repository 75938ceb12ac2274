#include "net/netlink_fake.h"

#include <algorithm>
#include <cerrno>

namespace nanokube::net {

namespace {

LinkInfo newLink(const std::string& name, int index, const std::string& kind, unsigned mtu) {
  LinkInfo info;
  info.name = name;
  info.index = index;
  info.kind = kind;
  info.mtu = mtu;
  return info;
}

}  // namespace

FakeKernel::Namespace& FakeKernel::ns(int netnsFd) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = namespaces_.try_emplace(netnsFd);
  if (inserted) it->second.links["lo"] = newLink("lo", 1, "", 65536);
  return it->second;
}

NetlinkOpener FakeKernel::opener() {
  return [this](int netnsFd) -> Result<std::unique_ptr<Netlink>> {
    return std::make_unique<NetlinkFake>(*this, netnsFd);
  };
}

std::optional<Error> NetlinkFake::enter(const std::string& op, const std::string& what) {
  kernel_.calls_.push_back(std::to_string(netns_) + " " + op + " " + what);
  auto it = kernel_.failures_.find(op);
  if (it == kernel_.failures_.end()) return std::nullopt;
  int err = it->second;
  kernel_.failures_.erase(it);
  return kernelError(what, err);
}

Result<LinkInfo*> NetlinkFake::find(const std::string& name, const std::string& what) {
  auto& links = kernel_.ns(netns_).links;
  auto it = links.find(name);
  if (it == links.end()) return std::unexpected(kernelError(what, ENODEV));
  return &it->second;
}

void NetlinkFake::removeLink(FakeKernel::Namespace& ns, const std::string& name) {
  ns.links.erase(name);
  std::erase_if(ns.addresses, [&](const AddressInfo& a) { return a.link == name; });
  std::erase_if(ns.routes, [&](const Route& r) { return r.dev == name; });
  std::erase_if(ns.neighbours, [&](const Neighbour& n) { return n.dev == name; });
  std::erase_if(ns.fdb, [&](const FdbEntry& e) { return e.dev == name; });
}

std::vector<Route> NetlinkFake::connectedRoutes() {
  auto& ns = kernel_.ns(netns_);
  std::vector<Route> out;
  for (const auto& a : ns.addresses) {
    if (!ns.links.at(a.link).up || a.cidr.prefix == 32) continue;
    out.push_back(Route{Ipv4Cidr{a.cidr.network(), a.cidr.prefix}, std::nullopt, a.link});
  }
  return out;
}

Result<void> NetlinkFake::ensureBridge(const std::string& name, unsigned mtu, const std::string& mac) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_NEWLINK " + name;
  if (auto err = enter("ensureBridge", what)) return std::unexpected(*err);
  auto& links = kernel_.ns(netns_).links;
  if (auto it = links.find(name); it != links.end()) {
    if (it->second.kind != "bridge") return fail(Code::kConflict, "link " + name + " exists and is not a bridge");
    it->second.mtu = mtu;
    if (!mac.empty()) it->second.mac = mac;
    return {};
  }
  links[name] = newLink(name, kernel_.nextIndex_++, "bridge", mtu);
  links[name].mac = mac;
  return {};
}

Result<void> NetlinkFake::createVethPair(const std::string& hostName, const std::string& peerName, int peerNetnsFd,
                                         unsigned mtu) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_NEWLINK " + hostName + " (veth peer " + peerName + ")";
  if (auto err = enter("createVethPair", what)) return std::unexpected(*err);
  int peerNs = peerNetnsFd >= 0 ? peerNetnsFd : netns_;
  auto& host = kernel_.ns(netns_).links;
  auto& peer = kernel_.ns(peerNs).links;
  if (host.count(hostName) || peer.count(peerName)) return std::unexpected(kernelError(what, EEXIST));
  int hostIndex = kernel_.nextIndex_++;
  int peerIndex = kernel_.nextIndex_++;
  host[hostName] = newLink(hostName, hostIndex, "veth", mtu);
  host[hostName].peerIndex = peerIndex;
  peer[peerName] = newLink(peerName, peerIndex, "veth", mtu);
  peer[peerName].peerIndex = hostIndex;
  return {};
}

Result<void> NetlinkFake::setMaster(const std::string& name, const std::string& master) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_NEWLINK " + name + " master " + master;
  if (auto err = enter("setMaster", what)) return std::unexpected(*err);
  auto bridge = find(master, what);
  if (!bridge) return std::unexpected(bridge.error());
  auto port = find(name, what);
  if (!port) return std::unexpected(port.error());
  (*port)->masterIndex = (*bridge)->index;
  return {};
}

Result<void> NetlinkFake::setUp(const std::string& name) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_NEWLINK " + name + " up";
  if (auto err = enter("setUp", what)) return std::unexpected(*err);
  auto link = find(name, what);
  if (!link) return std::unexpected(link.error());
  (*link)->up = true;
  return {};
}

Result<void> NetlinkFake::setMtu(const std::string& name, unsigned mtu) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_NEWLINK " + name + " mtu " + std::to_string(mtu);
  if (auto err = enter("setMtu", what)) return std::unexpected(*err);
  auto link = find(name, what);
  if (!link) return std::unexpected(link.error());
  (*link)->mtu = mtu;
  return {};
}

Result<void> NetlinkFake::setAlias(const std::string& name, const std::string& alias) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_NEWLINK " + name + " alias " + alias;
  if (auto err = enter("setAlias", what)) return std::unexpected(*err);
  auto link = find(name, what);
  if (!link) return std::unexpected(link.error());
  (*link)->alias = alias;
  return {};
}

Result<void> NetlinkFake::addAddress(const std::string& name, const Ipv4Cidr& cidr) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_NEWADDR " + cidr.toString() + " dev " + name;
  if (auto err = enter("addAddress", what)) return std::unexpected(*err);
  if (auto link = find(name, what); !link) return std::unexpected(link.error());
  auto& addresses = kernel_.ns(netns_).addresses;
  AddressInfo address{name, cidr};
  if (std::ranges::find(addresses, address) != addresses.end()) return std::unexpected(kernelError(what, EEXIST));
  addresses.push_back(address);
  return {};
}

std::optional<Error> NetlinkFake::checkRoute(const Route& route, const std::string& what) {
  if (route.onlink && route.dev.empty()) return kernelError(what, EINVAL);
  if (!route.dev.empty()) {
    auto link = find(route.dev, what);
    if (!link) return link.error();
    if (!(*link)->up) return kernelError(what, ENETDOWN);
  }
  if (route.via && !route.onlink) {
    auto connected = connectedRoutes();
    bool reachable = std::ranges::any_of(connected, [&](const Route& c) {
      return c.dst->contains(*route.via) && (route.dev.empty() || c.dev == route.dev);
    });
    if (!reachable) return kernelError(what, ENETUNREACH);
  }
  return std::nullopt;
}

Route NetlinkFake::stored(const Route& route) {
  Route out = route;
  if (out.dst) out.dst = Ipv4Cidr{out.dst->network(), out.dst->prefix};
  if (out.dev.empty()) {
    for (const auto& c : connectedRoutes()) {
      if (c.dst->contains(*route.via)) out.dev = c.dev;
    }
  }
  return out;
}

namespace {
std::optional<Ipv4Cidr> dstOf(const Route& r) {
  return r.dst ? std::optional(Ipv4Cidr{r.dst->network(), r.dst->prefix}) : std::nullopt;
}
}  // namespace

Result<void> NetlinkFake::addRoute(const Route& route) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_NEWROUTE " + route.toString();
  if (auto err = enter("addRoute", what)) return std::unexpected(*err);
  if (auto err = checkRoute(route, what)) return std::unexpected(*err);
  auto all = connectedRoutes();
  auto& routes = kernel_.ns(netns_).routes;
  all.insert(all.end(), routes.begin(), routes.end());
  if (std::ranges::any_of(all, [&](const Route& r) { return dstOf(r) == dstOf(route); })) {
    return std::unexpected(kernelError(what, EEXIST));
  }
  routes.push_back(stored(route));
  return {};
}

Result<void> NetlinkFake::replaceRoute(const Route& route) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_NEWROUTE " + route.toString();
  if (auto err = enter("replaceRoute", what)) return std::unexpected(*err);
  if (auto err = checkRoute(route, what)) return std::unexpected(*err);
  auto& routes = kernel_.ns(netns_).routes;
  Route next = stored(route);
  auto it = std::ranges::find_if(routes, [&](const Route& r) { return dstOf(r) == dstOf(route); });
  if (it != routes.end()) {
    *it = next;
  } else {
    routes.push_back(next);
  }
  return {};
}

Result<void> NetlinkFake::deleteRoute(const Route& route) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_DELROUTE " + route.toString();
  if (auto err = enter("deleteRoute", what)) return std::unexpected(*err);
  auto& routes = kernel_.ns(netns_).routes;
  auto it = std::ranges::find_if(routes, [&](const Route& r) {
    return dstOf(r) == dstOf(route) && (!route.via || r.via == route.via) && (route.dev.empty() || r.dev == route.dev);
  });
  if (it == routes.end()) return std::unexpected(kernelError(what, ESRCH));
  routes.erase(it);
  return {};
}

Result<void> NetlinkFake::createVxlan(const std::string& name, const VxlanInfo& vxlan, unsigned mtu,
                                      const std::string& mac) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_NEWLINK " + name + " type vxlan id " + std::to_string(vxlan.vni);
  if (auto err = enter("createVxlan", what)) return std::unexpected(*err);
  auto& links = kernel_.ns(netns_).links;
  if (links.count(name)) return std::unexpected(kernelError(what, EEXIST));
  if (!std::ranges::any_of(links, [&](const auto& l) { return l.second.index == vxlan.underlayIndex; })) {
    return std::unexpected(kernelError(what, ENODEV));
  }
  LinkInfo link = newLink(name, kernel_.nextIndex_++, "vxlan", mtu);
  link.mac = mac.empty() ? "02:00:00:00:00:" + std::to_string(10 + link.index % 90) : mac;
  link.vxlan = vxlan;
  links[name] = link;
  return {};
}

Result<void> NetlinkFake::setMac(const std::string& name, const std::string& mac) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_NEWLINK " + name + " address " + mac;
  if (auto err = enter("setMac", what)) return std::unexpected(*err);
  auto link = find(name, what);
  if (!link) return std::unexpected(link.error());
  (*link)->mac = mac;
  return {};
}

Result<void> NetlinkFake::deleteAddress(const std::string& name, const Ipv4Cidr& cidr) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_DELADDR " + cidr.toString() + " dev " + name;
  if (auto err = enter("deleteAddress", what)) return std::unexpected(*err);
  if (auto link = find(name, what); !link) return std::unexpected(link.error());
  auto& addresses = kernel_.ns(netns_).addresses;
  auto it = std::ranges::find(addresses, AddressInfo{name, cidr});
  if (it == addresses.end()) {
    Error err = kernelError(what, EADDRNOTAVAIL);
    err.code = Code::kNotFound;
    return std::unexpected(err);
  }
  addresses.erase(it);
  return {};
}

Result<void> NetlinkFake::replaceNeighbour(const Neighbour& n) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_NEWNEIGH " + n.toString() + " nud permanent";
  if (auto err = enter("replaceNeighbour", what)) return std::unexpected(*err);
  if (auto link = find(n.dev, what); !link) return std::unexpected(link.error());
  auto& all = kernel_.ns(netns_).neighbours;
  auto it = std::ranges::find_if(all, [&](const Neighbour& o) { return o.dev == n.dev && o.ip == n.ip; });
  if (it != all.end()) {
    *it = n;
  } else {
    all.push_back(n);
  }
  return {};
}

Result<void> NetlinkFake::deleteNeighbour(const Neighbour& n) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_DELNEIGH " + n.ip.toString() + " dev " + n.dev;
  if (auto err = enter("deleteNeighbour", what)) return std::unexpected(*err);
  if (auto link = find(n.dev, what); !link) return std::unexpected(link.error());
  auto& all = kernel_.ns(netns_).neighbours;
  auto it = std::ranges::find_if(all, [&](const Neighbour& o) { return o.dev == n.dev && o.ip == n.ip; });
  if (it == all.end()) return std::unexpected(kernelError(what, ENOENT));
  all.erase(it);
  return {};
}

Result<std::vector<Neighbour>> NetlinkFake::listNeighbours(const std::string& dev) {
  std::lock_guard lock(kernel_.mu_);
  if (auto link = find(dev, "RTM_GETLINK " + dev); !link) return std::unexpected(link.error());
  std::vector<Neighbour> out;
  for (const auto& n : kernel_.ns(netns_).neighbours) {
    if (n.dev == dev) out.push_back(n);
  }
  return out;
}

Result<void> NetlinkFake::replaceFdb(const FdbEntry& e) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_NEWNEIGH fdb " + e.toString() + " self permanent";
  if (auto err = enter("replaceFdb", what)) return std::unexpected(*err);
  auto link = find(e.dev, what);
  if (!link) return std::unexpected(link.error());
  if ((*link)->kind != "vxlan") return std::unexpected(kernelError(what, EOPNOTSUPP));
  auto& all = kernel_.ns(netns_).fdb;
  // NLM_F_REPLACE changes the destination of an entry for the MAC (the kernel's first remote).
  auto it = std::ranges::find_if(all, [&](const FdbEntry& o) { return o.dev == e.dev && o.mac == e.mac; });
  if (it != all.end()) {
    *it = e;
  } else {
    all.push_back(e);
  }
  return {};
}

Result<void> NetlinkFake::deleteFdb(const FdbEntry& e) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_DELNEIGH fdb " + e.toString() + " self";
  if (auto err = enter("deleteFdb", what)) return std::unexpected(*err);
  if (auto link = find(e.dev, what); !link) return std::unexpected(link.error());
  auto& all = kernel_.ns(netns_).fdb;
  auto it = std::ranges::find(all, e);
  if (it == all.end()) return std::unexpected(kernelError(what, ENOENT));
  all.erase(it);
  return {};
}

Result<std::vector<FdbEntry>> NetlinkFake::listFdb(const std::string& dev) {
  std::lock_guard lock(kernel_.mu_);
  if (auto link = find(dev, "RTM_GETLINK " + dev); !link) return std::unexpected(link.error());
  std::vector<FdbEntry> out;
  for (const auto& e : kernel_.ns(netns_).fdb) {
    if (e.dev == dev) out.push_back(e);
  }
  return out;
}

Result<void> NetlinkFake::deleteLink(const std::string& name) {
  std::lock_guard lock(kernel_.mu_);
  std::string what = "RTM_DELLINK " + name;
  if (auto err = enter("deleteLink", what)) return std::unexpected(*err);
  auto link = find(name, what);
  if (!link) return std::unexpected(link.error());
  // A veth's other end goes with it, wherever it is.
  if ((*link)->kind == "veth") {
    int peer = (*link)->peerIndex;
    for (auto& [fd, ns] : kernel_.namespaces_) {
      for (auto& [peerName, info] : ns.links) {
        if (info.index == peer && info.peerIndex == (*link)->index) {
          removeLink(ns, peerName);
          break;
        }
      }
    }
  }
  removeLink(kernel_.ns(netns_), name);
  return {};
}

Result<LinkInfo> NetlinkFake::link(const std::string& name) {
  std::lock_guard lock(kernel_.mu_);
  auto found = find(name, "RTM_GETLINK " + name);
  if (!found) return std::unexpected(found.error());
  return **found;
}

Result<std::vector<LinkInfo>> NetlinkFake::listLinks() {
  std::lock_guard lock(kernel_.mu_);
  std::vector<LinkInfo> out;
  for (const auto& [name, info] : kernel_.ns(netns_).links) out.push_back(info);
  return out;
}

Result<std::vector<AddressInfo>> NetlinkFake::listAddresses() {
  std::lock_guard lock(kernel_.mu_);
  return kernel_.ns(netns_).addresses;
}

Result<std::vector<Route>> NetlinkFake::listRoutes() {
  std::lock_guard lock(kernel_.mu_);
  auto out = connectedRoutes();
  auto& routes = kernel_.ns(netns_).routes;
  out.insert(out.end(), routes.begin(), routes.end());
  return out;
}

}  // namespace nanokube::net
