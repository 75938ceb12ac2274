#pragma once
// The Node object an agent registers and keeps fresh, and its Lease, as the
// kubelet makes them (pkg/kubelet/kubelet_node_status.go, nodelease). The
// objects are pure functions of NodeFacts; readNodeFacts() gathers those
// from the machine.

#include <cstdint>
#include <string>

#include "common/error.h"

namespace nanokube::kubelet {

inline constexpr char kKubeletVersion[] = "v1.32.0";
inline constexpr int kLeaseDurationSeconds = 40;

struct NodeFacts {
  std::string name;
  std::string ip;        // InternalIP
  std::string hostname;  // Hostname address
  int64_t cpuCores = 1;
  int64_t memoryBytes = 0;
  int64_t ephemeralBytes = 0;
  int64_t maxPods = 110;
  int kubeletPort = 10250;
  std::string kernelVersion, osImage, machineId, bootId, runtimeVersion;
};

// Reads CPU count, MemTotal, the size of the filesystem holding dataDir,
// uname, /etc/os-release, machine-id and boot_id.
NodeFacts readNodeFacts(std::string name, std::string ip, const std::string& dataDir);

// The status the node reports: capacity = allocatable, the four conditions
// (Ready True with reason KubeletReady), addresses, daemonEndpoints, nodeInfo.
Json nodeStatus(const NodeFacts& facts, const std::string& now);

// The Node to create at registration, with the well-known labels.
Json nodeObject(const NodeFacts& facts, const std::string& now);

// The node's Lease in kube-node-lease; `now` in RFC 3339 with microseconds.
Json leaseObject(const std::string& nodeName, const std::string& nodeUid, const std::string& nowMicro);

}  // namespace nanokube::kubelet
