#include "apiserver/endpoints_loop.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/object.h"
#include "controllers/endpoints.h"

namespace nanokube::apiserver {

namespace {

const api::ResourceInfo& res(const char* group, const char* plural) { return *api::findResource(group, "v1", plural); }

}  // namespace

EndpointsLoop::EndpointsLoop(Registry& registry) : registry_(registry) {}

EndpointsLoop::~EndpointsLoop() {
  services_.reset();
  pods_.reset();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

Result<void> EndpointsLoop::start() {
  int64_t rev = 0;
  auto onService = [this](const char* type, const SharedObject& obj) {
    std::string ns = api::namespaceOf(obj.object()), name = api::nameOf(obj.object());
    {
      std::lock_guard lock(mu_);
      if (std::string_view(type) == "DELETED") servicesByNamespace_[ns].erase(name);
      else servicesByNamespace_[ns].insert(name);
    }
    enqueue(ns + "/" + name);
  };
  auto s = registry_.watch(res("", "services"), "", ListOptions{}, onService, rev);
  if (!s) return std::unexpected(s.error());
  services_ = std::move(*s);
  auto onPod = [this](const char*, const SharedObject& obj) {
    std::string ns = api::namespaceOf(obj.object());
    std::set<std::string> names;
    {
      std::lock_guard lock(mu_);
      names = servicesByNamespace_[ns];
    }
    for (const auto& n : names) enqueue(ns + "/" + n);
  };
  auto p = registry_.watch(res("", "pods"), "", ListOptions{}, onPod, rev);
  if (!p) return std::unexpected(p.error());
  pods_ = std::move(*p);
  worker_ = std::thread([this] { run(); });
  return {};
}

void EndpointsLoop::enqueue(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    if (!queued_.insert(key).second) return;
    queue_.push_back(key);
  }
  cv_.notify_one();
}

void EndpointsLoop::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    std::string key = queue_.front();
    queue_.pop_front();
    queued_.erase(key);
    lock.unlock();
    if (auto r = reconcile(key); !r) {
      spdlog::warn("endpoints {}: {}", key, r.error().message);
      // Retry after a pause; a level-triggered reconcile converges on the next try.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      enqueue(key);
    }
    lock.lock();
  }
}

Result<void> EndpointsLoop::reconcile(const std::string& key) {
  size_t slash = key.find('/');
  std::string ns = key.substr(0, slash), name = key.substr(slash + 1);
  const auto& services = res("", "services");
  const auto& endpoints = res("", "endpoints");
  const auto& slices = res("discovery.k8s.io", "endpointslices");
  WriteOptions opts{FieldValidation::kIgnore, false};

  auto svc = registry_.get(services, ns, name);
  if (!svc && svc.error().code != Code::kNotFound) return std::unexpected(svc.error());
  if (!svc || !controllers::managesEndpoints(*svc)) {
    // The Service is gone (its slices go with it through their owner reference)
    // or its endpoints are managed by hand.
    if (!svc) {
      auto gone = registry_.remove(endpoints, ns, name, DeleteOptions{});
      if (!gone && gone.error().code != Code::kNotFound) return std::unexpected(gone.error());
    }
    return {};
  }
  ListOptions all;
  auto podList = registry_.list(res("", "pods"), ns, all);
  if (!podList) return std::unexpected(podList.error());
  std::vector<Json> pods((*podList)["items"].begin(), (*podList)["items"].end());

  Json wantEp = controllers::desiredEndpoints(*svc, pods);
  auto haveEp = registry_.get(endpoints, ns, name);
  if (!haveEp) {
    if (haveEp.error().code != Code::kNotFound) return std::unexpected(haveEp.error());
    auto c = registry_.create(endpoints, ns, wantEp, opts);
    if (!c && c.error().code != Code::kAlreadyExists) return std::unexpected(c.error());
  } else if (!controllers::endpointsUpToDate(*haveEp, wantEp)) {
    Json next = *haveEp;
    next["metadata"]["labels"] = wantEp["metadata"].value("labels", Json::object());
    if (wantEp.contains("subsets")) next["subsets"] = wantEp["subsets"];
    else next.erase("subsets");
    auto u = registry_.update(endpoints, ns, name, next, opts);
    if (!u) return std::unexpected(u.error());
  }

  Json wantSlice = controllers::desiredEndpointSlice(*svc, pods);
  ListOptions owned;
  auto sel = api::parseLabelSelector(fmt::format(
      "kubernetes.io/service-name={},endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io", name));
  if (!sel) return std::unexpected(sel.error());
  owned.labels = *sel;
  auto haveSlices = registry_.list(slices, ns, owned);
  if (!haveSlices) return std::unexpected(haveSlices.error());
  const Json& items = (*haveSlices)["items"];
  if (items.empty()) {
    auto c = registry_.create(slices, ns, wantSlice, opts);
    if (!c) return std::unexpected(c.error());
    return {};
  }
  // One slice per Service: keep the first, drop any extra.
  for (size_t i = 1; i < items.size(); ++i) (void)registry_.remove(slices, ns, api::nameOf(items[i]), DeleteOptions{});
  if (!controllers::sliceUpToDate(items[0], wantSlice)) {
    Json next = items[0];
    next["metadata"]["labels"] = wantSlice["metadata"]["labels"];
    next["metadata"]["ownerReferences"] = wantSlice["metadata"]["ownerReferences"];
    next["endpoints"] = wantSlice["endpoints"];
    next["ports"] = wantSlice["ports"];
    auto u = registry_.update(slices, ns, api::nameOf(next), next, opts);
    if (!u) return std::unexpected(u.error());
  }
  return {};
}

}  // namespace nanokube::apiserver
