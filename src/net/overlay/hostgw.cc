#include "net/overlay/hostgw.h"

#include <spdlog/spdlog.h>

#include <mutex>

#include "net/overlay/plan.h"

namespace nanokube::net::overlay {

namespace {

class HostGwOverlay final : public Overlay {
 public:
  HostGwOverlay(OverlayConfig config, NetlinkOpener open) : config_(std::move(config)), open_(std::move(open)) {}

  Result<NodeInfo> setUp(const NodeInfo& self) override {
    std::lock_guard lock(mu_);
    auto netlink = connect();
    if (!netlink) return std::unexpected(netlink.error());
    // Nothing to create; the LAN link must exist for the routes through it.
    if (auto lan = (*netlink)->link(config_.lanInterface); !lan) return std::unexpected(lan.error());
    NodeInfo out = self;
    out.backend = std::string(backendName(Backend::kHostGw));
    out.vtepMac.clear();
    self_ = out;
    return out;
  }

  Result<void> sync(const std::vector<NodeInfo>& peers) override {
    std::lock_guard lock(mu_);
    auto netlink = connect();
    if (!netlink) return std::unexpected(netlink.error());
    HostGwPlan plan = planHostGw({config_.clusterCidr, self_, config_.lanInterface}, peers);
    if (plan.skipped != lastSkipped_) {
      for (const auto& s : plan.skipped) spdlog::warn("host-gw: peer {} left out: {}", s.node, s.reason);
      lastSkipped_ = plan.skipped;
    }
    auto routes = ownRoutes(**netlink);
    if (!routes) return std::unexpected(routes.error());
    ApplyErrors errors;
    auto changes = diffRoutes(plan.routes, *routes);
    removeAll(**netlink, changes, {}, {}, errors);
    putAll(**netlink, changes, {}, {}, errors);
    return errors.result("host-gw sync");
  }

  Result<void> tearDown() override {
    std::lock_guard lock(mu_);
    auto netlink = connect();
    if (!netlink) return std::unexpected(netlink.error());
    self_.reset();
    auto routes = ownRoutes(**netlink);
    if (!routes) {
      // Without the LAN link there is nothing of ours left: its routes went with it.
      if (routes.error().code == Code::kNotFound) return {};
      return std::unexpected(routes.error());
    }
    ApplyErrors errors;
    removeAll(**netlink, Changes<Route>{*routes, {}}, {}, {}, errors);
    return errors.result("host-gw teardown");
  }

  unsigned podMtu() const override { return config_.lanMtu; }

 private:
  Result<Netlink*> connect() {
    if (!netlink_) {
      auto opened = open_(-1);
      if (!opened) return std::unexpected(opened.error());
      netlink_ = std::move(*opened);
    }
    return netlink_.get();
  }

  Result<std::vector<Route>> ownRoutes(Netlink& nl) {
    auto routes = nl.listRoutes();
    if (!routes) return routes;
    std::erase_if(*routes, [&](const Route& r) { return !ownsRoute(r, config_.lanInterface, config_.clusterCidr); });
    return routes;
  }

  OverlayConfig config_;
  NetlinkOpener open_;
  std::mutex mu_;
  std::unique_ptr<Netlink> netlink_;
  std::optional<NodeInfo> self_;
  std::vector<SkippedPeer> lastSkipped_;
};

}  // namespace

std::unique_ptr<Overlay> makeHostGwOverlay(const OverlayConfig& config, NetlinkOpener open) {
  return std::make_unique<HostGwOverlay>(config, std::move(open));
}

std::unique_ptr<Overlay> makeHostGwOverlay(const OverlayConfig& config) { return makeHostGwOverlay(config, openNetlink); }

}  // namespace nanokube::net::overlay
