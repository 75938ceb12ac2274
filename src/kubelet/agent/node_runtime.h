#pragma once
// Where a node agent keeps its state, and the runtime objects built over it.
// `nanokube agent`, `nanokube ps` and `nanokube cluster down` all open a node's
// runtime through here, so they agree on the layout:
//
//   <dataDir>/runtime/        RuntimeOptions::dataDir: runc/ (runc --root), monitor/,
//                             containers/<id>/, pods/<sandbox id>/
//   <dataDir>/netns/<uid>     the pods' network namespaces (pinned like /run/netns)
//   <dataDir>/ipam.json       the IPs handed out from the node's podCIDR
//   <dataDir>/logs/<ns>_<pod>_<uid>/<container>/<restartCount>.log
//                             each container's stdout and stderr, one file per run

#include <filesystem>
#include <memory>
#include <string>

#include "common/error.h"
#include "kubelet/runtime/container.h"
#include "kubelet/runtime/rootfs.h"
#include "kubelet/runtime/runc.h"
#include "kubelet/runtime/sandbox.h"

namespace nanokube::kubelet {

struct AgentPaths {
  std::filesystem::path dataDir;
  // Parent cgroup of the node's pods in every hierarchy, e.g. "/nanokube/node-1".
  std::string cgroupRoot = "/nanokube";
  std::filesystem::path pauseBinary;

  std::filesystem::path runtimeDir() const { return dataDir / "runtime"; }
  std::filesystem::path runcRoot() const { return runtimeDir() / "runc"; }
  std::filesystem::path monitorDir() const { return runtimeDir() / "monitor"; }
  std::filesystem::path netnsDir() const { return dataDir / "netns"; }
  std::filesystem::path ipamFile() const { return dataDir / "ipam.json"; }
  std::filesystem::path logsDir() const { return dataDir / "logs"; }
  // <logsDir>/<ns>_<pod>_<uid>/<container>
  std::filesystem::path containerLogDir(const std::string& ns, const std::string& pod, const std::string& uid,
                                        const std::string& container) const {
    return logsDir() / (ns + "_" + pod + "_" + uid) / container;
  }
};

// The runc driver, root filesystems, containers and sandboxes of one node.
struct NodeRuntime {
  explicit NodeRuntime(const AgentPaths& paths);
  NodeRuntime(const NodeRuntime&) = delete;
  NodeRuntime& operator=(const NodeRuntime&) = delete;

  runtime::RuncImpl runc;
  runtime::RootfsImpl rootfs;
  runtime::Containers containers;
  runtime::Sandboxes sandboxes;
};

// Stops and removes every container and sandbox of the node (grace 0), the
// pods' network namespaces, their cgroups and the node's cgroup root. Leaves
// the IPAM file and logs alone. For `cluster down` once the agent is gone.
// Idempotent; carries on past failures and reports the first.
Result<void> removeAllPods(const AgentPaths& paths);

}  // namespace nanokube::kubelet
