#include "apiserver/registry.h"

#include <algorithm>

#include <fmt/format.h>

#include "api/defaults.h"
#include "api/object.h"
#include "api/patch.h"
#include "api/schema.h"
#include "api/validation.h"

namespace nanokube::apiserver {

using api::ResourceInfo;

namespace {

// Kinds whose metadata.generation Kubernetes maintains (bumped on spec changes).
bool tracksGeneration(const ResourceInfo& r) {
  return r.kind == "ReplicationController" || r.kind == "ReplicaSet" || r.kind == "Deployment" ||
         r.kind == "DaemonSet" || r.kind == "Job";
}

// Kinds whose status is owned by the /status subresource: writes to the main
// resource keep the stored status, create resets it (PrepareForCreate/Update in
// pkg/registry/*/strategy.go).
bool hasStatusSubresource(const ResourceInfo& r) { return r.hasSubresource("status"); }

Json notFoundDetails(const ResourceInfo& r, const std::string& name) {
  Json d = {{"name", name}, {"kind", r.plural}};
  if (!r.group.empty()) d["group"] = r.group;
  return d;
}

// The Conflict a write on a stale resourceVersion gets (errors.NewConflict in
// apimachinery, with the registry's "object has been modified" text).
Error staleObject(const ResourceInfo& r, const std::string& name) {
  return Error{Code::kConflict,
               fmt::format("Operation cannot be fulfilled on {} \"{}\": the object has been modified; please apply "
                           "your changes to the latest version and try again",
                           r.qualifiedName(), name),
               notFoundDetails(r, name)};
}

}  // namespace

Result<std::unique_ptr<Registry>> Registry::create(store::Store& store, Options options, Clock clock) {
  auto cidr = parseCidr(options.serviceCidr);
  if (!cidr) return std::unexpected(cidr.error());
  if (auto c = parseCidr(options.clusterCidr); !c || options.nodeCidrPrefix < c->prefix ||
                                               options.nodeCidrPrefix > 30 || options.nodeCidrPrefix - c->prefix > 16) {
    return fail(Code::kInvalid, fmt::format("cluster CIDR {} cannot hold /{} node subnets", options.clusterCidr,
                                            options.nodeCidrPrefix));
  }
  std::unique_ptr<Registry> reg(new Registry(store, std::move(options), std::move(clock), *cidr));
  if (auto r = reg->rebuildAllocations(); !r) return std::unexpected(r.error());
  if (auto r = reg->rebuildNodeCidrs(); !r) return std::unexpected(r.error());
  return reg;
}

Registry::Registry(store::Store& store, Options options, Clock clock, Ipv4Cidr cidr)
    : store_(store),
      options_(std::move(options)),
      clock_(std::move(clock)),
      serviceIps_(cidr, std::random_device{}()),
      nodePorts_(options_.nodePortFirst, options_.nodePortLast, std::random_device{}()),
      podCidrs_(*parseCidr(options_.clusterCidr), options_.nodeCidrPrefix),
      rng_(std::random_device{}()) {}

std::string Registry::key(const ResourceInfo& r, const std::string& ns, const std::string& name) const {
  return r.namespaced ? fmt::format("/registry/{}/{}/{}", r.qualifiedName(), ns, name)
                      : fmt::format("/registry/{}/{}", r.qualifiedName(), name);
}

std::string Registry::prefix(const ResourceInfo& r, const std::string& ns) const {
  return (r.namespaced && !ns.empty()) ? fmt::format("/registry/{}/{}/", r.qualifiedName(), ns)
                                       : fmt::format("/registry/{}/", r.qualifiedName());
}

Json Registry::decode(const store::KeyValue& kv) const {
  Json obj = Json::parse(kv.value, nullptr, false);
  if (obj.is_discarded() || !obj.is_object()) obj = Json::object();
  obj["metadata"]["resourceVersion"] = std::to_string(kv.modRevision);
  return obj;
}

Result<Json> Registry::load(const ResourceInfo& r, const std::string& ns, const std::string& name,
                            int64_t& modRevision) {
  auto kv = store_.get(key(r, ns, name));
  if (!kv) {
    if (kv.error().code == Code::kNotFound) {
      return fail(Code::kNotFound, fmt::format("{} \"{}\" not found", r.qualifiedName(), name),
                  notFoundDetails(r, name));
    }
    return std::unexpected(kv.error());
  }
  modRevision = kv->modRevision;
  return decode(*kv);
}

std::string Registry::newUid() {
  std::lock_guard lock(rngMu_);
  uint64_t a = rng_(), b = rng_();
  // RFC 4122 version 4, variant 1.
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff,
                     b >> 48, b & 0xffffffffffffULL);
}

std::string Registry::randomSuffix() {
  // The alphabet of k8s.io/apimachinery/pkg/util/rand.String: no vowels, no
  // look-alike characters, so generated names never spell words.
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::lock_guard lock(rngMu_);
  std::string s;
  for (int i = 0; i < 5; ++i) s.push_back(kAlphabet[rng_() % kAlphabet.size()]);
  return s;
}

Result<void> Registry::checkNamespace(const ResourceInfo& r, const std::string& ns, bool forCreate) {
  if (!r.namespaced) return {};
  if (ns.empty()) return fail(Code::kBadRequest, "the server could not find the requested resource");
  auto kv = store_.get(key(*api::findResource("", "v1", "namespaces"), "", ns));
  if (!kv) {
    if (kv.error().code == Code::kNotFound) {
      return fail(Code::kNotFound, fmt::format("namespaces \"{}\" not found", ns),
                  Json{{"name", ns}, {"kind", "namespaces"}});
    }
    return std::unexpected(kv.error());
  }
  if (forCreate) {
    Json nsObj = decode(*kv);
    if (nsObj["metadata"].contains("deletionTimestamp")) {
      return fail(Code::kForbidden,
                  fmt::format("{} \"{}\" is forbidden: unable to create new content in namespace {} because "
                              "it is being terminated",
                              r.plural, "", ns),
                  Json{{"kind", r.plural}});
    }
  }
  return {};
}

// The checks the decoder and the REST layer make before any semantics: kind and
// apiVersion of the body, namespace and name consistent with the URL.
Result<void> Registry::checkBody(const ResourceInfo& r, const std::string& ns, const Json& obj,
                                 const std::string& urlName) {
  if (!obj.is_object()) {
    return fail(Code::kBadRequest, fmt::format("Object '{}' is not a valid object", r.kind));
  }
  std::string kind = api::strField(obj, "kind");
  std::string apiVersion = api::strField(obj, "apiVersion");
  if (!kind.empty() && kind != r.kind) {
    return fail(Code::kBadRequest,
                fmt::format("{} in version \"{}\" cannot be handled as a {}: no kind \"{}\" is registered "
                            "for version \"{}\" in scheme \"pkg/api/legacyscheme/scheme.go:30\"",
                            kind, apiVersion, r.kind, kind, apiVersion));
  }
  if (!apiVersion.empty() && apiVersion != r.apiVersion()) {
    return fail(Code::kBadRequest,
                fmt::format("the API version in the data ({}) does not match the expected API version ({})",
                            apiVersion, r.apiVersion()));
  }
  if (obj.contains("metadata") && !obj["metadata"].is_object()) {
    return fail(Code::kBadRequest,
                fmt::format("{} in version \"{}\" cannot be handled as a {}: json: cannot unmarshal {} into "
                            "Go struct field {}.metadata of type v1.ObjectMeta",
                            r.kind, r.version, r.kind, obj["metadata"].type_name(), r.kind));
  }
  std::string bodyNs = api::namespaceOf(obj);
  if (r.namespaced && !bodyNs.empty() && bodyNs != ns) {
    return fail(Code::kBadRequest,
                "the namespace of the provided object does not match the namespace sent on the request");
  }
  if (!urlName.empty()) {
    std::string bodyName = api::nameOf(obj);
    if (bodyName != urlName) {
      return fail(Code::kBadRequest, "the name of the object (" + bodyName +
                                         ") does not match the name on the URL (" + urlName + ")");
    }
  }
  return {};
}

// The decoder's checks, in Kubernetes' order: values of the wrong type fail the
// request; unknown fields fail it under Strict, are reported under Warn, and are
// dropped (never stored) under Warn and Ignore.
Result<std::vector<std::string>> Registry::checkFields(const ResourceInfo& r, Json& obj, const WriteOptions& opts) {
  std::vector<std::string> warnings;
  if (auto t = api::checkFieldTypes(r, obj); !t) return std::unexpected(t.error());
  std::vector<std::string> unknown = api::unknownFields(r, obj);
  if (unknown.empty()) return warnings;
  if (opts.fieldValidation != FieldValidation::kStrict) api::pruneUnknownFields(r, obj);
  if (opts.fieldValidation == FieldValidation::kIgnore) return warnings;
  if (opts.fieldValidation == FieldValidation::kStrict) return std::unexpected(api::strictDecodingError(r, unknown));
  for (const auto& f : unknown) warnings.push_back(fmt::format("unknown field \"{}\"", f));
  return warnings;
}

Result<Written> Registry::create(const ResourceInfo& r, const std::string& ns, Json obj,
                                 const WriteOptions& opts, const std::string& subresource) {
  if (!subresource.empty()) {
    return fail(Code::kMethodNotAllowed,
                fmt::format("the server does not allow this method on the requested resource"));
  }
  if (auto c = checkBody(r, ns, obj, {}); !c) return std::unexpected(c.error());
  auto warnings = checkFields(r, obj, opts);
  if (!warnings) return std::unexpected(warnings.error());
  if (auto c = checkNamespace(r, ns, true); !c) return std::unexpected(c.error());

  obj["kind"] = r.kind;
  obj["apiVersion"] = r.apiVersion();
  Json& meta = obj["metadata"];
  if (!meta.is_object()) meta = Json::object();
  if (r.namespaced) meta["namespace"] = ns;
  std::string name = meta.value("name", "");
  if (name.empty() && meta.contains("generateName") && meta["generateName"].is_string()) {
    name = meta["generateName"].get<std::string>() + randomSuffix();
    meta["name"] = name;
  }
  if (name.empty()) {
    return fail(Code::kInvalid,
                fmt::format("{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                            r.kind),
                Json{{"kind", r.kind},
                     {"causes", Json::array({{{"reason", "FieldValueRequired"},
                                              {"message", "Required value: name or generateName is required"},
                                              {"field", "metadata.name"}}})}});
  }
  // Server-owned metadata: whatever the client sent is replaced.
  meta.erase("resourceVersion");
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  meta.erase("managedFields");
  meta["uid"] = newUid();
  meta["creationTimestamp"] = formatRfc3339(clock_());
  if (tracksGeneration(r)) meta["generation"] = 1;
  else meta.erase("generation");
  if (hasStatusSubresource(r) && r.kind != "Node") obj.erase("status");

  if (r.kind == "Job") api::generateJobSelector(obj);
  api::applyDefaults(r, obj);
  if (auto v = api::validateObject(r, obj, nullptr); !v) return std::unexpected(v.error());

  if (r.kind == "Service") {
    if (auto a = allocateService(obj, nullptr); !a) return std::unexpected(a.error());
  }
  // A Node gets its pod CIDR here; `podCidr` is given back if the write fails.
  std::string podCidr;
  if (r.kind == "Node") {
    auto a = allocateNodeCidr(obj, nullptr);
    if (!a) return std::unexpected(a.error());
    podCidr = *a;
  }
  if (opts.dryRun) {
    // A dry run shows the values it would allocate but keeps none.
    if (r.kind == "Service") releaseService(obj, nullptr);
    if (!podCidr.empty()) podCidrs_.release(podCidr, name);
    return Written{std::move(obj), std::move(*warnings)};
  }

  Json stored = obj;
  stored["metadata"].erase("resourceVersion");
  auto kv = store_.create(key(r, ns, name), stored.dump());
  if (!kv) {
    if (r.kind == "Service") releaseService(obj, nullptr);
    if (!podCidr.empty()) podCidrs_.release(podCidr, name);
    if (kv.error().code == Code::kAlreadyExists) {
      return fail(Code::kAlreadyExists, fmt::format("{} \"{}\" already exists", r.qualifiedName(), name),
                  notFoundDetails(r, name));
    }
    return std::unexpected(kv.error());
  }
  obj["metadata"]["resourceVersion"] = std::to_string(kv->modRevision);
  return Written{std::move(obj), std::move(*warnings)};
}

Result<Json> Registry::get(const ResourceInfo& r, const std::string& ns, const std::string& name,
                           const std::string& subresource) {
  int64_t rev = 0;
  auto obj = load(r, ns, name, rev);
  if (!obj) return obj;
  if (subresource == "scale") return toScale(r, *obj);
  return obj;
}

Result<Written> Registry::update(const ResourceInfo& r, const std::string& ns, const std::string& name,
                                 Json obj, const WriteOptions& opts, const std::string& subresource) {
  if (!subresource.empty() && subresource != "status" && subresource != "scale") {
    return fail(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource");
  }
  if (subresource == "scale") {
    int64_t rev = 0;
    auto old = load(r, ns, name, rev);
    if (!old) return std::unexpected(old.error());
    if (!obj.is_object() || !obj.contains("spec") || !obj["spec"].is_object()) {
      return fail(Code::kBadRequest, "Scale in version \"v1\" cannot be handled as a Scale: missing spec");
    }
    std::string wantRv = obj.contains("metadata") ? api::strField(obj["metadata"], "resourceVersion") : "";
    if (!wantRv.empty() && wantRv != std::to_string(rev)) {
      return std::unexpected(staleObject(r, name));
    }
    Json next = *old;
    next["spec"]["replicas"] = obj["spec"].value("replicas", 0);
    auto w = updateLoaded(r, ns, name, std::move(next), *old, rev, opts, {});
    if (!w) return w;
    w->object = toScale(r, w->object);
    return w;
  }
  if (auto c = checkBody(r, ns, obj, name); !c) return std::unexpected(c.error());
  std::vector<std::string> warnings;
  if (subresource.empty()) {
    auto w = checkFields(r, obj, opts);
    if (!w) return std::unexpected(w.error());
    warnings = std::move(*w);
  }
  int64_t rev = 0;
  auto old = load(r, ns, name, rev);
  if (!old) return std::unexpected(old.error());
  std::string wantRv = api::strField(obj["metadata"], "resourceVersion");
  if (!wantRv.empty() && wantRv != std::to_string(rev)) {
    return std::unexpected(staleObject(r, name));
  }
  auto w = updateLoaded(r, ns, name, std::move(obj), *old, rev, opts, subresource);
  if (w) w->warnings.insert(w->warnings.end(), warnings.begin(), warnings.end());
  return w;
}

Result<Written> Registry::updateLoaded(const ResourceInfo& r, const std::string& ns, const std::string& name,
                                       Json obj, const Json& old, int64_t oldRevision,
                                       const WriteOptions& opts, const std::string& subresource) {
  obj["kind"] = r.kind;
  obj["apiVersion"] = r.apiVersion();
  Json& meta = obj["metadata"];
  if (!meta.is_object()) meta = Json::object();
  const Json& oldMeta = old["metadata"];
  // Immutable, server-owned metadata comes from the stored object.
  for (const char* f : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                        "generation", "namespace", "name"}) {
    if (oldMeta.contains(f)) meta[f] = oldMeta[f];
    else meta.erase(f);
  }
  if (subresource == "status") {
    // Only the status changes through /status; spec and metadata stay as stored
    // (labels, annotations and finalizers excepted? No: Kubernetes keeps all of
    // metadata from the stored object on status updates, except nothing).
    Json next = old;
    if (obj.contains("status")) next["status"] = obj["status"];
    else next.erase("status");
    obj = std::move(next);
  } else if (hasStatusSubresource(r)) {
    if (old.contains("status")) obj["status"] = old["status"];
    else obj.erase("status");
  }
  if (r.kind == "Service" && subresource.empty()) keepAllocatedValues(obj, old);
  api::applyDefaults(r, obj);
  if (tracksGeneration(r) && subresource.empty()) {
    Json a = obj.contains("spec") ? obj["spec"] : Json();
    Json b = old.contains("spec") ? old["spec"] : Json();
    if (a != b) obj["metadata"]["generation"] = oldMeta.value("generation", 0) + 1;
  }
  if (auto v = api::validateObject(r, obj, &old); !v) return std::unexpected(v.error());
  if (auto f = checkNewFinalizers(r, obj, old); !f) return std::unexpected(f.error());
  if (r.kind == "Service" && subresource.empty()) {
    if (auto a = allocateService(obj, &old); !a) return std::unexpected(a.error());
  }
  // A Node keeps its pod CIDR; one without gets one (registry_podcidr.cc).
  std::string podCidr;
  if (r.kind == "Node" && subresource.empty()) {
    auto a = allocateNodeCidr(obj, &old);
    if (!a) return std::unexpected(a.error());
    podCidr = *a;
  }
  if (opts.dryRun) {
    // Nothing a dry run allocated stays allocated.
    if (!podCidr.empty()) podCidrs_.release(podCidr, name);
    if (r.kind == "Service" && subresource.empty()) releaseService(obj, &old);
    return Written{std::move(obj), {}};
  }

  // An object being deleted whose last finalizer is gone is removed now.
  bool deleting = obj["metadata"].contains("deletionTimestamp");
  bool noFinalizers = !obj["metadata"].contains("finalizers") || obj["metadata"]["finalizers"].empty();
  // A pod in its grace period waits for its node's agent, which deletes it with
  // grace 0 once the containers stopped.
  bool graceOver = r.kind != "Pod" || obj["metadata"].value("deletionGracePeriodSeconds", 0) == 0;
  if (deleting && noFinalizers && graceOver && r.kind != "Namespace") {
    auto gone = finishDelete(r, ns, name, obj, oldRevision, "Background");
    if (!gone) return std::unexpected(gone.error());
    return Written{*gone, {}};
  }

  Json stored = obj;
  stored["metadata"].erase("resourceVersion");
  Json oldStored = old;
  oldStored["metadata"].erase("resourceVersion");
  if (stored == oldStored) {
    // Kubernetes skips the write of an unchanged object: no new resourceVersion,
    // no watch event (and kubectl prints "patched (no change)").
    if (r.kind == "Service") releaseService(obj, &old);
    return Written{old, {}};
  }
  auto kv = store_.update(key(r, ns, name), stored.dump(), oldRevision);
  if (!kv) {
    if (r.kind == "Service") releaseService(obj, &old);
    if (!podCidr.empty()) podCidrs_.release(podCidr, name);
    if (kv.error().code == Code::kConflict) {
      return std::unexpected(staleObject(r, name));
    }
    return std::unexpected(kv.error());
  }
  if (r.kind == "Service") releaseService(old, &obj);
  obj["metadata"]["resourceVersion"] = std::to_string(kv->modRevision);
  return Written{std::move(obj), {}};
}

// While an object is being deleted its finalizers may only go, never grow
// (ValidateObjectMetaUpdate in apimachinery's validation).
Result<void> Registry::checkNewFinalizers(const ResourceInfo& r, const Json& obj, const Json& old) {
  if (!old["metadata"].contains("deletionTimestamp")) return {};
  const Json oldList = old["metadata"].value("finalizers", Json::array());
  const Json newList = obj["metadata"].value("finalizers", Json::array());
  std::vector<std::string> added;
  for (const auto& f : newList) {
    if (f.is_string() && std::find(oldList.begin(), oldList.end(), f) == oldList.end()) {
      added.push_back(f.get<std::string>());
    }
  }
  if (added.empty()) return {};
  std::string list;
  for (const auto& a : added) list += (list.empty() ? "" : ", ") + fmt::format("\"{}\"", a);
  std::string msg = fmt::format("Forbidden: no new finalizers can be added if the object is being deleted, found "
                                "new finalizers []string{{{}}}",
                                list);
  std::string name = api::nameOf(obj);
  return fail(Code::kInvalid, fmt::format("{} \"{}\" is invalid: metadata.finalizers: {}", r.kind, name, msg),
              Json{{"name", name},
                   {"kind", r.kind},
                   {"causes", Json::array({{{"reason", "FieldValueForbidden"},
                                            {"message", msg},
                                            {"field", "metadata.finalizers"}}})}});
}

Result<Written> Registry::patch(const ResourceInfo& r, const std::string& ns, const std::string& name,
                                PatchType type, const Json& patchBody, const WriteOptions& opts,
                                const std::string& subresource) {
  if (!subresource.empty() && subresource != "status" && subresource != "scale") {
    return fail(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource");
  }
  // Retry on a concurrent write, as Kubernetes' patcher does (the patch is
  // reapplied to the fresh object).
  for (int attempt = 0; attempt < 5; ++attempt) {
    int64_t rev = 0;
    auto old = load(r, ns, name, rev);
    if (!old) return std::unexpected(old.error());
    Json base = subresource == "scale" ? toScale(r, *old) : *old;
    Result<Json> patched = type == PatchType::kMerge       ? api::applyMergePatch(base, patchBody)
                           : type == PatchType::kStrategic ? api::applyStrategicMergePatch(r, base, patchBody)
                                                           : api::applyJsonPatch(base, patchBody);
    if (!patched) return std::unexpected(patched.error());
    Result<Written> w;
    if (subresource == "scale") {
      Json next = *old;
      const Json& spec = (*patched)["spec"];
      next["spec"]["replicas"] = spec.is_object() ? spec.value("replicas", 0) : 0;
      w = updateLoaded(r, ns, name, std::move(next), *old, rev, opts, {});
      if (w) w->object = toScale(r, w->object);
    } else {
      if (auto c = checkBody(r, ns, *patched, name); !c) return std::unexpected(c.error());
      std::vector<std::string> warnings;
      if (subresource.empty()) {
        auto f = checkFields(r, *patched, opts);
        if (!f) return std::unexpected(f.error());
        warnings = std::move(*f);
      }
      std::string wantRv = api::strField((*patched)["metadata"], "resourceVersion");
      if (!wantRv.empty() && wantRv != std::to_string(rev)) {
        return std::unexpected(staleObject(r, name));
      }
      w = updateLoaded(r, ns, name, std::move(*patched), *old, rev, opts, subresource);
      if (w) w->warnings.insert(w->warnings.end(), warnings.begin(), warnings.end());
    }
    if (w || w.error().code != Code::kConflict) return w;
  }
  return fail(Code::kConflict, fmt::format("Operation cannot be fulfilled on {} \"{}\": too many concurrent writes",
                                           r.qualifiedName(), name));
}

Json Registry::toScale(const ResourceInfo& r, const Json& obj) const {
  Json scale = {{"kind", "Scale"}, {"apiVersion", "autoscaling/v1"}};
  const Json& meta = obj["metadata"];
  scale["metadata"] = Json::object();
  for (const char* f : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    if (meta.contains(f)) scale["metadata"][f] = meta[f];
  }
  const Json spec = obj.value("spec", Json::object());
  const Json status = obj.value("status", Json::object());
  scale["spec"] = {{"replicas", spec.value("replicas", 0)}};
  scale["status"] = {{"replicas", status.value("replicas", 0)}};
  // status.selector is the label selector in its string form.
  api::LabelSelector sel;
  if (spec.contains("selector")) {
    if (r.kind == "ReplicationController") sel = api::labelSelectorFromMap(spec["selector"]);
    else if (auto s = api::labelSelectorFromJson(spec["selector"]); s) sel = *s;
  }
  if (!sel.empty()) scale["status"]["selector"] = sel.str();
  return scale;
}

}  // namespace nanokube::apiserver
