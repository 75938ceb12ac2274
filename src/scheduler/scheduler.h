#pragma once
// Pure scheduling decisions: which node a pod goes to, or why none fits, with
// the filters, scores and messages of Kubernetes' default scheduler profile
// (pkg/scheduler/framework/plugins). No I/O: the loop that watches pods and
// nodes and writes bindings and events lives in the API server
// (apiserver/scheduler_loop.h).

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace nanokube::scheduler {

// The scheduler's name in events (source.component, reportingComponent) and the
// pod field spec.schedulerName it answers to.
inline constexpr const char* kDefaultScheduler = "default-scheduler";

// CPU in millicores, memory in bytes, as the scheduler's framework.Resource.
struct Resources {
  int64_t milliCpu = 0;
  int64_t memory = 0;
};

// A pod's requests as Kubernetes computes them (resourcehelper.PodRequests):
// the sum over containers, raised to the largest init container, plus
// spec.overhead. A container with limits and no requests requests its limits.
Resources podRequests(const Json& pod);

// Whether the pod tolerates the taint (v1.Toleration.ToleratesTaint).
bool toleratesTaint(const Json& tolerations, const Json& taint);

// The taints the scheduler sees on a node: spec.taints, plus the NoSchedule
// taint the node lifecycle controller would add for a Ready condition that is
// not True (node.kubernetes.io/not-ready when False, .../unreachable when
// Unknown or missing; pkg/controller/nodelifecycle), since nanokube's node
// lifecycle runs no tainting pass of its own.
Json effectiveTaints(const Json& node);

// Picks the node for `pod` among `nodes`. `podsOnNodes` are the pods already
// bound to a node (spec.nodeName set); terminal ones (Succeeded/Failed) are
// ignored. Among the best-scoring nodes the one at `seed` modulo their count
// (ordered by name) wins, so the choice is deterministic for a given seed.
//
// When no node fits the error has Code::kUnavailable and the message
// Kubernetes puts in the FailedScheduling event and the PodScheduled condition
// (FitError.Error() in pkg/scheduler/framework/types.go), e.g.
//   0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's
//   node affinity/selector. preemption: 0/2 nodes are available: 1 No preemption
//   victims found for incoming pod, 1 Preemption is not helpful for scheduling.
// Input that is not a pod gives Code::kBadRequest.
Result<std::string> chooseNode(const Json& pod, const std::vector<Json>& nodes,
                               const std::vector<Json>& podsOnNodes, uint64_t seed = 0);

}  // namespace nanokube::scheduler
