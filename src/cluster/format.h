#pragma once
// What `cluster status`, `ps` and the Ready wait print and read. Pure.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "common/error.h"
#include "kubelet/runtime/container.h"

namespace nanokube::cluster {

// Columns separated by three spaces, as Docker's tabwriter pads them; every
// line ends in "\n" and has no trailing blanks.
std::string formatTable(const std::vector<std::vector<std::string>>& rows);

// One line of `nanokube ps`: docker ps + docker inspect for the seeds.
struct PsRow {
  std::string id;
  std::string node;
  std::string pod;        // "namespace/name"
  std::string container;  // the container's name; "POD" for the sandbox (docker's k8s_POD_...)
  std::string type;       // "sandbox" or "container"
  std::string status;     // "running", "created", "exited (137)", ...
  std::string pid;        // "-" when not running
  std::string netns;      // "net:[4026532...]" of the pid; "-" when not running
};

inline const std::vector<std::string> kPsHeader = {"CONTAINER ID", "NODE", "POD", "CONTAINER",
                                                   "TYPE", "STATUS", "PID", "NETNS"};

// The row for a container of `node`, from its annotations (container.h) and the
// identity of its network namespace (readlink /proc/<pid>/ns/net, "" unknown).
PsRow psRow(const std::string& node, const kubelet::runtime::ContainerStatus& container, const std::string& netns);

// Header and rows, sorted by node, pod, the sandbox first, then container name.
std::string formatPs(std::vector<PsRow> rows);

// What `cluster status` reports.
struct NodeStatus {
  std::string name;
  std::string ip;
  std::optional<pid_t> agentPid;  // running agent
  bool netns = false;             // its namespace exists
  std::optional<bool> ready;      // the Node's Ready condition; nullopt: unknown
};
struct ClusterStatus {
  std::string dataDir;
  std::string serverUrl;
  std::optional<pid_t> serverPid;
  std::string kubeconfig;
  std::vector<NodeStatus> nodes;
};
std::string formatStatus(const ClusterStatus& status);

// name → whether its Ready condition is "True", for each Node of a NodeList.
std::map<std::string, bool> nodeReadiness(const Json& nodeList);

}  // namespace nanokube::cluster
