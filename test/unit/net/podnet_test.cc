#include "net/podnet.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "net/netlink_fake.h"

namespace nanokube::net {
namespace {

Ipv4Cidr cidr(const char* text) { return *Ipv4Cidr::parse(text); }
Ipv4 ipv4(const char* text) { return *Ipv4::parse(text); }

TEST(HostVethName, DeterministicShortAndDistinct) {
  EXPECT_EQ(hostVethName("7c0e9e4a-3b1f-4c55-9d2e-0f5b8c1d2e3f"), hostVethName("7c0e9e4a-3b1f-4c55-9d2e-0f5b8c1d2e3f"));
  // FNV-1a of "" is the offset basis; pinning it guards against the hash changing between
  // releases, which would orphan every veth across an upgrade.
  EXPECT_EQ(hostVethName(""), "veth811c9dc5");
  EXPECT_EQ(hostVethName("a"), "vethe40c292c");
  std::set<std::string> names;
  for (int i = 0; i < 1000; ++i) {
    std::string name = hostVethName("pod-uid-" + std::to_string(i));
    EXPECT_EQ(name.size(), 12u);
    EXPECT_LT(name.size(), 16u);  // IFNAMSIZ
    names.insert(name);
  }
  EXPECT_EQ(names.size(), 1000u);
}

TEST(PlanBridge, GatewayIsTheFirstHostAddress) {
  struct Case {
    const char* podCidr;
    unsigned mtu;
    const char* address;
    const char* mac;
  };
  for (const auto& c : {Case{"10.244.1.0/24", 1500, "10.244.1.1/24", "0a:58:0a:f4:01:01"},
                        Case{"10.244.255.0/24", 1450, "10.244.255.1/24", "0a:58:0a:f4:ff:01"}}) {
    auto plan = planBridge(NodeNetworkConfig{"nk0", c.mtu}, cidr(c.podCidr));
    EXPECT_EQ(plan.name, "nk0");
    EXPECT_EQ(plan.address.toString(), c.address);
    EXPECT_EQ(plan.mac, c.mac);
    EXPECT_EQ(plan.mtu, c.mtu);
  }
}

TEST(PlanPod, NamesAddressesRoutes) {
  auto plan = planPod(NodeNetworkConfig{"nk0", 1450}, cidr("10.244.3.0/24"), "uid-1", ipv4("10.244.3.7"));
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->hostVeth, hostVethName("uid-1"));
  EXPECT_EQ(plan->podInterface, "eth0");
  EXPECT_EQ(plan->bridge, "nk0");
  EXPECT_EQ(plan->address.toString(), "10.244.3.7/24");
  EXPECT_EQ(plan->defaultRoute.toString(), "default via 10.244.3.1 dev eth0");
  EXPECT_EQ(plan->mtu, 1450u);
}

TEST(PlanPod, RefusesAddressesThatAreNotPodAddresses) {
  for (const char* bad : {"10.244.3.0", "10.244.3.1", "10.244.3.255", "10.244.4.2"}) {
    auto plan = planPod(NodeNetworkConfig{}, cidr("10.244.3.0/24"), "uid", ipv4(bad));
    ASSERT_FALSE(plan) << bad;
    EXPECT_EQ(plan.error().code, Code::kInvalid);
  }
}

LinkInfo veth(const std::string& name, const std::string& alias = "") {
  LinkInfo link;
  link.name = name;
  link.kind = "veth";
  link.alias = alias;
  return link;
}

TEST(StaleVeths, OnlyOurVethsOfDeadPods) {
  LinkInfo bridge;
  bridge.name = "nk0";
  bridge.kind = "bridge";
  std::vector<LinkInfo> links = {
      bridge,
      veth(hostVethName("live"), "live"),
      veth(hostVethName("dead"), "dead"),
      veth(hostVethName("live-no-alias")),  // setup interrupted before the alias: judged by name
      veth(hostVethName("dead-no-alias")),
      veth("eth0"),          // the node's own uplink is not ours
      veth("vethXYZ12345"),  // not hex
  };
  auto stale = staleVeths(links, {"live", "live-no-alias"});
  std::ranges::sort(stale);
  std::vector<std::string> want = {hostVethName("dead"), hostVethName("dead-no-alias")};
  std::ranges::sort(want);
  EXPECT_EQ(stale, want);
}

// The applier against the fake kernel: -1 is the node's namespace, 10 and 11 two pods'.
class PodNetworkTest : public ::testing::Test {
 protected:
  static constexpr int kNode = -1;
  static constexpr int kPod1 = 10;
  static constexpr int kPod2 = 11;

  void SetUp() override {
    char tmpl[] = "/tmp/nk-podnet-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ipam_ = *IpamStore::open(dir_ / "ipam.json", cidr("10.244.1.0/24"));
    network_ = std::make_unique<PodNetwork>(node_, *ipam_, kernel_.opener(), NodeNetworkConfig{"nk0", 1450});
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> routes(int ns) {
    NetlinkFake netlink(kernel_, ns);
    std::vector<std::string> out;
    auto all = netlink.listRoutes();
    for (const auto& r : *all) out.push_back(r.toString());
    std::ranges::sort(out);
    return out;
  }

  std::filesystem::path dir_;
  FakeKernel kernel_;
  NetlinkFake node_{kernel_, kNode};
  std::unique_ptr<IpamStore> ipam_;
  std::unique_ptr<PodNetwork> network_;
};

TEST_F(PodNetworkTest, SetUpBuildsBridgeVethAddressAndRoute) {
  auto ip = network_->setUp("uid-1", kPod1);
  ASSERT_TRUE(ip) << ip.error().message;
  EXPECT_EQ(ip->toString(), "10.244.1.2");

  auto bridge = *node_.link("nk0");
  EXPECT_EQ(bridge.kind, "bridge");
  EXPECT_TRUE(bridge.up);
  EXPECT_EQ(bridge.mtu, 1450u);
  EXPECT_EQ(bridge.mac, "0a:58:0a:f4:01:01");
  auto host = *node_.link(hostVethName("uid-1"));
  EXPECT_EQ(host.masterIndex, bridge.index);
  EXPECT_TRUE(host.up);
  EXPECT_EQ(host.mtu, 1450u);
  EXPECT_EQ(host.alias, "uid-1");
  EXPECT_FALSE(*node_.exists("eth0"));

  NetlinkFake pod(kernel_, kPod1);
  auto eth0 = *pod.link("eth0");
  EXPECT_EQ(eth0.peerIndex, host.index);
  EXPECT_TRUE(eth0.up);
  EXPECT_EQ(eth0.mtu, 1450u);
  EXPECT_TRUE(pod.link("lo")->up);
  EXPECT_EQ(*pod.listAddresses(), (std::vector<AddressInfo>{{"eth0", cidr("10.244.1.2/24")}}));
  EXPECT_EQ(routes(kPod1), (std::vector<std::string>{"10.244.1.0/24 dev eth0", "default via 10.244.1.1 dev eth0"}));
  EXPECT_EQ(routes(kNode), (std::vector<std::string>{"10.244.1.0/24 dev nk0"}));
}

TEST_F(PodNetworkTest, SetUpTwiceConvergesToTheSameState) {
  ASSERT_TRUE(network_->setUp("uid-1", kPod1));
  auto linksBefore = *node_.listLinks();
  auto again = network_->setUp("uid-1", kPod1);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->toString(), "10.244.1.2");
  EXPECT_EQ(node_.listLinks()->size(), linksBefore.size());
  EXPECT_EQ(routes(kPod1).size(), 2u);
}

TEST_F(PodNetworkTest, InterruptedSetUpIsFinishedByTheNextCall) {
  kernel_.failNext("addRoute", EPERM);
  auto failed = network_->setUp("uid-1", kPod1);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "RTM_NEWROUTE default via 10.244.1.1 dev eth0: Operation not permitted (EPERM)");
  auto ip = network_->setUp("uid-1", kPod1);
  ASSERT_TRUE(ip) << ip.error().message;
  EXPECT_EQ(ip->toString(), "10.244.1.2");
  EXPECT_EQ(routes(kPod1), (std::vector<std::string>{"10.244.1.0/24 dev eth0", "default via 10.244.1.1 dev eth0"}));
}

TEST_F(PodNetworkTest, TwoPodsGetTwoAddresses) {
  EXPECT_EQ(network_->setUp("uid-1", kPod1)->toString(), "10.244.1.2");
  EXPECT_EQ(network_->setUp("uid-2", kPod2)->toString(), "10.244.1.3");
  NetlinkFake pod2(kernel_, kPod2);
  EXPECT_EQ(*pod2.listAddresses(), (std::vector<AddressInfo>{{"eth0", cidr("10.244.1.3/24")}}));
}

TEST_F(PodNetworkTest, VethOfAnotherNamespaceIsAConflict) {
  ASSERT_TRUE(network_->setUp("uid-1", kPod1));
  // Same UID, other namespace: the existing veth's peer is not this namespace's eth0.
  auto wrong = network_->setUp("uid-1", kPod2);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Code::kConflict);
}

TEST_F(PodNetworkTest, TearDownRemovesBothEndsAndFreesTheIp) {
  ASSERT_TRUE(network_->setUp("uid-1", kPod1));
  ASSERT_TRUE(network_->tearDown("uid-1"));
  EXPECT_FALSE(*node_.exists(hostVethName("uid-1")));
  EXPECT_FALSE(*NetlinkFake(kernel_, kPod1).exists("eth0"));
  EXPECT_FALSE(ipam_->lookup("uid-1"));
  EXPECT_TRUE(network_->tearDown("uid-1")) << "a second teardown is not an error";
  EXPECT_TRUE(network_->tearDown("never-set-up"));
}

TEST_F(PodNetworkTest, ReconcileAfterRestartRemovesWhatDeadPodsLeft) {
  ASSERT_TRUE(network_->setUp("uid-1", kPod1));
  ASSERT_TRUE(network_->setUp("uid-2", kPod2));
  // A new agent process: new IPAM from the same file, new PodNetwork, same kernel.
  auto ipam = *IpamStore::open(dir_ / "ipam.json", cidr("10.244.1.0/24"));
  PodNetwork restarted(node_, *ipam, kernel_.opener(), NodeNetworkConfig{"nk0", 1450});
  ASSERT_TRUE(restarted.reconcile({"uid-2"}));
  EXPECT_FALSE(*node_.exists(hostVethName("uid-1")));
  EXPECT_TRUE(*node_.exists(hostVethName("uid-2")));
  EXPECT_FALSE(ipam->lookup("uid-1"));
  EXPECT_EQ(ipam->lookup("uid-2")->toString(), "10.244.1.3");
  EXPECT_EQ(restarted.setUp("uid-2", kPod2)->toString(), "10.244.1.3");
}

TEST_F(PodNetworkTest, KernelErrorsComeBackAsValues) {
  kernel_.failNext("createVethPair", EEXIST);
  auto failed = network_->setUp("uid-1", kPod1);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Code::kAlreadyExists);
  EXPECT_EQ(failed.error().message,
            "RTM_NEWLINK " + hostVethName("uid-1") + " (veth peer eth0): File exists (EEXIST)");
}

}  // namespace
}  // namespace nanokube::net
