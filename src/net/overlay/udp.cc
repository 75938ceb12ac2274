// The udp backend: a TUN device and nanokube's own encapsulation over UDP.
#include "net/overlay/overlay.h"

namespace nanokube::net::overlay {

namespace {

class UdpOverlay : public Overlay {
 public:
  explicit UdpOverlay(OverlayConfig config) : config_(std::move(config)) {}
  Result<NodeInfo> setUp(const NodeInfo&) override {
    return fail(Code::kUnavailable, "the udp overlay backend is not implemented yet");
  }
  Result<void> sync(const std::vector<NodeInfo>&) override {
    return fail(Code::kUnavailable, "the udp overlay backend is not implemented yet");
  }
  Result<void> tearDown() override { return {}; }
  unsigned podMtu() const override { return config_.lanMtu - 28; }

 private:
  OverlayConfig config_;
};

}  // namespace

std::unique_ptr<Overlay> makeUdpOverlay(const OverlayConfig& config) { return std::make_unique<UdpOverlay>(config); }

}  // namespace nanokube::net::overlay
