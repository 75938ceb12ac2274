// Sandbox and container lifecycle over RuncFake and RootfsFake: the order of
// runc calls, the grace-period logic, cleanup after failures. The real runc is
// exercised by test/integration/kubelet/runtime_*_test.cc.

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>

#include "kubelet/runtime/monitor.h"
#include "kubelet/runtime/rootfs.h"
#include "kubelet/runtime/sandbox.h"

namespace nanokube::kubelet::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class RuntimeLifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nk-runtime-unit-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "pause-binary") << "not really a binary";
    options_ = {dir_ / "data", dir_ / "pause-binary", "/nanokube-unit-test"};
  }
  void TearDown() override { fs::remove_all(dir_); }

  SandboxConfig podConfig() {
    SandboxConfig c;
    c.podName = "web";
    c.podNamespace = "default";
    c.podUid = "uid-1";
    c.netnsPath = "/run/netns/nk-test";
    c.hostsFile = hostsFileFor({"10.244.0.5"}, "web");
    c.resolvConf = "nameserver 10.96.0.10\n";
    return c;
  }

  ContainerSpec appSpec(std::string name) {
    ContainerSpec s;
    s.name = std::move(name);
    s.image.layers = {dir_ / "layer"};
    s.image.cmd = {"sh"};
    s.logPath = dir_ / "logs" / (s.name + ".log");
    return s;
  }

  fs::path dir_;
  RuntimeOptions options_;
  RuncFake runc_;
  RootfsFake rootfs_;
};

TEST_F(RuntimeLifecycle, SandboxWritesPodFilesAndStartsPause) {
  Containers containers(runc_, rootfs_, options_);
  Sandboxes sandboxes(containers);
  auto sandbox = sandboxes.create(podConfig());
  ASSERT_TRUE(sandbox) << sandbox.error().message;
  EXPECT_GT(sandbox->pid, 0);
  EXPECT_EQ(sandbox->cgroupParent, "/nanokube-unit-test/pod-uid-1");
  EXPECT_EQ(runc_.calls(), (std::vector<std::string>{"create " + sandbox->id, "start " + sandbox->id}));
  std::ifstream hostname(sandbox->podDir / "hostname");
  std::string line;
  std::getline(hostname, line);
  EXPECT_EQ(line, "web");
  EXPECT_TRUE(fs::exists(options_.dataDir / "pause-rootfs" / "pause"));
  Json spec = Json::parse(std::ifstream(containers.containerDir(sandbox->id) / "config.json"));
  EXPECT_EQ(spec["hostname"], "web");
  EXPECT_EQ(spec["process"]["args"], Json::array({"/pause"}));
  EXPECT_EQ(spec["annotations"][std::string(kAnnotationType)], "sandbox");

  auto again = sandboxes.get(sandbox->id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->podName, "web");
  EXPECT_EQ(again->netnsPath, "/run/netns/nk-test");
  EXPECT_EQ(again->pid, sandbox->pid);
}

TEST_F(RuntimeLifecycle, SandboxWithoutNetnsIsRefused) {
  Containers containers(runc_, rootfs_, options_);
  Sandboxes sandboxes(containers);
  SandboxConfig config = podConfig();
  config.netnsPath.clear();
  auto sandbox = sandboxes.create(config);
  ASSERT_FALSE(sandbox);
  EXPECT_EQ(sandbox.error().code, Code::kInvalid);
  EXPECT_TRUE(runc_.calls().empty());
}

TEST_F(RuntimeLifecycle, FailedPauseLeavesNothing) {
  Containers containers(runc_, rootfs_, options_);
  Sandboxes sandboxes(containers);
  runc_.failNext("start", "boom");
  auto sandbox = sandboxes.create(podConfig());
  ASSERT_FALSE(sandbox);
  EXPECT_NE(sandbox.error().message.find("boom"), std::string::npos);
  auto left = runc_.list();
  ASSERT_TRUE(left);
  EXPECT_TRUE(left->empty());
  EXPECT_TRUE(fs::is_empty(options_.dataDir / "pods"));
  EXPECT_TRUE(fs::is_empty(options_.dataDir / "containers"));
}

TEST_F(RuntimeLifecycle, AppContainerJoinsPauseNamespaces) {
  Containers containers(runc_, rootfs_, options_);
  Sandboxes sandboxes(containers);
  auto sandbox = sandboxes.create(podConfig());
  ASSERT_TRUE(sandbox);
  ContainerSpec spec = appSpec("app");
  spec.image.entrypoint = {"sh"};
  spec.image.cmd = {"-i"};
  spec.env = {{"X", "1"}};
  spec.args = {"-c", "echo $(X)"};
  auto id = containers.create(*sandbox, spec);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_TRUE(rootfs_.mounted().contains(containers.containerDir(*id) / "rootfs"));
  Json config = Json::parse(std::ifstream(containers.containerDir(*id) / "config.json"));
  std::string pid = std::to_string(sandbox->pid);
  EXPECT_EQ(config["linux"]["namespaces"][1]["path"], "/proc/" + pid + "/ns/net");
  EXPECT_EQ(config["linux"]["namespaces"][2]["path"], "/proc/" + pid + "/ns/ipc");
  EXPECT_EQ(config["linux"]["namespaces"][3]["path"], "/proc/" + pid + "/ns/uts");
  EXPECT_EQ(config["process"]["args"], (Json{"sh", "-c", "echo 1"}));
  EXPECT_EQ(config["linux"]["cgroupsPath"], "/nanokube-unit-test/pod-uid-1/" + *id);
  EXPECT_EQ(config["annotations"][std::string(kAnnotationSandboxId)], sandbox->id);
  EXPECT_EQ(config["annotations"][std::string(kAnnotationContainerName)], "app");
  ASSERT_TRUE(containers.start(*id));
  auto status = containers.status(*id);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, Status::kRunning);
}

TEST_F(RuntimeLifecycle, FailedCreateUnmountsTheRootfs) {
  Containers containers(runc_, rootfs_, options_);
  Sandboxes sandboxes(containers);
  auto sandbox = sandboxes.create(podConfig());
  ASSERT_TRUE(sandbox);
  runc_.failNext("create", "exec: \"nope\": executable file not found in $PATH");
  auto id = containers.create(*sandbox, appSpec("app"));
  ASSERT_FALSE(id);
  EXPECT_NE(id.error().message.find("executable file not found"), std::string::npos);
  EXPECT_TRUE(rootfs_.mounted().empty());
}

TEST_F(RuntimeLifecycle, ExitCodeOfAnExitedContainer) {
  Containers containers(runc_, rootfs_, options_);
  Sandboxes sandboxes(containers);
  auto sandbox = sandboxes.create(podConfig());
  auto id = containers.create(*sandbox, appSpec("app"));
  ASSERT_TRUE(id && containers.start(*id));
  runc_.exit(*id, 3);
  auto exit = containers.wait(*id, 1s);
  ASSERT_TRUE(exit && *exit);
  EXPECT_EQ((*exit)->code, 3);
  auto status = containers.status(*id);
  ASSERT_TRUE(status && status->exit);
  EXPECT_EQ(status->exit->code, 3);
}

TEST_F(RuntimeLifecycle, StopSendsTermThenKillAfterGrace) {
  Containers containers(runc_, rootfs_, options_);
  Sandboxes sandboxes(containers);
  auto sandbox = sandboxes.create(podConfig());
  auto polite = containers.create(*sandbox, appSpec("polite"));
  auto stubborn = containers.create(*sandbox, appSpec("stubborn"));
  ASSERT_TRUE(polite && stubborn);
  ASSERT_TRUE(containers.start(*polite) && containers.start(*stubborn));
  runc_.ignoreSignal(*stubborn, SIGTERM);

  auto exit = containers.stop(*polite, 5s);
  ASSERT_TRUE(exit) << exit.error().message;
  EXPECT_EQ(exit->code, 143);
  EXPECT_EQ(exit->signal, SIGTERM);

  exit = containers.stop(*stubborn, 20ms);
  ASSERT_TRUE(exit) << exit.error().message;
  EXPECT_EQ(exit->code, 137);
  const auto& calls = runc_.calls();
  auto term = std::find(calls.begin(), calls.end(), "kill " + *stubborn + " 15");
  auto kill = std::find(calls.begin(), calls.end(), "kill " + *stubborn + " 9");
  EXPECT_NE(term, calls.end());
  EXPECT_NE(kill, calls.end());
  EXPECT_LT(term, kill);

  // Stopping a stopped container reports the same exit and sends nothing.
  size_t before = calls.size();
  exit = containers.stop(*stubborn, 1s);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 137);
  for (size_t i = before; i < runc_.calls().size(); ++i) EXPECT_FALSE(runc_.calls()[i].starts_with("kill"));
}

TEST_F(RuntimeLifecycle, ZeroGraceAndNeverStartedGetSigkill) {
  Containers containers(runc_, rootfs_, options_);
  Sandboxes sandboxes(containers);
  auto sandbox = sandboxes.create(podConfig());
  auto created = containers.create(*sandbox, appSpec("created"));
  ASSERT_TRUE(created);
  auto exit = containers.stop(*created, 30s);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 137);
  auto running = containers.create(*sandbox, appSpec("running"));
  ASSERT_TRUE(running && containers.start(*running));
  exit = containers.stop(*running, 0ms);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 137);
  for (const auto& call : runc_.calls()) EXPECT_FALSE(call.ends_with(" 15")) << call;
}

TEST_F(RuntimeLifecycle, PodStopSharesOneGracePeriod) {
  Containers containers(runc_, rootfs_, options_);
  Sandboxes sandboxes(containers);
  auto sandbox = sandboxes.create(podConfig());
  auto a = containers.create(*sandbox, appSpec("a"));
  auto b = containers.create(*sandbox, appSpec("b"));
  ASSERT_TRUE(a && b && containers.start(*a) && containers.start(*b));
  runc_.ignoreSignal(*a, SIGTERM);
  runc_.ignoreSignal(*b, SIGTERM);
  ASSERT_TRUE(sandboxes.stop(sandbox->id, 20ms));
  std::vector<std::string> kills;
  for (const auto& call : runc_.calls()) {
    if (call.starts_with("kill")) kills.push_back(call);
  }
  // Both get SIGTERM before either gets SIGKILL; the pause container goes last.
  // The app containers are signalled in no particular order (their ids are random).
  ASSERT_EQ(kills.size(), 5u);
  auto pair = [](std::string x, std::string y) { return x < y ? std::vector{x, y} : std::vector{y, x}; };
  EXPECT_EQ(pair(kills[0], kills[1]), pair("kill " + *a + " 15", "kill " + *b + " 15"));
  EXPECT_EQ(pair(kills[2], kills[3]), pair("kill " + *a + " 9", "kill " + *b + " 9"));
  EXPECT_EQ(kills[4], "kill " + sandbox->id + " 15");
  auto status = containers.status(*a);
  ASSERT_TRUE(status && status->exit);
  EXPECT_EQ(status->exit->code, 137);
}

TEST_F(RuntimeLifecycle, RemoveSandboxRemovesEverythingOfThePod) {
  Containers containers(runc_, rootfs_, options_);
  Sandboxes sandboxes(containers);
  auto sandbox = sandboxes.create(podConfig());
  auto other = sandboxes.create(podConfig());
  ASSERT_TRUE(sandbox && other);
  auto a = containers.create(*sandbox, appSpec("a"));
  auto b = containers.create(*sandbox, appSpec("b"));
  auto c = containers.create(*other, appSpec("c"));
  ASSERT_TRUE(a && b && c);
  ASSERT_TRUE(sandboxes.stop(sandbox->id, 1s));
  ASSERT_TRUE(sandboxes.remove(sandbox->id));
  auto left = runc_.list();
  ASSERT_TRUE(left);
  std::vector<std::string> ids;
  for (const auto& s : *left) ids.push_back(s.id);
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> want = {other->id, *c};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(ids, want);
  EXPECT_FALSE(fs::exists(sandbox->podDir));
  EXPECT_FALSE(fs::exists(containers.containerDir(*a)));
  EXPECT_EQ(rootfs_.mounted().size(), 1u);
  // Idempotent.
  EXPECT_TRUE(sandboxes.remove(sandbox->id));
  auto listed = sandboxes.list();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, other->id);
}

TEST(HostsFile, KubeletManagedContent) {
  EXPECT_EQ(hostsFileFor({"10.244.1.7"}, "web"),
            "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
            "fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
            "10.244.1.7\tweb\n");
  EXPECT_TRUE(hostsFileFor({"10.244.1.7"}, "web-0", "nginx.default.svc.cluster.local")
                  .ends_with("10.244.1.7\tweb-0.nginx.default.svc.cluster.local\tweb-0\n"));
}

TEST(Overlay, MountOptions) {
  auto data = overlayOptions({"/l/top", "/l/base"}, "/c/upper", "/c/work");
  ASSERT_TRUE(data);
  EXPECT_EQ(*data, "lowerdir=/l/top:/l/base,upperdir=/c/upper,workdir=/c/work");
  EXPECT_FALSE(overlayOptions({}, "/u", "/w"));
  EXPECT_FALSE(overlayOptions({"/l/a:b"}, "/u", "/w"));
  std::vector<fs::path> many(200, fs::path("/var/lib/nanokube/images/layers/sha256-0123456789abcdef"));
  auto tooLong = overlayOptions(many, "/u", "/w");
  ASSERT_FALSE(tooLong);
  EXPECT_NE(tooLong.error().message.find("longer than a page"), std::string::npos);
}

TEST(ExitFile, Parses) {
  auto exited = parseExitFile("exited 3 1700000000123456789\n");
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->code, 3);
  EXPECT_EQ(exited->signal, 0);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(exited->finishedAt.time_since_epoch()).count(),
            1700000000);
  auto signaled = parseExitFile("signaled 9 1\n");
  ASSERT_TRUE(signaled);
  EXPECT_EQ(signaled->code, 137);
  EXPECT_EQ(signaled->signal, 9);
  EXPECT_FALSE(parseExitFile(""));
  EXPECT_FALSE(parseExitFile("exploded 1 2"));
}

TEST(PauseRootfs, InstallsOnlyThePauseBinary) {
  fs::path dir = fs::temp_directory_path() / ("nk-pause-rootfs-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "bin") << "v1";
  auto root = preparePauseRootfs(dir / "root", dir / "bin");
  ASSERT_TRUE(root) << root.error().message;
  EXPECT_TRUE(fs::exists(*root / "pause"));
  EXPECT_TRUE(fs::is_directory(*root / "proc"));
  EXPECT_TRUE(preparePauseRootfs(dir / "root", dir / "bin"));  // idempotent
  EXPECT_FALSE(preparePauseRootfs(dir / "root", dir / "missing"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace nanokube::kubelet::runtime
