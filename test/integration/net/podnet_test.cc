// The pod network against the real kernel: a node namespace with nk0 and two pod namespaces,
// checked with real packets and read back through netlink and through iproute2.

#include "net/podnet.h"

#include <gtest/gtest.h>
#include <net/if.h>

#include <algorithm>
#include <thread>

#include "fixture.h"
#include "net/netlink.h"

namespace nanokube::net {
namespace {

using testing::pingFrom;
using testing::runProgram;
using testing::ScratchNamespaces;

constexpr unsigned kMtu = 1450;

std::vector<std::string> routeStrings(Netlink& netlink) {
  auto routes = netlink.listRoutes();
  EXPECT_TRUE(routes) << routes.error().message;
  std::vector<std::string> out;
  if (routes) {
    for (const auto& r : *routes) out.push_back(r.toString());
  }
  std::ranges::sort(out);
  return out;
}

// `ip -j` run inside the namespace: an independent reading of what netlink reports.
Json ipJson(const std::filesystem::path& netns, std::vector<std::string> args) {
  std::vector<std::string> argv = {"nsenter", "--net=" + netns.string(), "ip", "-j"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  EXPECT_EQ(runProgram(argv, &out), 0);
  return Json::parse(out, nullptr, false);
}

class PodNetworkIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.dir().empty());
    ASSERT_GE(scratch_.create("node"), 0);
    ASSERT_GE(scratch_.create("pod1"), 0);
    ASSERT_GE(scratch_.create("pod2"), 0);
    auto node = openNetlink(scratch_.fd("node"));
    ASSERT_TRUE(node) << node.error().message;
    node_ = std::move(*node);
    openIpam();
  }

  // Opens IPAM and the pod network afresh from the state file, as a restarted agent does.
  void openIpam() {
    network_.reset();
    auto ipam = IpamStore::open(scratch_.dir() / "ipam.json", *Ipv4Cidr::parse("10.244.1.0/24"));
    ASSERT_TRUE(ipam) << ipam.error().message;
    ipam_ = std::move(*ipam);
    network_ = std::make_unique<PodNetwork>(*node_, *ipam_, openNetlink, NodeNetworkConfig{"nk0", kMtu});
  }

  std::unique_ptr<Netlink> podNetlink(const std::string& pod) {
    auto netlink = openNetlink(scratch_.fd(pod));
    EXPECT_TRUE(netlink) << netlink.error().message;
    return netlink ? std::move(*netlink) : nullptr;
  }

  std::string setUp(const std::string& uid, const std::string& pod) {
    auto ip = network_->setUp(uid, scratch_.fd(pod));
    EXPECT_TRUE(ip) << ip.error().message;
    return ip ? ip->toString() : "";
  }

  // Declared first so that it is destroyed last, after every socket into its namespaces.
  ScratchNamespaces scratch_;
  std::unique_ptr<Netlink> node_;
  std::unique_ptr<IpamStore> ipam_;
  std::unique_ptr<PodNetwork> network_;
};

TEST_F(PodNetworkIntegration, PodsReachEachOtherAndTheGateway) {
  ASSERT_EQ(setUp("uid-1", "pod1"), "10.244.1.2");
  auto bridgeMacBefore = node_->link("nk0")->mac;
  ASSERT_EQ(setUp("uid-2", "pod2"), "10.244.1.3");

  EXPECT_TRUE(pingFrom(scratch_.path("pod1"), "10.244.1.3")) << "pod1 -> pod2";
  EXPECT_TRUE(pingFrom(scratch_.path("pod2"), "10.244.1.2")) << "pod2 -> pod1";
  EXPECT_TRUE(pingFrom(scratch_.path("pod1"), "10.244.1.1")) << "pod1 -> gateway";
  EXPECT_TRUE(pingFrom(scratch_.path("node"), "10.244.1.2")) << "node -> pod1";
  EXPECT_FALSE(pingFrom(scratch_.path("pod1"), "10.244.1.9")) << "a ping to nobody must fail";

  // The bridge keeps the MAC it was given as ports come and go.
  EXPECT_EQ(node_->link("nk0")->mac, "0a:58:0a:f4:01:01");
  EXPECT_EQ(bridgeMacBefore, "0a:58:0a:f4:01:01");
}

TEST_F(PodNetworkIntegration, LinksAddressesRoutesAndMtuAreAsPlanned) {
  ASSERT_EQ(setUp("uid-1", "pod1"), "10.244.1.2");
  auto bridge = node_->link("nk0");
  ASSERT_TRUE(bridge) << bridge.error().message;
  EXPECT_EQ(bridge->kind, "bridge");
  EXPECT_TRUE(bridge->up);
  EXPECT_EQ(bridge->mtu, kMtu);
  auto host = node_->link(hostVethName("uid-1"));
  ASSERT_TRUE(host) << host.error().message;
  EXPECT_EQ(host->kind, "veth");
  EXPECT_EQ(host->masterIndex, bridge->index);
  EXPECT_EQ(host->mtu, kMtu);
  EXPECT_EQ(host->alias, "uid-1");
  EXPECT_TRUE(host->up);
  EXPECT_FALSE(*node_->exists("eth0")) << "the pod end never appears in the node namespace";

  auto pod = podNetlink("pod1");
  ASSERT_TRUE(pod);
  auto eth0 = pod->link("eth0");
  ASSERT_TRUE(eth0) << eth0.error().message;
  EXPECT_EQ(eth0->peerIndex, host->index);
  EXPECT_EQ(eth0->mtu, kMtu);
  EXPECT_TRUE(eth0->up);
  EXPECT_TRUE(pod->link("lo")->up);
  EXPECT_EQ(routeStrings(*pod), (std::vector<std::string>{"10.244.1.0/24 dev eth0", "default via 10.244.1.1 dev eth0"}));
  EXPECT_EQ(routeStrings(*node_), (std::vector<std::string>{"10.244.1.0/24 dev nk0"}));

  // The same facts as iproute2 reads them.
  Json addr = ipJson(scratch_.path("pod1"), {"addr", "show", "dev", "eth0"});
  ASSERT_TRUE(addr.is_array() && addr.size() == 1) << addr.dump();
  EXPECT_EQ(addr[0]["mtu"], kMtu);
  bool found = false;
  for (const auto& info : addr[0]["addr_info"]) {
    if (info["family"] == "inet") {
      EXPECT_EQ(info["local"], "10.244.1.2");
      EXPECT_EQ(info["prefixlen"], 24);
      found = true;
    }
  }
  EXPECT_TRUE(found) << addr.dump();
  Json route = ipJson(scratch_.path("pod1"), {"route", "show", "default"});
  ASSERT_TRUE(route.is_array() && route.size() == 1) << route.dump();
  EXPECT_EQ(route[0]["gateway"], "10.244.1.1");
  EXPECT_EQ(route[0]["dev"], "eth0");
}

TEST_F(PodNetworkIntegration, SetUpAgainIsIdempotent) {
  ASSERT_EQ(setUp("uid-1", "pod1"), "10.244.1.2");
  auto pod = podNetlink("pod1");
  ASSERT_TRUE(pod);
  auto nodeLinks = node_->listLinks()->size();
  auto podRoutes = routeStrings(*pod);
  auto podAddresses = *pod->listAddresses();

  ASSERT_EQ(setUp("uid-1", "pod1"), "10.244.1.2");
  openIpam();  // and once more after a restart
  ASSERT_EQ(setUp("uid-1", "pod1"), "10.244.1.2");
  EXPECT_EQ(node_->listLinks()->size(), nodeLinks);
  EXPECT_EQ(routeStrings(*pod), podRoutes);
  EXPECT_EQ(*pod->listAddresses(), podAddresses);
  EXPECT_TRUE(pingFrom(scratch_.path("pod1"), "10.244.1.1"));
}

TEST_F(PodNetworkIntegration, TearDownLeavesNoLinkAndFreesTheIp) {
  ASSERT_EQ(setUp("uid-1", "pod1"), "10.244.1.2");
  ASSERT_EQ(setUp("uid-2", "pod2"), "10.244.1.3");
  ASSERT_TRUE(network_->tearDown("uid-1"));
  EXPECT_FALSE(*node_->exists(hostVethName("uid-1")));
  auto pod = podNetlink("pod1");
  ASSERT_TRUE(pod);
  EXPECT_FALSE(*pod->exists("eth0"));
  EXPECT_FALSE(ipam_->lookup("uid-1"));
  EXPECT_FALSE(pingFrom(scratch_.path("pod2"), "10.244.1.2"));
  EXPECT_TRUE(pingFrom(scratch_.path("pod2"), "10.244.1.1")) << "the other pod is untouched";

  auto again = network_->tearDown("uid-1");
  EXPECT_TRUE(again) << again.error().message;

  // The freed IP stays free across a restart, and is handed out last.
  openIpam();
  EXPECT_FALSE(ipam_->lookup("uid-1"));
  EXPECT_EQ(ipam_->lookup("uid-2")->toString(), "10.244.1.3");
}

TEST_F(PodNetworkIntegration, ReconcileRemovesWhatDeadPodsLeft) {
  ASSERT_EQ(setUp("uid-1", "pod1"), "10.244.1.2");
  ASSERT_EQ(setUp("uid-2", "pod2"), "10.244.1.3");
  openIpam();
  ASSERT_TRUE(network_->reconcile({"uid-2"}));
  EXPECT_FALSE(*node_->exists(hostVethName("uid-1")));
  EXPECT_TRUE(*node_->exists(hostVethName("uid-2")));
  EXPECT_FALSE(ipam_->lookup("uid-1"));
  EXPECT_TRUE(pingFrom(scratch_.path("pod2"), "10.244.1.1"));
}

TEST_F(PodNetworkIntegration, ConcurrentSetUpsOnAFreshNode) {
  // Pod workers run in parallel; the first two even race to create the bridge.
  Result<Ipv4> ip1, ip2;
  std::thread t1([&] { ip1 = network_->setUp("uid-1", scratch_.fd("pod1")); });
  std::thread t2([&] { ip2 = network_->setUp("uid-2", scratch_.fd("pod2")); });
  t1.join();
  t2.join();
  ASSERT_TRUE(ip1) << ip1.error().message;
  ASSERT_TRUE(ip2) << ip2.error().message;
  EXPECT_NE(*ip1, *ip2);
  EXPECT_TRUE(pingFrom(scratch_.path("pod1"), ip2->toString()));
}

TEST_F(PodNetworkIntegration, KernelErrorsNameRequestObjectAndErrno) {
  ASSERT_EQ(setUp("uid-1", "pod1"), "10.244.1.2");
  Route route{Ipv4Cidr::parse("10.244.9.0/24"), Ipv4::parse("10.244.1.2"), "nk0"};
  ASSERT_TRUE(node_->addRoute(route));
  auto twice = node_->addRoute(route);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, Code::kAlreadyExists);
  EXPECT_EQ(twice.error().message, "RTM_NEWROUTE 10.244.9.0/24 via 10.244.1.2 dev nk0: File exists (EEXIST)");

  auto unreachable = node_->addRoute(Route{Ipv4Cidr::parse("10.244.8.0/24"), Ipv4::parse("192.168.250.3"), ""});
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().message, "RTM_NEWROUTE 10.244.8.0/24 via 192.168.250.3: Network is unreachable (ENETUNREACH)");

  auto missing = node_->deleteLink("nosuchlink");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  EXPECT_EQ(missing.error().message, "RTM_DELLINK nosuchlink: No such device (ENODEV)");

  auto clash = node_->ensureBridge(hostVethName("uid-1"), kMtu, "");
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code, Code::kConflict);
}

TEST_F(PodNetworkIntegration, NothingReachesTheHostNamespace) {
  ASSERT_EQ(setUp("uid-1", "pod1"), "10.244.1.2");
  // The test's own thread is in the host's namespace: none of our names may show there.
  EXPECT_EQ(if_nametoindex(hostVethName("uid-1").c_str()), 0u);
  auto host = openNetlink(-1);
  ASSERT_TRUE(host);
  auto routes = (*host)->listRoutes();
  ASSERT_TRUE(routes);
  for (const auto& r : *routes) {
    EXPECT_FALSE(r.dst && r.dst->prefix >= 16 && Ipv4Cidr::parse("10.244.0.0/16")->contains(r.dst->address))
        << "host route to a pod CIDR: " << r.toString();
  }
}

}  // namespace
}  // namespace nanokube::net
