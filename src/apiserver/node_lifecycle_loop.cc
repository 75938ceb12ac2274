#include "apiserver/node_lifecycle_loop.h"

#include <map>

#include <spdlog/spdlog.h>

#include "api/object.h"
#include "api/resources.h"
#include "controllers/node_lifecycle.h"

namespace nanokube::apiserver {

NodeLifecycleLoop::~NodeLifecycleLoop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NodeLifecycleLoop::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, period_, [this] { return stopping_; })) {
      lock.unlock();
      checkOnce();
      lock.lock();
    }
  });
}

void NodeLifecycleLoop::checkOnce() {
  const auto& nodesRes = *api::findResource("", "v1", "nodes");
  const auto& leasesRes = *api::findResource("coordination.k8s.io", "v1", "leases");
  auto nodes = registry_.list(nodesRes, "", {});
  auto leases = registry_.list(leasesRes, "kube-node-lease", {});
  if (!nodes || !leases) return;
  std::map<std::string, TimePoint> renewed;
  for (const auto& l : (*leases)["items"]) {
    if (auto t = parseRfc3339(api::stringAt(l, {"spec", "renewTime"}))) renewed[api::stringAt(l, {"metadata", "name"})] = *t;
  }
  for (const auto& node : (*nodes)["items"]) {
    std::string name = api::stringAt(node, {"metadata", "name"});
    auto it = renewed.find(name);
    auto change = controllers::checkNodeHealth(node, it == renewed.end() ? std::nullopt : std::optional(it->second),
                                               registry_.now());
    Json current = node;
    if (change.status) {
      current["status"] = *change.status;
      auto w = registry_.update(nodesRes, "", name, current, {}, "status");
      if (!w) {
        spdlog::debug("node lifecycle: status of {}: {}", name, w.error().message);
        continue;
      }
      spdlog::info("node {}: no Lease renewal for {}s: conditions Unknown", name,
                   controllers::kNodeMonitorGracePeriod.count());
      current = w->object;
    }
    if (change.spec) {
      current["spec"] = *change.spec;
      auto w = registry_.update(nodesRes, "", name, current, {});
      if (!w) spdlog::debug("node lifecycle: taints of {}: {}", name, w.error().message);
    }
  }
}

}  // namespace nanokube::apiserver
