// hostPort against the real kernel: a node namespace with nk0 and a pod behind it (podnet.h),
// a client namespace on the node's LAN side, real TCP and UDP sockets opened inside those
// namespaces, and the node's ruleset read back with the real `nft`.

#include "net/hostport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>

#include "fixture.h"
#include "net/ipam.h"
#include "net/netlink.h"
#include "net/podnet.h"

namespace nanokube::net {
namespace {

using testing::runProgram;
using testing::ScratchNamespaces;

constexpr char kNodeLanIp[] = "192.168.251.2";  // the node's address on the client's link
constexpr char kClientIp[] = "192.168.251.1";
constexpr char kGateway[] = "10.244.7.1";       // nk0
constexpr int kTimeoutMs = 2000;

sockaddr_in socketAddress(const std::string& ip, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  return addr;
}

std::string peerIp(const sockaddr_in& addr) {
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &addr.sin_addr, text, sizeof text);
  return text;
}

// A socket bound to 0.0.0.0:port inside the namespace; a socket keeps the namespace it was
// created in, so it is used from the test's own thread afterwards.
Result<Fd> listenIn(int netnsFd, int type, uint16_t port) {
  return runInNetns(netnsFd, [&]() -> Result<Fd> {
    Fd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto addr = socketAddress("0.0.0.0", port);
    if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        (type == SOCK_STREAM && ::listen(fd.get(), 8) != 0)) {
      return fail(Code::kInternal, std::string("listen: ") + strerror(errno));
    }
    return fd;
  });
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, kTimeoutMs) == 1;
}

// Connects from inside the namespace; kUnavailable with the errno's text when refused or timed out.
Result<Fd> connectFrom(int netnsFd, const std::string& ip, uint16_t port) {
  return runInNetns(netnsFd, [&]() -> Result<Fd> {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    auto addr = socketAddress(ip, port);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
      return fail(Code::kUnavailable, strerror(errno));
    }
    pollfd p{fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, kTimeoutMs) != 1) return fail(Code::kUnavailable, "connect timed out");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(Code::kUnavailable, strerror(err));
    return fd;
  });
}

struct Accepted {
  Fd fd;
  std::string peer;
};

std::optional<Accepted> acceptWithin(int listenFd) {
  if (!readable(listenFd)) return std::nullopt;
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  Fd fd(::accept4(listenFd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
  if (!fd) return std::nullopt;
  return Accepted{std::move(fd), peerIp(peer)};
}

std::string receive(int fd) {
  if (!readable(fd)) return "";
  char buf[256];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

class HostPortIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.dir().empty());
    ASSERT_GE(nodeFd_ = scratch_.create("hostport-node"), 0);
    ASSERT_GE(podFd_ = scratch_.create("hostport-pod"), 0);
    ASSERT_GE(clientFd_ = scratch_.create("hostport-client"), 0);

    auto node = openNetlink(nodeFd_);
    ASSERT_TRUE(node) << node.error().message;
    node_ = std::move(*node);
    auto ipam = IpamStore::open(scratch_.dir() / "ipam.json", *Ipv4Cidr::parse("10.244.7.0/24"));
    ASSERT_TRUE(ipam) << ipam.error().message;
    ipam_ = std::move(*ipam);
    network_ = std::make_unique<PodNetwork>(*node_, *ipam_, openNetlink, NodeNetworkConfig{"nk0", 1500});
    auto bridge = network_->ensureBridge();
    ASSERT_TRUE(bridge) << bridge.error().message;
    auto ip = network_->setUp("pod-uid-1", podFd_);
    ASSERT_TRUE(ip) << ip.error().message;
    podIp_ = *ip;
    auto forward = writeNetSysctl(nodeFd_, "net/ipv4/ip_forward", "1");
    ASSERT_TRUE(forward) << forward.error().message;

    // The node's LAN side: lan0 (192.168.251.2) in the node, eth0 (192.168.251.1) in the client.
    auto client = openNetlink(clientFd_);
    ASSERT_TRUE(client) << client.error().message;
    ASSERT_TRUE(node_->createVethPair("lan0", "eth0", clientFd_, 1500));
    ASSERT_TRUE(node_->addAddress("lan0", *Ipv4Cidr::parse(std::string(kNodeLanIp) + "/24")));
    ASSERT_TRUE(node_->setUp("lan0"));
    ASSERT_TRUE(node_->setUp("lo"));
    ASSERT_TRUE((*client)->addAddress("eth0", *Ipv4Cidr::parse(std::string(kClientIp) + "/24")));
    ASSERT_TRUE((*client)->setUp("eth0"));
    ASSERT_TRUE((*client)->setUp("lo"));
  }

  void TearDown() override {
    // Rules live in the node namespace and go with it; removing them first checks remove().
    auto removed = runInNetns(nodeFd_, [&] { return hostPorts_.remove(); });
    EXPECT_TRUE(removed) << removed.error().message;
  }

  Result<void> sync(const std::vector<HostPortMapping>& mappings) {
    return runInNetns(nodeFd_, [&] { return hostPorts_.sync(mappings); });
  }

  std::string nftRuleset() {
    std::string out;
    EXPECT_EQ(runProgram({"nsenter", "--net=" + scratch_.path("hostport-node").string(), "nft", "list", "ruleset"}, &out), 0);
    return out;
  }

  HostPortMapping mapping(std::string protocol, uint16_t hostPort, uint16_t containerPort, std::string hostIp = "") {
    return {"pod-uid-1", std::move(protocol), hostPort, std::move(hostIp), podIp_, containerPort};
  }

  // A TCP connection from `netnsFd` to ip:port must land on `listener` from `expectedPeer`
  // and carry bytes both ways.
  void expectReachesPod(int netnsFd, const std::string& ip, uint16_t port, int listener, const std::string& expectedPeer) {
    SCOPED_TRACE(ip + ":" + std::to_string(port) + " from " + expectedPeer);
    auto conn = connectFrom(netnsFd, ip, port);
    ASSERT_TRUE(conn) << conn.error().message;
    auto accepted = acceptWithin(listener);
    ASSERT_TRUE(accepted) << "the pod saw no connection";
    EXPECT_EQ(accepted->peer, expectedPeer);
    ASSERT_EQ(::send(accepted->fd.get(), "from pod", 8, MSG_NOSIGNAL), 8);
    EXPECT_EQ(receive(conn->get()), "from pod");
    ASSERT_EQ(::send(conn->get(), "to pod", 6, MSG_NOSIGNAL), 6);
    EXPECT_EQ(receive(accepted->fd.get()), "to pod");
  }

  void expectRefused(int netnsFd, const std::string& ip, uint16_t port, int listener) {
    SCOPED_TRACE(ip + ":" + std::to_string(port));
    auto conn = connectFrom(netnsFd, ip, port);
    EXPECT_FALSE(conn) << "connected although no hostPort rule exists";
    pollfd p{listener, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 0) << "the pod got a connection";
  }

  // Declared first so that it is destroyed last, after every socket into its namespaces.
  ScratchNamespaces scratch_;
  int nodeFd_ = -1, podFd_ = -1, clientFd_ = -1;
  std::unique_ptr<Netlink> node_;
  std::unique_ptr<IpamStore> ipam_;
  std::unique_ptr<PodNetwork> network_;
  Ipv4 podIp_;
  HostPorts hostPorts_;
};

TEST_F(HostPortIntegration, NodePortReachesThePodWithTheClientsAddressUntilRemoved) {
  auto listener = listenIn(podFd_, SOCK_STREAM, 80);
  ASSERT_TRUE(listener) << listener.error().message;
  int pod = listener->get();

  // Without rules nothing listens on the node's 8080: the test can only pass through DNAT.
  expectRefused(clientFd_, kNodeLanIp, 8080, pod);
  expectRefused(nodeFd_, kNodeLanIp, 8080, pod);

  auto synced = sync({mapping("TCP", 8080, 80)});
  ASSERT_TRUE(synced) << synced.error().message;

  // From outside through prerouting: the pod sees the client's own address (no SNAT).
  expectReachesPod(clientFd_, kNodeLanIp, 8080, pod, kClientIp);
  // From the node itself through output, to either of its addresses.
  expectReachesPod(nodeFd_, kNodeLanIp, 8080, pod, kNodeLanIp);
  expectReachesPod(nodeFd_, kGateway, 8080, pod, kGateway);
  // Hairpin: the pod calls its own hostPort through the node and is answered (masqueraded
  // to nk0's address; without it the pod would drop its own address as a martian source).
  // With bridge netfilter on (as here, and as kube-proxy needs it) the DNAT happens while the
  // frame is bridged, and the bridge sends a frame back out of the port it came in on only
  // when that port is in hairpin mode, as the CNI bridge plugin's hairpinMode and the
  // kubelet's hairpin-veth set it.
  ASSERT_EQ(runProgram({"nsenter", "--net=" + scratch_.path("hostport-node").string(), "ip", "link", "set", "dev",
                        hostVethName("pod-uid-1"), "type", "bridge_slave", "hairpin", "on"}),
            0);
  expectReachesPod(podFd_, kNodeLanIp, 8080, pod, kGateway);
  // The port is mapped, not every port.
  expectRefused(clientFd_, kNodeLanIp, 8081, pod);

  // Only nanokube's table, with the rule; a second sync converges to the same ruleset.
  std::string ruleset = nftRuleset();
  EXPECT_NE(ruleset.find("table ip nanokube-hostport {"), std::string::npos) << ruleset;
  EXPECT_NE(ruleset.find("tcp dport 8080 dnat to " + podIp_.toString() + ":80"), std::string::npos) << ruleset;
  size_t tables = 0;
  for (size_t at = 0; (at = ruleset.find("table ", at)) != std::string::npos; ++at) ++tables;
  EXPECT_EQ(tables, 1u) << ruleset;
  ASSERT_TRUE(sync({mapping("TCP", 8080, 80), mapping("TCP", 8080, 80)}));
  EXPECT_EQ(nftRuleset(), ruleset);

  // An empty list: the port is gone, and so is the table.
  synced = sync({});
  ASSERT_TRUE(synced) << synced.error().message;
  expectRefused(clientFd_, kNodeLanIp, 8080, pod);
  expectRefused(nodeFd_, kNodeLanIp, 8080, pod);
  EXPECT_EQ(nftRuleset(), "");
  ASSERT_TRUE(sync({}));
}

TEST_F(HostPortIntegration, HostIpLimitsTheAddressAndUdpWorks) {
  auto tcp = listenIn(podFd_, SOCK_STREAM, 80);
  ASSERT_TRUE(tcp) << tcp.error().message;
  auto udp = listenIn(podFd_, SOCK_DGRAM, 53);
  ASSERT_TRUE(udp) << udp.error().message;

  auto synced = sync({mapping("TCP", 9090, 80, kNodeLanIp), mapping("UDP", 5353, 53)});
  ASSERT_TRUE(synced) << synced.error().message;

  expectReachesPod(clientFd_, kNodeLanIp, 9090, tcp->get(), kClientIp);
  expectReachesPod(nodeFd_, kNodeLanIp, 9090, tcp->get(), kNodeLanIp);
  // nk0's address is the node's too, but not the hostIP the pod asked for.
  expectRefused(nodeFd_, kGateway, 9090, tcp->get());

  auto sent = runInNetns(clientFd_, [&]() -> Result<void> {
    Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    auto addr = socketAddress(kNodeLanIp, 5353);
    if (::sendto(fd.get(), "query", 5, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 5) {
      return fail(Code::kInternal, strerror(errno));
    }
    return {};
  });
  ASSERT_TRUE(sent) << sent.error().message;
  ASSERT_TRUE(readable(udp->get())) << "the pod got no datagram";
  char buf[16];
  sockaddr_in from{};
  socklen_t len = sizeof from;
  ssize_t n = ::recvfrom(udp->get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))), "query");
  EXPECT_EQ(peerIp(from), kClientIp);
}

TEST_F(HostPortIntegration, OtherTablesAreLeftAlone) {
  std::string ns = "--net=" + scratch_.path("hostport-node").string();
  ASSERT_EQ(runProgram({"nsenter", ns, "nft", "add", "table", "ip", "someone-else"}), 0);
  ASSERT_TRUE(sync({mapping("TCP", 8080, 80)}));
  std::string ruleset = nftRuleset();
  EXPECT_NE(ruleset.find("table ip someone-else"), std::string::npos) << ruleset;
  EXPECT_NE(ruleset.find("table ip nanokube-hostport"), std::string::npos) << ruleset;
  auto removed = runInNetns(nodeFd_, [&] { return hostPorts_.remove(); });
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(nftRuleset(), "table ip someone-else {\n}\n");
  removed = runInNetns(nodeFd_, [&] { return hostPorts_.remove(); });
  EXPECT_TRUE(removed) << "remove is idempotent: " << removed.error().message;
}

}  // namespace
}  // namespace nanokube::net
