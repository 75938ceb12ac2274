#include "apiserver/scheduler_loop.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/object.h"
#include "scheduler/scheduler.h"

namespace nanokube::apiserver {

namespace {

using SteadyClock = std::chrono::steady_clock;

const api::ResourceInfo& res(const char* plural) { return *api::findResource("", "v1", plural); }

std::string keyOf(const Json& pod) { return api::namespaceOf(pod) + "/" + api::nameOf(pod); }

// Whether the scheduler should place this pod (the scheduler's pod informer
// filter and skipPodSchedule in pkg/scheduler).
bool wantsScheduling(const Json& pod) {
  if (!api::strField(pod, "spec", "nodeName").empty()) return false;
  if (pod.contains("metadata") && pod["metadata"].contains("deletionTimestamp")) return false;
  std::string scheduler = api::strField(pod, "spec", "schedulerName");
  if (!scheduler.empty() && scheduler != scheduler::kDefaultScheduler) return false;
  std::string phase = api::strField(pod, "status", "phase");
  return phase != "Succeeded" && phase != "Failed";
}

// What a pod update may change about its own fit; status writes (our own
// PodScheduled condition among them) do not count (isPodUpdated in
// pkg/scheduler/eventhandlers.go strips status and resourceVersion).
Json schedulingView(const Json& pod) {
  Json v = {{"spec", pod.value("spec", Json())}};
  if (pod.contains("metadata") && pod["metadata"].is_object()) {
    v["labels"] = pod["metadata"].value("labels", Json());
    v["annotations"] = pod["metadata"].value("annotations", Json());
  }
  return v;
}

// What of a node the filters read (the node events the scheduler's queue
// reacts to in pkg/scheduler/eventhandlers.go: labels, taints, schedulability,
// allocatable, conditions).
Json nodeView(const Json& node) {
  Json v = {{"spec", node.value("spec", Json())}};
  if (node.contains("metadata") && node["metadata"].is_object()) v["labels"] = node["metadata"].value("labels", Json());
  if (node.contains("status") && node["status"].is_object()) {
    v["allocatable"] = node["status"].value("allocatable", Json());
    for (const auto& c : node["status"].value("conditions", Json::array())) {
      if (c.is_object() && c.value("type", Json()) == Json("Ready")) v["ready"] = c.value("status", Json());
    }
  }
  return v;
}

}  // namespace

SchedulerLoop::SchedulerLoop(Registry& registry, Options options)
    : registry_(registry), options_(options), rng_(options.seed) {}

SchedulerLoop::~SchedulerLoop() {
  podWatch_.reset();
  nodeWatch_.reset();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

Result<void> SchedulerLoop::start() {
  int64_t rev = 0;
  // Nodes first, so that the pods replayed next find them in the cache.
  auto nodes = registry_.watch(res("nodes"), "", {}, [this](const char* type, const SharedObject& obj) {
    push(false, type, obj);
  }, rev);
  if (!nodes) return std::unexpected(nodes.error());
  nodeWatch_ = std::move(*nodes);
  auto pods = registry_.watch(res("pods"), "", {}, [this](const char* type, const SharedObject& obj) {
    push(true, type, obj);
  }, rev);
  if (!pods) return std::unexpected(pods.error());
  podWatch_ = std::move(*pods);
  worker_ = std::thread([this] { run(); });
  return {};
}

// The watch sink: queue only (the sink must not call back into the registry).
void SchedulerLoop::push(bool pod, const char* type, const SharedObject& object) {
  {
    std::lock_guard lock(mu_);
    events_.push_back(Event{pod, type, object});
  }
  cv_.notify_one();
}

void SchedulerLoop::run() {
  for (;;) {
    std::deque<Event> batch;
    {
      std::unique_lock lock(mu_);
      auto next = SteadyClock::time_point::max();
      for (const auto& [key, p] : pending_) next = std::min(next, p.readyAt);
      auto wake = [&] { return stopping_ || !events_.empty(); };
      if (next == SteadyClock::time_point::max()) cv_.wait(lock, wake);
      else cv_.wait_until(lock, next, wake);
      if (stopping_) return;
      batch.swap(events_);
    }
    for (const auto& ev : batch) {
      try {
        apply(ev);
      } catch (const std::exception& e) {
        spdlog::warn("scheduler: ignoring a {} event: {}", ev.pod ? "pod" : "node", e.what());
      }
    }
    // One pass over the keys due now; the next pass comes after any new events.
    auto now = SteadyClock::now();
    std::vector<std::string> due;
    for (const auto& [key, p] : pending_) {
      if (p.readyAt <= now) due.push_back(key);
    }
    for (const auto& key : due) {
      try {
        schedule(key);
      } catch (const std::exception& e) {
        // Never take the server down for one bad pod: back off and retry.
        spdlog::warn("scheduler: {}: {}", key, e.what());
        markUnschedulable(key, Json(), "");
      }
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
  }
}

void SchedulerLoop::apply(const Event& ev) {
  const Json& obj = ev.object.object();
  bool deleted = ev.type == "DELETED";
  if (!ev.pod) {
    std::string name = api::nameOf(obj);
    auto old = nodes_.find(name);
    bool relevant = deleted || old == nodes_.end() || nodeView(old->second) != nodeView(obj);
    if (deleted) nodes_.erase(name);
    else nodes_[name] = obj;
    // A node came, went or changed in a way that matters: pods that did not
    // fit may now. Heartbeat-only status writes do not count.
    if (relevant) retryUnschedulable();
    return;
  }
  // A pod that holds a node's resources: bound and not finished.
  auto holdsNode = [](const Json& p) {
    std::string phase = api::strField(p, "status", "phase");
    return !api::strField(p, "spec", "nodeName").empty() && phase != "Succeeded" && phase != "Failed";
  };
  std::string key = keyOf(obj);
  auto old = pods_.find(key);
  bool held = old != pods_.end() && holdsNode(old->second);
  bool changed = old == pods_.end() || schedulingView(old->second) != schedulingView(obj);
  if (deleted) {
    pods_.erase(key);
    pending_.erase(key);
    std::string prefix = api::strField(obj, "metadata", "uid") + "/";
    failedEvents_.erase(failedEvents_.lower_bound(prefix), failedEvents_.lower_bound(prefix + "\xff"));
  } else {
    pods_[key] = obj;
  }
  // A pod leaving a node frees its resources and ports.
  if (held && (deleted || !holdsNode(obj))) retryUnschedulable();
  if (deleted) return;
  if (!wantsScheduling(obj)) {
    pending_.erase(key);
    return;
  }
  auto it = pending_.find(key);
  if (it == pending_.end()) {
    pending_[key] = Pending{SteadyClock::now(), SteadyClock::now(), std::chrono::milliseconds(0), false};
  } else if (changed) {
    // The pod itself changed (say, a toleration added): try again at once.
    it->second.readyAt = SteadyClock::now();
  }
}

// A cluster change: every pod that did not fit is due again, but not before
// its back-off ends (movePodsToActiveOrBackoffQueue).
void SchedulerLoop::retryUnschedulable() {
  for (auto& [key, p] : pending_) {
    if (!p.unschedulable) continue;
    p.unschedulable = false;
    p.readyAt = std::max(SteadyClock::now(), p.backoffUntil);
  }
}

void SchedulerLoop::schedule(const std::string& key) {
  auto it = pods_.find(key);
  if (it == pods_.end() || !wantsScheduling(it->second)) {
    pending_.erase(key);
    return;
  }
  const Json pod = it->second;
  if (nodes_.empty()) {
    // No node at all: the pod waits for the first one without a write.
    // Kubernetes would record "no nodes available to schedule pods"; nanokube
    // also runs as a bare API server (no agents), where pods must stay as
    // created, so the verdict is kept for when nodes exist.
    auto& p = pending_[key];
    p.unschedulable = true;
    p.readyAt = SteadyClock::time_point::max();
    return;
  }
  std::vector<Json> nodes, bound;
  nodes.reserve(nodes_.size());
  for (const auto& [name, node] : nodes_) nodes.push_back(node);
  for (const auto& [k, p] : pods_) {
    if (!api::strField(p, "spec", "nodeName").empty()) bound.push_back(p);
  }
  auto choice = scheduler::chooseNode(pod, nodes, bound, rng_());
  if (!choice) {
    if (choice.error().code != Code::kUnavailable) {
      spdlog::warn("scheduler: {}: {}", key, choice.error().message);
      markUnschedulable(key, Json(), "");
      return;
    }
    markUnschedulable(key, pod, choice.error().message);
    return;
  }
  Json binding = {{"metadata", {{"name", api::nameOf(pod)}, {"uid", api::strField(pod, "metadata", "uid")}}},
                  {"target", {{"kind", "Node"}, {"name", *choice}}}};
  auto boundPod = registry_.bindPod(api::namespaceOf(pod), binding);
  if (!boundPod) {
    Code code = boundPod.error().code;
    if (code == Code::kConflict || code == Code::kNotFound) {
      // Bound by someone else, being deleted, or gone: the watch brings the
      // truth; nothing to retry.
      spdlog::info("scheduler: {}: {}", key, boundPod.error().message);
      pending_.erase(key);
      return;
    }
    spdlog::warn("scheduler: binding {} to {}: {}", key, *choice, boundPod.error().message);
    markUnschedulable(key, Json(), "");
    return;
  }
  // Assume the binding in the cache at once (the scheduler cache's AssumePod),
  // so the next pod sees this one's requests and ports before the watch event.
  pods_[key] = *boundPod;
  pending_.erase(key);
  // The message of pkg/scheduler/schedule_one.go handleSchedulingSuccess.
  recordEvent(*boundPod, "Normal", "Scheduled",
              fmt::format("Successfully assigned {}/{} to {}", api::namespaceOf(pod), api::nameOf(pod), *choice));
}

// A pod that did not fit (or could not be bound): back off, then wait for a
// cluster change or the flush. With a message, the pod also gets its
// FailedScheduling event and PodScheduled False.
void SchedulerLoop::markUnschedulable(const std::string& key, const Json& pod, const std::string& message) {
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  Pending& p = it->second;
  p.backoff = p.backoff.count() == 0 ? options_.initialBackoff : std::min(p.backoff * 2, options_.maxBackoff);
  auto now = SteadyClock::now();
  p.backoffUntil = now + p.backoff;
  if (message.empty()) {
    // An error of ours, not of the pod: plain back-off.
    p.readyAt = p.backoffUntil;
    p.unschedulable = false;
    return;
  }
  p.readyAt = now + std::max(options_.unschedulableFlush, p.backoff);
  p.unschedulable = true;
  recordEvent(pod, "Warning", "FailedScheduling", message);
  setUnschedulableCondition(pod, message);
}

void SchedulerLoop::setUnschedulableCondition(const Json& pod, const std::string& message) {
  std::string ns = api::namespaceOf(pod), name = api::nameOf(pod);
  auto current = registry_.get(res("pods"), ns, name);
  if (!current) return;
  if (api::strField(*current, "metadata", "uid") != api::strField(pod, "metadata", "uid")) return;
  Json next = *current;
  if (!next.contains("status") || !next["status"].is_object()) next["status"] = Json::object();
  Json& conditions = next["status"]["conditions"];
  if (!conditions.is_array()) conditions = Json::array();
  Json* cond = nullptr;
  for (auto& c : conditions) {
    if (c.is_object() && c.value("type", Json()) == Json("PodScheduled")) cond = &c;
  }
  if (cond == nullptr) {
    conditions.push_back(Json::object());
    cond = &conditions.back();
  }
  // podutil.UpdatePodCondition: no write when nothing changes, and the
  // transition time moves only with the status.
  Json want = {{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"}, {"message", message},
               {"lastProbeTime", nullptr}};
  bool sameStatus = cond->value("status", Json()) == Json("False");
  want["lastTransitionTime"] = sameStatus && cond->contains("lastTransitionTime") ? (*cond)["lastTransitionTime"]
                                                                                 : Json(formatRfc3339(registry_.now()));
  if (*cond == want) return;
  *cond = want;
  // Guarded by the resourceVersion just read: a concurrent write (a binding
  // among them) wins, and the next attempt sees it.
  auto w = registry_.update(res("pods"), ns, name, next, {}, "status");
  if (!w && w.error().code != Code::kConflict && w.error().code != Code::kNotFound) {
    spdlog::warn("scheduler: status of {}/{}: {}", ns, name, w.error().message);
  }
}

// A core/v1 Event as client-go's recorder writes it (tools/record/event.go):
// named <object>.<hex nanoseconds>, repeats of the same event counted on the
// first one (events_cache.go's correlator).
void SchedulerLoop::recordEvent(const Json& pod, const std::string& type, const std::string& reason,
                                const std::string& message) {
  std::string ns = api::namespaceOf(pod), name = api::nameOf(pod), uid = api::strField(pod, "metadata", "uid");
  std::string now = formatRfc3339(registry_.now());
  const auto& events = res("events");
  std::string dedupe = uid + "/" + reason + "/" + message;
  if (auto seen = failedEvents_.find(dedupe); seen != failedEvents_.end()) {
    auto ev = registry_.get(events, ns, seen->second);
    if (ev) {
      Json next = *ev;
      next["count"] = next.value("count", 1) + 1;
      next["lastTimestamp"] = now;
      next["involvedObject"]["resourceVersion"] = api::strField(pod, "metadata", "resourceVersion");
      if (registry_.update(events, ns, seen->second, next, {})) return;
    }
    failedEvents_.erase(seen);
  }
  int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(registry_.now().time_since_epoch()).count();
  lastEventNanos_ = std::max(nanos, lastEventNanos_ + 1);  // unique even under a frozen clock
  std::string eventName = fmt::format("{}.{:x}", name, lastEventNanos_);
  Json ev = {{"metadata", {{"name", eventName}, {"namespace", ns}}},
             {"involvedObject",
              {{"kind", "Pod"},
               {"namespace", ns},
               {"name", name},
               {"uid", uid},
               {"apiVersion", "v1"},
               {"resourceVersion", api::strField(pod, "metadata", "resourceVersion")}}},
             {"reason", reason},
             {"message", message},
             {"source", {{"component", scheduler::kDefaultScheduler}}},
             {"firstTimestamp", now},
             {"lastTimestamp", now},
             {"count", 1},
             {"type", type},
             {"reportingComponent", scheduler::kDefaultScheduler},
             {"reportingInstance", ""}};
  auto w = registry_.create(events, ns, std::move(ev), {});
  if (!w) {
    spdlog::warn("scheduler: event {} for {}/{}: {}", reason, ns, name, w.error().message);
    return;
  }
  if (type == "Warning") failedEvents_[dedupe] = eventName;
}

}  // namespace nanokube::apiserver
