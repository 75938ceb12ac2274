#pragma once
// The status the agent reports for a pod, computed from what it observed:
// phase, conditions and containerStatuses as the kubelet computes them
// (pkg/kubelet/kubelet_pods.go generateAPIPodStatus, getPhase). Pure.

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace nanokube::kubelet {

struct TerminatedState {
  int exitCode = 0;
  int signal = 0;
  std::string reason;   // Completed, Error, StartError, OOMKilled
  std::string message;
  std::string startedAt, finishedAt;  // RFC 3339
  std::string containerId;            // "nanokube://<id>"
};

struct ContainerObservation {
  std::string name;
  std::string image;    // as the status shows it: the image reference
  std::string imageId;  // empty until the image is resolved
  std::string containerId;
  enum class State { kWaiting, kRunning, kTerminated } state = State::kWaiting;
  std::string waitingReason = "ContainerCreating";
  std::string waitingMessage;
  std::string startedAt;                  // kRunning
  std::optional<TerminatedState> terminated;      // kTerminated
  std::optional<TerminatedState> lastTerminated;  // the run before
  int restartCount = 0;
  bool ready = false;
  bool started = false;
};

struct PodObservation {
  bool sandboxReady = false;
  std::string podIp;
  std::string hostIp;
  std::string startTime;
  std::vector<ContainerObservation> containers;  // in spec order
};

// The kubelet's getPhase over the containers' states and the pod's
// restartPolicy: Pending while one waits without having run, Running while
// one runs, Succeeded/Failed once all have stopped for good.
std::string podPhase(const Json& pod, const std::vector<ContainerObservation>& containers);

// One entry of status.containerStatuses.
Json containerStatusJson(const ContainerObservation& c);

// The pod's whole status. Conditions keep their lastTransitionTime from the
// pod's current status while their value does not change; PodScheduled and
// anything the agent does not own (nominatedNodeName, ...) is kept. `now` is
// the RFC 3339 time of this computation.
Json podStatus(const Json& pod, const PodObservation& obs, const std::string& now);

}  // namespace nanokube::kubelet
