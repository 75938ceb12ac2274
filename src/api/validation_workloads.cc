// Workload controllers: ReplicationController (pkg/apis/core/validation),
// ReplicaSet, Deployment and DaemonSet (pkg/apis/apps/validation) and Job
// (pkg/apis/batch/validation).

#include "api/validation_internal.h"

namespace nanokube::api::detail {

namespace {

const char* kSelectorMismatch = "`selector` does not match template `labels`";

const Json* templateLabels(const Json& spec) {
  return child(object(object(spec, "template"), "metadata"), "labels");
}

bool mapSelectorMatches(const Json& selector, const Json* labels) {
  for (const auto& [k, v] : selector.items()) {
    const Json* l = labels != nullptr ? child(*labels, k) : nullptr;
    if (l == nullptr || *l != v) return false;
  }
  return true;
}

// Whether metav1.LabelSelectorAsSelector accepts the selector: every requirement
// must have a known operator, the right number of values, and valid keys and values.
bool validOperators(const Json& selector) {
  for (const auto& [k, v] : object(selector, "matchLabels").items()) {
    if (!isQualifiedName(k).empty() || !v.is_string() || !isValidLabelValue(v.get<std::string>()).empty()) return false;
  }
  for (const auto& e : array(selector, "matchExpressions")) {
    std::string op = str(e, "operator");
    size_t n = array(e, "values").size();
    bool set = op == "In" || op == "NotIn";
    bool exists = op == "Exists" || op == "DoesNotExist";
    if ((!set && !exists) || (set && n == 0) || (exists && n > 0)) return false;
    if (!isQualifiedName(str(e, "key")).empty()) return false;
    for (const auto& v : array(e, "values")) {
      if (!v.is_string() || !isValidLabelValue(v.get<std::string>()).empty()) return false;
    }
  }
  return true;
}

// metav1.LabelSelectorAsSelector: a nil selector selects nothing, an empty one
// everything. Returns true when the template labels fail the selector.
bool templateMismatch(const Json& spec) {
  const Json* sel = child(spec, "selector");
  if (sel == nullptr) return true;
  if (selectorEmpty(*sel)) return false;
  const Json* labels = templateLabels(spec);
  return !selectorMatches(*sel, labels != nullptr ? *labels : Json::object());
}

void requireRestartPolicyAlways(const Json& spec, const std::string& kindForMsg, ErrorList& errs) {
  const Json& podSpec = object(object(spec, "template"), "spec");
  std::string rp = str(podSpec, "restartPolicy");
  if (rp != "Always") errs.push_back(notSupported("spec.template.spec.restartPolicy", quote(rp), {"Always"}));
  if (auto ads = integer(podSpec, "activeDeadlineSeconds")) {
    std::string msg = "activeDeadlineSeconds in " + kindForMsg + " is not Supported";
    // DaemonSet reports it as Invalid, the others as Forbidden.
    if (kindForMsg == "DaemonSet") {
      errs.push_back(invalid("spec.template.spec.activeDeadlineSeconds", std::to_string(*ads), msg));
    } else {
      errs.push_back(forbidden("spec.template.spec.activeDeadlineSeconds", msg));
    }
  }
}

// Selector checks shared by ReplicaSet and Deployment (both say "deployment").
// Returns false when the selector cannot be converted, which skips the template.
bool validateAppsSelector(const Json& spec, ErrorList& errs) {
  const Json* sel = child(spec, "selector");
  if (sel == nullptr) {
    errs.push_back(required("spec.selector"));
    return true;
  }
  validateLabelSelector(*sel, "spec.selector", errs);
  if (selectorEmpty(*sel)) {
    errs.push_back(invalid("spec.selector", goLabelSelector(*sel), "empty selector is invalid for deployment"));
  }
  if (!validOperators(*sel)) {
    errs.push_back(invalid("spec.selector", goLabelSelector(*sel), "invalid label selector"));
    return false;
  }
  return true;
}

// ValidatePodTemplateSpecForReplicaSet.
void validateReplicaSetTemplate(const Json& spec, ErrorList& errs) {
  if (templateMismatch(spec)) {
    errs.push_back(invalid("spec.template.metadata.labels", goStringMap(templateLabels(spec)), kSelectorMismatch));
  }
  validatePodTemplate(object(spec, "template"), "spec.template", errs);
  requireRestartPolicyAlways(spec, "ReplicaSet", errs);
}

void validateSelectorImmutable(const Json& obj, const Json* old, ErrorList& errs) {
  if (old == nullptr) return;
  const Json* now = child(object(obj, "spec"), "selector");
  const Json* before = child(object(*old, "spec"), "selector");
  bool changed = (now == nullptr) != (before == nullptr) || (now != nullptr && *now != *before);
  validateImmutable(now != nullptr ? goLabelSelector(*now) : "\"null\"", changed, "spec.selector", errs);
}

// IntOrString rendering: Kubernetes prints it through its String() method, unquoted.
std::string intOrString(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// Returns the numeric value of an int or "NN%"; nullopt when malformed.
std::optional<int64_t> intOrPercent(const Json* v, bool* isPercent = nullptr) {
  if (v == nullptr) return 0;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (!v->is_string()) return std::nullopt;
  std::string s = v->get<std::string>();
  if (s.size() < 2 || s.back() != '%' || s.find_first_not_of("0123456789") != s.size() - 1) return std::nullopt;
  if (isPercent != nullptr) *isPercent = true;
  return std::stoll(s.substr(0, s.size() - 1));
}

void validateIntOrPercent(const Json& ru, const char* key, const std::string& path, ErrorList& errs) {
  const Json* v = child(ru, key);
  if (v == nullptr) return;
  std::string p = path + "." + key;
  bool pct = false;
  auto n = intOrPercent(v, &pct);
  if (!n && v->is_string()) {
    errs.push_back(invalid(p, intOrString(*v), "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%', or '93%', regex used for validation is '[0-9]+%')"));
  } else if (!n) {
    errs.push_back(invalid(p, intOrString(*v), "must be an integer or percentage (e.g '5%')"));
  } else if (*n < 0) {
    errs.push_back(invalid(p, std::to_string(*n), "must be greater than or equal to 0"));
  } else if (pct && *n > 100) {
    errs.push_back(invalid(p, intOrString(*v), "must not be greater than 100%"));
  }
}

void validateDeploymentStrategy(const Json& spec, ErrorList& errs) {
  const Json& strategy = object(spec, "strategy");
  std::string type = str(strategy, "type");
  const Json* ru = child(strategy, "rollingUpdate");
  if (type == "Recreate") {
    if (ru != nullptr) errs.push_back(forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"));
  } else if (type == "RollingUpdate") {
    if (ru == nullptr) {
      errs.push_back(required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil"));
      return;
    }
    std::string p = "spec.strategy.rollingUpdate";
    validateIntOrPercent(*ru, "maxUnavailable", p, errs);
    validateIntOrPercent(*ru, "maxSurge", p, errs);
    if (intOrPercent(child(*ru, "maxUnavailable")) == 0 && intOrPercent(child(*ru, "maxSurge")) == 0) {
      const Json* mu = child(*ru, "maxUnavailable");
      errs.push_back(invalid(p + ".maxUnavailable", mu ? intOrString(*mu) : "0", "may not be 0 when `maxSurge` is 0"));
    }
  } else {
    std::string value = "apps.DeploymentStrategy{Type:" + quote(type) + ", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}";
    errs.push_back(notSupported("spec.strategy", value, {"Recreate", "RollingUpdate"}));
  }
}

void validateDaemonSetStrategy(const Json& spec, ErrorList& errs) {
  const Json& strategy = object(spec, "updateStrategy");
  std::string type = str(strategy, "type");
  std::string p = "spec.updateStrategy.rollingUpdate";
  if (type == "OnDelete") return;
  if (type != "RollingUpdate") {
    std::string value = "apps.DaemonSetUpdateStrategy{Type:" + quote(type) + ", RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}";
    errs.push_back(notSupported("spec.updateStrategy", value, {"RollingUpdate", "OnDelete"}));
    return;
  }
  const Json* ru = child(strategy, "rollingUpdate");
  if (ru == nullptr) {
    errs.push_back(required(p));
    return;
  }
  validateIntOrPercent(*ru, "maxUnavailable", p, errs);
  validateIntOrPercent(*ru, "maxSurge", p, errs);
  bool unavailable = intOrPercent(child(*ru, "maxUnavailable")).value_or(0) != 0;
  bool surge = intOrPercent(child(*ru, "maxSurge")).value_or(0) != 0;
  if (unavailable && surge) {
    errs.push_back(invalid(p + ".maxSurge", intOrString(*child(*ru, "maxSurge")), "may not be set when maxUnavailable is non-zero"));
  } else if (!unavailable && !surge) {
    errs.push_back(required(p + ".maxUnavailable", "cannot be 0 when maxSurge is 0"));
  }
}

}  // namespace

void validateReplicationController(const Json& obj, const Json* old, ErrorList& errs) {
  validateObjectMeta(obj, true, nameIsDns1123Subdomain, errs);
  if (old != nullptr) validateObjectMetaUpdate(obj, *old, errs);
  const Json& spec = object(obj, "spec");
  validateNonnegative(spec, "minReadySeconds", "spec.minReadySeconds", errs);
  const Json& selector = object(spec, "selector");
  if (selector.empty()) errs.push_back(required("spec.selector"));
  validateNonnegative(spec, "replicas", "spec.replicas", errs);
  const Json* tmpl = child(spec, "template");
  if (tmpl == nullptr) {
    errs.push_back(required("spec.template"));
    return;
  }
  if (!selector.empty() && !mapSelectorMatches(selector, templateLabels(spec))) {
    errs.push_back(invalid("spec.template.metadata.labels", goStringMap(templateLabels(spec)),
                           "selector does not match template labels"));
  }
  validatePodTemplate(*tmpl, "spec.template", errs);
  requireRestartPolicyAlways(spec, "ReplicationController", errs);
}

void validateReplicaSet(const Json& obj, const Json* old, ErrorList& errs) {
  validateObjectMeta(obj, true, nameIsDns1123Subdomain, errs);
  if (old != nullptr) validateObjectMetaUpdate(obj, *old, errs);
  const Json& spec = object(obj, "spec");
  validateNonnegative(spec, "replicas", "spec.replicas", errs);
  validateNonnegative(spec, "minReadySeconds", "spec.minReadySeconds", errs);
  if (validateAppsSelector(spec, errs)) validateReplicaSetTemplate(spec, errs);
  validateSelectorImmutable(obj, old, errs);
}

void validateDeployment(const Json& obj, const Json* old, ErrorList& errs) {
  validateObjectMeta(obj, true, nameIsDns1123Subdomain, errs);
  if (old != nullptr) validateObjectMetaUpdate(obj, *old, errs);
  const Json& spec = object(obj, "spec");
  validateNonnegative(spec, "replicas", "spec.replicas", errs);
  if (validateAppsSelector(spec, errs)) validateReplicaSetTemplate(spec, errs);
  validateDeploymentStrategy(spec, errs);
  validateNonnegative(spec, "minReadySeconds", "spec.minReadySeconds", errs);
  validateNonnegative(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", errs);
  if (auto pds = integer(spec, "progressDeadlineSeconds")) {
    validateNonnegative(spec, "progressDeadlineSeconds", "spec.progressDeadlineSeconds", errs);
    if (*pds <= integer(spec, "minReadySeconds").value_or(0)) {
      errs.push_back(invalid("spec.progressDeadlineSeconds", std::to_string(*pds), "must be greater than minReadySeconds"));
    }
  }
  validateSelectorImmutable(obj, old, errs);
}

void validateDaemonSet(const Json& obj, const Json* old, ErrorList& errs) {
  validateObjectMeta(obj, true, nameIsDns1123Subdomain, errs);
  if (old != nullptr) validateObjectMetaUpdate(obj, *old, errs);
  const Json& spec = object(obj, "spec");
  const Json* sel = child(spec, "selector");
  if (sel != nullptr) validateLabelSelector(*sel, "spec.selector", errs);
  if ((sel == nullptr || validOperators(*sel)) && templateMismatch(spec)) {
    errs.push_back(invalid("spec.template.metadata.labels", goStringMap(templateLabels(spec)), kSelectorMismatch));
  }
  if (sel != nullptr && selectorEmpty(*sel)) {
    errs.push_back(invalid("spec.selector", goLabelSelector(*sel), "empty selector is invalid for daemonset"));
  }
  validatePodTemplate(object(spec, "template"), "spec.template", errs);
  requireRestartPolicyAlways(spec, "DaemonSet", errs);
  validateNonnegative(spec, "minReadySeconds", "spec.minReadySeconds", errs);
  validateDaemonSetStrategy(spec, errs);
  validateNonnegative(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", errs);
  validateSelectorImmutable(obj, old, errs);
}

namespace {

void validateJobCounts(const Json& spec, ErrorList& errs) {
  for (const char* key : {"parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                          "ttlSecondsAfterFinished"}) {
    validateNonnegative(spec, key, std::string("spec.") + key, errs);
  }
  if (const Json* mode = child(spec, "completionMode")) {
    std::string m = mode->is_string() ? mode->get<std::string>() : "";
    if (m != "NonIndexed" && m != "Indexed") {
      errs.push_back(notSupported("spec.completionMode", quote(m), {"NonIndexed", "Indexed"}));
    }
    if (m == "Indexed" && !has(spec, "completions")) {
      errs.push_back(required("spec.completions", "when completion mode is Indexed"));
    }
  }
}

void validateJobUpdate(const Json& spec, const Json& oldSpec, ErrorList& errs) {
  auto changed = [&](const char* key) {
    const Json* a = child(spec, key);
    const Json* b = child(oldSpec, key);
    return (a == nullptr) != (b == nullptr) || (a != nullptr && *a != *b);
  };
  const Json* sel = child(spec, "selector");
  validateImmutable(sel ? goLabelSelector(*sel) : "\"null\"", changed("selector"), "spec.selector", errs);
  // Kubernetes lets a suspended Job that never started change some template
  // fields; nanokube keeps the template immutable (the common case).
  validateImmutable("core.PodTemplateSpec{...}", changed("template"), "spec.template", errs);
  const Json* completions = child(spec, "completions");
  validateImmutable(completions ? render(*completions) : "\"null\"", changed("completions"), "spec.completions", errs);
  const Json* mode = child(spec, "completionMode");
  validateImmutable(mode ? render(*mode) : "\"null\"", changed("completionMode"), "spec.completionMode", errs);
}

}  // namespace

void validateJob(const Json& obj, const Json* old, ErrorList& errs) {
  validateObjectMeta(obj, true, nameIsDns1123Subdomain, errs);
  if (old != nullptr) validateObjectMetaUpdate(obj, *old, errs);
  const Json& spec = object(obj, "spec");
  validateJobCounts(spec, errs);
  const Json* sel = child(spec, "selector");
  if (sel == nullptr) {
    errs.push_back(required("spec.selector"));
  } else {
    validateLabelSelector(*sel, "spec.selector", errs);
  }
  if ((sel == nullptr || validOperators(*sel)) && templateMismatch(spec)) {
    errs.push_back(invalid("spec.template.metadata.labels", goStringMap(templateLabels(spec)), kSelectorMismatch));
  }
  validatePodTemplate(object(spec, "template"), "spec.template", errs);
  // Pod defaulting turns an unset restartPolicy into Always, so Kubernetes
  // reports both as missing (pkg/apis/batch/validation, validateJobSpec).
  std::string rp = str(object(object(spec, "template"), "spec"), "restartPolicy");
  if (rp == "Always" || rp.empty()) {
    errs.push_back(required("spec.template.spec.restartPolicy", "valid values: \"OnFailure\", \"Never\""));
  } else if (rp != "OnFailure" && rp != "Never") {
    errs.push_back(notSupported("spec.template.spec.restartPolicy", quote(rp), {"OnFailure", "Never"}));
  }
  if (old != nullptr) validateJobUpdate(spec, object(*old, "spec"), errs);
}

}  // namespace nanokube::api::detail
