#include "cluster/format.h"

#include <gtest/gtest.h>

#include "cluster/cleanup.h"
#include "cluster/images.h"
#include "cluster/process.h"

namespace nanokube::cluster {
namespace {

namespace rt = kubelet::runtime;

rt::ContainerStatus container(std::string id, std::string type, std::string pod, std::string name, rt::Status status,
                              int pid) {
  rt::ContainerStatus c;
  c.id = std::move(id);
  c.status = status;
  c.pid = pid;
  c.annotations = {{std::string(rt::kAnnotationType), type},
                   {std::string(rt::kAnnotationPodNamespace), "default"},
                   {std::string(rt::kAnnotationPodName), pod}};
  if (!name.empty()) c.annotations[std::string(rt::kAnnotationContainerName)] = name;
  return c;
}

TEST(Ps, RowsShowThePodTheSandboxAndTheSharedNetns) {
  auto pause = psRow("node-1", container("nk-aaa", "sandbox", "nginxpod", "", rt::Status::kRunning, 101),
                     "net:[4026532519]");
  EXPECT_EQ(pause.container, "POD");
  EXPECT_EQ(pause.type, "sandbox");
  EXPECT_EQ(pause.pod, "default/nginxpod");
  EXPECT_EQ(pause.pid, "101");
  EXPECT_EQ(pause.netns, "net:[4026532519]");

  auto stopped = container("nk-ccc", "container", "nginxpod", "nginx8800", rt::Status::kStopped, 0);
  stopped.exit = rt::ExitStatus{137, 9, {}};
  auto row = psRow("node-1", stopped, "");
  EXPECT_EQ(row.status, "exited (137)");
  EXPECT_EQ(row.pid, "-");
  EXPECT_EQ(row.netns, "-");

  rt::ContainerStatus bare;
  bare.id = "nk-zzz";
  bare.status = rt::Status::kStopped;
  auto unknown = psRow("node-2", bare, "");
  EXPECT_EQ(unknown.pod, "-");
  EXPECT_EQ(unknown.container, "-");
  EXPECT_EQ(unknown.status, "exited (unknown)");
}

TEST(Ps, TableIsSortedWithTheSandboxFirst) {
  std::vector<PsRow> rows = {
      psRow("node-2", container("nk-d", "sandbox", "web", "", rt::Status::kRunning, 400), "net:[2]"),
      psRow("node-1", container("nk-c", "container", "nginxpod", "nginx80", rt::Status::kRunning, 300), "net:[1]"),
      psRow("node-1", container("nk-b", "sandbox", "nginxpod", "", rt::Status::kRunning, 200), "net:[1]"),
  };
  EXPECT_EQ(formatPs(rows),
            "CONTAINER ID   NODE     POD                CONTAINER   TYPE        STATUS    PID   NETNS\n"
            "nk-b           node-1   default/nginxpod   POD         sandbox     running   200   net:[1]\n"
            "nk-c           node-1   default/nginxpod   nginx80     container   running   300   net:[1]\n"
            "nk-d           node-2   default/web        POD         sandbox     running   400   net:[2]\n");
  EXPECT_EQ(formatPs({}), "CONTAINER ID   NODE   POD   CONTAINER   TYPE   STATUS   PID   NETNS\n");
}

TEST(Status, ShowsServerAndNodes) {
  ClusterStatus s{"/c", "https://192.168.250.1:6443", 42, "/c/kubeconfig",
                  {{"node-1", "192.168.250.11", 43, true, true}, {"node-2", "192.168.250.12", std::nullopt, false, {}}}};
  EXPECT_EQ(formatStatus(s),
            "data dir:   /c\n"
            "server:     https://192.168.250.1:6443 (running, pid 42)\n"
            "kubeconfig: /c/kubeconfig\n"
            "\n"
            "NODE     IP               AGENT              NETNS     READY\n"
            "node-1   192.168.250.11   running (pid 43)   present   True\n"
            "node-2   192.168.250.12   not running        missing   Unknown\n");
}

TEST(NodeReadiness, ReadsTheReadyCondition) {
  Json list = Json::parse(R"({"kind":"NodeList","items":[
    {"metadata":{"name":"node-1"},"status":{"conditions":[{"type":"MemoryPressure","status":"False"},
                                                           {"type":"Ready","status":"True"}]}},
    {"metadata":{"name":"node-2"},"status":{"conditions":[{"type":"Ready","status":"Unknown"}]}},
    {"metadata":{"name":"node-3"}}]})");
  auto ready = nodeReadiness(list);
  EXPECT_EQ(ready, (std::map<std::string, bool>{{"node-1", true}, {"node-2", false}, {"node-3", false}}));
  EXPECT_TRUE(nodeReadiness(Json::object()).empty());
}

TEST(Cmdline, OnlyTheProcessThatWasStarted) {
  using namespace std::string_view_literals;
  auto argv = splitCmdline("/b/nanokube\0server\0--data-dir\0/c/server\0--listen\0x\0"sv);
  ASSERT_EQ(argv.size(), 6u);
  EXPECT_EQ(argv[3], "/c/server");
  EXPECT_TRUE(isNanokubeProcess(argv, "server", "--data-dir", "/c/server"));
  EXPECT_FALSE(isNanokubeProcess(argv, "agent", "--data-dir", "/c/server"));
  EXPECT_FALSE(isNanokubeProcess(argv, "server", "--data-dir", "/other/server"));
  EXPECT_FALSE(isNanokubeProcess({"/usr/bin/sleep", "server", "--data-dir", "/c/server"}, "server", "--data-dir",
                                 "/c/server"));
  EXPECT_FALSE(isNanokubeProcess({}, "server", "--data-dir", "/c/server"));
}

TEST(Mounts, UnderADirDeepestFirstAndCgroupHierarchies) {
  auto mounts = parseMountinfo(
      "22 1 0:5 / / rw - ext4 /dev/vda rw\n"
      "30 22 0:26 / /sys/fs/cgroup/memory rw shared:9 - cgroup cgroup rw,memory\n"
      "31 22 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
      "40 22 0:4 net:[4026532519] /c/netns rw shared:1 - nsfs nsfs rw\n"
      "41 40 0:4 net:[4026532520] /c/netns/node-1 rw - nsfs nsfs rw\n"
      "42 22 0:50 / /c/nodes/node-1/runtime/containers/nk-a/rootfs rw - overlay overlay rw\n"
      "43 22 0:51 / /c/with\\040space rw - tmpfs tmpfs rw\n"
      "44 22 0:52 / /cc rw - tmpfs tmpfs rw\n");
  ASSERT_EQ(mounts.size(), 8u);
  EXPECT_EQ(mounts[6].mountPoint, "/c/with space");
  EXPECT_EQ(mountsUnder(mounts, "/c/"),
            (std::vector<std::string>{"/c/nodes/node-1/runtime/containers/nk-a/rootfs", "/c/netns/node-1",
                                      "/c/with space", "/c/netns"}));
  EXPECT_EQ(cgroupMounts(mounts), (std::vector<std::string>{"/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified"}));
}

TEST(Images, MissingArchivesOfAnEmptyCache) {
  EXPECT_EQ(missingArchives("/nonexistent-nanokube-cache"), kSeedArchives);
}

}  // namespace
}  // namespace nanokube::cluster
