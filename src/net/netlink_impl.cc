// Netlink over libnl-route-3. libnl reports kernel errors as its own lossy codes (EEXIST and
// EADDRINUSE both become NLE_EXIST), so an error callback records the errno of every
// NLMSG_ERROR the kernel sends; messages and codes are built from that errno.

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/route.h>
#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <net/if_arp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>

#include "net/netlink.h"
#include "net/netns.h"

namespace nanokube::net {

namespace {

// Owning pointers for libnl objects; each type has its own put/free function.
struct LinkPut { void operator()(rtnl_link* l) const { rtnl_link_put(l); } };
struct AddrPut { void operator()(rtnl_addr* a) const { rtnl_addr_put(a); } };
struct RoutePut { void operator()(rtnl_route* r) const { rtnl_route_put(r); } };
struct NlAddrPut { void operator()(nl_addr* a) const { nl_addr_put(a); } };
struct CacheFree { void operator()(nl_cache* c) const { nl_cache_free(c); } };
using LinkPtr = std::unique_ptr<rtnl_link, LinkPut>;
using AddrPtr = std::unique_ptr<rtnl_addr, AddrPut>;
using RoutePtr = std::unique_ptr<rtnl_route, RoutePut>;
using NlAddrPtr = std::unique_ptr<nl_addr, NlAddrPut>;
using CachePtr = std::unique_ptr<nl_cache, CacheFree>;

NlAddrPtr toNlAddr(Ipv4 ip, int prefix) {
  uint32_t be = htonl(ip.value);
  NlAddrPtr addr(nl_addr_build(AF_INET, &be, sizeof be));
  if (addr) nl_addr_set_prefixlen(addr.get(), prefix);
  return addr;
}

std::optional<Ipv4> fromNlAddr(nl_addr* addr) {
  if (!addr || nl_addr_get_family(addr) != AF_INET || nl_addr_get_len(addr) != 4) return std::nullopt;
  uint32_t be = 0;
  std::memcpy(&be, nl_addr_get_binary_addr(addr), 4);
  return Ipv4{ntohl(be)};
}

// "0a:58:0a:f4:01:01" into six bytes.
std::optional<std::array<unsigned char, 6>> parseMac(const std::string& text) {
  std::array<unsigned char, 6> bytes{};
  unsigned v[6];
  char tail;
  if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                  &tail) != 6) {
    return std::nullopt;
  }
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<unsigned char>(v[i]);
  return bytes;
}

VxlanInfo vxlanInfoOf(rtnl_link* link) {
  VxlanInfo vxlan;
  uint32_t value = 0;
  if (rtnl_link_vxlan_get_id(link, &value) == 0) vxlan.vni = value;
  nl_addr* local = nullptr;
  if (rtnl_link_vxlan_get_local(link, &local) == 0) {
    if (auto ip = fromNlAddr(local)) vxlan.local = *ip;
    nl_addr_put(local);
  }
  if (rtnl_link_vxlan_get_port(link, &value) == 0) vxlan.port = static_cast<uint16_t>(value);
  if (rtnl_link_vxlan_get_link(link, &value) == 0) vxlan.underlayIndex = static_cast<int>(value);
  vxlan.learning = rtnl_link_vxlan_get_learning(link) > 0;
  return vxlan;
}

std::string macString(const unsigned char* bytes) {
  char out[18];
  std::snprintf(out, sizeof out, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2], bytes[3], bytes[4],
                bytes[5]);
  return out;
}

LinkInfo toLinkInfo(rtnl_link* link) {
  LinkInfo info;
  info.name = rtnl_link_get_name(link) ? rtnl_link_get_name(link) : "";
  info.index = rtnl_link_get_ifindex(link);
  info.kind = rtnl_link_get_type(link) ? rtnl_link_get_type(link) : "";
  info.mtu = rtnl_link_get_mtu(link);
  info.up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
  info.masterIndex = rtnl_link_get_master(link);
  info.peerIndex = rtnl_link_get_link(link);
  info.alias = rtnl_link_get_ifalias(link) ? rtnl_link_get_ifalias(link) : "";
  if (nl_addr* mac = rtnl_link_get_addr(link); mac && nl_addr_get_len(mac) == 6) {
    char buf[32];
    nl_addr2str(mac, buf, sizeof buf);
    info.mac = buf;
  }
  if (info.kind == "vxlan") info.vxlan = vxlanInfoOf(link);
  return info;
}

// The errno behind a libnl code, for the calls that replace the error callback with their
// own (rtnl_link_get_kernel does); 0 when the code came from libnl itself.
int errnoOf(int nlError) {
  switch (-nlError) {
    case NLE_EXIST: return EEXIST;
    case NLE_NODEV: return ENODEV;
    case NLE_OBJ_NOTFOUND: return ENOENT;
    case NLE_PERM: return EPERM;
    case NLE_NOACCESS: return EACCES;
    case NLE_BUSY: return EBUSY;
    case NLE_INVAL: return EINVAL;
    case NLE_RANGE: return ERANGE;
    case NLE_NOADDR: return EADDRNOTAVAIL;
    case NLE_OPNOTSUPP: return EOPNOTSUPP;
    default: return 0;
  }
}

int recordErrno(sockaddr_nl*, nlmsgerr* err, void* arg) {
  *static_cast<int*>(arg) = -err->error;
  // NL_STOP makes libnl return its own code for this error, as it would without a callback.
  return NL_STOP;
}

class NetlinkImpl final : public Netlink {
 public:
  explicit NetlinkImpl(nl_sock* sock) : sock_(sock) {
    nl_socket_modify_err_cb(sock_, NL_CB_CUSTOM, recordErrno, &lastErrno_);
  }
  ~NetlinkImpl() override { nl_socket_free(sock_); }

  Result<void> ensureBridge(const std::string& name, unsigned mtu, const std::string& mac) override {
    std::lock_guard lock(mu_);
    std::optional<std::array<unsigned char, 6>> macBytes;
    if (!mac.empty() && !(macBytes = parseMac(mac))) {
      return fail(Code::kInvalid, "bridge " + name + ": \"" + mac + "\" is not a MAC address");
    }
    auto existing = getLink(name);
    if (!existing && existing.error().code != Code::kNotFound) return std::unexpected(existing.error());
    if (existing) {
      LinkInfo info = toLinkInfo(existing->get());
      if (info.kind != "bridge") {
        return fail(Code::kConflict, "link " + name + " exists and is " +
                                         (info.kind.empty() ? "not a bridge" : "a " + info.kind + ", not a bridge"));
      }
      if (info.mtu == mtu && (mac.empty() || info.mac == mac)) return {};
      return change(name, [&](rtnl_link* c) {
        rtnl_link_set_mtu(c, mtu);
        if (macBytes) setMac(c, *macBytes);
      });
    }
    LinkPtr link(rtnl_link_alloc());
    if (!link) return fail(Code::kInternal, "RTM_NEWLINK " + name + ": out of memory");
    rtnl_link_set_name(link.get(), name.c_str());
    if (int rc = rtnl_link_set_type(link.get(), "bridge"); rc < 0) return check(rc, "RTM_NEWLINK " + name);
    rtnl_link_set_mtu(link.get(), mtu);
    if (macBytes) setMac(link.get(), *macBytes);
    lastErrno_ = 0;
    return check(rtnl_link_add(sock_, link.get(), NLM_F_CREATE | NLM_F_EXCL), "RTM_NEWLINK " + name);
  }

  Result<void> createVethPair(const std::string& hostName, const std::string& peerName, int peerNetnsFd,
                              unsigned mtu) override {
    std::lock_guard lock(mu_);
    std::string what = "RTM_NEWLINK " + hostName + " (veth peer " + peerName +
                       (peerNetnsFd >= 0 ? " in netns fd " + std::to_string(peerNetnsFd) : "") + ")";
    LinkPtr link(rtnl_link_veth_alloc());
    if (!link) return fail(Code::kInternal, what + ": out of memory");
    rtnl_link_set_name(link.get(), hostName.c_str());
    rtnl_link_set_mtu(link.get(), mtu);
    // The peer is owned by `link`; get_peer takes a reference that is given back at once.
    LinkPtr peer(rtnl_link_veth_get_peer(link.get()));
    rtnl_link_set_name(peer.get(), peerName.c_str());
    rtnl_link_set_mtu(peer.get(), mtu);
    if (peerNetnsFd >= 0) rtnl_link_set_ns_fd(peer.get(), peerNetnsFd);
    peer.reset();
    lastErrno_ = 0;
    return check(rtnl_link_add(sock_, link.get(), NLM_F_CREATE | NLM_F_EXCL), what);
  }

  Result<void> setMaster(const std::string& name, const std::string& master) override {
    std::lock_guard lock(mu_);
    auto bridge = getLink(master);
    if (!bridge) return std::unexpected(bridge.error());
    int index = rtnl_link_get_ifindex(bridge->get());
    return change(name, [&](rtnl_link* c) { rtnl_link_set_master(c, index); }, " master " + master);
  }

  Result<void> setUp(const std::string& name) override {
    std::lock_guard lock(mu_);
    return change(name, [](rtnl_link* c) { rtnl_link_set_flags(c, IFF_UP); }, " up");
  }

  Result<void> setMtu(const std::string& name, unsigned mtu) override {
    std::lock_guard lock(mu_);
    return change(name, [&](rtnl_link* c) { rtnl_link_set_mtu(c, mtu); }, " mtu " + std::to_string(mtu));
  }

  Result<void> setAlias(const std::string& name, const std::string& alias) override {
    std::lock_guard lock(mu_);
    return change(name, [&](rtnl_link* c) { rtnl_link_set_ifalias(c, alias.c_str()); }, " alias " + alias);
  }

  // The rtnl_addr for `cidr` on link `name`, for RTM_NEWADDR and RTM_DELADDR. Call with mu_ held.
  Result<AddrPtr> addressOf(const std::string& name, const Ipv4Cidr& cidr, const std::string& what) {
    auto index = indexOf(name);
    if (!index) return std::unexpected(index.error());
    AddrPtr addr(rtnl_addr_alloc());
    NlAddrPtr local = toNlAddr(cidr.address, cidr.prefix);
    if (!addr || !local) return fail(Code::kInternal, what + ": out of memory");
    rtnl_addr_set_ifindex(addr.get(), *index);
    rtnl_addr_set_family(addr.get(), AF_INET);
    rtnl_addr_set_local(addr.get(), local.get());
    return addr;
  }

  Result<void> addAddress(const std::string& name, const Ipv4Cidr& cidr) override {
    std::lock_guard lock(mu_);
    std::string what = "RTM_NEWADDR " + cidr.toString() + " dev " + name;
    auto addr = addressOf(name, cidr, what);
    if (!addr) return std::unexpected(addr.error());
    lastErrno_ = 0;
    return check(rtnl_addr_add(sock_, addr->get(), NLM_F_EXCL), what);
  }

  Result<void> addRoute(const Route& r) override {
    std::lock_guard lock(mu_);
    return sendRoute(r, "RTM_NEWROUTE ", [&](rtnl_route* route) { return rtnl_route_add(sock_, route, NLM_F_EXCL); });
  }

  Result<void> replaceRoute(const Route& r) override {
    std::lock_guard lock(mu_);
    return sendRoute(r, "RTM_NEWROUTE ", [&](rtnl_route* route) {
      return rtnl_route_add(sock_, route, NLM_F_CREATE | NLM_F_REPLACE);
    });
  }

  Result<void> deleteRoute(const Route& r) override {
    std::lock_guard lock(mu_);
    return sendRoute(r, "RTM_DELROUTE ", [&](rtnl_route* route) {
      // Protocol 0 and scope "nowhere" match a route whoever added it (`ip route del` sends the same).
      rtnl_route_set_protocol(route, RTPROT_UNSPEC);
      rtnl_route_set_scope(route, RT_SCOPE_NOWHERE);
      return rtnl_route_delete(sock_, route, 0);
    });
  }

  Result<void> createVxlan(const std::string& name, const VxlanInfo& vxlan, unsigned mtu,
                           const std::string& mac) override {
    std::lock_guard lock(mu_);
    std::string what = "RTM_NEWLINK " + name + " type vxlan id " + std::to_string(vxlan.vni) + " local " +
                       vxlan.local.toString() + " dstport " + std::to_string(vxlan.port) + " link " +
                       std::to_string(vxlan.underlayIndex);
    std::optional<std::array<unsigned char, 6>> macBytes;
    if (!mac.empty() && !(macBytes = parseMac(mac))) return fail(Code::kInvalid, what + ": \"" + mac + "\" is not a MAC address");
    LinkPtr link(rtnl_link_vxlan_alloc());
    NlAddrPtr local = toNlAddr(vxlan.local, 32);
    if (!link || !local) return fail(Code::kInternal, what + ": out of memory");
    rtnl_link_set_name(link.get(), name.c_str());
    rtnl_link_set_mtu(link.get(), mtu);
    if (macBytes) setMac(link.get(), *macBytes);
    rtnl_link_vxlan_set_id(link.get(), vxlan.vni);
    rtnl_link_vxlan_set_local(link.get(), local.get());
    rtnl_link_vxlan_set_port(link.get(), vxlan.port);
    if (vxlan.underlayIndex > 0) rtnl_link_vxlan_set_link(link.get(), static_cast<uint32_t>(vxlan.underlayIndex));
    rtnl_link_vxlan_set_learning(link.get(), vxlan.learning ? 1 : 0);
    lastErrno_ = 0;
    return check(rtnl_link_add(sock_, link.get(), NLM_F_CREATE | NLM_F_EXCL), what);
  }

  Result<void> setMac(const std::string& name, const std::string& mac) override {
    std::lock_guard lock(mu_);
    auto bytes = parseMac(mac);
    if (!bytes) return fail(Code::kInvalid, "link " + name + ": \"" + mac + "\" is not a MAC address");
    return change(name, [&](rtnl_link* c) { setMac(c, *bytes); }, " address " + mac);
  }

  Result<void> deleteAddress(const std::string& name, const Ipv4Cidr& cidr) override {
    std::lock_guard lock(mu_);
    std::string what = "RTM_DELADDR " + cidr.toString() + " dev " + name;
    auto addr = addressOf(name, cidr, what);
    if (!addr) return std::unexpected(addr.error());
    lastErrno_ = 0;
    auto done = check(rtnl_addr_delete(sock_, addr->get(), 0), what);
    // The kernel says EADDRNOTAVAIL for an address the link does not have.
    if (!done && lastErrno_ == EADDRNOTAVAIL) done.error().code = Code::kNotFound;
    return done;
  }

  Result<void> replaceNeighbour(const Neighbour& n) override {
    std::lock_guard lock(mu_);
    return neighRequest(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, AF_INET, 0, n.dev, n.ip, n.mac,
                        "RTM_NEWNEIGH " + n.toString() + " nud permanent");
  }

  Result<void> deleteNeighbour(const Neighbour& n) override {
    std::lock_guard lock(mu_);
    return neighRequest(RTM_DELNEIGH, 0, AF_INET, 0, n.dev, n.ip, "", "RTM_DELNEIGH " + n.ip.toString() + " dev " + n.dev);
  }

  Result<std::vector<Neighbour>> listNeighbours(const std::string& dev) override {
    std::lock_guard lock(mu_);
    auto index = indexOf(dev);
    if (!index) return std::unexpected(index.error());
    std::vector<Neighbour> out;
    auto dumped = dumpNeighbours(AF_INET, "RTM_GETNEIGH dump", [&](const ndmsg& ndm, nlattr** tb) {
      if (ndm.ndm_ifindex != *index || !(ndm.ndm_state & NUD_PERMANENT)) return;
      if (!tb[NDA_DST] || nla_len(tb[NDA_DST]) != 4 || !tb[NDA_LLADDR] || nla_len(tb[NDA_LLADDR]) != 6) return;
      uint32_t be = 0;
      std::memcpy(&be, nla_data(tb[NDA_DST]), 4);
      out.push_back({dev, Ipv4{ntohl(be)}, macString(static_cast<const unsigned char*>(nla_data(tb[NDA_LLADDR])))});
    });
    if (!dumped) return std::unexpected(dumped.error());
    return out;
  }

  Result<void> replaceFdb(const FdbEntry& e) override {
    std::lock_guard lock(mu_);
    return neighRequest(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, AF_BRIDGE, NTF_SELF, e.dev, e.dst, e.mac,
                        "RTM_NEWNEIGH fdb " + e.toString() + " self permanent");
  }

  Result<void> deleteFdb(const FdbEntry& e) override {
    std::lock_guard lock(mu_);
    return neighRequest(RTM_DELNEIGH, 0, AF_BRIDGE, NTF_SELF, e.dev, e.dst, e.mac, "RTM_DELNEIGH fdb " + e.toString() + " self");
  }

  Result<std::vector<FdbEntry>> listFdb(const std::string& dev) override {
    std::lock_guard lock(mu_);
    auto index = indexOf(dev);
    if (!index) return std::unexpected(index.error());
    std::vector<FdbEntry> out;
    auto dumped = dumpNeighbours(AF_BRIDGE, "RTM_GETNEIGH fdb dump", [&](const ndmsg& ndm, nlattr** tb) {
      if (ndm.ndm_ifindex != *index || !(ndm.ndm_flags & NTF_SELF)) return;
      if (!tb[NDA_DST] || nla_len(tb[NDA_DST]) != 4 || !tb[NDA_LLADDR] || nla_len(tb[NDA_LLADDR]) != 6) return;
      auto* mac = static_cast<const unsigned char*>(nla_data(tb[NDA_LLADDR]));
      // The all-zero MAC is the default destination (flooding), a multicast MAC is no VTEP.
      if ((mac[0] & 1) || std::all_of(mac, mac + 6, [](unsigned char b) { return b == 0; })) return;
      uint32_t be = 0;
      std::memcpy(&be, nla_data(tb[NDA_DST]), 4);
      out.push_back({dev, macString(mac), Ipv4{ntohl(be)}});
    });
    if (!dumped) return std::unexpected(dumped.error());
    return out;
  }

  Result<void> deleteLink(const std::string& name) override {
    std::lock_guard lock(mu_);
    LinkPtr link(rtnl_link_alloc());
    if (!link) return fail(Code::kInternal, "RTM_DELLINK " + name + ": out of memory");
    rtnl_link_set_name(link.get(), name.c_str());
    lastErrno_ = 0;
    return check(rtnl_link_delete(sock_, link.get()), "RTM_DELLINK " + name);
  }

  Result<LinkInfo> link(const std::string& name) override {
    std::lock_guard lock(mu_);
    auto found = getLink(name);
    if (!found) return std::unexpected(found.error());
    return toLinkInfo(found->get());
  }

  Result<std::vector<LinkInfo>> listLinks() override {
    std::lock_guard lock(mu_);
    return links();
  }

  Result<std::vector<AddressInfo>> listAddresses() override {
    std::lock_guard lock(mu_);
    auto names = linkNames();
    if (!names) return std::unexpected(names.error());
    nl_cache* raw = nullptr;
    lastErrno_ = 0;
    if (auto ok = check(rtnl_addr_alloc_cache(sock_, &raw), "RTM_GETADDR dump"); !ok) return std::unexpected(ok.error());
    CachePtr cache(raw);
    std::vector<AddressInfo> out;
    for (nl_object* o = nl_cache_get_first(raw); o; o = nl_cache_get_next(o)) {
      auto* addr = reinterpret_cast<rtnl_addr*>(o);
      if (rtnl_addr_get_family(addr) != AF_INET) continue;
      auto ip = fromNlAddr(rtnl_addr_get_local(addr));
      if (!ip) continue;
      out.push_back({(*names)[rtnl_addr_get_ifindex(addr)], Ipv4Cidr{*ip, rtnl_addr_get_prefixlen(addr)}});
    }
    return out;
  }

  Result<std::vector<Route>> listRoutes() override {
    std::lock_guard lock(mu_);
    auto names = linkNames();
    if (!names) return std::unexpected(names.error());
    nl_cache* raw = nullptr;
    lastErrno_ = 0;
    if (auto ok = check(rtnl_route_alloc_cache(sock_, AF_INET, 0, &raw), "RTM_GETROUTE dump"); !ok) {
      return std::unexpected(ok.error());
    }
    CachePtr cache(raw);
    std::vector<Route> out;
    for (nl_object* o = nl_cache_get_first(raw); o; o = nl_cache_get_next(o)) {
      auto* route = reinterpret_cast<rtnl_route*>(o);
      if (rtnl_route_get_table(route) != RT_TABLE_MAIN || rtnl_route_get_type(route) != RTN_UNICAST) continue;
      Route r;
      nl_addr* dst = rtnl_route_get_dst(route);
      if (dst && nl_addr_get_prefixlen(dst) > 0) {
        auto ip = fromNlAddr(dst);
        if (!ip) continue;
        r.dst = Ipv4Cidr{*ip, static_cast<int>(nl_addr_get_prefixlen(dst))};
      }
      if (rtnl_route_get_nnexthops(route) > 0) {
        rtnl_nexthop* nh = rtnl_route_nexthop_n(route, 0);
        r.via = fromNlAddr(rtnl_route_nh_get_gateway(nh));
        r.dev = (*names)[rtnl_route_nh_get_ifindex(nh)];
        r.onlink = (rtnl_route_nh_get_flags(nh) & RTNH_F_ONLINK) != 0;
      }
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  // Builds the route `r` and hands it to `send` (add, replace or delete).
  template <class Send>
  Result<void> sendRoute(const Route& r, const std::string& request, Send send) {
    std::string what = request + r.toString();
    if (r.dev.empty() && !r.via) return fail(Code::kInvalid, what + ": a route needs a gateway or a device");
    if (r.onlink && r.dev.empty()) return fail(Code::kInvalid, what + ": an onlink route needs a device");
    RoutePtr route(rtnl_route_alloc());
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    NlAddrPtr dst = r.dst ? toNlAddr(r.dst->network(), r.dst->prefix) : toNlAddr(Ipv4{0}, 0);
    if (!route || !nh || !dst) {
      if (nh) rtnl_route_nh_free(nh);
      return fail(Code::kInternal, what + ": out of memory");
    }
    rtnl_route_set_family(route.get(), AF_INET);
    rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
    rtnl_route_set_dst(route.get(), dst.get());
    if (!r.dev.empty()) {
      auto index = indexOf(r.dev);
      if (!index) {
        rtnl_route_nh_free(nh);
        return std::unexpected(Error{index.error().code, what + ": " + index.error().message});
      }
      rtnl_route_nh_set_ifindex(nh, *index);
    }
    if (r.via) {
      NlAddrPtr gw = toNlAddr(*r.via, 32);
      rtnl_route_nh_set_gateway(nh, gw.get());
    }
    if (r.onlink) rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
    rtnl_route_add_nexthop(route.get(), nh);  // the route owns nh from here
    lastErrno_ = 0;
    return check(send(route.get()), what);
  }

  // One RTM_NEWNEIGH/RTM_DELNEIGH built by hand: libnl's neighbour objects insist on
  // attributes a bridge FDB request does not have and the other way round.
  Result<void> neighRequest(int type, int flags, int family, uint8_t ntfFlags, const std::string& dev, Ipv4 dst,
                            const std::string& mac, const std::string& what) {
    auto index = indexOf(dev);
    if (!index) return std::unexpected(Error{index.error().code, what + ": " + index.error().message});
    std::optional<std::array<unsigned char, 6>> macBytes;
    if (!mac.empty() && !(macBytes = parseMac(mac))) return fail(Code::kInvalid, what + ": \"" + mac + "\" is not a MAC address");
    std::unique_ptr<nl_msg, decltype(&nlmsg_free)> msg(nlmsg_alloc_simple(type, flags), nlmsg_free);
    if (!msg) return fail(Code::kInternal, what + ": out of memory");
    ndmsg ndm{};
    ndm.ndm_family = static_cast<uint8_t>(family);
    ndm.ndm_ifindex = *index;
    ndm.ndm_state = NUD_PERMANENT;
    ndm.ndm_flags = ntfFlags;
    uint32_t be = htonl(dst.value);
    if (nlmsg_append(msg.get(), &ndm, sizeof ndm, NLMSG_ALIGNTO) < 0 || nla_put(msg.get(), NDA_DST, 4, &be) < 0 ||
        (macBytes && nla_put(msg.get(), NDA_LLADDR, 6, macBytes->data()) < 0)) {
      return fail(Code::kInternal, what + ": message too long");
    }
    lastErrno_ = 0;
    if (int rc = nl_send_auto(sock_, msg.get()); rc < 0) return check(rc, what);
    return check(nl_wait_for_ack(sock_), what);
  }

  // Dumps the neighbour table of `family` (AF_INET: ARP; AF_BRIDGE: every device's FDB) and
  // calls `each(ndmsg, attributes)` for every entry.
  template <class Each>
  Result<void> dumpNeighbours(int family, const std::string& what, Each each) {
    std::unique_ptr<nl_msg, decltype(&nlmsg_free)> msg(nlmsg_alloc_simple(RTM_GETNEIGH, NLM_F_DUMP), nlmsg_free);
    if (!msg) return fail(Code::kInternal, what + ": out of memory");
    ndmsg ndm{};
    ndm.ndm_family = static_cast<uint8_t>(family);
    if (nlmsg_append(msg.get(), &ndm, sizeof ndm, NLMSG_ALIGNTO) < 0) return fail(Code::kInternal, what + ": out of memory");
    lastErrno_ = 0;
    if (int rc = nl_send_auto(sock_, msg.get()); rc < 0) return check(rc, what);
    // A clone of the socket's callbacks keeps the errno-recording error callback.
    nl_cb* base = nl_socket_get_cb(sock_);
    nl_cb* cb = nl_cb_clone(base);
    nl_cb_put(base);
    if (!cb) return fail(Code::kInternal, what + ": out of memory");
    std::function<void(nl_msg*)> onMessage = [&](nl_msg* m) {
      nlmsghdr* nlh = nlmsg_hdr(m);
      if (nlh->nlmsg_type != RTM_NEWNEIGH || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(ndmsg))) return;
      nlattr* tb[NDA_MAX + 1] = {};
      if (nlmsg_parse(nlh, sizeof(ndmsg), tb, NDA_MAX, nullptr) < 0) return;
      each(*static_cast<const ndmsg*>(nlmsg_data(nlh)), tb);
    };
    nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, [](nl_msg* m, void* arg) {
      (*static_cast<std::function<void(nl_msg*)>*>(arg))(m);
      return static_cast<int>(NL_OK);
    }, &onMessage);
    int rc = nl_recvmsgs(sock_, cb);
    nl_cb_put(cb);
    return check(rc, what);
  }

  // Turns a libnl return code into a Result, preferring the kernel's errno when one came.
  Result<void> check(int rc, const std::string& what) {
    if (rc >= 0) return {};
    int err = lastErrno_ != 0 ? lastErrno_ : errnoOf(rc);
    if (err == 0) return fail(Code::kInternal, what + ": " + nl_geterror(rc));
    return std::unexpected(kernelError(what, err));
  }

  Result<LinkPtr> getLink(const std::string& name) {
    rtnl_link* raw = nullptr;
    lastErrno_ = 0;
    if (auto ok = check(rtnl_link_get_kernel(sock_, 0, name.c_str(), &raw), "RTM_GETLINK " + name); !ok) {
      return std::unexpected(ok.error());
    }
    return LinkPtr(raw);
  }

  Result<int> indexOf(const std::string& name) {
    auto found = getLink(name);
    if (!found) return std::unexpected(found.error());
    return rtnl_link_get_ifindex(found->get());
  }

  static void setMac(rtnl_link* link, const std::array<unsigned char, 6>& bytes) {
    NlAddrPtr addr(nl_addr_build(AF_LLC, bytes.data(), bytes.size()));
    if (addr) rtnl_link_set_addr(link, addr.get());
  }

  // Applies `edit` to link `name` with one RTM_NEWLINK (libnl falls back to RTM_SETLINK).
  template <class Edit>
  Result<void> change(const std::string& name, Edit edit, const std::string& detail = "") {
    auto orig = getLink(name);
    if (!orig) return std::unexpected(orig.error());
    LinkPtr changes(rtnl_link_alloc());
    if (!changes) return fail(Code::kInternal, "RTM_NEWLINK " + name + detail + ": out of memory");
    edit(changes.get());
    lastErrno_ = 0;
    return check(rtnl_link_change(sock_, orig->get(), changes.get(), 0), "RTM_NEWLINK " + name + detail);
  }

  Result<std::vector<LinkInfo>> links() {
    nl_cache* raw = nullptr;
    lastErrno_ = 0;
    if (auto ok = check(rtnl_link_alloc_cache(sock_, AF_UNSPEC, &raw), "RTM_GETLINK dump"); !ok) {
      return std::unexpected(ok.error());
    }
    CachePtr cache(raw);
    std::vector<LinkInfo> out;
    for (nl_object* o = nl_cache_get_first(raw); o; o = nl_cache_get_next(o)) {
      out.push_back(toLinkInfo(reinterpret_cast<rtnl_link*>(o)));
    }
    return out;
  }

  Result<std::map<int, std::string>> linkNames() {
    auto all = links();
    if (!all) return std::unexpected(all.error());
    std::map<int, std::string> names;
    for (const auto& l : *all) names[l.index] = l.name;
    return names;
  }

  std::mutex mu_;
  nl_sock* sock_;
  int lastErrno_ = 0;
};

Result<std::unique_ptr<Netlink>> connectHere() {
  nl_sock* sock = nl_socket_alloc();
  if (!sock) return fail(Code::kInternal, "netlink socket: out of memory");
  if (int rc = nl_connect(sock, NETLINK_ROUTE); rc < 0) {
    nl_socket_free(sock);
    return fail(Code::kInternal, std::string("connect NETLINK_ROUTE: ") + nl_geterror(rc));
  }
  return std::make_unique<NetlinkImpl>(sock);
}

}  // namespace

Result<std::unique_ptr<Netlink>> openNetlink(int netnsFd) {
  if (netnsFd < 0) return connectHere();
  // The socket is created on a thread inside the namespace and keeps that namespace after
  // the thread is gone; the caller's thread never moves.
  return runInNetns(netnsFd, [] { return connectHere(); });
}

}  // namespace nanokube::net
