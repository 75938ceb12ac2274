#pragma once
// Events about pods, as the kubelet's recorder writes them (core/v1 Event,
// source.component "kubelet"). A repeat of the same event for the same object
// bumps count and lastTimestamp instead of making a new Event, as client-go's
// event correlator does.

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "client/api_client.h"
#include "common/time.h"

namespace nanokube::kubelet {

class EventRecorder {
 public:
  EventRecorder(client::ApiClient& client, std::string nodeName, Clock clock = systemNow)
      : client_(client), nodeName_(std::move(nodeName)), clock_(std::move(clock)) {}

  // type: "Normal" or "Warning". fieldPath: "spec.containers{name}" or "".
  // Failures are logged, never returned: an event is best effort.
  void record(const Json& pod, std::string_view fieldPath, std::string_view type, std::string_view reason,
              const std::string& message);

  // Forgets the pod's events (after it is gone).
  void forget(const std::string& podUid);

 private:
  struct Seen {
    std::string ns, name;
    int count = 0;
  };
  client::ApiClient& client_;
  std::string nodeName_;
  Clock clock_;
  std::mutex mu_;
  std::map<std::string, Seen> seen_;  // uid|fieldPath|reason|message
  uint64_t seq_ = 0;
};

// The event object for a pod. Pure.
Json podEvent(const Json& pod, std::string_view fieldPath, std::string_view type, std::string_view reason,
              const std::string& message, const std::string& nodeName, const std::string& name,
              const std::string& now);

}  // namespace nanokube::kubelet
