// pods/binding: the one write that sets a pod's spec.nodeName, as Kubernetes'
// BindingREST does (pkg/registry/core/pod/storage/storage.go, assignPod and
// setPodNodeAndMetadata): refused for a pod being deleted or already bound,
// and it marks the pod PodScheduled.

#include <fmt/format.h>

#include "api/object.h"
#include "apiserver/registry.h"

namespace nanokube::apiserver {

namespace {

Error bindingConflict(const std::string& name, const std::string& why) {
  return Error{Code::kConflict,
               fmt::format("Operation cannot be fulfilled on pods/binding \"{}\": {}", name, why),
               Json{{"name", name}, {"kind", "pods/binding"}}};
}

}  // namespace

Result<Json> Registry::bindPod(const std::string& ns, const Json& binding) {
  std::string name = api::nameOf(binding);
  const Json& target = binding.is_object() && binding.contains("target") ? binding["target"] : Json();
  std::string node = api::strField(target, "name");
  std::string kind = api::strField(target, "kind");
  if (node.empty() || (!kind.empty() && kind != "Node")) {
    return fail(Code::kInvalid, fmt::format("Binding \"{}\" is invalid: target: Invalid value: \"{}\": must be a Node",
                                            name, kind.empty() ? node : kind));
  }
  const auto* pods = api::findResource("", "v1", "pods");
  // Compare-and-swap on the pod's revision, retried on a concurrent write: the
  // check that the pod is unbound and the write that binds it are one step.
  for (int attempt = 0; attempt < 5; ++attempt) {
    int64_t rev = 0;
    auto pod = load(*pods, ns, name, rev);
    if (!pod) return pod;
    const Json& meta = (*pod)["metadata"];
    std::string uid = api::strField(binding, "metadata", "uid");
    if (!uid.empty() && uid != meta.value("uid", "")) {
      return std::unexpected(bindingConflict(name, fmt::format("Precondition failed: UID in precondition: {}, UID in object meta: {}",
                                               uid, meta.value("uid", ""))));
    }
    if (meta.contains("deletionTimestamp")) {
      return std::unexpected(bindingConflict(name, fmt::format("pod {} is being deleted, cannot be assigned to a host", name)));
    }
    std::string current = api::strField(*pod, "spec", "nodeName");
    if (!current.empty()) {
      return std::unexpected(
          bindingConflict(name, fmt::format("pod {} is already assigned to node \"{}\"", name, current)));
    }
    Json next = *pod;
    next["spec"]["nodeName"] = node;
    if (binding.contains("metadata") && binding["metadata"].contains("annotations") &&
        binding["metadata"]["annotations"].is_object()) {
      for (const auto& [k, v] : binding["metadata"]["annotations"].items()) next["metadata"]["annotations"][k] = v;
    }
    // podutil.UpdatePodCondition: the transition time moves only when the status does.
    Json& status = next["status"];
    if (!status.is_object()) status = Json::object();
    Json& conditions = status["conditions"];
    if (!conditions.is_array()) conditions = Json::array();
    Json* scheduled = nullptr;
    for (auto& c : conditions) {
      if (c.is_object() && c.value("type", Json()) == Json("PodScheduled")) scheduled = &c;
    }
    if (scheduled == nullptr) {
      conditions.push_back(Json::object());
      scheduled = &conditions.back();
    }
    if (scheduled->value("status", Json()) != Json("True")) {
      *scheduled = {{"type", "PodScheduled"}, {"status", "True"}, {"lastProbeTime", nullptr},
                    {"lastTransitionTime", formatRfc3339(clock_())}};
    }
    next["metadata"].erase("resourceVersion");
    auto kv = store_.update(key(*pods, ns, name), next.dump(), rev);
    if (!kv) {
      if (kv.error().code == Code::kConflict) continue;
      return std::unexpected(kv.error());
    }
    next["metadata"]["resourceVersion"] = std::to_string(kv->modRevision);
    return next;
  }
  return fail(Code::kConflict, fmt::format("Operation cannot be fulfilled on pods/binding \"{}\": too many concurrent writes", name));
}

}  // namespace nanokube::apiserver
