// A pod through the real runc: pause + two containers sharing one network
// namespace (proven with real packets over localhost and by namespace inodes),
// start-up timings, and a delete that leaves nothing. Root only.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "runtime_fixture.h"

namespace nanokube::kubelet::runtime {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class RuntimePod : public RuntimeFixture {};

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

TEST_F(RuntimePod, ContainersShareThePauseNetworkNamespace) {
  auto t0 = Clock::now();
  auto sandbox = sandboxes_->create(podConfig("nc-pod"));
  auto t1 = Clock::now();
  ASSERT_TRUE(sandbox) << sandbox.error().message;
  std::string pauseNet = sandbox->namespacePath("net");
  EXPECT_EQ(inodeOf(pauseNet), inodeOf("/run/netns/" + netns_));
  EXPECT_NE(inodeOf(pauseNet), inodeOf("/proc/self/ns/net"));
  EXPECT_NE(inodeOf(sandbox->namespacePath("uts")), inodeOf("/proc/self/ns/uts"));
  EXPECT_NE(inodeOf(sandbox->namespacePath("ipc")), inodeOf("/proc/self/ns/ipc"));

  // A listens on 8080 and prints what arrives; B connects to localhost:8080
  // once the test drops a trigger file into its root filesystem.
  auto listener = busybox("listener", {"nc", "-l", "-p", "8080"});
  auto t2 = Clock::now();
  std::string a = runContainer(*sandbox, listener);
  auto t3 = Clock::now();
  ASSERT_FALSE(a.empty());
  auto client = busybox("client", {"sh", "-c",
                                   "while [ ! -e /go ]; do sleep 0.02; done; "
                                   "for i in $(seq 100); do echo ping-over-localhost | nc 127.0.0.1 8080 && exit 0; "
                                   "sleep 0.05; done; exit 1"});
  std::string b = runContainer(*sandbox, client);
  ASSERT_FALSE(b.empty());

  auto statusA = containers_->status(a);
  auto statusB = containers_->status(b);
  ASSERT_TRUE(statusA && statusB);
  ASSERT_EQ(statusA->status, Status::kRunning);
  ASSERT_EQ(statusB->status, Status::kRunning);
  for (const char* ns : {"net", "ipc", "uts"}) {
    std::string suffix = std::string("/ns/") + ns;
    ino_t pause = inodeOf(sandbox->namespacePath(ns));
    EXPECT_EQ(inodeOf("/proc/" + std::to_string(statusA->pid) + suffix), pause) << ns;
    EXPECT_EQ(inodeOf("/proc/" + std::to_string(statusB->pid) + suffix), pause) << ns;
  }
  // Each container has its own PID and mount namespaces.
  EXPECT_NE(inodeOf("/proc/" + std::to_string(statusA->pid) + "/ns/pid"),
            inodeOf("/proc/" + std::to_string(statusB->pid) + "/ns/pid"));

  std::ofstream(containers_->containerDir(b) / "rootfs" / "go") << "";
  auto exitB = containers_->wait(b, 15s);
  auto exitA = containers_->wait(a, 15s);
  ASSERT_TRUE(exitB && *exitB) << "client did not finish";
  ASSERT_TRUE(exitA && *exitA) << "listener did not finish";
  EXPECT_EQ((*exitB)->code, 0);
  EXPECT_EQ((*exitA)->code, 0);
  EXPECT_EQ(readAll(listener.logPath), "ping-over-localhost\n");

  std::printf("[ timing ] pause sandbox create+start: %.1f ms; app container create+start: %.1f ms\n",
              ms(t1 - t0), ms(t3 - t2));
}

TEST_F(RuntimePod, DeleteLeavesNoMountsStateOrCgroups) {
  auto sandbox = sandboxes_->create(podConfig("gone-pod"));
  ASSERT_TRUE(sandbox) << sandbox.error().message;
  std::string a = runContainer(*sandbox, busybox("a", {"sleep", "1000"}));
  std::string b = runContainer(*sandbox, busybox("b", {"sleep", "1000"}));
  ASSERT_FALSE(a.empty() || b.empty());
  EXPECT_EQ(mountsUnder(dir_.string()).size(), 2u);  // the two overlays
  EXPECT_FALSE(cgroupDirs(sandbox->cgroupParent + "/" + a).empty());

  // Neither sleep handles SIGTERM: both wait out one shared grace period.
  auto t0 = Clock::now();
  ASSERT_TRUE(sandboxes_->stop(sandbox->id, 2s));
  auto t1 = Clock::now();
  EXPECT_GE(t1 - t0, 2s);
  EXPECT_LT(t1 - t0, 3500ms);
  for (const auto& id : {a, b}) {
    auto status = containers_->status(id);
    ASSERT_TRUE(status && status->exit);
    EXPECT_EQ(status->exit->code, 137);
  }
  auto removed = sandboxes_->remove(sandbox->id);
  auto t2 = Clock::now();
  ASSERT_TRUE(removed) << removed.error().message;
  std::printf("[ timing ] pod stop (2 containers + pause): %.1f ms; remove: %.1f ms\n", ms(t1 - t0),
              ms(t2 - t1));

  EXPECT_TRUE(mountsUnder(dir_.string()).empty());
  auto all = runc_->list();
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());
  EXPECT_TRUE(testing_fs::is_empty(options_.dataDir / "runc"));
  EXPECT_TRUE(testing_fs::is_empty(options_.dataDir / "monitor"));
  EXPECT_TRUE(testing_fs::is_empty(options_.dataDir / "containers"));
  EXPECT_TRUE(testing_fs::is_empty(options_.dataDir / "pods"));
  EXPECT_EQ(cgroupDirs(sandbox->cgroupParent), std::vector<std::string>{});
  // Idempotent.
  EXPECT_TRUE(sandboxes_->remove(sandbox->id));
}

// Start-up of a pod (pause + one container) beside two plain `runc run`s of
// the same busybox root in the same run, the baseline of bench/'s pod start-up
// figure. Printed, not asserted: the machine's load decides the absolute times.
TEST_F(RuntimePod, StartupAgainstPlainRunc) {
  constexpr int kRounds = 3;
  std::vector<double> pods, plain;
  for (int i = 0; i < kRounds; ++i) {
    auto t0 = Clock::now();
    auto sandbox = sandboxes_->create(podConfig("timed-" + std::to_string(i)));
    ASSERT_TRUE(sandbox) << sandbox.error().message;
    std::string id = runContainer(*sandbox, busybox("c" + std::to_string(i), {"true"}));
    pods.push_back(ms(Clock::now() - t0));
    ASSERT_FALSE(id.empty());
    auto exit = containers_->wait(id, 10s);
    ASSERT_TRUE(exit && *exit);
    EXPECT_EQ((*exit)->code, 0);

    // The baseline bundle: the same layer as a read-only root, no overlay.
    ContainerConfig base;
    base.id = name_ + "-base-" + std::to_string(i);
    base.args = {"true"};
    base.env = {std::string(kDefaultPath)};
    base.rootfs = (dir_ / "layers" / "busybox").string();
    base.readOnlyRootfs = true;
    base.networkNamespace = "/run/netns/" + netns_;
    base.ipcNamespace = base.utsNamespace = std::string(kOwnNamespace);
    base.cgroupsPath = options_.cgroupRoot + "/" + base.id;
    base.nofile = effectiveNofile(kDefaultNofile);
    auto spec = ociSpec(base);
    ASSERT_TRUE(spec);
    testing_fs::path bundle = dir_ / base.id;
    testing_fs::create_directories(bundle);
    std::ofstream(bundle / "config.json") << spec->dump();
    std::string root = (dir_ / "runc-baseline").string();
    auto t1 = Clock::now();
    for (int run = 0; run < 2; ++run) {
      std::string runId = base.id + "-" + std::to_string(run);
      auto r = runProcess({"runc", "--root", root, "run", "--bundle", bundle.string(), runId});
      ASSERT_TRUE(r && r->exitCode == 0) << (r ? r->err : r.error().message);
      runProcess({"runc", "--root", root, "delete", "--force", runId});
    }
    plain.push_back(ms(Clock::now() - t1));
  }
  std::sort(pods.begin(), pods.end());
  std::sort(plain.begin(), plain.end());
  std::printf("[ timing ] pod start (pause + 1 container) median %.1f ms; two plain runc runs median %.1f ms\n",
              pods[kRounds / 2], plain[kRounds / 2]);
}

TEST_F(RuntimePod, SandboxesAreFoundAgainFromRunc) {
  auto first = sandboxes_->create(podConfig("one"));
  auto second = sandboxes_->create(podConfig("two"));
  ASSERT_TRUE(first && second);
  RuncImpl runc({"runc", options_.dataDir / "runc", options_.dataDir / "monitor"});
  Containers containers(runc, rootfs_, options_);
  Sandboxes sandboxes(containers);
  auto listed = sandboxes.list();
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  for (const auto& s : *listed) {
    const Sandbox& want = s.id == first->id ? *first : *second;
    EXPECT_EQ(s.podName, want.podName);
    EXPECT_EQ(s.pid, want.pid);
    EXPECT_EQ(s.netnsPath, want.netnsPath);
    EXPECT_EQ(s.cgroupParent, want.cgroupParent);
  }

  // Removing running pods without stopping them first kills and cleans all.
  std::string app = runContainer(*first, busybox("app", {"sleep", "1000"}));
  ASSERT_FALSE(app.empty());
  for (const auto& s : *listed) {
    auto removed = sandboxes.remove(s.id);
    ASSERT_TRUE(removed) << removed.error().message;
  }
  EXPECT_TRUE(mountsUnder(dir_.string()).empty());
  auto all = runc.list();
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());
  EXPECT_TRUE(testing_fs::is_empty(options_.dataDir / "monitor"));
  EXPECT_TRUE(cgroupDirs(first->cgroupParent).empty());
  EXPECT_TRUE(cgroupDirs(second->cgroupParent).empty());
}

}  // namespace
}  // namespace nanokube::kubelet::runtime
