// Node pod CIDRs through the registry over a real SQLite store: allocated on
// create, unique, kept on update, freed on delete, rebuilt after a restart;
// the CidrAllocator on its own.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>

#include "apiserver/allocator.h"
#include "apiserver/registry.h"
#include "store/store.h"

namespace nanokube::apiserver {
namespace {

const api::ResourceInfo& nodes() { return *api::findResource("", "v1", "nodes"); }

Json node(const std::string& name, const std::string& podCidr = {}) {
  Json n = {{"metadata", {{"name", name}}}};
  if (!podCidr.empty()) n["spec"]["podCIDR"] = podCidr;
  return n;
}

class PodCidrTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nk-podcidr-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    open();
  }
  void TearDown() override {
    registry_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    registry_.reset();
    store_.reset();
    auto store = store::openSqliteStore(dir_ + "/store.db");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    auto registry = Registry::create(*store_, {}, systemNow);
    ASSERT_TRUE(registry) << registry.error().message;
    registry_ = std::move(*registry);
  }
  std::string create(Json n) {
    auto w = registry_->create(nodes(), "", std::move(n), {});
    EXPECT_TRUE(w) << w.error().message;
    if (!w) return {};
    EXPECT_EQ(w->object["spec"]["podCIDRs"], Json::array({w->object["spec"]["podCIDR"]}));
    return w->object["spec"].value("podCIDR", "");
  }
  std::string stored(const std::string& name) {
    auto got = registry_->get(nodes(), "", name);
    EXPECT_TRUE(got) << got.error().message;
    return got ? (*got)["spec"].value("podCIDR", "") : "";
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(PodCidrTest, EachNodeGetsItsOwnSlash24OfTheClusterCidr) {
  std::set<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    std::string cidr = create(node("n" + std::to_string(i)));
    EXPECT_EQ(cidr, "10.244." + std::to_string(i) + ".0/24");
    EXPECT_TRUE(seen.insert(cidr).second) << cidr;
    EXPECT_EQ(stored("n" + std::to_string(i)), cidr);
  }
}

TEST_F(PodCidrTest, RequestedCidrIsHonouredWhenFreeElseInvalid) {
  EXPECT_EQ(create(node("a", "10.244.7.0/24")), "10.244.7.0/24");
  auto taken = registry_->create(nodes(), "", node("b", "10.244.7.0/24"), {});
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, Code::kInvalid);
  EXPECT_EQ(taken.error().message,
            "Node \"b\" is invalid: spec.podCIDR: Invalid value: \"10.244.7.0/24\": 10.244.7.0/24 is already "
            "allocated to node \"a\"");
  auto outside = registry_->create(nodes(), "", node("c", "10.10.0.0/24"), {});
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code, Code::kInvalid);
  EXPECT_EQ(outside.error().message,
            "Node \"c\" is invalid: spec.podCIDR: Invalid value: \"10.10.0.0/24\": 10.10.0.0/24 is not inside the "
            "cluster CIDR 10.244.0.0/16");
  auto garbage = registry_->create(nodes(), "", node("d", "ten"), {});
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code, Code::kInvalid);
  // Nothing leaked: the refused nodes do not exist and the next one gets a fresh subnet.
  EXPECT_EQ(create(node("e")), "10.244.0.0/24");
  EXPECT_EQ(create(node("f")), "10.244.1.0/24");
}

TEST_F(PodCidrTest, ACreateThatFailsGivesItsSubnetBack) {
  std::string a = create(node("a"));
  // Same name again: AlreadyExists, and the existing node keeps its subnet.
  auto again = registry_->create(nodes(), "", node("a", a), {});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::kAlreadyExists);
  auto other = registry_->create(nodes(), "", node("x", a), {});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Code::kInvalid);
  // A dry run shows a subnet but keeps none.
  WriteOptions dry;
  dry.dryRun = true;
  auto d = registry_->create(nodes(), "", node("b"), dry);
  ASSERT_TRUE(d);
  std::string shown = d->object["spec"]["podCIDR"];
  EXPECT_NE(shown, a);
  EXPECT_EQ(create(node("b", shown)), shown);
}

TEST_F(PodCidrTest, UpdateKeepsThePodCidrAndRefusesAChange) {
  std::string a = create(node("a"));
  auto kept = registry_->update(nodes(), "", "a", Json{{"metadata", {{"name", "a"}, {"labels", {{"x", "y"}}}}}}, {});
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(kept->object["spec"]["podCIDR"], a);
  EXPECT_EQ(stored("a"), a);
  auto changed = registry_->patch(nodes(), "", "a", PatchType::kMerge,
                                  Json{{"spec", {{"podCIDR", "10.244.9.0/24"}, {"podCIDRs", {"10.244.9.0/24"}}}}}, {});
  ASSERT_FALSE(changed);
  EXPECT_EQ(changed.error().code, Code::kInvalid);
  EXPECT_EQ(changed.error().message,
            "Node \"a\" is invalid: spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" "
            "to valid");
  EXPECT_EQ(stored("a"), a);
}

TEST_F(PodCidrTest, DeleteFreesTheSubnet) {
  std::string a = create(node("a"));
  create(node("b"));
  ASSERT_TRUE(registry_->remove(nodes(), "", "a", {}));
  // The freed subnet can be asked for again at once.
  EXPECT_EQ(create(node("c", a)), a);
}

TEST_F(PodCidrTest, RestartRebuildsTheAllocationsFromTheStoredNodes) {
  std::set<std::string> before = {create(node("a")), create(node("b")), create(node("c", "10.244.3.0/24"))};
  open();
  for (const char* n : {"a", "b", "c"}) EXPECT_TRUE(before.count(stored(n))) << n;
  std::set<std::string> all = before;
  for (int i = 0; i < 3; ++i) {
    std::string cidr = create(node("new" + std::to_string(i)));
    EXPECT_TRUE(all.insert(cidr).second) << cidr << " handed out twice";
  }
  auto taken = registry_->create(nodes(), "", node("d", "10.244.3.0/24"), {});
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, Code::kInvalid);
}

TEST(CidrAllocator, HandsOutEverySubnetOnceThenRunsOut) {
  auto cluster = parseCidr("10.244.0.0/22");
  ASSERT_TRUE(cluster);
  CidrAllocator alloc(*cluster, 24);
  std::set<std::string> got;
  for (int i = 0; i < 4; ++i) {
    auto c = alloc.allocateNext("n" + std::to_string(i));
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_TRUE(got.insert(*c).second);
  }
  auto full = alloc.allocateNext("n4");
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, Code::kUnavailable);
  // Releasing needs the owner.
  alloc.release("10.244.1.0/24", "someone-else");
  EXPECT_TRUE(alloc.isAllocated("10.244.1.0/24"));
  alloc.release("10.244.1.0/24", "n1");
  EXPECT_FALSE(alloc.isAllocated("10.244.1.0/24"));
  EXPECT_EQ(*alloc.allocateNext("n5"), "10.244.1.0/24");
}

TEST(CidrAllocator, LargerRequestsCoverSeveralSubnets) {
  CidrAllocator alloc(*parseCidr("10.244.0.0/16"), 24);
  ASSERT_TRUE(alloc.occupy("10.244.4.0/23", "big"));
  EXPECT_TRUE(alloc.isAllocated("10.244.5.0/24"));
  EXPECT_FALSE(alloc.occupy("10.244.5.0/24", "small"));
  EXPECT_FALSE(alloc.occupy("10.244.5.0/24", "big"));
  EXPECT_FALSE(alloc.occupy("10.244.5.1/24", "x"));  // host bits set
  EXPECT_TRUE(alloc.occupy("10.244.6.128/25", "half"));
  EXPECT_TRUE(alloc.isAllocated("10.244.6.0/24"));
}

}  // namespace
}  // namespace nanokube::apiserver
