#pragma once
// The node lifecycle controller's health check (pkg/controller/nodelifecycle):
// a node whose agent has not renewed its Lease for the grace period
// (node-monitor-grace-period) gets its Ready, MemoryPressure, DiskPressure and
// PIDPressure conditions set to Unknown ("Kubelet stopped posting node
// status.") and the node.kubernetes.io/unreachable taints (NoSchedule, and
// NoExecute with timeAdded), so the scheduler places new pods elsewhere; a
// node that reports Ready again loses those taints. Pure.

#include <chrono>
#include <optional>

#include "common/error.h"
#include "common/time.h"

namespace nanokube::controllers {

inline constexpr std::chrono::seconds kNodeMonitorGracePeriod{40};
inline constexpr char kUnreachableTaint[] = "node.kubernetes.io/unreachable";

struct NodeHealthChange {
  std::optional<Json> spec;    // the node's new spec (taints), when it changes
  std::optional<Json> status;  // the node's new status (conditions), when it changes
};

// `lastRenew`: the Lease's spec.renewTime (nullopt when the node has no Lease:
// then the node's creation time counts). Empty change when nothing is due.
NodeHealthChange checkNodeHealth(const Json& node, std::optional<TimePoint> lastRenew, TimePoint now,
                                 std::chrono::seconds grace = kNodeMonitorGracePeriod);

}  // namespace nanokube::controllers
