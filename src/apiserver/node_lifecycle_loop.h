#pragma once
// The node lifecycle controller, inside the server: every few seconds it
// compares each Node with its Lease (kube-node-lease/<name>) and applies
// controllers::checkNodeHealth: conditions Unknown and the unreachable
// taints when the agent stopped renewing, the taints gone once it reports
// Ready again. Eviction of the pods of an unreachable node is not done.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "apiserver/registry.h"

namespace nanokube::apiserver {

class NodeLifecycleLoop {
 public:
  explicit NodeLifecycleLoop(Registry& registry, std::chrono::milliseconds period = std::chrono::seconds(5))
      : registry_(registry), period_(period) {}
  ~NodeLifecycleLoop();
  void start();
  // One pass over the nodes (the loop's body; tests call it).
  void checkOnce();

 private:
  Registry& registry_;
  std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nanokube::apiserver
