#include "net/overlay/vxlan.h"

#include <spdlog/spdlog.h>

#include <mutex>

#include "net/overlay/plan.h"

namespace nanokube::net::overlay {

namespace {

class VxlanOverlay final : public Overlay {
 public:
  VxlanOverlay(OverlayConfig config, NetlinkOpener open) : config_(std::move(config)), open_(std::move(open)) {}

  Result<NodeInfo> setUp(const NodeInfo& self) override {
    std::lock_guard lock(mu_);
    auto netlink = connect();
    if (!netlink) return std::unexpected(netlink.error());
    if (!config_.clusterCidr.contains(self.podCidr.network()) || self.podCidr.prefix < config_.clusterCidr.prefix) {
      return fail(Code::kInvalid, "vxlan: podCIDR " + self.podCidr.toString() + " is outside the cluster CIDR " +
                                      config_.clusterCidr.toString());
    }
    auto lan = (*netlink)->link(config_.lanInterface);
    if (!lan) return std::unexpected(lan.error());
    VxlanInfo want{kVxlanVni, self.publicIp, kVxlanPort, lan->index, false};
    std::string mac = vtepMac(self.podCidr);
    if (auto ok = ensureDevice(**netlink, want, mac); !ok) return std::unexpected(ok.error());
    if (auto ok = ensureAddress(**netlink, Ipv4Cidr{self.podCidr.network(), 32}); !ok) return std::unexpected(ok.error());
    if (auto ok = (*netlink)->setUp(kVxlanDevice); !ok) return std::unexpected(ok.error());
    NodeInfo out = self;
    out.backend = std::string(backendName(Backend::kVxlan));
    out.vtepMac = mac;
    self_ = out;
    return out;
  }

  Result<void> sync(const std::vector<NodeInfo>& peers) override {
    std::lock_guard lock(mu_);
    auto netlink = connect();
    if (!netlink) return std::unexpected(netlink.error());
    Netlink& nl = **netlink;
    VxlanPlan plan = planVxlan({config_.clusterCidr, self_, config_.lanInterface}, peers);
    logSkipped(plan.skipped);
    auto routes = nl.listRoutes();
    if (!routes) return std::unexpected(routes.error());
    std::erase_if(*routes, [&](const Route& r) { return !ownsRoute(r, kVxlanDevice, config_.clusterCidr); });
    auto neighbours = nl.listNeighbours(kVxlanDevice);
    if (!neighbours) return std::unexpected(neighbours.error());
    auto fdb = nl.listFdb(kVxlanDevice);
    if (!fdb) return std::unexpected(fdb.error());
    auto routeChanges = diffRoutes(plan.routes, *routes);
    auto neighbourChanges = diffNeighbours(plan.neighbours, *neighbours);
    auto fdbChanges = diffFdb(plan.fdb, *fdb);
    ApplyErrors errors;
    removeAll(nl, routeChanges, neighbourChanges, fdbChanges, errors);
    putAll(nl, routeChanges, neighbourChanges, fdbChanges, errors);
    return errors.result("vxlan sync");
  }

  Result<void> tearDown() override {
    std::lock_guard lock(mu_);
    auto netlink = connect();
    if (!netlink) return std::unexpected(netlink.error());
    self_.reset();
    // The device's routes, neighbours and FDB entries go with it.
    auto deleted = (*netlink)->deleteLink(kVxlanDevice);
    if (!deleted && deleted.error().code != Code::kNotFound) return deleted;
    return {};
  }

  unsigned podMtu() const override { return config_.lanMtu - kVxlanOverhead; }

 private:
  Result<Netlink*> connect() {
    if (!netlink_) {
      auto opened = open_(-1);
      if (!opened) return std::unexpected(opened.error());
      netlink_ = std::move(*opened);
    }
    return netlink_.get();
  }

  // The kernel cannot change a VXLAN device's VNI, local address, port or underlay, so a
  // device that differs in any of them (the node's LAN address changed) is deleted and made
  // again, as flannel does; MTU and MAC are changed in place.
  Result<void> ensureDevice(Netlink& nl, const VxlanInfo& want, const std::string& mac) {
    auto existing = nl.link(kVxlanDevice);
    if (!existing && existing.error().code != Code::kNotFound) return std::unexpected(existing.error());
    if (existing && (existing->kind != "vxlan" || existing->vxlan != want)) {
      spdlog::info("vxlan: replacing {} (kind \"{}\") whose parameters are not this node's", kVxlanDevice,
                   existing->kind);
      if (auto ok = nl.deleteLink(kVxlanDevice); !ok && ok.error().code != Code::kNotFound) return ok;
      existing = std::unexpected(Error{Code::kNotFound, ""});
    }
    if (!existing) return nl.createVxlan(kVxlanDevice, want, podMtu(), mac);
    if (existing->mtu != podMtu()) {
      if (auto ok = nl.setMtu(kVxlanDevice, podMtu()); !ok) return ok;
    }
    if (existing->mac != mac) {
      if (auto ok = nl.setMac(kVxlanDevice, mac); !ok) return ok;
    }
    return {};
  }

  // Exactly `address` on the device: an address left from another podCIDR goes.
  Result<void> ensureAddress(Netlink& nl, const Ipv4Cidr& address) {
    auto addresses = nl.listAddresses();
    if (!addresses) return std::unexpected(addresses.error());
    bool present = false;
    for (const auto& a : *addresses) {
      if (a.link != kVxlanDevice) continue;
      if (a.cidr == address) {
        present = true;
      } else if (auto ok = nl.deleteAddress(kVxlanDevice, a.cidr); !ok && ok.error().code != Code::kNotFound) {
        return ok;
      }
    }
    if (present) return {};
    auto added = nl.addAddress(kVxlanDevice, address);
    if (!added && added.error().code == Code::kAlreadyExists) return {};
    return added;
  }

  void logSkipped(const std::vector<SkippedPeer>& skipped) {
    if (skipped == lastSkipped_) return;
    for (const auto& s : skipped) spdlog::warn("vxlan: peer {} left out: {}", s.node, s.reason);
    lastSkipped_ = skipped;
  }

  OverlayConfig config_;
  NetlinkOpener open_;
  std::mutex mu_;
  std::unique_ptr<Netlink> netlink_;
  std::optional<NodeInfo> self_;
  std::vector<SkippedPeer> lastSkipped_;
};

}  // namespace

std::unique_ptr<Overlay> makeVxlanOverlay(const OverlayConfig& config, NetlinkOpener open) {
  return std::make_unique<VxlanOverlay>(config, std::move(open));
}

std::unique_ptr<Overlay> makeVxlanOverlay(const OverlayConfig& config) { return makeVxlanOverlay(config, openNetlink); }

}  // namespace nanokube::net::overlay
