// The udp overlay against the real kernel: a LAN namespace with a bridge (192.168.254.0/24),
// two node namespaces on it, each with nk0 and a pod behind a veth (net::PodNetwork), and
// the backend set up from a thread inside each node's namespace, as the agent runs there.
// Real pings and TCP connections pod A -> pod B; iperf3 throughput printed when installed,
// next to the kernel's VXLAN set up by hand in the same kind of topology.

#include "net/overlay/udp.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "fixture.h"
#include "net/ipam.h"
#include "net/netlink.h"
#include "net/podnet.h"

namespace nanokube::net::overlay {
namespace {

using net::testing::pingFrom;
using net::testing::runProgram;
using net::testing::ScratchNamespaces;

constexpr unsigned kLanMtu = 1500;
constexpr int kTimeoutMs = 3000;

sockaddr_in socketAddress(const std::string& ip, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  return addr;
}

bool readable(int fd, int timeoutMs = kTimeoutMs) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeoutMs) == 1;
}

Result<Fd> listenIn(int netnsFd, uint16_t port) {
  return runInNetns(netnsFd, [&]() -> Result<Fd> {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto addr = socketAddress("0.0.0.0", port);
    if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd.get(), 8) != 0) {
      return fail(Code::kInternal, std::string("listen: ") + strerror(errno));
    }
    return fd;
  });
}

Result<Fd> connectFrom(int netnsFd, const std::string& ip, uint16_t port) {
  return runInNetns(netnsFd, [&]() -> Result<Fd> {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval tv{3, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    auto addr = socketAddress(ip, port);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return fail(Code::kUnavailable, strerror(errno));
    }
    return fd;
  });
}

// Sends all of `data`; false on error or timeout.
bool sendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string receiveExactly(int fd, size_t size) {
  std::string out;
  char buf[65536];
  while (out.size() < size && readable(fd)) {
    ssize_t n = ::recv(fd, buf, std::min(sizeof buf, size - out.size()), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

size_t taskCount() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// A program started in the background (iperf3's server); killed by its PID if still running.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

 private:
  pid_t pid_ = -1;
};

struct Node {
  std::string name;
  int fd = -1;
  std::string lanIp;
  std::unique_ptr<Netlink> netlink;
  std::unique_ptr<IpamStore> ipam;
  std::unique_ptr<PodNetwork> network;
  int podFd = -1;
  std::filesystem::path podPath;
  std::string podIp;
  NodeInfo info;
  std::unique_ptr<UdpOverlay> overlay;
};

class UdpOverlayIntegration : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto* n : {&a_, &b_}) n->overlay.reset();
  }

  // lan: bridge br0; nodes <p>a (192.168.254.2) and <p>b (.3) on it, each with nk0, podCIDR
  // 10.244.1.0/24 or 10.244.2.0/24, and one pod whose MTU is `podMtu`.
  void buildCluster(const std::string& p, unsigned podMtu) {
    int lan = scratch_.create(p + "lan");
    ASSERT_GE(lan, 0);
    auto lanLink = openNetlink(lan);
    ASSERT_TRUE(lanLink) << lanLink.error().message;
    ASSERT_TRUE((*lanLink)->ensureBridge("br0", kLanMtu, ""));
    ASSERT_TRUE((*lanLink)->setUp("br0"));
    int index = 0;
    for (auto* n : {&a_, &b_}) {
      ++index;
      n->name = p + (index == 1 ? "a" : "b");
      n->lanIp = "192.168.254." + std::to_string(index + 1);
      n->fd = scratch_.create(n->name);
      ASSERT_GE(n->fd, 0);
      n->podFd = scratch_.create(n->name + "-pod");
      ASSERT_GE(n->podFd, 0);
      n->podPath = scratch_.path(n->name + "-pod");
      std::string port = "v" + n->name;
      auto veth = (*lanLink)->createVethPair(port, "eth0", n->fd, kLanMtu);
      ASSERT_TRUE(veth) << veth.error().message;
      ASSERT_TRUE((*lanLink)->setMaster(port, "br0"));
      ASSERT_TRUE((*lanLink)->setUp(port));

      auto netlink = openNetlink(n->fd);
      ASSERT_TRUE(netlink) << netlink.error().message;
      n->netlink = std::move(*netlink);
      ASSERT_TRUE(n->netlink->addAddress("eth0", *Ipv4Cidr::parse(n->lanIp + "/24")));
      ASSERT_TRUE(n->netlink->setUp("eth0"));
      ASSERT_TRUE(n->netlink->setUp("lo"));
      ASSERT_TRUE(writeNetSysctl(n->fd, "net/ipv4/ip_forward", "1"));

      auto cidr = *Ipv4Cidr::parse("10.244." + std::to_string(index) + ".0/24");
      auto ipam = IpamStore::open(scratch_.dir() / (n->name + "-ipam.json"), cidr);
      ASSERT_TRUE(ipam) << ipam.error().message;
      n->ipam = std::move(*ipam);
      n->network = std::make_unique<PodNetwork>(*n->netlink, *n->ipam, openNetlink, NodeNetworkConfig{"nk0", podMtu});
      auto bridge = n->network->ensureBridge();
      ASSERT_TRUE(bridge) << bridge.error().message;
      auto ip = n->network->setUp("uid-" + n->name, n->podFd);
      ASSERT_TRUE(ip) << ip.error().message;
      n->podIp = ip->toString();
      n->info = NodeInfo{n->name, *Ipv4::parse(n->lanIp), cidr, "udp", ""};
    }
  }

  void startOverlays(const UdpOptions& options) {
    for (auto* n : {&a_, &b_}) {
      n->overlay = std::make_unique<UdpOverlay>(OverlayConfig{Backend::kUdp, "eth0", kLanMtu}, options);
      auto self = runInNetns(n->fd, [&] { return n->overlay->setUp(n->info); });
      ASSERT_TRUE(self) << self.error().message;
      EXPECT_EQ(*self, n->info);
    }
    ASSERT_TRUE(a_.overlay->sync({b_.info}));
    ASSERT_TRUE(b_.overlay->sync({a_.info}));
  }

  // Single-stream TCP pod A -> pod B with iperf3 for `seconds`; Gbit/s, or -1.
  double iperf(int seconds) {
    Child server({"nsenter", "--net=" + b_.podPath.string(), "iperf3", "-s", "-1", "-p", "5201"});
    std::string out;
    for (int attempt = 0; attempt < 20; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (runProgram({"nsenter", "--net=" + a_.podPath.string(), "iperf3", "-c", b_.podIp, "-p", "5201", "-t",
                      std::to_string(seconds), "-J"},
                     &out) == 0) {
        auto json = Json::parse(out, nullptr, false);
        if (json.is_discarded()) return -1;
        return json["end"]["sum_received"]["bits_per_second"].get<double>() / 1e9;
      }
    }
    return -1;
  }

  ScratchNamespaces scratch_;  // first: destroyed last, after every socket and TUN in it
  Node a_, b_;
};

// Whether `link` exists in the node's namespace (false also when netlink fails, reported).
bool hasLink(Node& n, const std::string& link) {
  auto found = n.netlink->exists(link);
  EXPECT_TRUE(found) << found.error().message;
  return found && *found;
}

TEST_F(UdpOverlayIntegration, CarriesPodTrafficBetweenNodesAndTearsDown) {
  size_t tasksBefore = taskCount();
  buildCluster("u", 1472);
  ASSERT_FALSE(HasFatalFailure());
  startOverlays({.queues = 2});
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(a_.overlay->podMtu(), 1472u);
  EXPECT_EQ(a_.overlay->threads(), 4u);

  // The TUN as flannel0 is: the node's podCIDR network with the cluster's /16, MTU 1472, up;
  // the /16 routes to it while the node's own /24 stays on nk0.
  auto tun = a_.netlink->link("nk-tun0");
  ASSERT_TRUE(tun) << tun.error().message;
  EXPECT_EQ(tun->mtu, 1472u);
  EXPECT_TRUE(tun->up);
  auto addresses = a_.netlink->listAddresses();
  ASSERT_TRUE(addresses);
  EXPECT_NE(std::ranges::find(*addresses, AddressInfo{"nk-tun0", *Ipv4Cidr::parse("10.244.1.0/16")}), addresses->end());
  auto routes = a_.netlink->listRoutes();
  ASSERT_TRUE(routes);
  std::vector<std::string> routeText;
  for (const auto& r : *routes) routeText.push_back(r.toString());
  EXPECT_NE(std::ranges::find(routeText, "10.244.0.0/16 dev nk-tun0"), routeText.end());
  EXPECT_NE(std::ranges::find(routeText, "10.244.1.0/24 dev nk0"), routeText.end());

  EXPECT_TRUE(pingFrom(a_.podPath, b_.podIp));
  EXPECT_TRUE(pingFrom(b_.podPath, a_.podIp));

  // TCP pod A -> pod B: B sees A's own address (no NAT), and 4 MiB cross intact each way
  // (large writes travel as TSO super-packets, segmented and coalesced again).
  auto listener = listenIn(b_.podFd, 8080);
  ASSERT_TRUE(listener) << listener.error().message;
  auto client = connectFrom(a_.podFd, b_.podIp, 8080);
  ASSERT_TRUE(client) << client.error().message;
  ASSERT_TRUE(readable(listener->get()));
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  Fd server(::accept4(listener->get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
  ASSERT_TRUE(server);
  char peerText[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &peer.sin_addr, peerText, sizeof peerText);
  EXPECT_EQ(std::string(peerText), a_.podIp);
  std::string data(4 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 2654435761u) >> 13);
  std::thread sender([&] { EXPECT_TRUE(sendAll(client->get(), data)); });
  EXPECT_TRUE(receiveExactly(server.get(), data.size()) == data) << "pod B received other bytes";
  sender.join();
  std::thread back([&] { EXPECT_TRUE(sendAll(server.get(), data)); });
  EXPECT_TRUE(receiveExactly(client->get(), data.size()) == data) << "pod A received other bytes";
  back.join();

  auto statsA = a_.overlay->stats();
  auto statsB = b_.overlay->stats();
  EXPECT_GT(statsA.txPackets, 2900u);  // 4 MiB in 1420-byte segments
  EXPECT_GT(statsB.rxPackets, 2900u);
  EXPECT_GT(statsA.txSuperPackets, 0u) << "the TUN handed over no TSO super-packet";
  EXPECT_LT(statsB.rxWrites, statsB.rxPackets) << "nothing was coalesced";
  EXPECT_EQ(statsA.txErrors + statsB.rxErrors + statsB.rxInvalid, 0u);
  std::printf("udp overlay A->B: tx %llu packets from %llu super-packets; B: rx %llu packets in %llu TUN writes\n",
              static_cast<unsigned long long>(statsA.txPackets), static_cast<unsigned long long>(statsA.txSuperPackets),
              static_cast<unsigned long long>(statsB.rxPackets), static_cast<unsigned long long>(statsB.rxWrites));

  // A destination no peer holds is dropped and counted; so is everything after the peer
  // table empties, until it is back.
  EXPECT_FALSE(pingFrom(a_.podPath, "10.244.9.9"));
  EXPECT_GT(a_.overlay->stats().txNoPeer, 0u);
  ASSERT_TRUE(a_.overlay->sync({}));
  EXPECT_FALSE(pingFrom(a_.podPath, b_.podIp));
  ASSERT_TRUE(a_.overlay->sync({b_.info}));
  EXPECT_TRUE(pingFrom(a_.podPath, b_.podIp));

  // A packet from the LAN for an address outside B's podCIDR never reaches B's TUN.
  uint64_t invalidBefore = b_.overlay->stats().rxInvalid;
  auto stray = runInNetns(a_.fd, [&]() -> Result<void> {
    Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    auto to = socketAddress(b_.lanIp, kUdpPort);
    const char junk[] = "not an IP packet";
    if (::sendto(fd.get(), junk, sizeof junk, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
      return fail(Code::kInternal, strerror(errno));
    }
    return {};
  });
  ASSERT_TRUE(stray) << stray.error().message;
  for (int i = 0; i < 50 && b_.overlay->stats().rxInvalid == invalidBefore; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(b_.overlay->stats().rxInvalid, invalidBefore + 1);

  // setUp again while running changes nothing.
  auto again = runInNetns(a_.fd, [&] { return a_.overlay->setUp(a_.info); });
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(a_.overlay->threads(), 4u);

  // tearDown: the threads stop, the TUN and its route disappear; twice is fine.
  ASSERT_TRUE(a_.overlay->tearDown());
  EXPECT_EQ(a_.overlay->threads(), 0u);
  EXPECT_FALSE(hasLink(a_, "nk-tun0"));
  ASSERT_TRUE(a_.overlay->tearDown());
  EXPECT_FALSE(pingFrom(a_.podPath, b_.podIp));

  // And it comes back.
  auto back2 = runInNetns(a_.fd, [&] { return a_.overlay->setUp(a_.info); });
  ASSERT_TRUE(back2) << back2.error().message;
  EXPECT_TRUE(pingFrom(a_.podPath, b_.podIp));

  a_.overlay.reset();  // the destructor tears down
  ASSERT_TRUE(b_.overlay->tearDown());
  EXPECT_FALSE(hasLink(b_, "nk-tun0"));
  EXPECT_EQ(taskCount(), tasksBefore) << "a data-path thread outlived tearDown";
}

TEST_F(UdpOverlayIntegration, ASecondOverlayOnThePortFailsAndLeavesNothing) {
  // Two overlays in one namespace cannot both own the port: the second setUp fails with the
  // kernel's reason and leaves no TUN of its own behind.
  buildCluster("d", 1472);
  ASSERT_FALSE(HasFatalFailure());
  UdpOverlay first({Backend::kUdp, "eth0", kLanMtu}, {.queues = 1});
  UdpOverlay second({Backend::kUdp, "eth0", kLanMtu}, {.tunName = "nk-tun1", .queues = 1});
  ASSERT_TRUE(runInNetns(a_.fd, [&] { return first.setUp(a_.info); }));
  auto clash = runInNetns(a_.fd, [&] { return second.setUp(a_.info); });
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().message, "bind 0.0.0.0:8285: Address already in use (EADDRINUSE)");
  EXPECT_FALSE(hasLink(a_, "nk-tun1"));
  EXPECT_TRUE(hasLink(a_, "nk-tun0"));
  EXPECT_EQ(second.threads(), 0u);
}

// Figures, not assertions: single-stream TCP pod A -> pod B through the udp backend (as
// built, then without offloads, then flannel's one read()/one sendto() per packet), and
// through the kernel's VXLAN set up by hand with the same topology.
TEST_F(UdpOverlayIntegration, Throughput) {
  if (runProgram({"sh", "-c", "command -v iperf3"}) != 0) GTEST_SKIP() << "iperf3 is not installed";
  const int seconds = 2;
  buildCluster("t", 1472);
  ASSERT_FALSE(HasFatalFailure());
  struct Mode {
    const char* name;
    UdpOptions options;
  };
  std::vector<std::pair<std::string, double>> results;
  for (const auto& mode : {Mode{"udp (TSO/GSO/GRO offloads, batches)", {}},
                           Mode{"udp without offloads, batches of 32", {.offload = false}},
                           Mode{"udp as flannel: one read, one send per packet", {.queues = 1, .batch = 1, .offload = false}}}) {
    startOverlays(mode.options);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_TRUE(pingFrom(a_.podPath, b_.podIp));
    results.emplace_back(mode.name, iperf(seconds));
    a_.overlay.reset();
    b_.overlay.reset();
  }

  // The kernel's VXLAN, flannel's vxlan backend by hand: pods at 1450, a VTEP per node with a
  // fixed MAC, /32 address, onlink route and permanent neighbour for the other node.
  a_ = {};
  b_ = {};
  buildCluster("x", 1450);
  ASSERT_FALSE(HasFatalFailure());
  for (auto [self, other, selfNet, otherNet, mac, otherMac] :
       {std::tuple{&a_, &b_, "10.244.1.0", "10.244.2.0", "0a:58:00:00:00:01", "0a:58:00:00:00:02"},
        std::tuple{&b_, &a_, "10.244.2.0", "10.244.1.0", "0a:58:00:00:00:02", "0a:58:00:00:00:01"}}) {
    std::string ns = "--net=" + scratch_.path(self->name).string();
    auto run = [&](const std::string& cmd) { return runProgram({"nsenter", ns, "sh", "-c", cmd}); };
    ASSERT_EQ(run("ip link add nk-vx0 address " + std::string(mac) + " type vxlan id 42 local " + self->lanIp +
                  " remote " + other->lanIp + " dstport 4789 dev eth0"), 0);
    ASSERT_EQ(run(std::string("ip addr add ") + selfNet + "/32 dev nk-vx0 && ip link set nk-vx0 up"), 0);
    ASSERT_EQ(run(std::string("ip route add ") + otherNet + "/24 via " + otherNet + " dev nk-vx0 onlink"), 0);
    ASSERT_EQ(run(std::string("ip neigh replace ") + otherNet + " lladdr " + otherMac + " dev nk-vx0 nud permanent"), 0);
  }
  ASSERT_TRUE(pingFrom(a_.podPath, b_.podIp));
  double vxlan = iperf(seconds);

  std::printf("single-stream TCP pod A -> pod B, %d s, iperf3:\n", seconds);
  for (const auto& [name, gbps] : results) {
    std::printf("  %-48s %6.2f Gbit/s  (%.2f x vxlan)\n", name.c_str(), gbps, vxlan > 0 ? gbps / vxlan : 0);
  }
  std::printf("  %-48s %6.2f Gbit/s\n", "kernel vxlan (pod MTU 1450)", vxlan);
  if (results.back().second > 0) {
    std::printf("  udp as built / flannel's path: %.1f x\n", results.front().second / results.back().second);
  }
}

}  // namespace
}  // namespace nanokube::net::overlay
