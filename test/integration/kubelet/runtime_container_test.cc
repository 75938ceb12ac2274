// App containers through the real runc: logs, exit codes, errors, resources,
// termination with grace. Root only.

#include <signal.h>

#include <chrono>
#include <thread>

#include "runtime_fixture.h"

namespace nanokube::kubelet::runtime {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class RuntimeContainer : public RuntimeFixture {};

TEST_F(RuntimeContainer, EchoReachesTheLogFile) {
  auto sandbox = sandboxes_->create(podConfig("echo-pod"));
  ASSERT_TRUE(sandbox) << sandbox.error().message;
  auto spec = busybox("echo", {"sh", "-c", "echo hello from $(WHO); echo to-stderr >&2; hostname; cat /etc/hosts"});
  spec.env = {{"WHO", "nanokube"}};
  std::string id = runContainer(*sandbox, spec);
  ASSERT_FALSE(id.empty());
  auto exit = containers_->wait(id, 10s);
  ASSERT_TRUE(exit && *exit) << "container did not exit";
  EXPECT_EQ((*exit)->code, 0);
  std::string log = readAll(spec.logPath);
  EXPECT_NE(log.find("hello from nanokube\n"), std::string::npos) << log;
  EXPECT_NE(log.find("to-stderr\n"), std::string::npos) << log;
  EXPECT_NE(log.find("echo-pod\n"), std::string::npos) << log;  // the pod's hostname
  EXPECT_NE(log.find("10.244.0.9\techo-pod"), std::string::npos) << log;  // the pod's /etc/hosts
}

TEST_F(RuntimeContainer, ExitCodeSurvivesARestartOfTheAgent) {
  auto sandbox = sandboxes_->create(podConfig("exit-pod"));
  ASSERT_TRUE(sandbox) << sandbox.error().message;
  std::string id = runContainer(*sandbox, busybox("three", {"sh", "-c", "exit 3"}));
  ASSERT_FALSE(id.empty());
  auto exit = containers_->wait(id, 10s);
  ASSERT_TRUE(exit && *exit);
  EXPECT_EQ((*exit)->code, 3);
  EXPECT_EQ((*exit)->signal, 0);

  // A new agent process knows nothing but the directories and runc's state.
  RuncImpl runc({"runc", options_.dataDir / "runc", options_.dataDir / "monitor"});
  Containers fresh(runc, rootfs_, options_);
  auto status = fresh.status(id);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->status, Status::kStopped);
  ASSERT_TRUE(status->exit);
  EXPECT_EQ(status->exit->code, 3);
  EXPECT_EQ(status->annotations[std::string(kAnnotationContainerName)], "three");
}

TEST_F(RuntimeContainer, MissingCommandFailsClearly) {
  auto sandbox = sandboxes_->create(podConfig("nope-pod"));
  ASSERT_TRUE(sandbox) << sandbox.error().message;
  auto spec = busybox("nope", {"nope"});
  auto id = containers_->create(*sandbox, spec);
  ASSERT_FALSE(id);
  const std::string& message = id.error().message;
  EXPECT_TRUE(message.starts_with("runc create nk-")) << message;
  EXPECT_NE(message.find("exec: \"nope\": executable file not found in $PATH"), std::string::npos) << message;
  // Nothing stays behind: no extra mount, no runc state, no bundle, no log noise.
  EXPECT_TRUE(mountsUnder((dir_ / "data" / "containers").string()).empty());
  auto all = runc_->list();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 1u);  // the pause container only
  EXPECT_EQ(readAll(spec.logPath), "");
  for (const auto& entry : testing_fs::directory_iterator(dir_ / "data" / "containers")) {
    EXPECT_EQ(entry.path().filename(), sandbox->id);
  }
}

TEST_F(RuntimeContainer, GracefulStopAndSigkillAfterGrace) {
  auto sandbox = sandboxes_->create(podConfig("stop-pod"));
  ASSERT_TRUE(sandbox) << sandbox.error().message;
  std::string polite = runContainer(
      *sandbox, busybox("polite", {"sh", "-c", "trap 'echo got TERM; exit 7' TERM; while true; do sleep 0.05; done"}));
  // sleep as PID 1 of its namespace has no handler, so the kernel drops SIGTERM.
  std::string stubborn = runContainer(*sandbox, busybox("stubborn", {"sleep", "1000"}));
  ASSERT_FALSE(polite.empty() || stubborn.empty());
  std::this_thread::sleep_for(100ms);  // let sh install its trap

  auto t0 = Clock::now();
  auto exit = containers_->stop(polite, 10s);
  auto politeTime = Clock::now() - t0;
  ASSERT_TRUE(exit) << exit.error().message;
  EXPECT_EQ(exit->code, 7);
  EXPECT_LT(politeTime, 2s);
  EXPECT_NE(readAll(dir_ / "logs" / "polite.log").find("got TERM"), std::string::npos);

  t0 = Clock::now();
  exit = containers_->stop(stubborn, 700ms);
  auto stubbornTime = Clock::now() - t0;
  ASSERT_TRUE(exit) << exit.error().message;
  EXPECT_EQ(exit->code, 137);
  EXPECT_EQ(exit->signal, SIGKILL);
  EXPECT_GE(stubbornTime, 700ms);
  EXPECT_LT(stubbornTime, 3s);
}

TEST_F(RuntimeContainer, ResourcesReachTheCgroup) {
  auto sandbox = sandboxes_->create(podConfig("res-pod"));
  ASSERT_TRUE(sandbox) << sandbox.error().message;
  auto spec = busybox("limited", {"sleep", "1000"});
  spec.resources = {250, 500, 64 * 1024 * 1024};
  std::string id = runContainer(*sandbox, spec);
  ASSERT_FALSE(id.empty());
  std::string cgroup = sandbox->cgroupParent + "/" + id;
  auto value = [&](const std::string& file) {
    std::string v = readAll("/sys/fs/cgroup/" + file.substr(0, file.find('/')) + cgroup + "/" +
                            file.substr(file.find('/') + 1));
    while (!v.empty() && v.back() == '\n') v.pop_back();
    return v;
  };
  EXPECT_EQ(value("memory/memory.limit_in_bytes"), "67108864");
  EXPECT_EQ(value("cpu/cpu.shares"), "256");
  EXPECT_EQ(value("cpu/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(value("cpu/cpu.cfs_period_us"), "100000");
  auto pid = containers_->status(id);
  ASSERT_TRUE(pid);
  EXPECT_NE(readAll("/proc/" + std::to_string(pid->pid) + "/cgroup").find("memory:" + cgroup),
            std::string::npos);
}

}  // namespace
}  // namespace nanokube::kubelet::runtime
