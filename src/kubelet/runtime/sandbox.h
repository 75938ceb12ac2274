#pragma once
// Pod sandboxes: the infra ("pause") container that holds a pod's network,
// IPC and UTS namespaces while its app containers come and go, and the pod's
// files and cgroup around it.
//
// The agent makes the network namespace (src/net: netns, veth, IP) first and
// hands its path in; the pause container joins it and gets its own IPC and UTS
// namespaces with the pod's hostname. App containers then join all three
// through /proc/<pause pid>/ns/*.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "kubelet/runtime/container.h"

namespace nanokube::kubelet::runtime {

struct SandboxConfig {
  std::string podName;
  std::string podNamespace;
  std::string podUid;
  std::string hostname;   // empty: the pod's name, as Kubernetes does without spec.hostname
  std::string netnsPath;  // required: the pod never runs in the node's namespace
  std::string hostsFile;  // /etc/hosts content; see hostsFileFor()
  std::string resolvConf; // /etc/resolv.conf content, as the agent's DNS policy makes it
  std::filesystem::path logPath;  // the pause process's stdout/stderr; empty: /dev/null
};

class Sandboxes {
 public:
  explicit Sandboxes(Containers& containers);

  // Writes the pod's files, then creates and starts the pause container.
  // Nothing stays behind when it fails.
  Result<Sandbox> create(const SandboxConfig& config);
  // The sandbox as runc and the pod directory describe it (after an agent
  // restart too). kNotFound when there is no such pause container.
  Result<Sandbox> get(std::string_view id);
  // Every sandbox runc knows on this node.
  Result<std::vector<Sandbox>> list();
  // Stops the pod's app containers (SIGTERM to all, one shared grace period,
  // SIGKILL to the rest), then the pause container.
  Result<void> stop(std::string_view id, std::chrono::milliseconds grace);
  // Removes the pod's app containers, the pause container, the pod directory
  // and the pod's cgroup directories. Idempotent.
  Result<void> remove(std::string_view id);

 private:
  Result<std::vector<ContainerStatus>> appContainers(std::string_view sandboxId);
  std::filesystem::path podDir(std::string_view id) const;

  Containers& containers_;
};

// The kubelet's managed /etc/hosts (pkg/kubelet/kubelet_pods.go
// managedHostsFileContent): the localhost lines, then each pod IP with the
// hostname (and its FQDN when the pod sets a subdomain).
std::string hostsFileFor(const std::vector<std::string>& podIps, std::string_view hostname,
                         std::string_view hostDomain = "");

// Removes the pod's cgroup directory (and anything left below it) from every
// mounted cgroup hierarchy. Only empty cgroups can go; a busy one is an error
// that names it.
Result<void> removeCgroup(std::string_view cgroupPath);

// Removes cgroupPath from every hierarchy where it has no sub-cgroups left.
Result<void> removeEmptyCgroup(std::string_view cgroupPath);

// Every directory of cgroupPath that exists in a mounted cgroup hierarchy.
std::vector<std::string> cgroupDirs(std::string_view cgroupPath);

}  // namespace nanokube::kubelet::runtime
