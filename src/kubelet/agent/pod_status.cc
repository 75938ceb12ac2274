#include "kubelet/agent/pod_status.h"

#include <algorithm>

#include <fmt/format.h>

#include "api/defaults.h"
#include "api/object.h"

namespace nanokube::kubelet {

std::string podPhase(const Json& pod, const std::vector<ContainerObservation>& containers) {
  int waiting = 0, running = 0, stopped = 0, succeeded = 0;
  for (const auto& c : containers) {
    switch (c.state) {
      case ContainerObservation::State::kRunning: ++running; break;
      case ContainerObservation::State::kTerminated:
        ++stopped;
        if (c.terminated && c.terminated->exitCode == 0) ++succeeded;
        break;
      case ContainerObservation::State::kWaiting:
        if (c.lastTerminated) ++stopped;
        else ++waiting;
        break;
    }
  }
  if (waiting > 0 || containers.empty()) return "Pending";
  if (running > 0) return "Running";
  std::string policy = api::stringAt(pod, {"spec", "restartPolicy"});
  if (policy.empty() || policy == "Always") return "Running";
  if (stopped == succeeded) return "Succeeded";
  if (policy == "Never") return "Failed";
  return "Running";  // OnFailure: the failed ones restart
}

namespace {

Json terminatedJson(const TerminatedState& t) {
  Json j = {{"exitCode", t.exitCode}, {"reason", t.reason}, {"startedAt", t.startedAt}, {"finishedAt", t.finishedAt}};
  if (t.signal != 0) j["signal"] = t.signal;
  if (!t.message.empty()) j["message"] = t.message;
  if (!t.containerId.empty()) j["containerID"] = t.containerId;
  if (t.startedAt.empty()) j["startedAt"] = nullptr;
  return j;
}

Json condition(const char* type, bool value, const std::string& now, const Json& old, std::string reason = {},
               std::string message = {}) {
  Json c = {{"type", type}, {"status", value ? "True" : "False"}, {"lastProbeTime", nullptr}};
  std::string transition = now;
  if (old.is_array()) {
    for (const auto& o : old) {
      if (o.value("type", "") == type && o.value("status", "") == c["status"] && o.contains("lastTransitionTime")) {
        transition = o["lastTransitionTime"].is_string() ? o["lastTransitionTime"].get<std::string>() : now;
      }
    }
  }
  c["lastTransitionTime"] = transition;
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  return c;
}

}  // namespace

Json containerStatusJson(const ContainerObservation& c) {
  Json state;
  switch (c.state) {
    case ContainerObservation::State::kWaiting: {
      Json w = {{"reason", c.waitingReason}};
      if (!c.waitingMessage.empty()) w["message"] = c.waitingMessage;
      state = {{"waiting", w}};
      break;
    }
    case ContainerObservation::State::kRunning:
      state = {{"running", {{"startedAt", c.startedAt}}}};
      break;
    case ContainerObservation::State::kTerminated:
      state = {{"terminated", terminatedJson(c.terminated.value_or(TerminatedState{}))}};
      break;
  }
  Json j = {{"name", c.name},
            {"state", state},
            {"lastState", c.lastTerminated ? Json{{"terminated", terminatedJson(*c.lastTerminated)}} : Json::object()},
            {"ready", c.ready},
            {"restartCount", c.restartCount},
            {"image", c.image},
            {"imageID", c.imageId},
            {"started", c.state == ContainerObservation::State::kRunning && c.started}};
  if (!c.containerId.empty()) j["containerID"] = c.containerId;
  return j;
}

Json podStatus(const Json& pod, const PodObservation& obs, const std::string& now) {
  Json old = pod.contains("status") && pod["status"].is_object() ? pod["status"] : Json::object();
  Json oldConditions = old.value("conditions", Json::array());
  Json status = old;  // keeps fields others own (nominatedNodeName, ...)

  std::string phase = podPhase(pod, obs.containers);
  std::string oldPhase = old.value("phase", "");
  if (oldPhase == "Succeeded" || oldPhase == "Failed") phase = oldPhase;  // terminal stays terminal
  status["phase"] = phase;

  std::vector<std::string> unready;
  for (const auto& c : obs.containers) {
    if (!c.ready) unready.push_back(c.name);
  }
  bool allReady = unready.empty() && !obs.containers.empty();
  std::string reason, message;
  if (!allReady) {
    reason = "ContainersNotReady";
    std::string names;
    for (const auto& n : unready) names += (names.empty() ? "" : " ") + n;
    message = fmt::format("containers with unready status: [{}]", names);
  }
  if (phase == "Succeeded" || phase == "Failed") {
    reason = "PodCompleted";
    message.clear();
  }
  bool running = phase == "Running" || phase == "Pending";
  Json conditions = Json::array();
  conditions.push_back(condition("PodReadyToStartContainers", obs.sandboxReady && running, now, oldConditions));
  conditions.push_back(condition("Initialized", true, now, oldConditions, phase == "Succeeded" || phase == "Failed" ? "PodCompleted" : ""));
  conditions.push_back(condition("Ready", allReady, now, oldConditions, reason, message));
  conditions.push_back(condition("ContainersReady", allReady, now, oldConditions, reason, message));
  bool scheduledKept = false;
  for (const auto& o : oldConditions) {
    if (o.value("type", "") == "PodScheduled") {
      conditions.push_back(o);
      scheduledKept = true;
    }
  }
  if (!scheduledKept) conditions.push_back(condition("PodScheduled", true, now, oldConditions));
  status["conditions"] = conditions;

  if (!obs.hostIp.empty()) {
    status["hostIP"] = obs.hostIp;
    status["hostIPs"] = Json::array({{{"ip", obs.hostIp}}});
  }
  if (!obs.podIp.empty()) {
    status["podIP"] = obs.podIp;
    status["podIPs"] = Json::array({{{"ip", obs.podIp}}});
  }
  if (!old.contains("startTime") && !obs.startTime.empty()) status["startTime"] = obs.startTime;

  std::vector<ContainerObservation> sorted = obs.containers;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  Json statuses = Json::array();
  for (const auto& c : sorted) statuses.push_back(containerStatusJson(c));
  status["containerStatuses"] = statuses;
  status["qosClass"] = api::podQosClass(pod);
  return status;
}

}  // namespace nanokube::kubelet
