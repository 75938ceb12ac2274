#include "kubelet/agent/node_runtime.h"

#include "net/netns.h"

namespace nanokube::kubelet {

namespace fs = std::filesystem;

NodeRuntime::NodeRuntime(const AgentPaths& paths)
    : runc(runtime::RuncOptions{"runc", paths.runcRoot(), paths.monitorDir()}),
      containers(runc, rootfs, runtime::RuntimeOptions{paths.runtimeDir(), paths.pauseBinary, paths.cgroupRoot}),
      sandboxes(containers) {}

Result<void> removeAllPods(const AgentPaths& paths) {
  Result<void> first;
  auto keep = [&](Result<void> r) {
    if (!r && first) first = std::move(r);
  };
  if (fs::exists(paths.runcRoot())) {
    NodeRuntime rt(paths);
    if (auto sandboxes = rt.sandboxes.list()) {
      for (const auto& s : *sandboxes) {
        keep(rt.sandboxes.stop(s.id, std::chrono::milliseconds(0)));
        keep(rt.sandboxes.remove(s.id));
      }
    } else {
      keep(std::unexpected(sandboxes.error()));
    }
    // App containers whose sandbox is already gone.
    if (auto all = rt.containers.list()) {
      for (const auto& c : *all) keep(rt.containers.remove(c.id));
    } else {
      keep(std::unexpected(all.error()));
    }
  }
  std::error_code ec;
  if (fs::exists(paths.netnsDir(), ec)) {
    for (const auto& entry : fs::directory_iterator(paths.netnsDir(), ec)) keep(net::deleteNetns(entry.path()));
    keep(net::removeNetnsDir(paths.netnsDir()));
  }
  keep(runtime::removeCgroup(paths.cgroupRoot));
  return first;
}

}  // namespace nanokube::kubelet
