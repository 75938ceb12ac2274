// Deletion: graceful deletion of pods, finalizers, namespace finalization and
// garbage collection of dependents (ownerReferences), as Kubernetes' generic
// registry and garbage collector do it.

#include <fmt/format.h>

#include "api/object.h"
#include "apiserver/registry.h"

namespace nanokube::apiserver {

using api::ResourceInfo;

namespace {

bool hasFinalizers(const Json& obj) {
  const Json& meta = obj["metadata"];
  return meta.contains("finalizers") && meta["finalizers"].is_array() && !meta["finalizers"].empty();
}

}  // namespace

Result<Json> Registry::remove(const ResourceInfo& r, const std::string& ns, const std::string& name,
                              const DeleteOptions& opts) {
  int64_t rev = 0;
  auto obj = load(r, ns, name, rev);
  if (!obj) return obj;
  const Json& meta = (*obj)["metadata"];
  if (!opts.preconditionUid.empty() && opts.preconditionUid != meta.value("uid", "")) {
    return fail(Code::kConflict,
                fmt::format("Operation cannot be fulfilled on {} \"{}\": Precondition failed: UID in precondition: "
                            "{}, UID in object meta: {}",
                            r.qualifiedName(), name, opts.preconditionUid, meta.value("uid", "")));
  }
  if (!opts.preconditionResourceVersion.empty() && opts.preconditionResourceVersion != std::to_string(rev)) {
    return fail(Code::kConflict,
                fmt::format("Operation cannot be fulfilled on {} \"{}\": Precondition failed: ResourceVersion in "
                            "precondition: {}, ResourceVersion in object meta: {}",
                            r.qualifiedName(), name, opts.preconditionResourceVersion, rev));
  }
  if (opts.dryRun) return obj;

  if (r.kind == "Namespace") {
    if (name == "default" || name == "kube-system" || name == "kube-public") {
      return fail(Code::kForbidden,
                  fmt::format("namespaces \"{}\" is forbidden: this namespace may not be deleted", name),
                  Json{{"name", name}, {"kind", "namespaces"}});
    }
    finalizeNamespace(name);
    return finishDelete(r, ns, name, *obj, 0, "Background");
  }

  // Pods bound to a node terminate gracefully: the API server only marks them and
  // the node's agent deletes them (grace period 0) once the containers stopped.
  // A pod never bound to a node has nothing to stop and goes at once.
  bool graceful = false;
  int64_t grace = 0;
  if (r.kind == "Pod" && !api::strField(*obj, "spec", "nodeName").empty()) {
    grace = (*obj)["spec"].value("terminationGracePeriodSeconds", 30);
    if (opts.gracePeriodSeconds) grace = *opts.gracePeriodSeconds;
    const std::string phase = api::strField(*obj, "status", "phase");
    graceful = grace > 0 && phase != "Succeeded" && phase != "Failed";
  }
  if (graceful || hasFinalizers(*obj)) {
    Json next = *obj;
    if (!next["metadata"].contains("deletionTimestamp")) {
      next["metadata"]["deletionTimestamp"] = formatRfc3339(clock_() + std::chrono::seconds(grace));
      next["metadata"]["deletionGracePeriodSeconds"] = grace;
    } else if (graceful && grace < next["metadata"].value("deletionGracePeriodSeconds", grace)) {
      // A shorter grace period may replace a longer one, never the reverse.
      next["metadata"]["deletionTimestamp"] = formatRfc3339(clock_() + std::chrono::seconds(grace));
      next["metadata"]["deletionGracePeriodSeconds"] = grace;
    }
    if (!graceful && !hasFinalizers(next)) return finishDelete(r, ns, name, next, rev, opts.propagationPolicy);
    next["metadata"].erase("resourceVersion");
    auto kv = store_.update(key(r, ns, name), next.dump(), rev);
    if (!kv) {
      if (kv.error().code == Code::kConflict) return remove(r, ns, name, opts);
      return std::unexpected(kv.error());
    }
    next["metadata"]["resourceVersion"] = std::to_string(kv->modRevision);
    return next;
  }
  return finishDelete(r, ns, name, *obj, rev, opts.propagationPolicy);
}

Result<Json> Registry::finishDelete(const ResourceInfo& r, const std::string& ns, const std::string& name,
                                    const Json& obj, int64_t modRevision, const std::string& policy) {
  auto kv = store_.remove(key(r, ns, name), modRevision);
  if (!kv) {
    if (kv.error().code == Code::kNotFound) {
      return fail(Code::kNotFound, fmt::format("{} \"{}\" not found", r.qualifiedName(), name),
                  Json{{"name", name}, {"kind", r.plural}});
    }
    return std::unexpected(kv.error());
  }
  Json gone = obj;
  gone["metadata"]["resourceVersion"] = std::to_string(kv->modRevision);
  if (r.kind == "Service") releaseService(gone, nullptr);
  if (r.kind == "Node") releaseNodeCidr(gone);
  std::string uid = api::strField(gone, "metadata", "uid");
  if (!uid.empty()) collectGarbage(r.namespaced ? ns : std::string(), uid, policy);
  return gone;
}

// Deletes (or orphans) the objects whose ownerReferences name `ownerUid`. The
// Kubernetes garbage collector does this asynchronously from a graph of owners;
// here a synchronous scan of the namespace is enough and leaves no window.
void Registry::collectGarbage(const std::string& ns, const std::string& ownerUid, const std::string& policy) {
  for (const auto& res : api::allResources()) {
    if (!ns.empty() && !res.namespaced) continue;
    auto page = store_.list(prefix(res, ns), 0, 0, {});
    if (!page) continue;
    for (const auto& kv : page->items) {
      Json obj = decode(kv);
      const Json& refs = obj["metadata"]["ownerReferences"];
      if (!refs.is_array()) continue;
      bool owned = false;
      for (const auto& ref : refs) owned = owned || (ref.is_object() && ref.value("uid", "") == ownerUid);
      if (!owned) continue;
      std::string depNs = api::namespaceOf(obj), depName = api::nameOf(obj);
      if (policy == "Orphan") {
        Json next = obj;
        Json kept = Json::array();
        for (const auto& ref : refs) {
          if (!(ref.is_object() && ref.value("uid", "") == ownerUid)) kept.push_back(ref);
        }
        if (kept.empty()) next["metadata"].erase("ownerReferences");
        else next["metadata"]["ownerReferences"] = kept;
        next["metadata"].erase("resourceVersion");
        (void)store_.update(kv.key, next.dump(), kv.modRevision);
      } else {
        (void)remove(res, depNs, depName, DeleteOptions{.propagationPolicy = policy});
      }
    }
  }
}

// The namespace controller's work: delete every object in the namespace. Pods
// go at once (grace period 0): there is no agent yet that could stop them.
void Registry::finalizeNamespace(const std::string& name) {
  for (const auto& res : api::allResources()) {
    if (!res.namespaced) continue;
    auto page = store_.list(prefix(res, name), 0, 0, {});
    if (!page) continue;
    for (const auto& kv : page->items) {
      Json obj = decode(kv);
      (void)finishDelete(res, name, api::nameOf(obj), obj, 0, "Background");
    }
  }
}

Result<Json> Registry::removeCollection(const ResourceInfo& r, const std::string& ns, const ListOptions& list,
                                        const DeleteOptions& opts) {
  auto objs = this->list(r, ns, list);
  if (!objs) return objs;
  Json deleted = Json::array();
  for (const auto& obj : (*objs)["items"]) {
    auto d = remove(r, api::namespaceOf(obj), api::nameOf(obj), opts);
    if (d) deleted.push_back(*d);
  }
  (*objs)["items"] = std::move(deleted);
  return objs;
}

}  // namespace nanokube::apiserver
