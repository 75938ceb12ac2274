// The struct tags copied here come from k8s.io/api core/v1, apps/v1 and batch/v1
// types.go (`patchStrategy:"merge" patchMergeKey:"name"` and so on). Lists not
// listed (tolerations, args, command, envFrom, taints, subsets, ...) have no
// strategy and are replaced by a patch, as in Kubernetes. Fields whose strategy is
// only retainKeys (Deployment spec.strategy) need no entry: the $retainKeys directive
// kubectl sends carries the behaviour.

#include <map>

#include "api/patch_schema.h"

namespace nanokube::api::patch {

namespace {

using Fields = std::map<std::string, FieldMeta, std::less<>>;

FieldMeta obj(std::string type) { return {std::move(type), false, ""}; }
FieldMeta mergeBy(std::string key, std::string type = "") { return {std::move(type), true, std::move(key)}; }
FieldMeta mergePrimitives() { return {"", true, ""}; }

std::map<std::string, Fields, std::less<>> buildTypes() {
  std::map<std::string, Fields, std::less<>> t;
  t["ObjectMeta"] = {{"ownerReferences", mergeBy("uid")}, {"finalizers", mergePrimitives()}};
  t["PodTemplateSpec"] = {{"metadata", obj("ObjectMeta")}, {"spec", obj("PodSpec")}};
  t["PodSpec"] = {{"volumes", mergeBy("name")},  // patchStrategy "merge,retainKeys"
                  {"initContainers", mergeBy("name", "Container")},
                  {"containers", mergeBy("name", "Container")},
                  {"ephemeralContainers", mergeBy("name", "Container")},
                  {"imagePullSecrets", mergeBy("name")},
                  {"hostAliases", mergeBy("ip")},
                  {"topologySpreadConstraints", mergeBy("topologyKey")},
                  {"schedulingGates", mergeBy("name")},
                  {"resourceClaims", mergeBy("name")}};
  t["Container"] = {{"ports", mergeBy("containerPort")},
                    {"env", mergeBy("name")},
                    {"volumeMounts", mergeBy("mountPath")},
                    {"volumeDevices", mergeBy("devicePath")}};
  t["PodStatus"] = {{"conditions", mergeBy("type")}, {"podIPs", mergeBy("ip")}, {"hostIPs", mergeBy("ip")}};
  t["ConditionsStatus"] = {{"conditions", mergeBy("type")}};
  t["Pod"] = {{"spec", obj("PodSpec")}, {"status", obj("PodStatus")}};
  t["Service"] = {{"spec", obj("ServiceSpec")}, {"status", obj("ConditionsStatus")}};
  t["ServiceSpec"] = {{"ports", mergeBy("port")}};
  t["Node"] = {{"spec", obj("NodeSpec")}, {"status", obj("NodeStatus")}};
  t["NodeSpec"] = {{"podCIDRs", mergePrimitives()}};
  t["NodeStatus"] = {{"conditions", mergeBy("type")}, {"addresses", mergeBy("type")}};
  t["Namespace"] = {{"status", obj("ConditionsStatus")}};
  t["ServiceAccount"] = {{"secrets", mergeBy("name")}};
  t["WorkloadSpec"] = {{"template", obj("PodTemplateSpec")}};
  for (const char* kind : {"ReplicationController", "ReplicaSet", "DaemonSet", "Job"}) {
    t[kind] = {{"spec", obj("WorkloadSpec")}, {"status", obj("ConditionsStatus")}};
  }
  t["Deployment"] = {{"spec", obj("WorkloadSpec")}, {"status", obj("ConditionsStatus")}};
  return t;
}

const std::map<std::string, Fields, std::less<>>& types() {
  static const auto kTypes = buildTypes();
  return kTypes;
}

}  // namespace

Schema Schema::forKind(std::string_view kind) {
  Schema s{std::string(kind)};
  s.root_ = true;
  return s;
}

FieldMeta Schema::field(std::string_view name) const {
  // Every kind's metadata is an ObjectMeta, whether or not the kind has other tags.
  if (root_ && name == "metadata") return obj("ObjectMeta");
  auto t = types().find(type_);
  if (t == types().end()) return {};
  auto f = t->second.find(name);
  return f == t->second.end() ? FieldMeta{} : f->second;
}

}  // namespace nanokube::api::patch
