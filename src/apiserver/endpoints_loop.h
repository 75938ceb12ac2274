#pragma once
// The endpoints and EndpointSlice controllers, run inside the server process over
// the registry: level-triggered, one reconcile per Service key, the desired state
// from controllers/endpoints.h.

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "apiserver/registry.h"

namespace nanokube::apiserver {

class EndpointsLoop {
 public:
  explicit EndpointsLoop(Registry& registry);
  ~EndpointsLoop();

  // Watches Services and Pods and starts the worker; every existing Service is
  // reconciled once at start.
  Result<void> start();

  // Brings the Endpoints and EndpointSlice of one Service ("ns/name") up to date.
  // Exposed for tests.
  Result<void> reconcile(const std::string& key);

 private:
  void enqueue(const std::string& key);
  void run();

  Registry& registry_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> queued_;
  std::map<std::string, std::set<std::string>> servicesByNamespace_;  // what pod events fan out to
  bool stopping_ = false;
  std::unique_ptr<store::Watch> services_, pods_;
  std::thread worker_;
};

}  // namespace nanokube::apiserver
