#pragma once
// The registry: Kubernetes object semantics over the MVCC store, for every served
// resource. It owns metadata (uid, creationTimestamp, generation, generateName,
// resourceVersion), namespace checks, defaulting and validation calls, status and
// scale subresources, graceful deletion and finalizers, garbage collection of
// dependents, and Service IP / node-port allocation. The HTTP layer above it only
// decodes requests and encodes answers.
//
// Thread-safety: every method may be called from any thread.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/resources.h"
#include "api/selector.h"
#include "apiserver/allocator.h"
#include "apiserver/watch_hub.h"
#include "common/error.h"
#include "common/time.h"
#include "store/store.h"

namespace nanokube::apiserver {

struct ListOptions {
  api::LabelSelector labels;
  api::FieldSelector fields;
  std::string resourceVersion;       // "" (latest), "0" (any), or a revision
  std::string resourceVersionMatch;  // "", "NotOlderThan", "Exact"
  int64_t limit = 0;
  std::string continueToken;
  bool allowWatchBookmarks = false;
};

enum class FieldValidation { kIgnore, kWarn, kStrict };

struct WriteOptions {
  FieldValidation fieldValidation = FieldValidation::kWarn;
  bool dryRun = false;
};

struct DeleteOptions {
  std::optional<int64_t> gracePeriodSeconds;
  std::string propagationPolicy;  // "", "Orphan", "Background", "Foreground"
  std::string preconditionUid;
  std::string preconditionResourceVersion;
  bool dryRun = false;
};

// What a write returns: the object as stored, and Kubernetes warnings (sent in
// the Warning header, e.g. for unknown fields under fieldValidation=Warn).
struct Written {
  Json object;
  std::vector<std::string> warnings;
};

enum class PatchType { kMerge, kStrategic, kJson };

// A watch event as delivered: type ADDED / MODIFIED / DELETED and the object with
// its resourceVersion set, shared with the other watchers of the same event.
// Contract: a sink only queues the event. It runs on the resource's watch-hub
// thread (or the store's writer thread) with locks held; calling back into the
// Registry from a sink deadlocks.
using WatchSink = std::function<void(const char* type, const SharedObject& object)>;

// Inserts "resourceVersion":"<revision>" into the top-level metadata of an
// object's JSON text without parsing it; nullopt when the text has no metadata
// object. Exposed for tests.
std::optional<std::string> withResourceVersion(std::string_view json, int64_t revision);

class Registry {
 public:
  struct Options {
    std::string serviceCidr = "10.96.0.0/12";
    int nodePortFirst = 30000;
    int nodePortLast = 32767;
    std::string apiServerAddress = "127.0.0.1";  // endpoints of the `kubernetes` Service
    int apiServerPort = 6443;
    // Node pod CIDRs: one /nodeCidrPrefix per Node from clusterCidr (registry_podcidr.cc).
    std::string clusterCidr = "10.244.0.0/16";
    int nodeCidrPrefix = 24;
  };

  static Result<std::unique_ptr<Registry>> create(store::Store& store, Options options, Clock clock);

  // Creates the namespaces default, kube-system, kube-public and kube-node-lease,
  // the `kubernetes` Service (10.96.0.1) and its endpoints (the API server's
  // address and bound port), when missing.
  Result<void> bootstrap(const std::string& apiServerAddress = "127.0.0.1", int apiServerPort = 6443);

  Result<Written> create(const api::ResourceInfo& r, const std::string& ns, Json obj,
                         const WriteOptions& opts, const std::string& subresource = {});
  Result<Json> get(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                   const std::string& subresource = {});
  // Returns {"kind":"<Kind>List","apiVersion":...,"metadata":{"resourceVersion":...},"items":[...]}.
  Result<Json> list(const api::ResourceInfo& r, const std::string& ns, const ListOptions& opts);
  // The same List as JSON text, built from the stored bytes without parsing them
  // when no selector needs the objects (a list is the API's heaviest read).
  Result<std::string> listJson(const api::ResourceInfo& r, const std::string& ns, const ListOptions& opts);
  Result<Written> update(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                         Json obj, const WriteOptions& opts, const std::string& subresource = {});
  Result<Written> patch(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                        PatchType type, const Json& patch, const WriteOptions& opts,
                        const std::string& subresource = {});
  Result<Json> remove(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                      const DeleteOptions& opts);
  Result<Json> removeCollection(const api::ResourceInfo& r, const std::string& ns,
                                const ListOptions& list, const DeleteOptions& opts);

  // pods/binding (registry_binding.cc): sets spec.nodeName of the pod the
  // Binding names (metadata.name, optional metadata.uid) to target.name and
  // marks it PodScheduled; Conflict when the pod is bound or being deleted.
  // Returns the bound pod.
  Result<Json> bindPod(const std::string& ns, const Json& binding);

  // Starts a watch. With resourceVersion "" or "0" it first sends ADDED for every
  // matching object, as Kubernetes does. `lastRevision` receives the revision the
  // watch starts after (for bookmarks). The sink runs on the store's writer thread.
  Result<std::unique_ptr<store::Watch>> watch(const api::ResourceInfo& r, const std::string& ns,
                                              const ListOptions& opts, WatchSink sink,
                                              int64_t& startRevision);

  store::Store& store() { return store_; }
  TimePoint now() const { return clock_(); }

 private:
  Registry(store::Store& store, Options options, Clock clock, Ipv4Cidr cidr);

  struct ListMeta {
    int64_t resourceVersion = 0;
    std::string continueToken;
  };
  // Reads the matching keys page by page; `take` says whether an item counted.
  Result<ListMeta> listEach(const api::ResourceInfo& r, const std::string& ns, const ListOptions& opts,
                            const std::function<bool(const store::KeyValue&)>& take);

  std::string key(const api::ResourceInfo& r, const std::string& ns, const std::string& name) const;
  std::string prefix(const api::ResourceInfo& r, const std::string& ns) const;
  Json decode(const store::KeyValue& kv) const;
  Result<Json> load(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                    int64_t& modRevision);
  Result<void> checkNamespace(const api::ResourceInfo& r, const std::string& ns, bool forCreate);
  Result<void> checkBody(const api::ResourceInfo& r, const std::string& ns, const Json& obj,
                         const std::string& urlName);
  Result<std::vector<std::string>> checkFields(const api::ResourceInfo& r, Json& obj, const WriteOptions& opts);
  Result<void> checkNewFinalizers(const api::ResourceInfo& r, const Json& obj, const Json& old);
  Result<Written> updateLoaded(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                               Json obj, const Json& old, int64_t oldRevision, const WriteOptions& opts,
                               const std::string& subresource);
  Result<Json> finishDelete(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                            const Json& obj, int64_t modRevision, const std::string& policy);
  void collectGarbage(const std::string& ns, const std::string& ownerUid, const std::string& policy);
  void finalizeNamespace(const std::string& name);

  // Services: allocation of cluster IPs and node ports (registry_service.cc).
  Result<void> allocateService(Json& svc, const Json* old);
  void releaseService(const Json& svc, const Json* keep);
  // An update that leaves out allocated values keeps them (patchAllocatedValues
  // in pkg/registry/core/service/strategy.go): `kubectl replace -f` works.
  void keepAllocatedValues(Json& svc, const Json& old);
  Result<void> rebuildAllocations();

  // Node pod CIDRs (registry_podcidr.cc). allocateNodeCidr returns the subnet
  // this write took ("" when none), to be given back if the write fails.
  Result<std::string> allocateNodeCidr(Json& node, const Json* old);
  void releaseNodeCidr(const Json& node);
  Result<void> rebuildNodeCidrs();

  // Scale subresource (autoscaling/v1 Scale).
  Json toScale(const api::ResourceInfo& r, const Json& obj) const;

  // The shared watch of a resource, started on first use.
  Result<WatchHub*> hub(const api::ResourceInfo& r);

  std::string newUid();
  std::string randomSuffix();

  store::Store& store_;
  Options options_;
  Clock clock_;
  IpAllocator serviceIps_;
  PortAllocator nodePorts_;
  CidrAllocator podCidrs_;
  std::mutex hubsMu_;
  std::map<std::string, std::unique_ptr<WatchHub>> hubs_;
  std::mutex rngMu_;
  std::mt19937_64 rng_;
};

}  // namespace nanokube::apiserver
