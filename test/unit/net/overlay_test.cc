// The overlay's pure parts (backend names, Node annotations, the vxlan and host-gw plans and
// their diffs) and the two backends applied over NetlinkFake.

#include <gtest/gtest.h>

#include <algorithm>

#include "net/netlink_fake.h"
#include "net/overlay/hostgw.h"
#include "net/overlay/overlay.h"
#include "net/overlay/plan.h"
#include "net/overlay/vxlan.h"

namespace nanokube::net::overlay {
namespace {

Ipv4Cidr cidr(const char* text) { return *Ipv4Cidr::parse(text); }
Ipv4 ipv4(const char* text) { return *Ipv4::parse(text); }

NodeInfo vxlanNode(int n) {
  std::string i = std::to_string(n);
  NodeInfo node{"node" + i, ipv4(("192.168.253." + std::to_string(n + 1)).c_str()),
                cidr(("10.244." + i + ".0/24").c_str()), "vxlan", ""};
  node.vtepMac = vtepMac(node.podCidr);
  return node;
}

NodeInfo hostGwNode(int n) {
  NodeInfo node = vxlanNode(n);
  node.backend = "host-gw";
  node.vtepMac.clear();
  return node;
}

template <class T>
std::vector<std::string> strings(const std::vector<T>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.toString());
  return out;
}

const PlanInput kInput{cidr("10.244.0.0/16"), std::nullopt, "eth0"};

TEST(Backend, NamesRoundTrip) {
  for (Backend b : {Backend::kVxlan, Backend::kUdp, Backend::kHostGw}) {
    auto parsed = parseBackend(backendName(b));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(*parsed, b);
  }
  EXPECT_EQ(backendName(Backend::kHostGw), "host-gw");
}

TEST(Backend, UnknownNamesAreInvalidAndNameTheValidOnes) {
  for (const char* name : {"", "VXLAN", "hostgw", "host_gw", "wireguard", "vxlan "}) {
    auto parsed = parseBackend(name);
    ASSERT_FALSE(parsed) << name;
    EXPECT_EQ(parsed.error().code, Code::kInvalid);
    EXPECT_EQ(parsed.error().message,
              "overlay backend \"" + std::string(name) + "\" is not one of vxlan, udp, host-gw");
  }
}

TEST(VtepMac, DerivedFromThePodCidrLocallyAdministered) {
  EXPECT_EQ(vtepMac(cidr("10.244.1.0/24")), "0a:58:0a:f4:01:00");
  EXPECT_EQ(vtepMac(cidr("10.244.255.7/24")), "0a:58:0a:f4:ff:00");  // host bits ignored
  EXPECT_NE(vtepMac(cidr("10.244.1.0/24")), vtepMac(cidr("10.244.2.0/24")));
  // First octet 0x0a: bit 1 set (locally administered), bit 0 clear (unicast).
  EXPECT_EQ(0x0a & 0x03, 0x02);
}

TEST(NormalizeMac, LowerCasesAndRejectsMalformed) {
  EXPECT_EQ(normalizeMac("0A:58:0a:F4:01:00"), "0a:58:0a:f4:01:00");
  for (const char* bad : {"", "0a:58:0a:f4:01", "0a:58:0a:f4:01:00:00", "0a-58-0a-f4-01-00", "0g:58:0a:f4:01:00",
                          "0a:58:0a:f4:01:0"}) {
    EXPECT_FALSE(normalizeMac(bad)) << bad;
  }
}

Json nodeObject(const std::map<std::string, std::string>& annotations, const char* internalIp = "192.168.253.2",
                const char* podCidr = "10.244.1.0/24") {
  Json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "node1"}}}};
  if (!annotations.empty()) node["metadata"]["annotations"] = annotations;
  if (podCidr) node["spec"]["podCIDR"] = podCidr;
  node["status"]["addresses"] = Json::array({{{"type", "Hostname"}, {"address", "node1"}}});
  if (internalIp) node["status"]["addresses"].push_back({{"type", "InternalIP"}, {"address", internalIp}});
  return node;
}

TEST(Annotations, VxlanAsFlannelWritesThem) {
  NodeInfo self = vxlanNode(1);
  auto annotations = annotationsFor(Backend::kVxlan, self);
  EXPECT_EQ(annotations, (std::map<std::string, std::string>{
                             {"flannel.alpha.coreos.com/backend-type", "vxlan"},
                             {"flannel.alpha.coreos.com/backend-data", R"({"VNI":1,"VtepMAC":"0a:58:0a:f4:01:00"})"},
                             {"flannel.alpha.coreos.com/public-ip", "192.168.253.2"}}));
}

TEST(Annotations, RoundTripThroughNodeInfoOf) {
  for (Backend b : {Backend::kVxlan, Backend::kHostGw, Backend::kUdp}) {
    NodeInfo self = vxlanNode(1);
    self.backend = std::string(backendName(b));
    if (b != Backend::kVxlan) self.vtepMac.clear();
    auto info = nodeInfoOf(nodeObject(annotationsFor(b, self)));
    ASSERT_TRUE(info) << backendName(b);
    EXPECT_EQ(*info, self);
  }
  EXPECT_EQ(annotationsFor(Backend::kHostGw, hostGwNode(1)).at(kAnnotationBackendData), "null");
}

TEST(NodeInfoOf, PublicIpAnnotationWinsOverInternalIp) {
  NodeInfo self = hostGwNode(1);
  auto annotations = annotationsFor(Backend::kHostGw, self);
  annotations[kAnnotationPublicIp] = "192.168.253.99";
  auto info = nodeInfoOf(nodeObject(annotations, "192.168.253.2"));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->publicIp, ipv4("192.168.253.99"));
  // Without the annotation the InternalIP is the address.
  annotations.erase(kAnnotationPublicIp);
  info = nodeInfoOf(nodeObject(annotations, "192.168.253.2"));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->publicIp, ipv4("192.168.253.2"));
}

TEST(NodeInfoOf, UpperCaseMacAndPodCidrHostBitsAreNormalized) {
  auto annotations = annotationsFor(Backend::kVxlan, vxlanNode(1));
  annotations[kAnnotationBackendData] = R"({"VNI":1,"VtepMAC":"0A:58:0A:F4:01:00"})";
  auto info = nodeInfoOf(nodeObject(annotations, "192.168.253.2", "10.244.1.9/24"));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->vtepMac, "0a:58:0a:f4:01:00");
  EXPECT_EQ(info->podCidr.toString(), "10.244.1.0/24");
}

TEST(NodeInfoOf, IncompleteNodesAreNullopt) {
  auto annotations = annotationsFor(Backend::kVxlan, vxlanNode(1));
  EXPECT_FALSE(nodeInfoOf(nodeObject(annotations, "192.168.253.2", nullptr))) << "no podCIDR";
  EXPECT_FALSE(nodeInfoOf(nodeObject(annotations, "192.168.253.2", "banana"))) << "bad podCIDR";
  auto noPublicIp = annotations;
  noPublicIp.erase(kAnnotationPublicIp);
  EXPECT_FALSE(nodeInfoOf(nodeObject(noPublicIp, nullptr))) << "no address at all";
  EXPECT_FALSE(nodeInfoOf(nodeObject({}, "192.168.253.2"))) << "no annotations";
  auto noType = annotations;
  noType.erase(kAnnotationBackendType);
  EXPECT_FALSE(nodeInfoOf(nodeObject(noType))) << "no backend-type";
  for (const char* data : {"", "null", "{}", R"({"VNI":1})", R"({"VtepMAC":"zz"})", "not json"}) {
    auto bad = annotations;
    bad[kAnnotationBackendData] = data;
    EXPECT_FALSE(nodeInfoOf(nodeObject(bad))) << "vxlan backend-data " << data;
  }
  auto badIp = annotations;
  badIp[kAnnotationPublicIp] = "192.168.253";
  EXPECT_FALSE(nodeInfoOf(nodeObject(badIp))) << "bad public-ip";
  EXPECT_FALSE(nodeInfoOf(Json::array()));
  EXPECT_FALSE(nodeInfoOf(Json{{"metadata", "x"}}));
}

TEST(PlanVxlan, OneRouteNeighbourAndFdbEntryPerPeer) {
  auto plan = planVxlan(kInput, {vxlanNode(3), vxlanNode(2), vxlanNode(4)});
  EXPECT_EQ(strings(plan.routes), (std::vector<std::string>{"10.244.2.0/24 via 10.244.2.0 dev nk.1 onlink",
                                                            "10.244.3.0/24 via 10.244.3.0 dev nk.1 onlink",
                                                            "10.244.4.0/24 via 10.244.4.0 dev nk.1 onlink"}));
  EXPECT_EQ(strings(plan.neighbours), (std::vector<std::string>{"10.244.2.0 lladdr 0a:58:0a:f4:02:00 dev nk.1",
                                                                "10.244.3.0 lladdr 0a:58:0a:f4:03:00 dev nk.1",
                                                                "10.244.4.0 lladdr 0a:58:0a:f4:04:00 dev nk.1"}));
  EXPECT_EQ(strings(plan.fdb), (std::vector<std::string>{"0a:58:0a:f4:02:00 dev nk.1 dst 192.168.253.3",
                                                         "0a:58:0a:f4:03:00 dev nk.1 dst 192.168.253.4",
                                                         "0a:58:0a:f4:04:00 dev nk.1 dst 192.168.253.5"}));
  EXPECT_TRUE(plan.skipped.empty());
  EXPECT_TRUE(planVxlan(kInput, {}).routes.empty());
}

TEST(PlanVxlan, SkipsPeersItCannotServeWithTheReason) {
  PlanInput input = kInput;
  input.self = vxlanNode(1);
  NodeInfo other = hostGwNode(5);
  NodeInfo noMac = vxlanNode(6);
  noMac.vtepMac = "";
  NodeInfo outside = vxlanNode(7);
  outside.podCidr = cidr("10.99.7.0/24");
  NodeInfo sameCidr = vxlanNode(2);
  sameCidr.name = "node2b";
  sameCidr.publicIp = ipv4("192.168.253.50");
  NodeInfo selfCidr = vxlanNode(1);
  selfCidr.name = "impostor";
  NodeInfo noIp = vxlanNode(8);
  noIp.publicIp = Ipv4{};
  NodeInfo upper = vxlanNode(9);
  upper.vtepMac = "0A:58:0A:F4:09:00";
  auto plan = planVxlan(input, {vxlanNode(1), vxlanNode(2), other, noMac, outside, sameCidr, selfCidr, noIp, upper});
  EXPECT_EQ(strings(plan.routes), (std::vector<std::string>{"10.244.2.0/24 via 10.244.2.0 dev nk.1 onlink",
                                                            "10.244.9.0/24 via 10.244.9.0 dev nk.1 onlink"}));
  EXPECT_EQ(plan.fdb.back().mac, "0a:58:0a:f4:09:00");
  EXPECT_EQ(plan.skipped, (std::vector<SkippedPeer>{
                              {"impostor", "podCIDR 10.244.1.0/24 is this node's"},
                              {"node1", "is this node"},
                              {"node2b", "podCIDR 10.244.2.0/24 is node node2's"},
                              {"node5", "uses backend \"host-gw\", not \"vxlan\""},
                              {"node6", "has no VTEP MAC (\"\")"},
                              {"node7", "podCIDR 10.99.7.0/24 is outside the cluster CIDR 10.244.0.0/16"},
                              {"node8", "has no public IP"},
                          }));
}

TEST(PlanHostGw, OneRouteViaEachPeersLanAddress) {
  PlanInput input = kInput;
  input.self = hostGwNode(1);
  auto plan = planHostGw(input, {hostGwNode(3), hostGwNode(2), vxlanNode(4)});
  EXPECT_EQ(strings(plan.routes), (std::vector<std::string>{"10.244.2.0/24 via 192.168.253.3 dev eth0",
                                                            "10.244.3.0/24 via 192.168.253.4 dev eth0"}));
  EXPECT_EQ(plan.skipped, (std::vector<SkippedPeer>{{"node4", "uses backend \"vxlan\", not \"host-gw\""}}));
}

TEST(OwnsRoute, OnlyGatewayRoutesIntoTheClusterOnTheDevice) {
  Ipv4Cidr cluster = cidr("10.244.0.0/16");
  EXPECT_TRUE(ownsRoute({cidr("10.244.2.0/24"), ipv4("192.168.253.3"), "eth0"}, "eth0", cluster));
  EXPECT_FALSE(ownsRoute({cidr("10.244.2.0/24"), ipv4("192.168.253.3"), "eth1"}, "eth0", cluster));
  EXPECT_FALSE(ownsRoute({cidr("10.244.1.0/24"), std::nullopt, "eth0"}, "eth0", cluster)) << "connected";
  EXPECT_FALSE(ownsRoute({cidr("10.96.0.0/12"), ipv4("192.168.253.3"), "eth0"}, "eth0", cluster));
  EXPECT_FALSE(ownsRoute({cidr("10.0.0.0/8"), ipv4("192.168.253.3"), "eth0"}, "eth0", cluster)) << "wider";
  EXPECT_FALSE(ownsRoute({std::nullopt, ipv4("192.168.253.1"), "eth0"}, "eth0", cluster)) << "default";
}

TEST(Diff, DepartedPeerIsRemovedAndWrongEntriesReplaced) {
  auto before = planVxlan(kInput, {vxlanNode(2), vxlanNode(3), vxlanNode(4)});
  NodeInfo moved = vxlanNode(4);
  moved.publicIp = ipv4("192.168.253.77");
  auto after = planVxlan(kInput, {vxlanNode(2), moved});

  auto routes = diffRoutes(after.routes, before.routes);
  EXPECT_EQ(strings(routes.remove), (std::vector<std::string>{"10.244.3.0/24 via 10.244.3.0 dev nk.1 onlink"}));
  EXPECT_TRUE(routes.put.empty());
  auto neighbours = diffNeighbours(after.neighbours, before.neighbours);
  EXPECT_EQ(strings(neighbours.remove), (std::vector<std::string>{"10.244.3.0 lladdr 0a:58:0a:f4:03:00 dev nk.1"}));
  EXPECT_TRUE(neighbours.put.empty());
  auto fdb = diffFdb(after.fdb, before.fdb);
  EXPECT_EQ(strings(fdb.remove), (std::vector<std::string>{"0a:58:0a:f4:03:00 dev nk.1 dst 192.168.253.4",
                                                           "0a:58:0a:f4:04:00 dev nk.1 dst 192.168.253.5"}));
  EXPECT_EQ(strings(fdb.put), (std::vector<std::string>{"0a:58:0a:f4:04:00 dev nk.1 dst 192.168.253.77"}));

  // A route to the right destination through the wrong gateway is put (replaced), not removed.
  std::vector<Route> wrong = {{cidr("10.244.2.0/24"), ipv4("192.168.253.9"), "eth0"}};
  std::vector<Route> right = {{cidr("10.244.2.0/24"), ipv4("192.168.253.3"), "eth0"}};
  auto replaced = diffRoutes(right, wrong);
  EXPECT_TRUE(replaced.remove.empty());
  EXPECT_EQ(replaced.put, right);
  EXPECT_TRUE(diffRoutes(right, right).empty());
  EXPECT_TRUE(diffFdb(after.fdb, after.fdb).empty());
}

// A node namespace in the fake kernel with a LAN link eth0 at 192.168.253.2/24 and nk0.
class OverlayOverFake : public ::testing::Test {
 protected:
  void SetUp() override {
    NetlinkFake node(kernel_, -1);
    ASSERT_TRUE(node.createVethPair("eth0", "lan-port", 99, 1500));
    ASSERT_TRUE(node.addAddress("eth0", cidr("192.168.253.2/24")));
    ASSERT_TRUE(node.setUp("eth0"));
    ASSERT_TRUE(node.ensureBridge("nk0", 1450, ""));
    ASSERT_TRUE(node.addAddress("nk0", cidr("10.244.1.1/24")));
    ASSERT_TRUE(node.setUp("nk0"));
  }

  std::vector<std::string> routeStrings() {
    std::vector<std::string> out = strings(kernel_.ns(-1).routes);
    std::ranges::sort(out);
    return out;
  }

  FakeKernel kernel_;
  OverlayConfig config_{Backend::kVxlan, "eth0", 1500};
};

TEST_F(OverlayOverFake, VxlanSetUpCreatesTheDeviceAsFlannelDoes) {
  auto overlay = makeVxlanOverlay(config_, kernel_.opener());
  EXPECT_EQ(overlay->podMtu(), 1450u);
  auto self = overlay->setUp(vxlanNode(1) /* backend and MAC are filled in */);
  ASSERT_TRUE(self) << self.error().message;
  EXPECT_EQ(self->vtepMac, "0a:58:0a:f4:01:00");
  EXPECT_EQ(self->backend, "vxlan");
  const auto& links = kernel_.ns(-1).links;
  ASSERT_TRUE(links.count("nk.1"));
  const LinkInfo& dev = links.at("nk.1");
  EXPECT_EQ(dev.kind, "vxlan");
  EXPECT_EQ(dev.mtu, 1450u);
  EXPECT_EQ(dev.mac, "0a:58:0a:f4:01:00");
  EXPECT_TRUE(dev.up);
  ASSERT_TRUE(dev.vxlan);
  EXPECT_EQ(*dev.vxlan, (VxlanInfo{1, ipv4("192.168.253.2"), 8472, links.at("eth0").index, false}));
  EXPECT_NE(std::ranges::find(kernel_.ns(-1).addresses, AddressInfo{"nk.1", cidr("10.244.1.0/32")}),
            kernel_.ns(-1).addresses.end());

  // Again: nothing changes, nothing is re-created.
  size_t calls = kernel_.calls().size();
  ASSERT_TRUE(overlay->setUp(vxlanNode(1)));
  for (size_t i = calls; i < kernel_.calls().size(); ++i) {
    EXPECT_EQ(kernel_.calls()[i].find("createVxlan"), std::string::npos) << kernel_.calls()[i];
    EXPECT_EQ(kernel_.calls()[i].find("deleteLink"), std::string::npos) << kernel_.calls()[i];
  }
  EXPECT_EQ(kernel_.ns(-1).links.at("nk.1").index, dev.index);
}

TEST_F(OverlayOverFake, VxlanSetUpRecreatesADeviceWithOtherParameters) {
  NetlinkFake node(kernel_, -1);
  VxlanInfo stale{1, ipv4("192.168.253.200"), 8472, kernel_.ns(-1).links.at("eth0").index, true};
  ASSERT_TRUE(node.createVxlan("nk.1", stale, 1500, "02:00:00:00:00:01"));
  ASSERT_TRUE(node.addAddress("nk.1", cidr("10.244.7.0/32")));
  int oldIndex = kernel_.ns(-1).links.at("nk.1").index;
  auto overlay = makeVxlanOverlay(config_, kernel_.opener());
  ASSERT_TRUE(overlay->setUp(vxlanNode(1)));
  const LinkInfo& dev = kernel_.ns(-1).links.at("nk.1");
  EXPECT_NE(dev.index, oldIndex);
  EXPECT_EQ(dev.vxlan->local, ipv4("192.168.253.2"));
  EXPECT_FALSE(dev.vxlan->learning);

  // Only the MTU and an old address differ: changed in place, the address replaced.
  ASSERT_TRUE(node.setMtu("nk.1", 1500));
  ASSERT_TRUE(node.addAddress("nk.1", cidr("10.244.7.0/32")));
  int index = dev.index;
  ASSERT_TRUE(overlay->setUp(vxlanNode(1)));
  EXPECT_EQ(kernel_.ns(-1).links.at("nk.1").index, index);
  EXPECT_EQ(kernel_.ns(-1).links.at("nk.1").mtu, 1450u);
  std::vector<AddressInfo> onDevice;
  for (const auto& a : kernel_.ns(-1).addresses) {
    if (a.link == "nk.1") onDevice.push_back(a);
  }
  EXPECT_EQ(onDevice, (std::vector<AddressInfo>{{"nk.1", cidr("10.244.1.0/32")}}));
}

TEST_F(OverlayOverFake, VxlanSyncConvergesExactlyAndLeavesOthersAlone) {
  NetlinkFake node(kernel_, -1);
  // Routes that are not the overlay's: the default route, a service-CIDR route via the LAN.
  ASSERT_TRUE(node.addRoute({std::nullopt, ipv4("192.168.253.1"), "eth0"}));
  ASSERT_TRUE(node.addRoute({cidr("10.96.0.0/12"), ipv4("192.168.253.1"), "eth0"}));
  auto overlay = makeVxlanOverlay(config_, kernel_.opener());
  auto self = overlay->setUp(vxlanNode(1));
  ASSERT_TRUE(self);

  ASSERT_TRUE(overlay->sync({vxlanNode(2), vxlanNode(3), vxlanNode(4), hostGwNode(5)}));
  EXPECT_EQ(routeStrings(), (std::vector<std::string>{"10.244.2.0/24 via 10.244.2.0 dev nk.1 onlink",
                                                      "10.244.3.0/24 via 10.244.3.0 dev nk.1 onlink",
                                                      "10.244.4.0/24 via 10.244.4.0 dev nk.1 onlink",
                                                      "10.96.0.0/12 via 192.168.253.1 dev eth0",
                                                      "default via 192.168.253.1 dev eth0"}));
  EXPECT_EQ(kernel_.ns(-1).neighbours.size(), 3u);
  EXPECT_EQ(kernel_.ns(-1).fdb.size(), 3u);

  // The same peers again: no mutating call at all.
  size_t calls = kernel_.calls().size();
  ASSERT_TRUE(overlay->sync({vxlanNode(4), vxlanNode(3), vxlanNode(2)}));
  EXPECT_EQ(kernel_.calls().size(), calls);

  // node3 leaves, node4 moves to another LAN address, a stray entry appears on nk.1.
  ASSERT_TRUE(node.replaceNeighbour({"nk.1", ipv4("10.244.9.0"), "0a:58:0a:f4:09:00"}));
  NodeInfo moved = vxlanNode(4);
  moved.publicIp = ipv4("192.168.253.77");
  ASSERT_TRUE(overlay->sync({vxlanNode(2), moved}));
  EXPECT_EQ(routeStrings(), (std::vector<std::string>{"10.244.2.0/24 via 10.244.2.0 dev nk.1 onlink",
                                                      "10.244.4.0/24 via 10.244.4.0 dev nk.1 onlink",
                                                      "10.96.0.0/12 via 192.168.253.1 dev eth0",
                                                      "default via 192.168.253.1 dev eth0"}));
  EXPECT_EQ(strings(kernel_.ns(-1).neighbours),
            (std::vector<std::string>{"10.244.2.0 lladdr 0a:58:0a:f4:02:00 dev nk.1",
                                      "10.244.4.0 lladdr 0a:58:0a:f4:04:00 dev nk.1"}));
  auto fdb = strings(kernel_.ns(-1).fdb);
  std::ranges::sort(fdb);
  EXPECT_EQ(fdb, (std::vector<std::string>{"0a:58:0a:f4:02:00 dev nk.1 dst 192.168.253.3",
                                           "0a:58:0a:f4:04:00 dev nk.1 dst 192.168.253.77"}));

  // Everyone leaves; then teardown removes the device and with it everything on it.
  ASSERT_TRUE(overlay->sync({}));
  EXPECT_TRUE(kernel_.ns(-1).neighbours.empty());
  EXPECT_TRUE(kernel_.ns(-1).fdb.empty());
  ASSERT_TRUE(overlay->sync({vxlanNode(2)}));
  ASSERT_TRUE(overlay->tearDown());
  EXPECT_FALSE(kernel_.ns(-1).links.count("nk.1"));
  EXPECT_EQ(routeStrings(), (std::vector<std::string>{"10.96.0.0/12 via 192.168.253.1 dev eth0",
                                                      "default via 192.168.253.1 dev eth0"}));
  EXPECT_TRUE(overlay->tearDown()) << "idempotent";
}

TEST_F(OverlayOverFake, VxlanSyncKeepsGoingPastAFailureAndReportsIt) {
  auto overlay = makeVxlanOverlay(config_, kernel_.opener());
  ASSERT_TRUE(overlay->setUp(vxlanNode(1)));
  kernel_.failNext("replaceFdb", EPERM);
  auto synced = overlay->sync({vxlanNode(2), vxlanNode(3)});
  ASSERT_FALSE(synced);
  EXPECT_EQ(synced.error().message,
            "vxlan sync: RTM_NEWNEIGH fdb 0a:58:0a:f4:02:00 dev nk.1 dst 192.168.253.3 self permanent: "
            "Operation not permitted (EPERM)");
  EXPECT_EQ(kernel_.ns(-1).fdb.size(), 1u);
  EXPECT_EQ(kernel_.ns(-1).routes.size(), 2u);
  ASSERT_TRUE(overlay->sync({vxlanNode(2), vxlanNode(3)})) << "the retry converges";
  EXPECT_EQ(kernel_.ns(-1).fdb.size(), 2u);
}

TEST_F(OverlayOverFake, VxlanNeedsItsLanLinkAndAPodCidrInTheCluster) {
  auto overlay = makeVxlanOverlay({Backend::kVxlan, "eth9", 1500}, kernel_.opener());
  auto missing = overlay->setUp(vxlanNode(1));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  auto outside = makeVxlanOverlay(config_, kernel_.opener());
  NodeInfo self = vxlanNode(1);
  self.podCidr = cidr("10.99.1.0/24");
  auto refused = outside->setUp(self);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kInvalid);
  EXPECT_FALSE(outside->sync({vxlanNode(2)})) << "no nk.1 yet";
}

TEST_F(OverlayOverFake, HostGwRoutesViaPeersAndRemovesOnlyItsOwn) {
  config_.backend = Backend::kHostGw;
  NetlinkFake node(kernel_, -1);
  ASSERT_TRUE(node.addRoute({std::nullopt, ipv4("192.168.253.1"), "eth0"}));
  ASSERT_TRUE(node.addRoute({cidr("10.96.0.0/12"), ipv4("192.168.253.1"), "eth0"}));
  auto overlay = makeHostGwOverlay(config_, kernel_.opener());
  EXPECT_EQ(overlay->podMtu(), 1500u);
  auto self = overlay->setUp(hostGwNode(1));
  ASSERT_TRUE(self);
  EXPECT_EQ(self->backend, "host-gw");
  EXPECT_EQ(self->vtepMac, "");
  ASSERT_TRUE(overlay->sync({hostGwNode(2), hostGwNode(3), vxlanNode(4)}));
  EXPECT_EQ(routeStrings(), (std::vector<std::string>{"10.244.2.0/24 via 192.168.253.3 dev eth0",
                                                      "10.244.3.0/24 via 192.168.253.4 dev eth0",
                                                      "10.96.0.0/12 via 192.168.253.1 dev eth0",
                                                      "default via 192.168.253.1 dev eth0"}));
  NodeInfo moved = hostGwNode(3);
  moved.publicIp = ipv4("192.168.253.30");
  ASSERT_TRUE(overlay->sync({moved}));
  EXPECT_EQ(routeStrings(), (std::vector<std::string>{"10.244.3.0/24 via 192.168.253.30 dev eth0",
                                                      "10.96.0.0/12 via 192.168.253.1 dev eth0",
                                                      "default via 192.168.253.1 dev eth0"}));
  // A peer off the LAN: the kernel refuses its route, the others still converge.
  NodeInfo far = hostGwNode(4);
  far.publicIp = ipv4("172.16.0.4");
  auto synced = overlay->sync({hostGwNode(2), far});
  ASSERT_FALSE(synced);
  EXPECT_EQ(synced.error().message,
            "host-gw sync: RTM_NEWROUTE 10.244.4.0/24 via 172.16.0.4 dev eth0: Network is unreachable (ENETUNREACH)");
  EXPECT_EQ(routeStrings(), (std::vector<std::string>{"10.244.2.0/24 via 192.168.253.3 dev eth0",
                                                      "10.96.0.0/12 via 192.168.253.1 dev eth0",
                                                      "default via 192.168.253.1 dev eth0"}));
  ASSERT_TRUE(overlay->tearDown());
  EXPECT_EQ(routeStrings(), (std::vector<std::string>{"10.96.0.0/12 via 192.168.253.1 dev eth0",
                                                      "default via 192.168.253.1 dev eth0"}));
  EXPECT_TRUE(overlay->tearDown());
}

TEST(MakeOverlay, DispatchesAndChecksTheConfig) {
  for (auto [backend, mtu] : {std::pair{Backend::kVxlan, 1450u}, {Backend::kHostGw, 1500u}, {Backend::kUdp, 1472u}}) {
    auto overlay = makeOverlay({backend, "eth0", 1500});
    ASSERT_TRUE(overlay) << overlay.error().message;
    EXPECT_EQ((*overlay)->podMtu(), mtu) << backendName(backend);
  }
  auto small = makeOverlay({Backend::kVxlan, "eth0", 600});
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().message, "overlay vxlan: LAN MTU 600 leaves pods less than 576 bytes");
  EXPECT_FALSE(makeOverlay({Backend::kHostGw, "", 1500}));
}

}  // namespace
}  // namespace nanokube::net::overlay
