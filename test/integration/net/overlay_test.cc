// The vxlan and host-gw overlays against the real kernel: a LAN namespace with a bridge
// (192.168.253.0/24, never the local cluster's 250), "node" namespaces on it, each with nk0
// and one pod behind a veth from PodNetwork, and the overlay set up and synced inside each
// node's namespace. Real packets: ping and TCP pod to pod across nodes with the source
// address kept, a DF ping of the full pod MTU, a departed peer's entries gone, and (with
// iperf3 installed) one single-stream TCP throughput figure per backend, printed only.

#include "net/overlay/overlay.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "fixture.h"
#include "net/ipam.h"
#include "net/netlink.h"
#include "net/overlay/plan.h"
#include "net/podnet.h"

namespace nanokube::net::overlay {
namespace {

using testing::pingFrom;
using testing::runProgram;
using testing::ScratchNamespaces;

constexpr unsigned kLanMtu = 1500;

std::string lanIp(int n) { return "192.168.253." + std::to_string(n + 1); }
Ipv4Cidr podCidrOf(int n) { return *Ipv4Cidr::parse("10.244." + std::to_string(n) + ".0/24"); }

// One ICMP echo of `payload` bytes with DF set, from a raw socket made inside `netnsFd`;
// true when the matching reply came back within a second. busybox ping cannot set DF.
Result<bool> dfPing(int netnsFd, const std::string& dst, size_t payload) {
  return runInNetns(netnsFd, [&]() -> Result<bool> {
    Fd sock(::socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
    if (!sock) return fail(Code::kInternal, std::string("socket: ") + std::strerror(errno));
    int pmtu = IP_PMTUDISC_DO;
    ::setsockopt(sock.get(), IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
    std::vector<unsigned char> packet(sizeof(icmphdr) + payload, 0xa5);
    auto* icmp = reinterpret_cast<icmphdr*>(packet.data());
    icmp->type = ICMP_ECHO;
    icmp->code = 0;
    icmp->un.echo.id = htons(static_cast<uint16_t>(::getpid()));
    icmp->un.echo.sequence = htons(static_cast<uint16_t>(payload));
    icmp->checksum = 0;
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < packet.size(); i += 2) sum += static_cast<uint32_t>(packet[i] << 8 | packet[i + 1]);
    if (packet.size() % 2) sum += static_cast<uint32_t>(packet.back() << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    icmp->checksum = htons(static_cast<uint16_t>(~sum));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    ::inet_pton(AF_INET, dst.c_str(), &to.sin_addr);
    if (::sendto(sock.get(), packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
      return fail(Code::kInternal, std::string("sendto: ") + std::strerror(errno) + (errno == EMSGSIZE ? " (EMSGSIZE)" : ""));
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    std::vector<unsigned char> buf(65536);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{sock.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::recv(sock.get(), buf.data(), buf.size(), 0);
      if (n < static_cast<ssize_t>(sizeof(iphdr) + sizeof(icmphdr))) continue;
      auto* ip = reinterpret_cast<iphdr*>(buf.data());
      auto* reply = reinterpret_cast<icmphdr*>(buf.data() + ip->ihl * 4);
      if (reply->type == ICMP_ECHOREPLY && reply->un.echo.id == icmp->un.echo.id &&
          reply->un.echo.sequence == icmp->un.echo.sequence &&
          static_cast<size_t>(n) == ip->ihl * 4 + packet.size()) {
        return true;
      }
    }
    return false;
  });
}

// A TCP connection from the pod namespace `clientFd` to `serverIp`:`port` served by a socket
// made in `serverFd`; returns the source address the server saw.
Result<std::string> tcpSourceSeen(int clientFd, int serverFd, const std::string& serverIp, uint16_t port) {
  auto listener = runInNetns(serverFd, [&]() -> Result<int> {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 4) != 0) {
      ::close(fd);
      return fail(Code::kInternal, std::string("listen: ") + std::strerror(errno));
    }
    return fd;
  });
  if (!listener) return std::unexpected(listener.error());
  Fd server(*listener);
  auto client = runInNetns(clientFd, [&]() -> Result<int> {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, serverIp.c_str(), &addr.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return fail(Code::kUnavailable, "connect " + serverIp + ": " + std::strerror(errno));
    }
    return fd;
  });
  if (!client) return std::unexpected(client.error());
  Fd clientSock(*client);
  if (::write(clientSock.get(), "hello", 5) != 5) return fail(Code::kInternal, "write");
  pollfd p{server.get(), POLLIN, 0};
  if (::poll(&p, 1, 2000) != 1) return fail(Code::kUnavailable, "no connection arrived");
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  Fd conn(::accept(server.get(), reinterpret_cast<sockaddr*>(&peer), &len));
  if (!conn) return fail(Code::kInternal, "accept");
  char buf[8] = {};
  pollfd r{conn.get(), POLLIN, 0};
  if (::poll(&r, 1, 2000) != 1 || ::read(conn.get(), buf, sizeof buf) != 5 || std::string(buf, 5) != "hello") {
    return fail(Code::kInternal, "the data did not arrive");
  }
  char text[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
  return std::string(text);
}

bool haveProgram(const std::string& name) { return runProgram({"sh", "-c", "command -v " + name}) == 0; }

struct Node {
  int n = 0;
  std::string name;
  int fd = -1;
  int podFd = -1;
  std::unique_ptr<Netlink> netlink;
  std::unique_ptr<IpamStore> ipam;
  std::unique_ptr<PodNetwork> network;
  std::unique_ptr<Overlay> overlay;
  NodeInfo self;
  std::string podIp;
};

class OverlayIntegration : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.dir().empty());
    ASSERT_GE(scratch_.create("lan"), 0);
    auto lan = openNetlink(scratch_.fd("lan"));
    ASSERT_TRUE(lan) << lan.error().message;
    lan_ = std::move(*lan);
    ASSERT_TRUE(lan_->ensureBridge("br0", kLanMtu, ""));
    ASSERT_TRUE(lan_->setUp("br0"));
  }

  void TearDown() override {
    for (auto& node : nodes_) {
      if (node->overlay) {
        auto down = runInNetns(node->fd, [&] { return node->overlay->tearDown(); });
        EXPECT_TRUE(down) << down.error().message;
      }
    }
  }

  // Node n: namespace node<n> on the LAN as 192.168.253.(n+1), nk0 with podCIDR 10.244.n.0/24,
  // a pod, ip_forward on, and the overlay set up (not synced).
  Node& addNode(int n) {
    auto node = std::make_unique<Node>();
    node->n = n;
    node->name = "node" + std::to_string(n);
    node->fd = scratch_.create(node->name);
    node->podFd = scratch_.create("pod" + std::to_string(n));
    EXPECT_GE(node->fd, 0);
    std::string port = "lan" + std::to_string(n);
    EXPECT_TRUE(lan_->createVethPair(port, "eth0", node->fd, kLanMtu));
    EXPECT_TRUE(lan_->setMaster(port, "br0"));
    EXPECT_TRUE(lan_->setUp(port));
    auto netlink = openNetlink(node->fd);
    EXPECT_TRUE(netlink) << netlink.error().message;
    node->netlink = std::move(*netlink);
    EXPECT_TRUE(node->netlink->setUp("lo"));
    EXPECT_TRUE(node->netlink->addAddress("eth0", *Ipv4Cidr::parse(lanIp(n) + "/24")));
    EXPECT_TRUE(node->netlink->setUp("eth0"));
    auto forward = writeNetSysctl(node->fd, "net/ipv4/ip_forward", "1");
    EXPECT_TRUE(forward) << forward.error().message;

    auto overlay = makeOverlay({GetParam(), "eth0", kLanMtu});
    EXPECT_TRUE(overlay) << overlay.error().message;
    node->overlay = std::move(*overlay);
    auto ipam = IpamStore::open(scratch_.dir() / (node->name + "-ipam.json"), podCidrOf(n));
    EXPECT_TRUE(ipam) << ipam.error().message;
    node->ipam = std::move(*ipam);
    node->network = std::make_unique<PodNetwork>(*node->netlink, *node->ipam, openNetlink,
                                                 NodeNetworkConfig{"nk0", node->overlay->podMtu()});
    auto ip = node->network->setUp("uid-" + node->name, node->podFd);
    EXPECT_TRUE(ip) << ip.error().message;
    if (ip) node->podIp = ip->toString();

    NodeInfo self{node->name, *Ipv4::parse(lanIp(n)), podCidrOf(n), "", ""};
    auto done = runInNetns(node->fd, [&] { return node->overlay->setUp(self); });
    EXPECT_TRUE(done) << done.error().message;
    if (done) node->self = *done;
    nodes_.push_back(std::move(node));
    return *nodes_.back();
  }

  // Every node syncs with every other node in `members`, as the agent does from the Node list:
  // through the annotations each node publishes.
  void syncAll(const std::vector<Node*>& members) {
    std::vector<NodeInfo> all;
    for (Node* m : members) {
      Json object = {{"metadata", {{"name", m->name}}}, {"spec", {{"podCIDR", m->self.podCidr.toString()}}}};
      for (const auto& [k, v] : annotationsFor(GetParam(), m->self)) object["metadata"]["annotations"][k] = v;
      object["status"]["addresses"] = Json::array({{{"type", "InternalIP"}, {"address", lanIp(m->n)}}});
      auto info = nodeInfoOf(object);
      ASSERT_TRUE(info) << object.dump();
      all.push_back(*info);
    }
    for (Node* m : members) {
      std::vector<NodeInfo> peers;
      for (const auto& info : all) {
        if (info.name != m->name) peers.push_back(info);
      }
      auto synced = runInNetns(m->fd, [&] { return m->overlay->sync(peers); });
      EXPECT_TRUE(synced) << m->name << ": " << synced.error().message;
    }
  }

  std::filesystem::path podPath(const Node& node) { return scratch_.path("pod" + std::to_string(node.n)); }

  // What node `on` holds for the podCIDR of node `of`, as strings, from netlink.
  std::vector<std::string> entriesFor(Node& on, const Node& of) {
    std::vector<std::string> out;
    std::string prefix = "10.244." + std::to_string(of.n) + ".";
    auto routes = on.netlink->listRoutes();
    EXPECT_TRUE(routes);
    for (const auto& r : *routes) {
      if (r.toString().starts_with(prefix)) out.push_back("route " + r.toString());
    }
    if (GetParam() == Backend::kVxlan) {
      auto neighbours = on.netlink->listNeighbours(kVxlanDevice);
      EXPECT_TRUE(neighbours) << neighbours.error().message;
      for (const auto& n : *neighbours) {
        if (n.ip.toString().starts_with(prefix)) out.push_back("neigh " + n.toString());
      }
      auto fdb = on.netlink->listFdb(kVxlanDevice);
      EXPECT_TRUE(fdb) << fdb.error().message;
      for (const auto& e : *fdb) {
        if (e.dst.toString() == lanIp(of.n)) out.push_back("fdb " + e.toString());
      }
    }
    return out;
  }

  // Single-stream TCP throughput from `from`'s pod to `to`'s pod with iperf3, in Gbit/s.
  std::optional<double> iperf(const Node& from, const Node& to) {
    std::string serverNs = "--net=" + podPath(to).string();
    std::vector<std::string> serverArgv = {"nsenter", serverNs, "iperf3", "-s", "-1", "-p", "5201"};
    std::vector<char*> args;
    for (auto& a : serverArgv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t server = -1;
    int rc = posix_spawnp(&server, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return std::nullopt;
    std::string out;
    int status = -1;
    for (int attempt = 0; attempt < 20 && status != 0; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      status = runProgram({"nsenter", "--net=" + podPath(from).string(), "iperf3", "-c", to.podIp, "-p", "5201",
                           "-t", "3", "-J"},
                          &out);
    }
    ::kill(server, SIGTERM);
    ::waitpid(server, nullptr, 0);
    if (status != 0) return std::nullopt;
    Json result = Json::parse(out, nullptr, false);
    if (!result.contains("end")) return std::nullopt;
    return result["end"]["sum_received"]["bits_per_second"].get<double>() / 1e9;
  }

  // Declared first so that it is destroyed last, after every socket into its namespaces.
  ScratchNamespaces scratch_;
  std::unique_ptr<Netlink> lan_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

TEST_P(OverlayIntegration, PodsOnTwoThenThreeNodesReachEachOtherWithoutNat) {
  Node& a = addNode(1);
  Node& b = addNode(2);
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(a.podIp, "10.244.1.2");
  EXPECT_EQ(b.podIp, "10.244.2.2");
  EXPECT_FALSE(pingFrom(podPath(a), b.podIp)) << "no route between nodes before sync";
  syncAll({&a, &b});

  EXPECT_TRUE(pingFrom(podPath(a), b.podIp)) << "pod1 -> pod2";
  EXPECT_TRUE(pingFrom(podPath(b), a.podIp)) << "pod2 -> pod1";
  EXPECT_TRUE(pingFrom(scratch_.path("node1"), b.podIp)) << "node1 -> pod2";
  auto seen = tcpSourceSeen(a.podFd, b.podFd, b.podIp, 8080);
  ASSERT_TRUE(seen) << seen.error().message;
  EXPECT_EQ(*seen, a.podIp) << "pod2 sees pod1's own address";

  // The whole pod MTU crosses without fragmentation (DF set); one byte more cannot leave the pod.
  unsigned mtu = a.overlay->podMtu();
  EXPECT_EQ(mtu, GetParam() == Backend::kVxlan ? 1450u : 1500u);
  auto full = dfPing(a.podFd, b.podIp, mtu - 28);
  ASSERT_TRUE(full) << full.error().message;
  EXPECT_TRUE(*full) << "a " << mtu - 28 << "-byte DF ping";
  auto nobody = dfPing(a.podFd, "10.244.2.99", 56);
  ASSERT_TRUE(nobody) << nobody.error().message;
  EXPECT_FALSE(*nobody) << "an echo to nobody must not count as a reply";
  auto tooBig = dfPing(a.podFd, b.podIp, mtu - 27);
  ASSERT_FALSE(tooBig);
  EXPECT_NE(tooBig.error().message.find("EMSGSIZE"), std::string::npos) << tooBig.error().message;

  // A third node joins.
  Node& c = addNode(3);
  ASSERT_FALSE(HasFailure());
  syncAll({&a, &b, &c});
  EXPECT_TRUE(pingFrom(podPath(a), c.podIp)) << "pod1 -> pod3";
  EXPECT_TRUE(pingFrom(podPath(c), b.podIp)) << "pod3 -> pod2";
  seen = tcpSourceSeen(c.podFd, a.podFd, a.podIp, 8081);
  ASSERT_TRUE(seen) << seen.error().message;
  EXPECT_EQ(*seen, c.podIp);
  if (GetParam() == Backend::kVxlan) {
    EXPECT_EQ(entriesFor(a, b), (std::vector<std::string>{
                                    "route 10.244.2.0/24 via 10.244.2.0 dev nk.1 onlink",
                                    "neigh 10.244.2.0 lladdr 0a:58:0a:f4:02:00 dev nk.1",
                                    "fdb 0a:58:0a:f4:02:00 dev nk.1 dst 192.168.253.3"}));
  } else {
    EXPECT_EQ(entriesFor(a, b), (std::vector<std::string>{"route 10.244.2.0/24 via 192.168.253.3 dev eth0"}));
  }

  // Node 2 leaves: the others drop everything they held for it, and keep the rest.
  syncAll({&a, &c});
  EXPECT_TRUE(entriesFor(a, b).empty());
  EXPECT_TRUE(entriesFor(c, b).empty());
  EXPECT_FALSE(entriesFor(a, c).empty());
  EXPECT_FALSE(pingFrom(podPath(a), b.podIp)) << "pod2 is unreachable from node1 now";
  EXPECT_TRUE(pingFrom(podPath(a), c.podIp)) << "pod1 -> pod3 still";
}

TEST_P(OverlayIntegration, DevicesAreAsFlannelMakesThem) {
  Node& a = addNode(1);
  Node& b = addNode(2);
  ASSERT_FALSE(HasFailure());
  syncAll({&a, &b});
  if (GetParam() != Backend::kVxlan) {
    EXPECT_FALSE(*a.netlink->exists(kVxlanDevice));
    return;
  }
  // What iproute2 reads: the device's parameters, the neighbour and the FDB entry.
  std::string ns = "--net=" + scratch_.path("node1").string();
  std::string out;
  ASSERT_EQ(runProgram({"nsenter", ns, "ip", "-d", "-j", "link", "show", "nk.1"}, &out), 0);
  Json link = Json::parse(out, nullptr, false);
  ASSERT_TRUE(link.is_array() && link.size() == 1) << out;
  EXPECT_EQ(link[0]["mtu"], 1450);
  EXPECT_EQ(link[0]["address"], "0a:58:0a:f4:01:00");
  const Json& data = link[0]["linkinfo"]["info_data"];
  EXPECT_EQ(data["id"], 1);
  EXPECT_EQ(data["local"], "192.168.253.2");
  EXPECT_EQ(data["port"], 8472);
  EXPECT_EQ(data["link"], "eth0");
  EXPECT_EQ(data["learning"], false);
  ASSERT_EQ(runProgram({"nsenter", ns, "ip", "-j", "neigh", "show", "dev", "nk.1"}, &out), 0);
  Json neigh = Json::parse(out, nullptr, false);
  ASSERT_TRUE(neigh.is_array() && neigh.size() == 1) << out;
  EXPECT_EQ(neigh[0]["dst"], "10.244.2.0");
  EXPECT_EQ(neigh[0]["lladdr"], "0a:58:0a:f4:02:00");
  EXPECT_EQ(neigh[0]["state"], Json::array({"PERMANENT"}));
  ASSERT_EQ(runProgram({"nsenter", ns, "bridge", "-j", "fdb", "show", "dev", "nk.1"}, &out), 0);
  EXPECT_NE(out.find(R"("mac":"0a:58:0a:f4:02:00")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("dst":"192.168.253.3")"), std::string::npos) << out;
  ASSERT_EQ(runProgram({"nsenter", ns, "ip", "-4", "addr", "show", "dev", "nk.1"}, &out), 0);
  EXPECT_NE(out.find("inet 10.244.1.0/32"), std::string::npos) << out;

  // Idempotence across an agent restart: a new Overlay finds the same device and entries.
  auto restarted = makeOverlay({Backend::kVxlan, "eth0", kLanMtu});
  ASSERT_TRUE(restarted);
  int index = *a.netlink->linkIndex(kVxlanDevice);
  auto again = runInNetns(a.fd, [&] { return (*restarted)->setUp(NodeInfo{a.name, a.self.publicIp, a.self.podCidr, "", ""}); });
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, a.self);
  EXPECT_EQ(*a.netlink->linkIndex(kVxlanDevice), index) << "not re-created";
  EXPECT_TRUE(pingFrom(podPath(a), b.podIp));

  // The host's own namespace never sees any of it.
  EXPECT_NE(runProgram({"ip", "link", "show", "nk.1"}), 0);
}

TEST_P(OverlayIntegration, SingleStreamTcpThroughput) {
  if (!haveProgram("iperf3")) GTEST_SKIP() << "iperf3 is not installed (scripts/setup installs it)";
  Node& a = addNode(1);
  Node& b = addNode(2);
  ASSERT_FALSE(HasFailure());
  syncAll({&a, &b});
  auto gbits = iperf(a, b);
  ASSERT_TRUE(gbits) << "iperf3 did not run";
  std::printf("[ figure   ] %s pod-to-pod single-stream TCP: %.2f Gbit/s (pod MTU %u)\n",
              std::string(backendName(GetParam())).c_str(), *gbits, a.overlay->podMtu());
}

INSTANTIATE_TEST_SUITE_P(Backends, OverlayIntegration, ::testing::Values(Backend::kVxlan, Backend::kHostGw),
                         [](const auto& info) { return info.param == Backend::kVxlan ? "vxlan" : "hostgw"; });

}  // namespace
}  // namespace nanokube::net::overlay
