// Pod create and update validation (ValidatePodCreate / ValidatePodUpdate in
// pkg/apis/core/validation/validation.go). A running pod's spec is immutable
// apart from a few fields; every other change is refused with one Forbidden
// error on "spec".

#include <cctype>

#include "api/validation_internal.h"

namespace nanokube::api::detail {

namespace {

// The fields Kubernetes 1.32 lets an update change (updatablePodSpecFieldsNoResources).
const char* kPodUpdateForbidden =
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set "
    "to 1 if it was previously negative)";

// Semantic equality treats absent, null, empty lists and empty maps alike, as
// apimachinery's equality.Semantic does for nil and empty slices and maps.
Json normalized(const Json& v) {
  if (v.is_object()) {
    Json out = Json::object();
    for (const auto& [k, x] : v.items()) {
      Json n = normalized(x);
      if (n.is_null() || (n.is_array() && n.empty()) || (n.is_object() && n.empty())) continue;
      out[k] = std::move(n);
    }
    return out;
  }
  if (v.is_array()) {
    Json out = Json::array();
    for (const auto& x : v) out.push_back(normalized(x));
    return out;
  }
  return v;
}

// Returns true when validation must stop (containers were added or removed).
bool validateContainerUpdates(const Json& now, const Json& before, const std::string& path,
                              ErrorList& errs) {
  if (now.size() != before.size()) {
    errs.push_back(forbidden(path, "pod updates may not add or remove containers"));
    return true;
  }
  for (size_t i = 0; i < now.size(); ++i) {
    std::string image = str(now[i], "image");
    if (image.empty()) errs.push_back(required(idx(path, i) + ".image"));
    bool padded = !image.empty() && (std::isspace(static_cast<unsigned char>(image.front())) ||
                                     std::isspace(static_cast<unsigned char>(image.back())));
    if (padded) {
      errs.push_back(invalid(idx(path, i) + ".image", quote(image), "must not have leading or trailing whitespace"));
    }
  }
  return false;
}

// Returns true when validation must stop, as Kubernetes returns early on these.
bool validateDeadlineUpdate(const Json& spec, const Json& oldSpec, ErrorList& errs) {
  auto now = integer(spec, "activeDeadlineSeconds");
  auto before = integer(oldSpec, "activeDeadlineSeconds");
  if (now) {
    if (*now < 0 || *now > 2147483647) {
      errs.push_back(invalid("spec.activeDeadlineSeconds", std::to_string(*now), "must be between 0 and 2147483647, inclusive"));
      return true;
    }
    if (before && *before < *now) {
      errs.push_back(invalid("spec.activeDeadlineSeconds", std::to_string(*now), "must be less than or equal to previous value"));
      return true;
    }
  } else if (before) {
    errs.push_back(invalid("spec.activeDeadlineSeconds", "\"null\"", "must not update from a positive integer to nil value"));
  }
  return false;
}

void validateTolerationUpdate(const Json& spec, const Json& oldSpec, ErrorList& errs) {
  const Json& now = array(spec, "tolerations");
  for (const auto& t : array(oldSpec, "tolerations")) {
    Json want = normalized(t);
    want.erase("tolerationSeconds");
    bool kept = false;
    for (const auto& n : now) {
      Json got = normalized(n);
      got.erase("tolerationSeconds");
      kept = kept || got == want;
    }
    if (!kept) {
      errs.push_back(invalid("spec.tolerations", quote(now.dump()), "existing toleration can not be modified except its tolerationSeconds"));
      return;
    }
  }
}

// Copies the fields an update may change from the old spec into the new one, so
// that what remains must be equal.
Json mungedSpec(const Json& spec, const Json& oldSpec) {
  Json m = spec;
  for (const char* list : {"containers", "initContainers"}) {
    if (!m.contains(list) || !m[list].is_array()) continue;
    const Json& old = array(oldSpec, list);
    for (size_t i = 0; i < m[list].size() && i < old.size(); ++i) {
      if (m[list][i].is_object()) m[list][i]["image"] = old[i].value("image", Json());
    }
  }
  for (const char* key : {"activeDeadlineSeconds", "tolerations", "schedulingGates"}) {
    if (const Json* v = child(oldSpec, key)) m[key] = *v; else m.erase(key);
  }
  auto oldGrace = integer(oldSpec, "terminationGracePeriodSeconds");
  if (oldGrace && *oldGrace < 0 && integer(m, "terminationGracePeriodSeconds") == 1) {
    m["terminationGracePeriodSeconds"] = *oldGrace;
  }
  return m;
}

void validatePodUpdate(const Json& obj, const Json& old, ErrorList& errs) {
  validateObjectMetaUpdate(obj, old, errs);
  const Json& spec = object(obj, "spec");
  const Json& oldSpec = object(old, "spec");
  if (validateContainerUpdates(array(spec, "containers"), array(oldSpec, "containers"), "spec.containers", errs)) return;
  if (validateContainerUpdates(array(spec, "initContainers"), array(oldSpec, "initContainers"), "spec.initContainers", errs)) return;
  if (validateDeadlineUpdate(spec, oldSpec, errs)) return;
  validateTolerationUpdate(spec, oldSpec, errs);
  if (normalized(mungedSpec(spec, oldSpec)) != normalized(oldSpec)) {
    // Kubernetes appends a Go diff of the two specs after a newline; nanokube
    // keeps the sentence, which is what clients and users match on.
    errs.push_back(forbidden("spec", kPodUpdateForbidden));
  }
}

}  // namespace

void validatePod(const Json& obj, const Json* old, ErrorList& errs) {
  validateObjectMeta(obj, true, nameIsDns1123Subdomain, errs);
  validatePodSpec(object(obj, "spec"), "spec", errs);
  if (old != nullptr) validatePodUpdate(obj, *old, errs);
}

}  // namespace nanokube::api::detail
