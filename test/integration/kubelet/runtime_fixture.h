#pragma once
// Shared set-up of the runtime integration tests: a temp dir, a busybox image
// layer, a network namespace of the test's own, the real runc under a private
// state root, and a teardown that removes every container, mount, cgroup and
// namespace even when the test failed half-way.

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "kubelet/runtime/process.h"
#include "kubelet/runtime/sandbox.h"

namespace nanokube::kubelet::runtime {

namespace testing_fs = std::filesystem;

inline std::string readAll(const testing_fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Mount points under prefix, from /proc/self/mountinfo.
inline std::vector<std::string> mountsUnder(const std::string& prefix) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mountPoint;
    fields >> id >> parent >> dev >> root >> mountPoint;
    if (mountPoint.starts_with(prefix)) out.push_back(mountPoint);
  }
  return out;
}

inline ino_t inodeOf(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

class RuntimeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    static std::atomic<int> counter{0};
    name_ = "nkrt-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    dir_ = testing_fs::path("/tmp") / name_;
    testing_fs::remove_all(dir_);
    testing_fs::create_directories(dir_);
    buildBusyboxLayer(dir_ / "layers" / "busybox");

    netns_ = name_;
    ASSERT_EQ(run({"ip", "netns", "add", netns_}), 0);
    netnsCreated_ = true;
    // A fresh namespace has its loopback down; src/net brings it up for pods.
    ASSERT_EQ(run({"ip", "-n", netns_, "link", "set", "lo", "up"}), 0);

    options_.dataDir = dir_ / "data";
    options_.pauseBinary = testing_fs::path(NANOKUBE_BUILD_DIR) / "nanokube-pause";
    options_.cgroupRoot = "/" + name_;
    runc_ = std::make_unique<RuncImpl>(
        RuncOptions{"runc", options_.dataDir / "runc", options_.dataDir / "monitor"});
    containers_ = std::make_unique<Containers>(*runc_, rootfs_, options_);
    sandboxes_ = std::make_unique<Sandboxes>(*containers_);
  }

  void TearDown() override {
    if (runc_) {
      if (auto all = runc_->list()) {
        for (const auto& c : *all) {
          (void)runc_->remove(c.id, true);
          (void)rootfs_.remove(containers_->containerDir(c.id));
        }
      }
    }
    for (const auto& m : mountsUnder(dir_.string())) umount2(m.c_str(), MNT_DETACH);
    if (!options_.cgroupRoot.empty()) (void)removeCgroup(options_.cgroupRoot);
    if (netnsCreated_) run({"ip", "netns", "del", netns_});
    if (!dir_.empty() && mountsUnder(dir_.string()).empty()) testing_fs::remove_all(dir_);
  }

  static int run(const std::vector<std::string>& argv) {
    auto r = runProcess(argv);
    return r ? r->exitCode : -1;
  }

  // The installed static busybox with one relative symlink per applet: a
  // single read-only layer that runs wherever it is mounted.
  static void buildBusyboxLayer(const testing_fs::path& layer) {
    testing_fs::create_directories(layer / "bin");
    for (const char* d : {"etc", "tmp", "proc", "sys", "dev"}) testing_fs::create_directories(layer / d);
    testing_fs::copy_file("/bin/busybox", layer / "bin" / "busybox");
    auto list = runProcess({"/bin/busybox", "--list"});
    ASSERT_TRUE(list && list->exitCode == 0);
    std::istringstream applets(list->out);
    std::string applet;
    while (std::getline(applets, applet)) {
      if (applet.empty() || applet == "busybox") continue;
      std::error_code ec;
      testing_fs::create_symlink("busybox", layer / "bin" / applet, ec);
    }
    std::ofstream(layer / "etc" / "passwd") << "root:x:0:0:root:/root:/bin/sh\n";
  }

  SandboxConfig podConfig(const std::string& podName) {
    SandboxConfig c;
    c.podName = podName;
    c.podNamespace = "default";
    c.podUid = name_ + "-" + podName;
    c.netnsPath = "/run/netns/" + netns_;
    c.hostsFile = hostsFileFor({"10.244.0.9"}, podName);
    c.resolvConf = "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\n";
    return c;
  }

  ContainerSpec busybox(const std::string& name, std::vector<std::string> command) {
    ContainerSpec s;
    s.name = name;
    s.image.layers = {dir_ / "layers" / "busybox"};
    s.image.cmd = {"sh"};
    s.command = std::move(command);
    s.logPath = dir_ / "logs" / (name + ".log");
    return s;
  }

  // Creates and starts an app container, failing the test on error.
  std::string runContainer(const Sandbox& sandbox, const ContainerSpec& spec) {
    auto id = containers_->create(sandbox, spec);
    EXPECT_TRUE(id) << (id ? "" : id.error().message);
    if (!id) return "";
    auto started = containers_->start(*id);
    EXPECT_TRUE(started) << (started ? "" : started.error().message);
    return *id;
  }

  std::string name_;
  testing_fs::path dir_;
  std::string netns_;
  bool netnsCreated_ = false;
  RuntimeOptions options_;
  std::unique_ptr<RuncImpl> runc_;
  RootfsImpl rootfs_;
  std::unique_ptr<Containers> containers_;
  std::unique_ptr<Sandboxes> sandboxes_;
};

}  // namespace nanokube::kubelet::runtime
