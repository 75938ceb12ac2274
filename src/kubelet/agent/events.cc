#include "kubelet/agent/events.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/object.h"

namespace nanokube::kubelet {

Json podEvent(const Json& pod, std::string_view fieldPath, std::string_view type, std::string_view reason,
              const std::string& message, const std::string& nodeName, const std::string& name,
              const std::string& now) {
  Json involved = {{"kind", "Pod"},
                   {"apiVersion", "v1"},
                   {"namespace", api::stringAt(pod, {"metadata", "namespace"})},
                   {"name", api::stringAt(pod, {"metadata", "name"})},
                   {"uid", api::stringAt(pod, {"metadata", "uid"})},
                   {"resourceVersion", api::stringAt(pod, {"metadata", "resourceVersion"})}};
  if (!fieldPath.empty()) involved["fieldPath"] = fieldPath;
  return {{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata", {{"name", name}, {"namespace", api::stringAt(pod, {"metadata", "namespace"})}}},
          {"involvedObject", involved},
          {"reason", reason},
          {"message", message},
          {"source", {{"component", "kubelet"}, {"host", nodeName}}},
          {"firstTimestamp", now},
          {"lastTimestamp", now},
          {"count", 1},
          {"type", type},
          {"eventTime", nullptr},
          {"reportingComponent", "kubelet"},
          {"reportingInstance", nodeName}};
}

void EventRecorder::record(const Json& pod, std::string_view fieldPath, std::string_view type,
                           std::string_view reason, const std::string& message) {
  std::string uid = api::stringAt(pod, {"metadata", "uid"});
  std::string ns = api::stringAt(pod, {"metadata", "namespace"});
  std::string key = fmt::format("{}|{}|{}|{}", uid, fieldPath, reason, message);
  auto now = clock_();
  std::string nowText = formatRfc3339(now);
  std::string name;
  int count = 0;
  {
    std::lock_guard lock(mu_);
    auto& s = seen_[key];
    if (s.count == 0) {
      s.ns = ns;
      s.name = fmt::format("{}.{:x}{:04x}", api::stringAt(pod, {"metadata", "name"}),
                           std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count(),
                           seq_++ & 0xffff);
    }
    count = ++s.count;
    name = s.name;
  }
  if (count == 1) {
    auto r = client_.create(client::apiPath("v1", "events", ns),
                            podEvent(pod, fieldPath, type, reason, message, nodeName_, name, nowText));
    if (!r) spdlog::warn("event {} {}: {}", reason, name, r.error().message);
    return;
  }
  auto r = client_.patch(client::apiPath("v1", "events", ns, name), client::PatchType::kMerge,
                         {{"count", count}, {"lastTimestamp", nowText}});
  if (!r) spdlog::warn("event {} {}: {}", reason, name, r.error().message);
}

void EventRecorder::forget(const std::string& podUid) {
  std::lock_guard lock(mu_);
  for (auto it = seen_.begin(); it != seen_.end();) {
    if (it->first.starts_with(podUid + "|")) it = seen_.erase(it);
    else ++it;
  }
}

}  // namespace nanokube::kubelet
