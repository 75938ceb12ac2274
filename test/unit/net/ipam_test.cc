#include "net/ipam.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace nanokube::net {
namespace {

Ipv4Cidr cidr(const char* text) { return *Ipv4Cidr::parse(text); }
std::string ip(const Result<Ipv4>& r) { return r ? r->toString() : "error: " + r.error().message; }

TEST(Ipam, RejectsBadSubnets) {
  struct Case {
    const char* cidr;
    bool ok;
  };
  for (auto [text, ok] : {Case{"10.244.1.0/24", true}, Case{"10.244.0.0/16", true}, Case{"10.244.1.0/30", true},
                          Case{"10.244.1.0/31", false}, Case{"10.244.1.0/32", false}, Case{"10.244.1.1/24", false},
                          Case{"10.0.0.0/7", false}}) {
    EXPECT_EQ(Ipam::create(cidr(text)).has_value(), ok) << text;
  }
}

TEST(Ipam, AllocationSequences) {
  // Each step is "+uid" (allocate, expecting the IP) or "-uid" (release).
  struct Step {
    std::string op;
    std::string want;
  };
  struct Case {
    const char* name;
    const char* cidr;
    std::vector<Step> steps;
  };
  std::vector<Case> cases = {
      {"first address after the gateway", "10.244.1.0/24", {{"+a", "10.244.1.2"}, {"+b", "10.244.1.3"}}},
      {"same uid, same ip", "10.244.1.0/24", {{"+a", "10.244.1.2"}, {"+b", "10.244.1.3"}, {"+a", "10.244.1.2"}}},
      {"freed ip is reused last", "10.244.1.0/24",
       {{"+a", "10.244.1.2"}, {"-a", ""}, {"+b", "10.244.1.3"}, {"+a", "10.244.1.4"}}},
      {"/30 has one pod address", "10.244.1.0/30", {{"+a", "10.244.1.2"}, {"+b", "error"}}},
      {"wraps around, skipping the broadcast and the gateway", "10.244.1.0/29",
       {{"+a", "10.244.1.2"}, {"+b", "10.244.1.3"}, {"+c", "10.244.1.4"}, {"+d", "10.244.1.5"},
        {"+e", "10.244.1.6"}, {"+f", "error"}, {"-b", ""}, {"+f", "10.244.1.3"}, {"+g", "error"}}},
      {"release of an unknown uid", "10.244.1.0/24", {{"-x", ""}, {"+a", "10.244.1.2"}}},
  };
  for (const auto& c : cases) {
    auto ipam = *Ipam::create(cidr(c.cidr));
    for (const auto& step : c.steps) {
      std::string uid = step.op.substr(1);
      if (step.op[0] == '-') {
        ipam.release(uid);
        continue;
      }
      std::string got = ip(ipam.allocate(uid));
      if (step.want == "error") {
        EXPECT_TRUE(got.starts_with("error: ")) << c.name << ": " << step.op << " got " << got;
      } else {
        EXPECT_EQ(got, step.want) << c.name << ": " << step.op;
      }
    }
  }
}

TEST(Ipam, FullSubnetSaysSo) {
  auto ipam = *Ipam::create(cidr("10.244.1.0/30"));
  ASSERT_TRUE(ipam.allocate("a"));
  auto full = ipam.allocate("b");
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, Code::kUnavailable);
  EXPECT_EQ(full.error().message, "podCIDR 10.244.1.0/30 has no free address for pod b");
}

TEST(Ipam, NeverHandsOutNetworkGatewayOrBroadcast) {
  auto ipam = *Ipam::create(cidr("10.244.7.0/24"));
  std::set<Ipv4> seen;
  for (int i = 0; i < 253; ++i) {
    auto got = ipam.allocate("pod-" + std::to_string(i));
    ASSERT_TRUE(got) << i;
    EXPECT_TRUE(seen.insert(*got).second) << got->toString() << " twice";
  }
  EXPECT_FALSE(ipam.allocate("one-too-many"));
  EXPECT_FALSE(seen.count(*Ipv4::parse("10.244.7.0")));
  EXPECT_FALSE(seen.count(*Ipv4::parse("10.244.7.1")));
  EXPECT_FALSE(seen.count(*Ipv4::parse("10.244.7.255")));
}

TEST(Ipam, ReconcileFreesTheDead) {
  auto ipam = *Ipam::create(cidr("10.244.1.0/24"));
  for (auto uid : {"a", "b", "c", "d"}) ASSERT_TRUE(ipam.allocate(uid));
  auto freed = ipam.reconcile({"b", "d", "never-allocated"});
  EXPECT_EQ(freed, (std::vector<std::string>{"a", "c"}));
  EXPECT_FALSE(ipam.lookup("a"));
  EXPECT_EQ(ipam.lookup("b")->toString(), "10.244.1.3");
  EXPECT_EQ(ipam.allocations().size(), 2u);
}

TEST(Ipam, SerializeParseRoundTrip) {
  auto ipam = *Ipam::create(cidr("10.244.1.0/24"));
  ASSERT_TRUE(ipam.allocate("a"));
  ASSERT_TRUE(ipam.allocate("b"));
  ipam.release("b");
  auto back = Ipam::parse(ipam.serialize(), cidr("10.244.1.0/24"));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->allocations(), ipam.allocations());
  // The round-robin position survives: b's freed address is not handed out next.
  EXPECT_EQ(ip(back->allocate("c")), "10.244.1.4");
}

TEST(Ipam, ParseRejectsBadState) {
  struct Case {
    const char* name;
    const char* text;
    Code code;
  };
  for (const auto& c : {
           Case{"not json", "{", Code::kInvalid},
           Case{"other subnet", R"({"podCIDR":"10.244.2.0/24","allocations":{}})", Code::kConflict},
           Case{"outside the subnet", R"({"podCIDR":"10.244.1.0/24","allocations":{"a":"10.244.2.5"}})", Code::kInvalid},
           Case{"the gateway", R"({"podCIDR":"10.244.1.0/24","allocations":{"a":"10.244.1.1"}})", Code::kInvalid},
           Case{"twice", R"({"podCIDR":"10.244.1.0/24","allocations":{"a":"10.244.1.5","b":"10.244.1.5"}})",
                Code::kInvalid},
       }) {
    auto parsed = Ipam::parse(c.text, cidr("10.244.1.0/24"));
    ASSERT_FALSE(parsed) << c.name;
    EXPECT_EQ(parsed.error().code, c.code) << c.name << ": " << parsed.error().message;
  }
}

class IpamStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nk-ipam-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(IpamStoreTest, RestartHandsOutNothingTwiceAndLeaksNothing) {
  auto path = dir_ / "ipam.json";
  {
    auto store = *IpamStore::open(path, cidr("10.244.1.0/24"));
    EXPECT_EQ(ip(store->allocate("a")), "10.244.1.2");
    EXPECT_EQ(ip(store->allocate("b")), "10.244.1.3");
    EXPECT_EQ(ip(store->allocate("c")), "10.244.1.4");
    ASSERT_TRUE(store->release("b"));
  }
  auto store = *IpamStore::open(path, cidr("10.244.1.0/24"));
  EXPECT_EQ(ip(store->allocate("a")), "10.244.1.2");
  EXPECT_EQ(ip(store->allocate("d")), "10.244.1.5");
  auto freed = store->reconcile({"a", "d"});
  ASSERT_TRUE(freed);
  EXPECT_EQ(*freed, std::vector<std::string>{"c"});
  auto again = *IpamStore::open(path, cidr("10.244.1.0/24"));
  EXPECT_EQ(again->allocations().size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "ipam.json.tmp"));
}

TEST_F(IpamStoreTest, OtherSubnetIsAConflict) {
  auto path = dir_ / "ipam.json";
  ASSERT_TRUE((*IpamStore::open(path, cidr("10.244.1.0/24")))->allocate("a"));
  auto other = IpamStore::open(path, cidr("10.244.2.0/24"));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Code::kConflict);
}

TEST_F(IpamStoreTest, FailedWriteChangesNothing) {
  auto path = dir_ / "sub" / "ipam.json";  // the directory does not exist: every write fails
  auto store = *IpamStore::open(path, cidr("10.244.1.0/24"));
  auto got = store->allocate("a");
  ASSERT_FALSE(got);
  EXPECT_TRUE(got.error().message.starts_with("open " + path.string() + ".tmp: No such file or directory (ENOENT)"))
      << got.error().message;
  EXPECT_FALSE(store->lookup("a"));
  std::filesystem::create_directory(dir_ / "sub");
  EXPECT_EQ(ip(store->allocate("a")), "10.244.1.2");
}

}  // namespace
}  // namespace nanokube::net
