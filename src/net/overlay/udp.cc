// The udp backend: a TUN device and flannel's encapsulation (one IP packet per UDP
// datagram, port 8285), with batched system calls and TUN/UDP offloads. See udp.h.
#include "net/overlay/udp.h"

#include <arpa/inet.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <span>
#include <thread>

#include "net/netlink.h"
#include "net/overlay/tun.h"
#include "net/overlay/udp_packet.h"

namespace nanokube::net::overlay {

using udp::Segment;
using udp::VnetHeader;

Result<PeerTable> PeerTable::build(const std::vector<NodeInfo>& peers) {
  std::map<int, std::unordered_map<uint32_t, Ipv4>, std::greater<>> maps;
  std::map<std::pair<int, uint32_t>, std::string> owners;
  PeerTable table;
  for (const auto& peer : peers) {
    if (!peer.backend.empty() && peer.backend != "udp") continue;
    uint32_t network = peer.podCidr.network().value;
    auto [it, inserted] = maps[peer.podCidr.prefix].emplace(network, peer.publicIp);
    if (!inserted) {
      if (it->second == peer.publicIp) continue;
      return fail(Code::kInvalid, "podCIDR " + peer.podCidr.toString() + " is claimed by peers " +
                                      owners[{peer.podCidr.prefix, network}] + " and " + peer.name);
    }
    owners[{peer.podCidr.prefix, network}] = peer.name;
    ++table.size_;
  }
  for (auto& [prefix, map] : maps) table.byPrefix_.emplace_back(prefix, std::move(map));
  return table;
}

std::optional<Ipv4> PeerTable::lookup(Ipv4 destination) const {
  for (const auto& [prefix, map] : byPrefix_) {
    uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
    if (auto it = map.find(destination.value & mask); it != map.end()) return it->second;
  }
  return std::nullopt;
}

namespace {

// TSO segments per UDP GSO send: the kernel's UDP_MAX_SEGMENTS is 64 (128 since 6.x).
constexpr size_t kMaxGsoSegments = 64;
// The largest UDP payload: 65535 - 20 (IPv4) - 8 (UDP).
constexpr size_t kMaxUdpPayload = 65507;
constexpr size_t kSlotSize = 65536 + 64;

struct Counters {
  std::atomic<uint64_t> txPackets{0}, txBytes{0}, txSuperPackets{0}, txNoPeer{0}, txInvalid{0}, txErrors{0};
  std::atomic<uint64_t> rxPackets{0}, rxBytes{0}, rxWrites{0}, rxInvalid{0}, rxErrors{0};
};

void add(std::atomic<uint64_t>& counter, uint64_t& local) {
  if (local) counter.fetch_add(local, std::memory_order_relaxed);
  local = 0;
}

}  // namespace

struct UdpOverlay::State {
  std::mutex lifecycle;  // setUp / tearDown
  bool up = false;
  NodeInfo self;
  std::vector<Fd> tun;
  std::vector<Fd> sockets;
  Fd stop;  // an eventfd every thread polls; written once by tearDown
  std::vector<std::thread> threads;
  std::atomic<size_t> running{0};

  std::mutex peersMutex;
  std::shared_ptr<const PeerTable> peers;
  std::atomic<uint64_t> generation{0};

  std::atomic<bool> udpGso{true};  // cleared if the kernel refuses UDP_SEGMENT
  Counters counters;

  void txLoop(int tunFd, int sock, bool vnet, unsigned batch, uint16_t port);
  void rxLoop(int tunFd, int sock, bool vnet, unsigned batch);
};

// TUN -> peers. Reads up to `batch` packets (each possibly a 64 KiB TSO super-packet),
// looks up each destination's peer, cuts super-packets into segments that point into the
// read buffer, and hands everything to one sendmmsg; with UDP GSO, one message carries all
// the segments of a super-packet (an iovec pair per segment: fixed-up headers, payload).
void UdpOverlay::State::txLoop(int tunFd, int sock, bool vnet, unsigned batch, uint16_t port) {
  const size_t hdr = vnet ? sizeof(VnetHeader) : 0;
  const size_t maxSegments = size_t{batch} * kMaxGsoSegments;
  const size_t maxMsgs = maxSegments + batch;
  std::vector<uint8_t> slots(size_t{batch} * kSlotSize);
  std::vector<Segment> segments(maxSegments);
  std::vector<mmsghdr> msgs(maxMsgs);
  std::vector<uint32_t> msgPackets(maxMsgs);
  std::vector<sockaddr_in> addrs(maxMsgs);
  std::vector<iovec> iovs(2 * maxSegments + batch);
  struct Control {
    alignas(cmsghdr) char buf[CMSG_SPACE(sizeof(uint16_t))];
  };
  std::vector<Control> controls(maxMsgs);
  size_t nMsgs = 0, nIovs = 0, nSegs = 0;
  uint64_t packets = 0, bytes = 0, superPackets = 0, noPeer = 0, invalid = 0, errors = 0;
  std::shared_ptr<const PeerTable> table;
  uint64_t seen = ~uint64_t{0};

  auto addMsg = [&](Ipv4 peer, size_t iovFirst, size_t iovCount, uint32_t count, uint16_t gsoSize) {
    mmsghdr& m = msgs[nMsgs];
    m = {};
    sockaddr_in& a = addrs[nMsgs];
    a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(peer.value);
    m.msg_hdr.msg_name = &a;
    m.msg_hdr.msg_namelen = sizeof a;
    m.msg_hdr.msg_iov = &iovs[iovFirst];
    m.msg_hdr.msg_iovlen = iovCount;
    if (gsoSize) {
      auto* c = reinterpret_cast<cmsghdr*>(controls[nMsgs].buf);
      c->cmsg_level = IPPROTO_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      std::memcpy(CMSG_DATA(c), &gsoSize, sizeof gsoSize);
      m.msg_hdr.msg_control = c;
      m.msg_hdr.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
    }
    msgPackets[nMsgs++] = count;
  };

  auto flush = [&] {
    size_t i = 0;
    while (i < nMsgs) {
      int sent = ::sendmmsg(sock, &msgs[i], static_cast<unsigned>(nMsgs - i), 0);
      if (sent > 0) {
        for (size_t j = i; j < i + static_cast<size_t>(sent); ++j) {
          packets += msgPackets[j];
          bytes += msgs[j].msg_len;
        }
        i += static_cast<size_t>(sent);
        continue;
      }
      if (errno == EINTR) continue;
      // The message at i failed; an old kernel or a device without checksum offload
      // refuses UDP_SEGMENT (EIO/EINVAL): later batches send one datagram per segment.
      if (msgs[i].msg_hdr.msg_control && (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP)) {
        udpGso.store(false, std::memory_order_relaxed);
      }
      errors += msgPackets[i];
      ++i;
    }
    nMsgs = nIovs = nSegs = 0;
  };

  auto handle = [&](uint8_t* buf, size_t n) {
    VnetHeader vh;
    if (n < hdr) return ++invalid, void();
    if (vnet) std::memcpy(&vh, buf, sizeof vh);
    std::span<uint8_t> packet(buf + hdr, n - hdr);
    auto ip = udp::parseIpv4(packet);
    if (!ip) return ++invalid, void();
    auto peer = table ? table->lookup(ip->dst) : std::nullopt;
    if (!peer) return ++noPeer, void();

    if ((vh.gsoType & ~udp::kGsoEcn) == udp::kGsoTcpv4 && vh.gsoSize > 0) {
      size_t needed = packet.size() / vh.gsoSize + 1;
      if (nSegs + needed > segments.size()) flush();
      auto count = udp::segmentTcp4(packet, vh.gsoSize, std::span(segments).subspan(nSegs));
      if (!count) return ++invalid, void();
      ++superPackets;
      const bool gso = udpGso.load(std::memory_order_relaxed);
      const size_t segSize = segments[nSegs].size();
      for (size_t j = 0; j < *count;) {
        size_t k = gso ? std::min({*count - j, kMaxGsoSegments, kMaxUdpPayload / segSize}) : 1;
        size_t first = nIovs;
        for (size_t s = j; s < j + k; ++s) {
          Segment& seg = segments[nSegs + s];
          iovs[nIovs++] = {seg.header, seg.headerLen};
          iovs[nIovs++] = {const_cast<uint8_t*>(seg.payload), seg.payloadLen};
        }
        addMsg(*peer, first, 2 * k, static_cast<uint32_t>(k), k > 1 ? static_cast<uint16_t>(segSize) : 0);
        j += k;
      }
      nSegs += *count;
      return;
    }
    if ((vh.flags & udp::kVnetNeedsCsum) && !udp::completeChecksum(packet, vh.csumStart, vh.csumOffset)) {
      return ++invalid, void();
    }
    iovs[nIovs] = {packet.data(), packet.size()};
    addMsg(*peer, nIovs++, 1, 1, 0);
  };

  pollfd fds[2] = {{tunFd, POLLIN, 0}, {stop.get(), POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;
    if (uint64_t g = generation.load(std::memory_order_acquire); g != seen) {
      std::lock_guard lock(peersMutex);
      table = peers;
      seen = g;
    }
    for (size_t i = 0; i < batch; ++i) {
      uint8_t* buf = slots.data() + i * kSlotSize;
      ssize_t n = ::read(tunFd, buf, kSlotSize);
      if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) ++errors;
        break;
      }
      handle(buf, static_cast<size_t>(n));
    }
    flush();
    add(counters.txPackets, packets);
    add(counters.txBytes, bytes);
    add(counters.txSuperPackets, superPackets);
    add(counters.txNoPeer, noPeer);
    add(counters.txInvalid, invalid);
    add(counters.txErrors, errors);
  }
}

// Peers -> TUN. One recvmmsg fills up to `batch` buffers; with UDP GRO each holds many
// datagrams of gso_size bytes. Runs of consecutive TCP segments of one flow become one
// writev of a TSO super-packet (headers rebuilt, payloads gathered in place).
void UdpOverlay::State::rxLoop(int tunFd, int sock, bool vnet, unsigned batch) {
  std::vector<uint8_t> slots(size_t{batch} * kSlotSize);
  std::vector<mmsghdr> msgs(batch);
  std::vector<iovec> recvIovs(batch);
  struct Control {
    alignas(cmsghdr) char buf[CMSG_SPACE(sizeof(int))];
  };
  std::vector<Control> controls(batch);
  std::vector<std::span<const uint8_t>> packets(2 * kMaxGsoSegments);
  std::vector<iovec> iovs(packets.size() + 2);
  VnetHeader none;
  uint64_t received = 0, bytes = 0, writes = 0, invalid = 0, errors = 0;
  const Ipv4Cidr podCidr = self.podCidr;

  auto writeRuns = [&](size_t np) {
    std::span<const std::span<const uint8_t>> all(packets.data(), np);
    for (size_t j = 0; j < np;) {
      size_t k = vnet ? udp::coalescableRun(all, j) : 1;
      size_t count = 0;
      VnetHeader vh;
      uint8_t header[udp::kMaxHeaders];
      if (vnet) iovs[count++] = {&none, sizeof none};
      if (k == 1) {
        iovs[count++] = {const_cast<uint8_t*>(all[j].data()), all[j].size()};
      } else {
        size_t headerLen = udp::coalescedHeader(all.subspan(j, k), header, vh);
        iovs[0] = {&vh, sizeof vh};
        iovs[count++] = {header, headerLen};
        for (size_t p = j; p < j + k; ++p) {
          iovs[count++] = {const_cast<uint8_t*>(all[p].data()) + headerLen, all[p].size() - headerLen};
        }
      }
      ssize_t n = ::writev(tunFd, iovs.data(), static_cast<int>(count));
      if (n < 0) {
        errors += k;
      } else {
        ++writes;
        received += k;
        for (size_t p = j; p < j + k; ++p) bytes += all[p].size();
      }
      j += k;
    }
  };

  pollfd fds[2] = {{sock, POLLIN, 0}, {stop.get(), POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;
    for (size_t i = 0; i < batch; ++i) {
      recvIovs[i] = {slots.data() + i * kSlotSize, kSlotSize};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &recvIovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = controls[i].buf;
      msgs[i].msg_hdr.msg_controllen = sizeof controls[i].buf;
    }
    int n = ::recvmmsg(sock, msgs.data(), batch, MSG_DONTWAIT, nullptr);
    if (n < 0) continue;
    for (int i = 0; i < n; ++i) {
      const msghdr& h = msgs[i].msg_hdr;
      size_t len = msgs[i].msg_len;
      if (h.msg_flags & MSG_TRUNC) {
        ++invalid;
        continue;
      }
      size_t gsoSize = len;
      for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
        if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
          int size = 0;
          std::memcpy(&size, CMSG_DATA(c), sizeof size);
          if (size > 0) gsoSize = static_cast<size_t>(size);
        }
      }
      const uint8_t* buf = slots.data() + static_cast<size_t>(i) * kSlotSize;
      size_t np = 0;
      for (size_t off = 0; off < len; off += gsoSize) {
        std::span<const uint8_t> packet(buf + off, std::min(gsoSize, len - off));
        // Only whole IPv4 packets for this node's pods reach the TUN: the socket is open to
        // the LAN, and the kernel would otherwise forward what anyone sends anywhere.
        auto ip = udp::parseReceived(packet);
        if (!ip || !podCidr.contains(ip->dst)) {
          ++invalid;
          continue;
        }
        packets[np++] = packet;
        if (np == packets.size()) writeRuns(std::exchange(np, 0));
      }
      writeRuns(np);
    }
    add(counters.rxPackets, received);
    add(counters.rxBytes, bytes);
    add(counters.rxWrites, writes);
    add(counters.rxInvalid, invalid);
    add(counters.rxErrors, errors);
  }
}

UdpOverlay::UdpOverlay(OverlayConfig config, UdpOptions options)
    : config_(std::move(config)), options_(std::move(options)), state_(std::make_unique<State>()) {}

UdpOverlay::~UdpOverlay() { (void)tearDown(); }

namespace {

Result<Fd> openSocket(uint16_t port, bool reusePort, bool gro) {
  Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return std::unexpected(kernelError("socket(AF_INET, SOCK_DGRAM)", errno));
  int one = 1;
  if (reusePort && ::setsockopt(sock.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    return std::unexpected(kernelError("setsockopt SO_REUSEPORT", errno));
  }
  // Bursts of 64 KiB super-packets need room; FORCE passes the namespace's rmem_max.
  int size = 4 << 20;
  if (::setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) {
    (void)::setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  if (::setsockopt(sock.get(), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0) {
    (void)::setsockopt(sock.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  // Without UDP GRO (kernels before 5.0) each datagram is read on its own: still correct.
  if (gro) (void)::setsockopt(sock.get(), IPPROTO_UDP, UDP_GRO, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    return std::unexpected(kernelError("bind 0.0.0.0:" + std::to_string(port), errno));
  }
  return sock;
}

}  // namespace

Result<NodeInfo> UdpOverlay::setUp(const NodeInfo& self) {
  State& s = *state_;
  std::lock_guard lock(s.lifecycle);
  if (s.up) return self;
  if (config_.lanMtu < 68 + 28) return fail(Code::kInvalid, "LAN MTU " + std::to_string(config_.lanMtu) + " leaves no room for udp encapsulation");
  unsigned queues = options_.queues ? options_.queues : std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  unsigned batch = std::max(1u, options_.batch);
  const std::string& name = options_.tunName;

  auto tun = openTun(name, {queues, options_.offload, options_.offload ? unsigned{TUN_F_CSUM | TUN_F_TSO4} : 0u});
  if (!tun) return std::unexpected(tun.error());
  auto netlink = openNetlink(-1);
  if (!netlink) return std::unexpected(netlink.error());
  Ipv4Cidr address{self.podCidr.network(), options_.clusterPrefix};
  if (auto added = (*netlink)->addAddress(name, address); !added && added.error().code != Code::kAlreadyExists) {
    return std::unexpected(added.error());
  }
  if (auto mtu = (*netlink)->setMtu(name, podMtu()); !mtu) return std::unexpected(mtu.error());
  if (auto up = (*netlink)->setUp(name); !up) return std::unexpected(up.error());

  std::vector<Fd> sockets;
  for (unsigned q = 0; q < queues; ++q) {
    auto sock = openSocket(options_.port, queues > 1, options_.offload);
    if (!sock) return std::unexpected(sock.error());
    sockets.push_back(std::move(*sock));
  }
  Fd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop) return std::unexpected(kernelError("eventfd", errno));

  s.self = self;
  s.tun = std::move(*tun);
  s.sockets = std::move(sockets);
  s.stop = std::move(stop);
  s.udpGso = options_.offload;
  const bool vnet = options_.offload;
  const uint16_t port = options_.port;
  for (unsigned q = 0; q < queues; ++q) {
    int tunFd = s.tun[q].get();
    int sock = s.sockets[q].get();
    for (bool tx : {true, false}) {
      s.running.fetch_add(1);
      s.threads.emplace_back([&s, tx, tunFd, sock, vnet, batch, port] {
        if (tx) {
          s.txLoop(tunFd, sock, vnet, batch, port);
        } else {
          s.rxLoop(tunFd, sock, vnet, batch);
        }
        s.running.fetch_sub(1);
      });
    }
  }
  s.up = true;
  return self;
}

Result<void> UdpOverlay::sync(const std::vector<NodeInfo>& peers) {
  auto table = PeerTable::build(peers);
  if (!table) return std::unexpected(table.error());
  auto shared = std::make_shared<const PeerTable>(std::move(*table));
  State& s = *state_;
  {
    std::lock_guard lock(s.peersMutex);
    s.peers = std::move(shared);
  }
  s.generation.fetch_add(1, std::memory_order_release);
  return {};
}

Result<void> UdpOverlay::tearDown() {
  State& s = *state_;
  std::lock_guard lock(s.lifecycle);
  if (!s.up) return {};
  uint64_t one = 1;
  if (::write(s.stop.get(), &one, sizeof one) != sizeof one) return std::unexpected(kernelError("write eventfd", errno));
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  s.tun.clear();  // the last queue's close removes the device, its address and its route
  s.sockets.clear();
  s.stop.reset();
  s.up = false;
  return {};
}

UdpStats UdpOverlay::stats() const {
  const Counters& c = state_->counters;
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  return UdpStats{get(c.txPackets), get(c.txBytes), get(c.txSuperPackets), get(c.txNoPeer),
                  get(c.txInvalid), get(c.txErrors), get(c.rxPackets), get(c.rxBytes),
                  get(c.rxWrites), get(c.rxInvalid), get(c.rxErrors)};
}

size_t UdpOverlay::threads() const { return state_->running.load(); }

std::unique_ptr<Overlay> makeUdpOverlay(const OverlayConfig& config) { return std::make_unique<UdpOverlay>(config); }

}  // namespace nanokube::net::overlay
