// The registry over a real SQLite store: deletion (graceful, finalizers, garbage
// collection), Service allocation, namespaces, bootstrap and watch, with
// Kubernetes' API server as the reference.

#include "apiserver/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "store/store.h"

namespace nanokube::apiserver {
namespace {

using ::testing::ElementsAre;

constexpr const char* kNow = "2026-01-02T03:04:05Z";

const api::ResourceInfo& res(const char* group, const char* plural) {
  const api::ResourceInfo* r = api::findResource(group, "v1", plural);
  if (r == nullptr) throw std::logic_error(std::string("resource not served: ") + plural);
  return *r;
}
const api::ResourceInfo& pods() { return res("", "pods"); }
const api::ResourceInfo& configMaps() { return res("", "configmaps"); }
const api::ResourceInfo& services() { return res("", "services"); }
const api::ResourceInfo& namespaces() { return res("", "namespaces"); }
const api::ResourceInfo& rcs() { return res("", "replicationcontrollers"); }

Json pod(const std::string& name, Json labels = Json::object()) {
  return {{"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "nginx"}}})}}}};
}

Json configMap(const std::string& name, Json labels = Json::object()) {
  return {{"metadata", {{"name", name}, {"labels", labels}}}, {"data", {{"k", "v"}}}};
}

Json service(const std::string& name, const std::string& type = "ClusterIP", int nodePort = 0,
             const std::string& clusterIP = {}) {
  Json port = {{"port", 80}, {"protocol", "TCP"}, {"targetPort", 8080}};
  if (nodePort != 0) port["nodePort"] = nodePort;
  Json svc = {{"metadata", {{"name", name}}},
              {"spec", {{"type", type}, {"selector", {{"app", name}}}, {"ports", Json::array({port})}}}};
  if (!clusterIP.empty()) svc["spec"]["clusterIP"] = clusterIP;
  return svc;
}

Json ownerRef(const Json& owner) {
  return {{"apiVersion", owner["apiVersion"]},
          {"kind", owner["kind"]},
          {"name", owner["metadata"]["name"]},
          {"uid", owner["metadata"]["uid"]},
          {"controller", true}};
}

// "10.96.0.0/12" holds 10.96.0.0 to 10.111.255.255.
bool inServiceCidr(const std::string& ip) {
  unsigned a, b, c, d;
  if (std::sscanf(ip.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) != 4) return false;
  return a == 10 && b >= 96 && b <= 111 && c <= 255 && d <= 255;
}

// Option builders: designated initializers would leave the other members to
// -Wmissing-field-initializers.
ListOptions fromRevision(std::string rv) {
  ListOptions o;
  o.resourceVersion = std::move(rv);
  return o;
}
ListOptions withLabels(const char* selector) {
  ListOptions o;
  auto sel = api::parseLabelSelector(selector);
  EXPECT_TRUE(sel) << selector;
  if (sel) o.labels = *sel;
  return o;
}
DeleteOptions gracePeriod(int64_t seconds) {
  DeleteOptions o;
  o.gracePeriodSeconds = seconds;
  return o;
}
DeleteOptions propagation(std::string policy) {
  DeleteOptions o;
  o.propagationPolicy = std::move(policy);
  return o;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nk-registry-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto store = store::openSqliteStore(dir_ + "/store.db");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    now_ = *parseRfc3339(kNow);
    registry_ = newRegistry();
    ASSERT_TRUE(registry_);
    auto boot = registry_->bootstrap();
    ASSERT_TRUE(boot) << boot.error().message;
  }

  void TearDown() override {
    registry_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Registry> newRegistry() {
    TimePoint now = now_;
    auto registry = Registry::create(*store_, {}, [now] { return now; });
    EXPECT_TRUE(registry) << registry.error().message;
    return registry ? std::move(*registry) : nullptr;
  }

  Json mustCreate(const api::ResourceInfo& r, const std::string& ns, Json obj) {
    auto w = registry_->create(r, ns, std::move(obj), {});
    EXPECT_TRUE(w) << w.error().message;
    return w ? w->object : Json();
  }

  bool exists(const api::ResourceInfo& r, const std::string& ns, const std::string& name) {
    auto got = registry_->get(r, ns, name);
    if (!got) {
      EXPECT_EQ(got.error().code, Code::kNotFound) << got.error().message;
    }
    return got.has_value();
  }

  std::string dir_;
  TimePoint now_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Registry> registry_;
};

// ---- bootstrap ----

TEST_F(RegistryTest, BootstrapCreatesTheSystemNamespacesAndTheKubernetesService) {
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    auto got = registry_->get(namespaces(), "", ns);
    ASSERT_TRUE(got) << ns;
    EXPECT_EQ((*got)["status"]["phase"], "Active") << ns;
  }
  auto svc = registry_->get(services(), "default", "kubernetes");
  ASSERT_TRUE(svc);
  EXPECT_EQ((*svc)["spec"]["type"], "ClusterIP");
  EXPECT_EQ((*svc)["spec"]["clusterIP"], "10.96.0.1");
  EXPECT_EQ((*svc)["spec"]["clusterIPs"], (Json{"10.96.0.1"}));
  EXPECT_EQ((*svc)["spec"]["ports"][0]["port"], 443);
  EXPECT_EQ((*svc)["spec"]["ports"][0]["name"], "https");
  auto ep = registry_->get(res("", "endpoints"), "default", "kubernetes");
  ASSERT_TRUE(ep);
  EXPECT_EQ((*ep)["subsets"][0]["addresses"][0]["ip"], "127.0.0.1");
  EXPECT_EQ((*ep)["subsets"][0]["ports"][0]["port"], 6443);
}

TEST_F(RegistryTest, BootstrapIsIdempotentAcrossRestarts) {
  int64_t rev = store_->revision();
  ASSERT_TRUE(registry_->bootstrap());
  EXPECT_EQ(store_->revision(), rev);
  registry_ = newRegistry();
  ASSERT_TRUE(registry_->bootstrap());
  EXPECT_EQ(store_->revision(), rev);
  // 10.96.0.1 is still taken after the restart.
  auto taken = registry_->create(services(), "default", service("other", "ClusterIP", 0, "10.96.0.1"), {});
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, Code::kInvalid);
}

// ---- delete ----

TEST_F(RegistryTest, UnscheduledPodIsDeletedAtOnce) {
  mustCreate(pods(), "default", pod("p1"));
  auto gone = registry_->remove(pods(), "default", "p1", {});
  ASSERT_TRUE(gone) << gone.error().message;
  EXPECT_EQ((*gone)["metadata"]["name"], "p1");
  EXPECT_EQ((*gone)["metadata"]["resourceVersion"], std::to_string(store_->revision()));
  EXPECT_FALSE(exists(pods(), "default", "p1"));
}

TEST_F(RegistryTest, ScheduledPodIsMarkedAndStaysUntilGracePeriodZero) {
  Json p = pod("p1");
  p["spec"]["nodeName"] = "node-a";
  mustCreate(pods(), "default", p);

  auto marked = registry_->remove(pods(), "default", "p1", {});
  ASSERT_TRUE(marked) << marked.error().message;
  // terminationGracePeriodSeconds defaults to 30.
  EXPECT_EQ((*marked)["metadata"]["deletionTimestamp"], "2026-01-02T03:04:35Z");
  EXPECT_EQ((*marked)["metadata"]["deletionGracePeriodSeconds"], 30);
  auto stored = registry_->get(pods(), "default", "p1");
  ASSERT_TRUE(stored);
  EXPECT_EQ((*stored)["metadata"]["deletionTimestamp"], "2026-01-02T03:04:35Z");

  // A second delete with a shorter grace period shortens it.
  auto shorter = registry_->remove(pods(), "default", "p1", gracePeriod(5));
  ASSERT_TRUE(shorter) << shorter.error().message;
  EXPECT_EQ((*shorter)["metadata"]["deletionGracePeriodSeconds"], 5);
  EXPECT_EQ((*shorter)["metadata"]["deletionTimestamp"], "2026-01-02T03:04:10Z");
  EXPECT_TRUE(exists(pods(), "default", "p1"));

  // What the node agent sends once the containers stopped.
  auto gone = registry_->remove(pods(), "default", "p1", gracePeriod(0));
  ASSERT_TRUE(gone) << gone.error().message;
  EXPECT_FALSE(exists(pods(), "default", "p1"));
}

TEST_F(RegistryTest, TerminatedScheduledPodIsDeletedAtOnce) {
  Json p = pod("p1");
  p["spec"]["nodeName"] = "node-a";
  Json created = mustCreate(pods(), "default", p);
  created["status"]["phase"] = "Succeeded";
  ASSERT_TRUE(registry_->update(pods(), "default", "p1", created, {}, "status"));
  ASSERT_TRUE(registry_->remove(pods(), "default", "p1", {}));
  EXPECT_FALSE(exists(pods(), "default", "p1"));
}

TEST_F(RegistryTest, FinalizersKeepAnObjectUntilRemoved) {
  Json cm = configMap("keep");
  cm["metadata"]["finalizers"] = Json{"example.com/keep"};
  mustCreate(configMaps(), "default", cm);

  auto marked = registry_->remove(configMaps(), "default", "keep", {});
  ASSERT_TRUE(marked) << marked.error().message;
  EXPECT_EQ((*marked)["metadata"]["deletionTimestamp"], kNow);
  EXPECT_EQ((*marked)["metadata"]["deletionGracePeriodSeconds"], 0);
  auto stored = registry_->get(configMaps(), "default", "keep");
  ASSERT_TRUE(stored);
  EXPECT_EQ((*stored)["metadata"]["deletionTimestamp"], kNow);

  // Other updates leave it in place, deletionTimestamp included.
  Json edit = *stored;
  edit["data"]["k"] = "w";
  edit["metadata"].erase("deletionTimestamp");  // clients cannot clear it
  auto edited = registry_->update(configMaps(), "default", "keep", edit, {});
  ASSERT_TRUE(edited) << edited.error().message;
  EXPECT_EQ(edited->object["metadata"]["deletionTimestamp"], kNow);
  EXPECT_TRUE(exists(configMaps(), "default", "keep"));

  // Removing the last finalizer completes the deletion.
  Json done = edited->object;
  done["metadata"].erase("finalizers");
  auto finished = registry_->update(configMaps(), "default", "keep", done, {});
  ASSERT_TRUE(finished) << finished.error().message;
  EXPECT_FALSE(exists(configMaps(), "default", "keep"));
}

TEST_F(RegistryTest, FinalizerRemovedByPatchCompletesDeletion) {
  Json cm = configMap("keep");
  cm["metadata"]["finalizers"] = Json{"a.example.com/x", "b.example.com/y"};
  mustCreate(configMaps(), "default", cm);
  ASSERT_TRUE(registry_->remove(configMaps(), "default", "keep", {}));
  auto one = registry_->patch(configMaps(), "default", "keep", PatchType::kMerge,
                              Json{{"metadata", {{"finalizers", Json{"b.example.com/y"}}}}}, {});
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_TRUE(exists(configMaps(), "default", "keep"));
  auto none = registry_->patch(configMaps(), "default", "keep", PatchType::kJson,
                               Json::array({{{"op", "remove"}, {"path", "/metadata/finalizers"}}}), {});
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(exists(configMaps(), "default", "keep"));
}

TEST_F(RegistryTest, NoNewFinalizersWhileDeleting) {
  Json cm = configMap("keep");
  cm["metadata"]["finalizers"] = Json{"a.example.com/x"};
  mustCreate(configMaps(), "default", cm);
  auto marked = registry_->remove(configMaps(), "default", "keep", {});
  ASSERT_TRUE(marked) << marked.error().message;
  Json more = *marked;
  more["metadata"]["finalizers"] = Json{"a.example.com/x", "b.example.com/y"};
  auto r = registry_->update(configMaps(), "default", "keep", more, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalid);
  // ValidateNoNewFinalizers in apimachinery's api/validation/objectmeta.go.
  EXPECT_EQ(r.error().message,
            "ConfigMap \"keep\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the "
            "object is being deleted, found new finalizers []string{\"b.example.com/y\"}");
}

TEST_F(RegistryTest, UnscheduledPodWithFinalizerGoesWhenTheFinalizerIsRemoved) {
  // Deleting an unscheduled pod uses grace period 0; its finalizer holds it, and
  // the generic store deletes it on the update that removes the last finalizer
  // (Store.Update's shouldDeleteDuringUpdate: no finalizers and a zero grace period).
  Json p = pod("p1");
  p["metadata"]["finalizers"] = Json{"example.com/keep"};
  mustCreate(pods(), "default", p);
  auto marked = registry_->remove(pods(), "default", "p1", {});
  ASSERT_TRUE(marked) << marked.error().message;
  EXPECT_EQ((*marked)["metadata"]["deletionTimestamp"], kNow);
  EXPECT_EQ((*marked)["metadata"]["deletionGracePeriodSeconds"], 0);
  ASSERT_TRUE(exists(pods(), "default", "p1"));
  Json done = *marked;
  done["metadata"].erase("finalizers");
  auto r = registry_->update(pods(), "default", "p1", done, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(exists(pods(), "default", "p1"));
}

TEST_F(RegistryTest, DryRunCreatePersistsAndAllocatesNothing) {
  int64_t rev = store_->revision();
  WriteOptions dry;
  dry.dryRun = true;
  auto w = registry_->create(services(), "default", service("a", "NodePort", 30123, "10.96.0.123"), dry);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->object["spec"]["clusterIP"], "10.96.0.123");
  EXPECT_EQ(store_->revision(), rev);
  EXPECT_FALSE(exists(services(), "default", "a"));
  // The same IP and port are still free for a real create.
  auto real = registry_->create(services(), "default", service("b", "NodePort", 30123, "10.96.0.123"), {});
  ASSERT_TRUE(real) << real.error().message;
}

class GarbageCollectionTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    if (HasFatalFailure()) return;
    Json rc = {{"metadata", {{"name", "web"}}},
               {"spec",
                {{"replicas", 2},
                 {"selector", {{"app", "web"}}},
                 {"template",
                  {{"metadata", {{"labels", {{"app", "web"}}}}},
                   {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "nginx"}}})}}}}}}}};
    rc_ = mustCreate(rcs(), "default", rc);
    Json other = mustCreate(configMaps(), "default", configMap("other-owner"));
    for (const char* name : {"web-a", "web-b"}) {
      Json p = pod(name, {{"app", "web"}});
      p["metadata"]["ownerReferences"] = Json::array({ownerRef(rc_)});
      mustCreate(pods(), "default", p);
    }
    Json shared = pod("web-shared", {{"app", "web"}});
    Json second = ownerRef(other);
    second["controller"] = false;
    shared["metadata"]["ownerReferences"] = Json::array({ownerRef(rc_), second});
    mustCreate(pods(), "default", shared);
    mustCreate(pods(), "default", pod("unowned", {{"app", "web"}}));
  }

  std::vector<std::string> podNames() {
    auto list = registry_->list(pods(), "default", {});
    EXPECT_TRUE(list);
    std::vector<std::string> out;
    for (const auto& item : (*list)["items"]) out.push_back(item["metadata"]["name"]);
    return out;
  }

  Json rc_;
};

TEST_F(GarbageCollectionTest, DeletingAnOwnerDeletesItsDependents) {
  ASSERT_TRUE(registry_->remove(rcs(), "default", "web", {}));
  EXPECT_FALSE(exists(rcs(), "default", "web"));
  EXPECT_THAT(podNames(), ElementsAre("unowned"));
}

TEST_F(GarbageCollectionTest, BackgroundPropagationDeletesDependents) {
  ASSERT_TRUE(registry_->remove(rcs(), "default", "web", propagation("Background")));
  EXPECT_THAT(podNames(), ElementsAre("unowned"));
}

TEST_F(GarbageCollectionTest, OrphanKeepsDependentsAndStripsTheReference) {
  ASSERT_TRUE(registry_->remove(rcs(), "default", "web", propagation("Orphan")));
  EXPECT_FALSE(exists(rcs(), "default", "web"));
  EXPECT_THAT(podNames(), ElementsAre("unowned", "web-a", "web-b", "web-shared"));
  for (const char* name : {"web-a", "web-b"}) {
    auto p = registry_->get(pods(), "default", name);
    ASSERT_TRUE(p);
    EXPECT_FALSE((*p)["metadata"].contains("ownerReferences")) << (*p)["metadata"];
  }
  auto shared = registry_->get(pods(), "default", "web-shared");
  ASSERT_TRUE(shared);
  ASSERT_EQ((*shared)["metadata"]["ownerReferences"].size(), 1u);
  EXPECT_EQ((*shared)["metadata"]["ownerReferences"][0]["name"], "other-owner");
}

TEST_F(GarbageCollectionTest, DependentsInOtherNamespacesAreUntouched) {
  // Owner references are namespace-local: a pod in another namespace naming the
  // RC's uid is not its dependent.
  Json p = pod("elsewhere");
  p["metadata"]["ownerReferences"] = Json::array({ownerRef(rc_)});
  mustCreate(pods(), "kube-system", p);
  ASSERT_TRUE(registry_->remove(rcs(), "default", "web", {}));
  EXPECT_TRUE(exists(pods(), "kube-system", "elsewhere"));
}

TEST_F(RegistryTest, RemoveCollectionDeletesOnlyMatchingObjects) {
  mustCreate(configMaps(), "default", configMap("a", {{"app", "x"}}));
  mustCreate(configMaps(), "default", configMap("b", {{"app", "y"}}));
  mustCreate(configMaps(), "default", configMap("c", {{"app", "x"}}));
  mustCreate(configMaps(), "kube-system", configMap("d", {{"app", "x"}}));
  auto deleted = registry_->removeCollection(configMaps(), "default", withLabels("app=x"), {});
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_EQ((*deleted)["items"].size(), 2u);
  EXPECT_FALSE(exists(configMaps(), "default", "a"));
  EXPECT_TRUE(exists(configMaps(), "default", "b"));
  EXPECT_FALSE(exists(configMaps(), "default", "c"));
  EXPECT_TRUE(exists(configMaps(), "kube-system", "d"));
}

// ---- services ----

TEST_F(RegistryTest, ServiceGetsAClusterIpFromTheServiceCidr) {
  Json svc = mustCreate(services(), "default", service("a"));
  std::string ip = svc["spec"].value("clusterIP", "");
  EXPECT_TRUE(inServiceCidr(ip)) << ip;
  EXPECT_NE(ip, "10.96.0.1");
  EXPECT_EQ(svc["spec"]["clusterIPs"], (Json{ip}));
  EXPECT_FALSE(svc["spec"]["ports"][0].contains("nodePort"));
  auto stored = registry_->get(services(), "default", "a");
  ASSERT_TRUE(stored);
  EXPECT_EQ((*stored)["spec"]["clusterIP"], ip);

  Json b = mustCreate(services(), "default", service("b"));
  EXPECT_NE(b["spec"]["clusterIP"], ip);
}

TEST_F(RegistryTest, RequestedClusterIpIsHonouredAndATakenOneIs422) {
  Json a = mustCreate(services(), "default", service("a", "ClusterIP", 0, "10.96.0.50"));
  EXPECT_EQ(a["spec"]["clusterIP"], "10.96.0.50");
  EXPECT_EQ(a["spec"]["clusterIPs"], (Json{"10.96.0.50"}));

  auto taken = registry_->create(services(), "default", service("b", "ClusterIP", 0, "10.96.0.50"), {});
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, Code::kInvalid);
  EXPECT_EQ(taken.error().message,
            "Service \"b\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.0.50\"}: failed to "
            "allocate IP 10.96.0.50: provided IP is already allocated");
  EXPECT_FALSE(exists(services(), "default", "b"));

  // Deleting the Service releases its IP.
  ASSERT_TRUE(registry_->remove(services(), "default", "a", {}));
  Json c = mustCreate(services(), "default", service("c", "ClusterIP", 0, "10.96.0.50"));
  EXPECT_EQ(c["spec"]["clusterIP"], "10.96.0.50");
}

TEST_F(RegistryTest, FailedServiceCreateReleasesWhatItAllocated) {
  mustCreate(services(), "default", service("a"));
  // AlreadyExists after allocation must not leak the requested IP or node port.
  auto dup = registry_->create(services(), "default", service("a", "NodePort", 30111, "10.96.0.77"), {});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Code::kAlreadyExists);
  EXPECT_EQ(dup.error().message, "services \"a\" already exists");
  Json b = mustCreate(services(), "default", service("b", "NodePort", 30111, "10.96.0.77"));
  EXPECT_EQ(b["spec"]["clusterIP"], "10.96.0.77");
  EXPECT_EQ(b["spec"]["ports"][0]["nodePort"], 30111);
}

TEST_F(RegistryTest, NodePortAndLoadBalancerServicesGetANodePort) {
  for (const char* type : {"NodePort", "LoadBalancer"}) {
    Json svc = mustCreate(services(), "default", service(std::string("np-") + (type[0] == 'N' ? "n" : "l"), type));
    int port = svc["spec"]["ports"][0].value("nodePort", 0);
    EXPECT_GE(port, 30000) << type;
    EXPECT_LE(port, 32767) << type;
    EXPECT_TRUE(inServiceCidr(svc["spec"].value("clusterIP", ""))) << type;
  }
}

TEST_F(RegistryTest, RequestedNodePortIsHonouredAndATakenOneIs422) {
  Json a = mustCreate(services(), "default", service("a", "NodePort", 30080));
  EXPECT_EQ(a["spec"]["ports"][0]["nodePort"], 30080);

  auto taken = registry_->create(services(), "default", service("b", "NodePort", 30080), {});
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, Code::kInvalid);
  EXPECT_EQ(taken.error().message,
            "Service \"b\" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already "
            "allocated");

  auto outOfRange = registry_->create(services(), "default", service("c", "NodePort", 80), {});
  ASSERT_FALSE(outOfRange);
  EXPECT_EQ(outOfRange.error().code, Code::kInvalid);
  EXPECT_EQ(outOfRange.error().message,
            "Service \"c\" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the "
            "valid range. The range of valid ports is 30000-32767");

  ASSERT_TRUE(registry_->remove(services(), "default", "a", {}));
  Json b = mustCreate(services(), "default", service("b", "NodePort", 30080));
  EXPECT_EQ(b["spec"]["ports"][0]["nodePort"], 30080);
}

TEST_F(RegistryTest, UpdateWithoutAllocatedValuesKeepsThem) {
  // Resubmitting the manifest a Service was created from (no clusterIP, no
  // nodePort) keeps what the server allocated: patchAllocatedValues in
  // pkg/registry/core/service/strategy.go.
  Json a = mustCreate(services(), "default", service("a", "NodePort"));
  std::string ip = a["spec"]["clusterIP"];
  int port = a["spec"]["ports"][0]["nodePort"];
  Json edit = service("a", "NodePort");
  edit["metadata"]["labels"] = {{"x", "y"}};
  auto kept = registry_->update(services(), "default", "a", edit, {});
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(kept->object["spec"]["clusterIP"], ip);
  EXPECT_EQ(kept->object["spec"]["clusterIPs"], (Json{ip}));
  EXPECT_EQ(kept->object["spec"]["ports"][0]["nodePort"], port);
  EXPECT_EQ(kept->object["metadata"]["labels"], (Json{{"x", "y"}}));
}

TEST_F(RegistryTest, UpdateKeepsAllocationsAndTypeChangeReleasesNodePorts) {
  Json a = mustCreate(services(), "default", service("a", "NodePort", 30080));
  std::string ip = a["spec"]["clusterIP"];

  // A read-modify-write keeps both.
  Json edit = a;
  edit["metadata"]["labels"] = {{"x", "y"}};
  auto kept = registry_->update(services(), "default", "a", edit, {});
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(kept->object["spec"]["clusterIP"], ip);
  EXPECT_EQ(kept->object["spec"]["ports"][0]["nodePort"], 30080);

  // NodePort -> ClusterIP without the node-port fields frees the port.
  Json toClusterIp = kept->object;
  toClusterIp["spec"]["type"] = "ClusterIP";
  toClusterIp["spec"]["ports"][0].erase("nodePort");
  toClusterIp["spec"].erase("externalTrafficPolicy");
  auto changed = registry_->update(services(), "default", "a", toClusterIp, {});
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_FALSE(changed->object["spec"]["ports"][0].contains("nodePort"));
  EXPECT_EQ(changed->object["spec"]["clusterIP"], ip);
  Json b = mustCreate(services(), "default", service("b", "NodePort", 30080));
  EXPECT_EQ(b["spec"]["ports"][0]["nodePort"], 30080);
  // The cluster IP stayed allocated.
  auto dup = registry_->create(services(), "default", service("c", "ClusterIP", 0, ip), {});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Code::kInvalid);
}

TEST_F(RegistryTest, TypeChangeDropsTypeDependentFields) {
  // `kubectl edit` changing only `type: NodePort` to `ClusterIP` sends the node
  // ports and externalTrafficPolicy back unchanged; Kubernetes drops them
  // (dropTypeDependentFields in pkg/registry/core/service/strategy.go).
  Json a = mustCreate(services(), "default", service("a", "NodePort", 30080));
  Json edit = a;
  edit["spec"]["type"] = "ClusterIP";
  auto changed = registry_->update(services(), "default", "a", edit, {});
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_FALSE(changed->object["spec"]["ports"][0].contains("nodePort"));
  EXPECT_FALSE(changed->object["spec"].contains("externalTrafficPolicy"));
  Json b = mustCreate(services(), "default", service("b", "NodePort", 30080));
  EXPECT_EQ(b["spec"]["ports"][0]["nodePort"], 30080);
}

TEST_F(RegistryTest, AllocationsSurviveARestart) {
  mustCreate(services(), "default", service("a", "NodePort", 30080, "10.96.0.50"));
  registry_ = newRegistry();  // "restart": a new registry over the same store
  ASSERT_TRUE(registry_);
  auto port = registry_->create(services(), "default", service("b", "NodePort", 30080), {});
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().code, Code::kInvalid);
  EXPECT_EQ(port.error().message,
            "Service \"b\" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already "
            "allocated");
  auto ip = registry_->create(services(), "default", service("c", "ClusterIP", 0, "10.96.0.50"), {});
  ASSERT_FALSE(ip);
  EXPECT_EQ(ip.error().code, Code::kInvalid);
  // And a freshly allocated IP never collides with the ones in the store.
  for (int i = 0; i < 20; ++i) {
    Json s = mustCreate(services(), "default", service("fill-" + std::to_string(i)));
    EXPECT_NE(s["spec"]["clusterIP"], "10.96.0.50");
    EXPECT_NE(s["spec"]["clusterIP"], "10.96.0.1");
  }
}

TEST_F(RegistryTest, HeadlessAndExternalNameServicesTakeNoIp) {
  Json headless = mustCreate(services(), "default", service("h", "ClusterIP", 0, "None"));
  EXPECT_EQ(headless["spec"]["clusterIP"], "None");
  EXPECT_EQ(headless["spec"]["clusterIPs"], (Json{"None"}));
  Json ext = service("e", "ExternalName");
  ext["spec"]["externalName"] = "example.com";
  ext["spec"].erase("selector");
  Json e = mustCreate(services(), "default", ext);
  EXPECT_FALSE(e["spec"].contains("clusterIP")) << e["spec"];
}

// ---- namespaces ----

TEST_F(RegistryTest, DeletingANamespaceDeletesItsObjects) {
  mustCreate(namespaces(), "", Json{{"metadata", {{"name", "team"}}}});
  mustCreate(configMaps(), "team", configMap("cm"));
  mustCreate(pods(), "team", pod("p"));
  mustCreate(services(), "team", service("s", "NodePort", 30090, "10.96.0.90"));
  mustCreate(configMaps(), "default", configMap("cm"));

  ASSERT_TRUE(registry_->remove(namespaces(), "", "team", {}));
  EXPECT_FALSE(exists(configMaps(), "team", "cm"));
  EXPECT_FALSE(exists(pods(), "team", "p"));
  EXPECT_FALSE(exists(services(), "team", "s"));
  EXPECT_FALSE(exists(namespaces(), "", "team"));
  EXPECT_TRUE(exists(configMaps(), "default", "cm"));

  // The Service's IP and node port went with it.
  Json again = mustCreate(services(), "default", service("s2", "NodePort", 30090, "10.96.0.90"));
  EXPECT_EQ(again["spec"]["clusterIP"], "10.96.0.90");

  auto create = registry_->create(configMaps(), "team", configMap("late"), {});
  ASSERT_FALSE(create);
  EXPECT_EQ(create.error().code, Code::kNotFound);
  EXPECT_EQ(create.error().message, "namespaces \"team\" not found");
}

TEST_F(RegistryTest, ImmortalNamespacesCannotBeDeleted) {
  for (const char* ns : {"default", "kube-system", "kube-public"}) {
    auto r = registry_->remove(namespaces(), "", ns, {});
    ASSERT_FALSE(r) << ns;
    EXPECT_EQ(r.error().code, Code::kForbidden);
    EXPECT_EQ(r.error().message, std::string("namespaces \"") + ns + "\" is forbidden: this namespace may not be deleted");
    EXPECT_TRUE(exists(namespaces(), "", ns));
  }
  EXPECT_TRUE(exists(services(), "default", "kubernetes"));
}

// ---- watch ----

// Collects watch events. Delivery may run on another thread and after the write
// returns, so tests wait (bounded) for the events they expect instead of
// sleeping; an absence is checked by a later sentinel write whose event must come
// first.
class Recorder {
 public:
  struct Event {
    std::string type;
    Json object;
  };

  WatchSink sink() {
    // Generic, so that it accepts the object by value or as a shared, decoded one.
    return [this](const char* type, const auto& obj) {
      Json plain;
      if constexpr (requires { obj.object(); }) {
        plain = obj.object();
      } else {
        plain = obj;
      }
      {
        std::lock_guard lock(mu_);
        events_.push_back({type, std::move(plain)});
      }
      cv_.notify_all();
    };
  }

  // Waits until `n` events arrived (or 10 s passed) and takes them all.
  std::vector<Event> take(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return events_.size() >= n; });
    return std::exchange(events_, {});
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
};

std::string rvOf(const Json& obj) { return obj["metadata"].value("resourceVersion", ""); }
std::string nameOf(const Recorder::Event& e) { return e.object["metadata"].value("name", ""); }

class WatchTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    if (HasFatalFailure()) return;
    mustCreate(namespaces(), "", Json{{"metadata", {{"name", "w"}}}});
  }
  void TearDown() override {
    watch_.reset();
    RegistryTest::TearDown();
  }
  void startWatch(const ListOptions& opts) {
    int64_t start = -1;
    auto w = registry_->watch(configMaps(), "w", opts, recorder_.sink(), start);
    ASSERT_TRUE(w) << w.error().message;
    watch_ = std::move(*w);
    start_ = start;
  }
  // A write the watch must report next, proving that nothing came before it.
  void expectOnlySentinelNext(const std::string& name) {
    mustCreate(configMaps(), "w", configMap(name, {{"app", "web"}}));
    auto events = recorder_.take(1);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, "ADDED");
    EXPECT_EQ(nameOf(events[0]), name);
  }
  Recorder recorder_;
  std::unique_ptr<store::Watch> watch_;
  int64_t start_ = -1;
};

TEST_F(WatchTest, WithoutResourceVersionSendsTheCurrentStateThenLiveEvents) {
  Json a = mustCreate(configMaps(), "w", configMap("a"));
  Json b = mustCreate(configMaps(), "w", configMap("b"));
  mustCreate(configMaps(), "default", configMap("elsewhere"));
  startWatch({});
  EXPECT_EQ(start_, store_->revision());
  auto initial = recorder_.take(2);
  ASSERT_EQ(initial.size(), 2u);
  EXPECT_EQ(initial[0].type, "ADDED");
  EXPECT_EQ(nameOf(initial[0]), "a");
  EXPECT_EQ(rvOf(initial[0].object), rvOf(a));
  EXPECT_EQ(initial[1].type, "ADDED");
  EXPECT_EQ(nameOf(initial[1]), "b");

  Json c = mustCreate(configMaps(), "w", configMap("c"));
  auto edited = registry_->patch(configMaps(), "w", "a", PatchType::kMerge, Json{{"data", {{"k", "new"}}}}, {});
  ASSERT_TRUE(edited);
  auto gone = registry_->remove(configMaps(), "w", "b", {});
  ASSERT_TRUE(gone);
  mustCreate(configMaps(), "default", configMap("elsewhere2"));

  auto live = recorder_.take(3);
  ASSERT_EQ(live.size(), 3u);
  EXPECT_EQ(live[0].type, "ADDED");
  EXPECT_EQ(nameOf(live[0]), "c");
  EXPECT_EQ(rvOf(live[0].object), rvOf(c));
  EXPECT_EQ(live[1].type, "MODIFIED");
  EXPECT_EQ(live[1].object["data"]["k"], "new");
  EXPECT_EQ(rvOf(live[1].object), rvOf(edited->object));
  EXPECT_EQ(live[2].type, "DELETED");
  EXPECT_EQ(nameOf(live[2]), "b");
  // The deleted object carries the revision of the delete.
  EXPECT_EQ(rvOf(live[2].object), rvOf(*gone));
  EXPECT_GT(std::stoll(rvOf(live[2].object)), std::stoll(rvOf(b)));
  expectOnlySentinelNext("sentinel");
}

TEST_F(WatchTest, ResourceVersionZeroAlsoStartsWithTheCurrentState) {
  mustCreate(configMaps(), "w", configMap("a"));
  startWatch(fromRevision("0"));
  auto initial = recorder_.take(1);
  ASSERT_EQ(initial.size(), 1u);
  EXPECT_EQ(initial[0].type, "ADDED");
  EXPECT_EQ(nameOf(initial[0]), "a");
  expectOnlySentinelNext("sentinel");
}

TEST_F(WatchTest, FromARevisionReplaysWhatFollowedIt) {
  Json a = mustCreate(configMaps(), "w", configMap("a"));
  std::string from = rvOf(a);
  auto edited = registry_->patch(configMaps(), "w", "a", PatchType::kMerge, Json{{"data", {{"k", "2"}}}}, {});
  ASSERT_TRUE(edited);
  Json b = mustCreate(configMaps(), "w", configMap("b"));
  ASSERT_TRUE(registry_->remove(configMaps(), "w", "a", {}));

  startWatch(fromRevision(from));
  EXPECT_EQ(std::to_string(start_), from);
  auto replay = recorder_.take(3);
  ASSERT_EQ(replay.size(), 3u);
  EXPECT_EQ(replay[0].type, "MODIFIED");
  EXPECT_EQ(rvOf(replay[0].object), rvOf(edited->object));
  EXPECT_EQ(replay[0].object["data"]["k"], "2");
  EXPECT_EQ(replay[1].type, "ADDED");
  EXPECT_EQ(nameOf(replay[1]), "b");
  EXPECT_EQ(rvOf(replay[1].object), rvOf(b));
  EXPECT_EQ(replay[2].type, "DELETED");
  EXPECT_EQ(nameOf(replay[2]), "a");
  expectOnlySentinelNext("c");
}

TEST_F(WatchTest, FromARevisionReplaysAlsoWhenAnotherWatchIsRunning) {
  // A second watcher of the same resource must get the same replay as the first.
  startWatch({});
  Json a = mustCreate(configMaps(), "w", configMap("a"));
  ASSERT_EQ(recorder_.take(1).size(), 1u);
  ASSERT_TRUE(registry_->patch(configMaps(), "w", "a", PatchType::kMerge, Json{{"data", {{"k", "2"}}}}, {}));
  mustCreate(configMaps(), "w", configMap("b"));
  ASSERT_EQ(recorder_.take(2).size(), 2u);

  Recorder second;
  int64_t start = 0;
  auto w = registry_->watch(configMaps(), "w", fromRevision(rvOf(a)), second.sink(), start);
  ASSERT_TRUE(w) << w.error().message;
  auto replay = second.take(2);
  ASSERT_EQ(replay.size(), 2u);
  EXPECT_EQ(replay[0].type, "MODIFIED");
  EXPECT_EQ(replay[1].type, "ADDED");
  EXPECT_EQ(nameOf(replay[1]), "b");
  w->reset();
}

TEST_F(WatchTest, LabelSelectorTurnsARelabelIntoDeletedAndAdded) {
  startWatch(withLabels("app=web"));
  mustCreate(configMaps(), "w", configMap("x", {{"app", "web"}}));
  mustCreate(configMaps(), "w", configMap("y", {{"app", "db"}}));
  auto relabel = registry_->patch(configMaps(), "w", "x", PatchType::kMerge,
                                  Json{{"metadata", {{"labels", {{"app", "db"}}}}}}, {});
  ASSERT_TRUE(relabel);
  auto back = registry_->patch(configMaps(), "w", "y", PatchType::kMerge,
                               Json{{"metadata", {{"labels", {{"app", "web"}}}}}}, {});
  ASSERT_TRUE(back);

  auto events = recorder_.take(3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, "ADDED");
  EXPECT_EQ(nameOf(events[0]), "x");
  EXPECT_EQ(events[1].type, "DELETED");
  EXPECT_EQ(nameOf(events[1]), "x");
  EXPECT_EQ(rvOf(events[1].object), rvOf(relabel->object));
  EXPECT_EQ(events[2].type, "ADDED");
  EXPECT_EQ(nameOf(events[2]), "y");
  EXPECT_EQ(rvOf(events[2].object), rvOf(back->object));
  expectOnlySentinelNext("sentinel");
}

TEST_F(WatchTest, DeletedOnRelabelCarriesTheLastMatchingState) {
  // Kubernetes sends the object as it was when it still matched, at the revision
  // of the change (storage/etcd3/watcher.go transform; the cacher does the same).
  startWatch(withLabels("app=web"));
  mustCreate(configMaps(), "w", configMap("x", {{"app", "web"}}));
  auto relabel = registry_->patch(configMaps(), "w", "x", PatchType::kMerge,
                                  Json{{"metadata", {{"labels", {{"app", "db"}}}}}}, {});
  ASSERT_TRUE(relabel);
  auto events = recorder_.take(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, "DELETED");
  EXPECT_EQ(events[1].object["metadata"]["labels"], (Json{{"app", "web"}}));
  EXPECT_EQ(rvOf(events[1].object), rvOf(relabel->object));
}

TEST_F(WatchTest, FieldSelectorWatch) {
  auto sel = api::parseFieldSelector(configMaps(), "metadata.name!=a");
  ASSERT_TRUE(sel);
  ListOptions opts;
  opts.fields = *sel;
  startWatch(opts);
  mustCreate(configMaps(), "w", configMap("a"));
  expectOnlySentinelNext("b");
}

TEST_F(WatchTest, StoppedWatchDeliversNothing) {
  startWatch({});
  watch_.reset();
  mustCreate(configMaps(), "w", configMap("a"));
  // A new watch sees "b" first: had the old one still been registered, its
  // recorder would have got "a" before.
  startWatch(fromRevision(std::to_string(store_->revision())));
  expectOnlySentinelNext("b");
}

TEST_F(WatchTest, FromACompactedRevisionIsGone) {
  Json a = mustCreate(configMaps(), "w", configMap("a"));
  std::string old = rvOf(a);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(registry_->patch(configMaps(), "w", "a", PatchType::kMerge,
                                 Json{{"data", {{"i", std::to_string(i)}}}}, {}));
  }
  int64_t compactAt = store_->revision();
  ASSERT_TRUE(store_->compact(compactAt));
  int64_t start = 0;
  auto w = registry_->watch(configMaps(), "w", fromRevision(old), recorder_.sink(), start);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, Code::kGone);
  EXPECT_EQ(w.error().message, "too old resource version: " + old + " (" + std::to_string(compactAt) + ")");
  Json status = toStatus(w.error());
  EXPECT_EQ(status["code"], 410);
  EXPECT_EQ(status["reason"], "Expired");

  // From the compaction point itself the watch works.
  startWatch(fromRevision(std::to_string(compactAt)));
  expectOnlySentinelNext("b");
}

TEST_F(WatchTest, BadOrFutureResourceVersionIsRefused) {
  int64_t start = 0;
  auto bad = registry_->watch(configMaps(), "w", fromRevision("abc"), recorder_.sink(), start);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kBadRequest);
  EXPECT_EQ(bad.error().message, "invalid resource version: abc");

  std::string future = std::to_string(store_->revision() + 50);
  auto ahead = registry_->watch(configMaps(), "w", fromRevision(future), recorder_.sink(), start);
  ASSERT_FALSE(ahead);
  EXPECT_EQ(ahead.error().code, Code::kTimeout);
  EXPECT_EQ(ahead.error().message,
            "Too large resource version: " + future + ", current: " + std::to_string(store_->revision()));
}

}  // namespace
}  // namespace nanokube::apiserver
