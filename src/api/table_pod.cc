// The pod row: a port of printPod in Kubernetes' pkg/printers/internalversion/printers.go.
// Its Status cell is the part users read most, so each branch below follows the Go
// code in the same order; comments name the Go condition where it is not obvious.

#include <cstdio>
#include <map>
#include <optional>

#include "api/table.h"
#include "api/table_internal.h"

namespace nanokube::api::table {

namespace {

using OptTime = std::optional<TimePoint>;

OptTime timeAt(const Json& obj, std::initializer_list<const char*> path) {
  const Json* v = at(obj, path);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return parseRfc3339(v->get<std::string>());
}

// lastRestartDate.Before(&terminatedDate) over possibly-zero times.
void keepLatest(OptTime& latest, const Json& status) {
  OptTime t = timeAt(status, {"lastState", "terminated", "finishedAt"});
  if (t && (!latest || *latest < *t)) latest = t;
}

bool hasCondition(const Json& pod, std::string_view type, std::string_view statusValue) {
  for (const auto& c : arr(pod, {"status", "conditions"})) {
    if (str(c, {"type"}) == type && str(c, {"status"}) == statusValue) return true;
  }
  return false;
}

std::string printf1(const char* format, long long v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// The reason a terminated container without a reason shows: Signal:N or ExitCode:N.
std::string terminatedCode(const Json& terminated, const char* prefix) {
  std::int64_t signal = num(terminated, {"signal"});
  std::string p(prefix);
  if (signal != 0) return p + printf1("Signal:%lld", signal);
  return p + printf1("ExitCode:%lld", num(terminated, {"exitCode"}));
}

struct PodTally {
  std::string reason;
  int ready = 0;
  int total = 0;
  long long restarts = 0;
  OptTime lastRestart;
};

// Walks the init container statuses; returns true while the pod is still initializing.
bool tallyInitContainers(const Json& pod, PodTally& t, long long& restartableRestarts,
                         OptTime& lastRestartableRestart) {
  std::map<std::string, bool> restartable;  // podutil.IsRestartableInitContainer
  const Json& specInit = arr(pod, {"spec", "initContainers"});
  for (const auto& c : specInit) {
    bool always = str(c, {"restartPolicy"}) == "Always";
    restartable[str(c, {"name"})] = always;
    if (always) ++t.total;
  }
  const Json& statuses = arr(pod, {"status", "initContainerStatuses"});
  for (size_t i = 0; i < statuses.size(); ++i) {
    const Json& cs = statuses[i];
    bool isRestartable = restartable[str(cs, {"name"})];
    t.restarts += num(cs, {"restartCount"});
    keepLatest(t.lastRestart, cs);
    if (isRestartable) {
      restartableRestarts += num(cs, {"restartCount"});
      keepLatest(lastRestartableRestart, cs);
    }
    const Json* terminated = at(cs, {"state", "terminated"});
    const Json* waiting = at(cs, {"state", "waiting"});
    if (terminated != nullptr && num(*terminated, {"exitCode"}) == 0) continue;
    if (isRestartable && flag(cs, {"started"})) {
      if (flag(cs, {"ready"})) ++t.ready;
      continue;
    }
    if (terminated != nullptr) {
      std::string r = str(*terminated, {"reason"});
      t.reason = r.empty() ? terminatedCode(*terminated, "Init:") : "Init:" + r;
    } else if (waiting != nullptr && !str(*waiting, {"reason"}).empty() &&
               str(*waiting, {"reason"}) != "PodInitializing") {
      t.reason = "Init:" + str(*waiting, {"reason"});
    } else {
      t.reason = "Init:" + std::to_string(i) + "/" + std::to_string(specInit.size());
    }
    return true;
  }
  return false;
}

void tallyContainers(const Json& pod, PodTally& t) {
  bool hasRunning = false;
  const Json& statuses = arr(pod, {"status", "containerStatuses"});
  // printPod walks the statuses from last to first, so the first container's reason wins.
  for (auto it = statuses.rbegin(); it != statuses.rend(); ++it) {
    const Json& cs = *it;
    t.restarts += num(cs, {"restartCount"});
    keepLatest(t.lastRestart, cs);
    const Json* terminated = at(cs, {"state", "terminated"});
    std::string waitingReason = str(cs, {"state", "waiting", "reason"});
    if (!waitingReason.empty()) {
      t.reason = waitingReason;
    } else if (terminated != nullptr && !str(*terminated, {"reason"}).empty()) {
      t.reason = str(*terminated, {"reason"});
    } else if (terminated != nullptr) {
      t.reason = terminatedCode(*terminated, "");
    } else if (flag(cs, {"ready"}) && at(cs, {"state", "running"}) != nullptr) {
      hasRunning = true;
      ++t.ready;
    }
  }
  // A pod whose sidecar or other container still runs after one completed is not "Completed".
  if (t.reason == "Completed" && hasRunning) {
    t.reason = hasCondition(pod, "Ready", "True") ? "Running" : "NotReady";
  }
}

}  // namespace

Json podCells(const Json& pod, TimePoint now) {
  PodTally t;
  t.total = static_cast<int>(arr(pod, {"spec", "containers"}).size());
  std::string phase = str(pod, {"status", "phase"});
  t.reason = str(pod, {"status", "reason"}).empty() ? phase : str(pod, {"status", "reason"});
  for (const auto& c : arr(pod, {"status", "conditions"})) {
    if (str(c, {"type"}) == "PodScheduled" && str(c, {"reason"}) == "SchedulingGated") {
      t.reason = "SchedulingGated";
    }
  }

  long long restartableRestarts = 0;
  OptTime lastRestartableRestart;
  bool initializing = tallyInitContainers(pod, t, restartableRestarts, lastRestartableRestart);
  if (!initializing || hasCondition(pod, "Initialized", "True")) {
    t.restarts = restartableRestarts;
    t.lastRestart = lastRestartableRestart;
    tallyContainers(pod, t);
  }

  bool deleting = at(pod, {"metadata", "deletionTimestamp"}) != nullptr &&
                  !pod["metadata"]["deletionTimestamp"].is_null();
  bool terminal = phase == "Succeeded" || phase == "Failed";
  if (deleting && str(pod, {"status", "reason"}) == "NodeLost") {
    t.reason = "Unknown";
  } else if (deleting && !terminal) {
    t.reason = "Terminating";
  }

  std::string restarts = std::to_string(t.restarts);
  if (t.restarts != 0 && t.lastRestart) {
    restarts += " (" + humanDuration(now - *t.lastRestart) + " ago)";
  }

  // Kubernetes converts a v1 pod with only status.podIP into podIPs=[podIP]
  // (Convert_v1_PodStatus_To_core_PodStatus), so fall back to it the same way.
  std::string ip = str(pod, {"status", "podIP"});
  const Json& podIPs = arr(pod, {"status", "podIPs"});
  if (!podIPs.empty()) ip = str(podIPs[0], {"ip"});
  std::string node = str(pod, {"spec", "nodeName"});
  std::string nominated = str(pod, {"status", "nominatedNodeName"});

  std::string gates = "<none>";
  const Json& readinessGates = arr(pod, {"spec", "readinessGates"});
  if (!readinessGates.empty()) {
    int trueCount = 0;
    for (const auto& g : readinessGates) {
      for (const auto& c : arr(pod, {"status", "conditions"})) {
        if (str(c, {"type"}) != str(g, {"conditionType"})) continue;
        if (str(c, {"status"}) == "True") ++trueCount;
        break;
      }
    }
    gates = std::to_string(trueCount) + "/" + std::to_string(readinessGates.size());
  }

  return Json::array({str(pod, {"metadata", "name"}),
                      std::to_string(t.ready) + "/" + std::to_string(t.total), t.reason,
                      restarts, age(pod, now), ip.empty() ? "<none>" : ip,
                      node.empty() ? "<none>" : node, nominated.empty() ? "<none>" : nominated,
                      gates});
}

// printers.go podSuccessConditions / podFailedConditions.
Json podConditions(const Json& pod) {
  std::string phase = str(pod, {"status", "phase"});
  if (phase == "Succeeded") {
    return Json::array({{{"type", "Completed"},
                         {"status", "True"},
                         {"reason", "Succeeded"},
                         {"message", "The pod has completed successfully."}}});
  }
  if (phase == "Failed") {
    return Json::array({{{"type", "Completed"},
                         {"status", "True"},
                         {"reason", "Failed"},
                         {"message", "The pod failed."}}});
  }
  return nullptr;
}

}  // namespace nanokube::api::table
