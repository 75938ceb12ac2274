#pragma once
// The udp backend: flannel's flannel0 path. A TUN device (nk-tun0) takes every packet for
// the cluster CIDR that is not for this node's own podCIDR; nanokube reads it, finds the
// peer node whose podCIDR holds the destination, and sends the IP packet as the payload of
// one UDP datagram to the peer's port 8285; the peer writes it to its own TUN. The wire
// format is flannel's: a raw IPv4 packet per datagram, no header of our own.
//
// Fast path (see README.md): per TUN queue one thread per direction; sendmmsg/recvmmsg
// batches; with `offload`, TUN offloads (IFF_VNET_HDR + TUNSETOFFLOAD TSO4|CSUM) hand over
// 64 KiB TCP super-packets that are cut into MTU-sized packets without copying the payload
// and sent with one UDP GSO (UDP_SEGMENT) send, and the receiver's UDP GRO read is stitched
// back into one super-packet for one TUN write.
//
// Threading: setUp, sync and tearDown may be called from any thread, but setUp must run in
// the node's network namespace (the TUN, the socket and the address are made there). The
// data path reads the peer table without waiting on sync.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/overlay/overlay.h"

namespace nanokube::net::overlay {

inline constexpr char kUdpTunName[] = "nk-tun0";
inline constexpr uint16_t kUdpPort = 8285;

struct UdpOptions {
  std::string tunName = kUdpTunName;
  uint16_t port = kUdpPort;
  // The TUN's address is the node's podCIDR network with this prefix (flannel0 gets
  // 10.244.1.0/16): the whole cluster CIDR routes to the TUN, the node's /24 stays on nk0.
  int clusterPrefix = 16;
  // TUN queues (IFF_MULTI_QUEUE), each with two threads and its own SO_REUSEPORT socket;
  // 0 picks min(hardware threads, 4).
  unsigned queues = 0;
  // Packets per read batch (TUN reads before one sendmmsg; datagrams per recvmmsg).
  unsigned batch = 32;
  // TSO/GSO/GRO offloads as described above. Off: one IP packet per TUN read and write.
  bool offload = true;
};

// Counters of the data path since setUp (relaxed atomics; a snapshot is approximate).
struct UdpStats {
  uint64_t txPackets = 0;     // IP packets sent to peers (after segmentation)
  uint64_t txBytes = 0;
  uint64_t txSuperPackets = 0;  // TSO reads from the TUN that were segmented
  uint64_t txNoPeer = 0;      // dropped: no peer's podCIDR holds the destination
  uint64_t txInvalid = 0;     // dropped: not IPv4, or could not be segmented
  uint64_t txErrors = 0;      // sendmmsg failures (datagrams lost)
  uint64_t rxPackets = 0;     // IP packets received from peers
  uint64_t rxBytes = 0;
  uint64_t rxWrites = 0;      // TUN writes (fewer than rxPackets when coalesced)
  uint64_t rxInvalid = 0;     // dropped: not a whole IPv4 packet for this node's podCIDR
  uint64_t rxErrors = 0;      // TUN write failures
};

// Destination pod IP -> the LAN address of the node whose podCIDR holds it (longest prefix
// wins). Immutable once built; the data path holds one by shared_ptr. Pure.
class PeerTable {
 public:
  // Peers whose backend is set and is not "udp" are skipped (they cannot receive us). Two
  // peers with the same podCIDR and different addresses are kInvalid.
  static Result<PeerTable> build(const std::vector<NodeInfo>& peers);

  std::optional<Ipv4> lookup(Ipv4 destination) const;
  size_t size() const { return size_; }

 private:
  // One exact-match map (network -> public IP) per prefix length, longest first: a lookup
  // costs one hash probe per distinct prefix length (one, in a cluster of /24s).
  std::vector<std::pair<int, std::unordered_map<uint32_t, Ipv4>>> byPrefix_;
  size_t size_ = 0;
};

class UdpOverlay : public Overlay {
 public:
  explicit UdpOverlay(OverlayConfig config, UdpOptions options = {});
  ~UdpOverlay() override;
  UdpOverlay(const UdpOverlay&) = delete;
  UdpOverlay& operator=(const UdpOverlay&) = delete;

  // Creates the TUN (IFF_TUN|IFF_NO_PI, in the calling thread's namespace) with address
  // <podCIDR network>/clusterPrefix, MTU podMtu() and up; binds UDP 0.0.0.0:port; starts the
  // threads. Returns `self` unchanged (no backend data). Called again while running: no-op.
  Result<NodeInfo> setUp(const NodeInfo& self) override;
  // Replaces the peer table at once; the data path picks it up at its next batch.
  Result<void> sync(const std::vector<NodeInfo>& peers) override;
  // Stops and joins the threads, closes the TUN (the device and its routes disappear) and
  // the sockets. Idempotent.
  Result<void> tearDown() override;
  unsigned podMtu() const override { return config_.lanMtu - 28; }

  UdpStats stats() const;
  // Data-path threads currently running (2 per queue while set up, 0 after tearDown).
  size_t threads() const;

 private:
  struct State;
  OverlayConfig config_;
  UdpOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace nanokube::net::overlay
