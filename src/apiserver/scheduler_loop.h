#pragma once
// The scheduler, run inside the server process over the registry: it watches
// pods and nodes (Registry::watch, in-process), keeps them in a cache, and for
// every pod of spec.schedulerName default-scheduler that has no node and is not
// being deleted it picks a node (scheduler::chooseNode), binds the pod
// (Registry::bindPod: spec.nodeName and PodScheduled True) and records the
// `Scheduled` event; a pod no node fits gets PodScheduled False (Unschedulable)
// and a `FailedScheduling` event, and is retried with back-off and whenever a
// node or a bound pod changes (pkg/scheduler/schedule_one.go and the
// scheduling queue in pkg/scheduler/backend/queue).
//
// Level-triggered: events only update the cache and queue pod keys; one worker
// thread schedules a key from what the cache says at that moment.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "apiserver/registry.h"

namespace nanokube::apiserver {

class SchedulerLoop {
 public:
  struct Options {
    uint64_t seed = std::random_device{}();  // tie-break among equally good nodes
    // Back-off of a pod that did not fit: doubled per attempt, as
    // podInitialBackoffSeconds / podMaxBackoffSeconds (1 s / 10 s).
    std::chrono::milliseconds initialBackoff{1000};
    std::chrono::milliseconds maxBackoff{10000};
    // How long a pod that did not fit waits without any cluster change before
    // it is tried again (podMaxInUnschedulablePodsDuration, 5 min upstream).
    std::chrono::milliseconds unschedulableFlush{60000};
  };

  explicit SchedulerLoop(Registry& registry) : SchedulerLoop(registry, Options{}) {}
  SchedulerLoop(Registry& registry, Options options);
  ~SchedulerLoop();

  // Watches pods and nodes and starts the worker; pending pods that exist are
  // scheduled at once.
  Result<void> start();

 private:
  struct Event {
    bool pod;  // else a node
    std::string type;
    SharedObject object;
  };
  // A pod waiting to be (re)scheduled. One that did not fit waits for a
  // cluster change (then goes again once its back-off is over) or, at the
  // latest, for the periodic flush.
  struct Pending {
    std::chrono::steady_clock::time_point readyAt;
    std::chrono::steady_clock::time_point backoffUntil;
    std::chrono::milliseconds backoff{0};
    bool unschedulable = false;
  };

  void push(bool pod, const char* type, const SharedObject& object);
  void run();
  void apply(const Event& ev);
  void retryUnschedulable();
  // Schedules one pod ("ns/name") from the cache.
  void schedule(const std::string& key);
  void markUnschedulable(const std::string& key, const Json& pod, const std::string& message);
  void recordEvent(const Json& pod, const std::string& type, const std::string& reason, const std::string& message);
  void setUnschedulableCondition(const Json& pod, const std::string& message);

  Registry& registry_;
  Options options_;
  std::mt19937_64 rng_;

  std::mutex mu_;  // guards events_ and stopping_
  std::condition_variable cv_;
  std::deque<Event> events_;
  bool stopping_ = false;

  // Worker-thread state.
  std::map<std::string, Json> pods_;   // "ns/name" -> pod
  std::map<std::string, Json> nodes_;  // name -> node
  std::map<std::string, Pending> pending_;
  // FailedScheduling events already recorded, by pod uid and message, so that a
  // repeat bumps count and lastTimestamp (the core/v1 event correlator).
  std::map<std::string, std::string> failedEvents_;
  int64_t lastEventNanos_ = 0;

  std::unique_ptr<store::Watch> podWatch_, nodeWatch_;
  std::thread worker_;
};

}  // namespace nanokube::apiserver
