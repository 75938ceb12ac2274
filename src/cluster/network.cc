#include "cluster/network.h"

#include <fstream>

#include <fmt/format.h>

#include "net/ip.h"
#include "net/netlink.h"
#include "net/netns.h"

namespace nanokube::cluster {

namespace fs = std::filesystem;

namespace {

Result<net::Ipv4Cidr> cidr(const std::string& ip) {
  auto parsed = net::Ipv4Cidr::parse(fmt::format("{}/{}", ip, kLanPrefix));
  if (!parsed) return fail(Code::kInternal, "bad address " + ip);
  return *parsed;
}

// Tolerates what an earlier, interrupted run already did.
Result<void> idempotent(Result<void> r) {
  if (!r && r.error().code == Code::kAlreadyExists) return {};
  return r;
}

Result<net::Fd> ensureNetns(const fs::path& path) {
  auto made = net::createNetns(path.parent_path(), path.filename().string());
  if (!made && made.error().code != Code::kAlreadyExists) return std::unexpected(made.error());
  return net::openNetns(path);
}

}  // namespace

Result<std::optional<std::string>> lanOwner() {
  auto host = net::openNetlink(-1);
  if (!host) return std::unexpected(host.error());
  auto link = (*host)->link(std::string(kHostLink));
  if (!link) {
    if (link.error().code == Code::kNotFound) return std::optional<std::string>();
    return std::unexpected(link.error());
  }
  return std::optional<std::string>(dataDirFromAlias(link->alias));
}

Result<std::optional<std::string>> hostAddressUser() {
  auto host = net::openNetlink(-1);
  if (!host) return std::unexpected(host.error());
  auto addresses = (*host)->listAddresses();
  if (!addresses) return std::unexpected(addresses.error());
  for (const auto& a : *addresses) {
    if (a.cidr.address.toString() == kHostAddress && a.link != kHostLink) return std::optional<std::string>(a.link);
  }
  return std::optional<std::string>();
}

Result<void> setupLan(const ClusterPlan& plan) {
  if (auto r = net::ensureNetnsDir(plan.netnsDir()); !r) return r;
  auto lanFd = ensureNetns(plan.lanNetns());
  if (!lanFd) return std::unexpected(lanFd.error());
  auto lan = net::openNetlink(lanFd->get());
  if (!lan) return std::unexpected(lan.error());
  auto host = net::openNetlink(-1);
  if (!host) return std::unexpected(host.error());

  const std::string bridge(kLanBridge), hostLink(kHostLink), port(kLanHostPort);
  if (auto r = (*lan)->ensureBridge(bridge, kLanMtu, ""); !r) return r;
  if (auto r = (*lan)->setUp(bridge); !r) return r;
  if (auto r = (*lan)->setUp("lo"); !r) return r;
  if (auto r = idempotent((*host)->createVethPair(hostLink, port, lanFd->get(), kLanMtu)); !r) return r;
  // The alias first: from here on a failing up leaves a link that says whose it is.
  if (auto r = (*host)->setAlias(hostLink, plan.hostLinkAlias()); !r) return r;
  // IPv6 off on the host end before it goes up: no link-local address, no router
  // solicitations, nothing but the IPv4 connected route. Best effort: a kernel
  // without IPv6 has no such file.
  std::ofstream(fmt::format("/proc/sys/net/ipv6/conf/{}/disable_ipv6", hostLink)) << "1";
  auto address = cidr(std::string(kHostAddress));
  if (!address) return std::unexpected(address.error());
  if (auto r = idempotent((*host)->addAddress(hostLink, *address)); !r) return r;
  if (auto r = (*host)->setUp(hostLink); !r) return r;
  if (auto r = (*lan)->setMaster(port, bridge); !r) return r;
  return (*lan)->setUp(port);
}

Result<void> setupNode(const ClusterPlan& plan, const NodePlan& node) {
  auto lanFd = net::openNetns(plan.lanNetns());
  if (!lanFd) return std::unexpected(lanFd.error());
  auto nodeFd = ensureNetns(node.netns);
  if (!nodeFd) return std::unexpected(nodeFd.error());
  auto lan = net::openNetlink(lanFd->get());
  if (!lan) return std::unexpected(lan.error());
  auto inside = net::openNetlink(nodeFd->get());
  if (!inside) return std::unexpected(inside.error());

  // The LAN side of the pair is named after the node: `ip -n lan link` reads as a switch's ports.
  const std::string nodeLink(kNodeLink);
  if (auto r = idempotent((*lan)->createVethPair(node.name, nodeLink, nodeFd->get(), kLanMtu)); !r) return r;
  if (auto r = (*lan)->setMaster(node.name, std::string(kLanBridge)); !r) return r;
  if (auto r = (*lan)->setUp(node.name); !r) return r;
  auto address = cidr(node.ip);
  if (!address) return std::unexpected(address.error());
  if (auto r = idempotent((*inside)->addAddress(nodeLink, *address)); !r) return r;
  if (auto r = (*inside)->setUp(nodeLink); !r) return r;
  if (auto r = (*inside)->setUp("lo"); !r) return r;
  return net::writeNetSysctl(nodeFd->get(), "net/ipv4/ip_forward", "1");
}

Result<void> teardownNetwork(const ClusterPlan& plan) {
  Result<void> first;
  auto keep = [&](Result<void> r) {
    if (!r && first) first = std::move(r);
  };
  // The host end would go with the lan namespace once nothing holds that namespace
  // (the kernel frees namespaces asynchronously); deleting it first does not wait on
  // that. Another cluster's link stays.
  if (auto owner = lanOwner(); owner && *owner && (**owner == plan.dataDir.string() || (*owner)->empty())) {
    if (auto host = net::openNetlink(-1)) {
      auto r = (*host)->deleteLink(std::string(kHostLink));
      if (!r && r.error().code != Code::kNotFound) keep(std::move(r));
    }
  }
  std::error_code ec;
  if (fs::is_directory(plan.netnsDir(), ec)) {
    for (const auto& entry : fs::directory_iterator(plan.netnsDir(), ec)) keep(net::deleteNetns(entry.path()));
  }
  keep(net::removeNetnsDir(plan.netnsDir()));
  return first;
}

}  // namespace nanokube::cluster
