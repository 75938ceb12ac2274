// ObjectMeta, labels, annotations and label selectors, as
// apimachinery/pkg/api/validation/objectmeta.go and
// apimachinery/pkg/apis/meta/v1/validation/validation.go check them.

#include <algorithm>
#include <cctype>

#include "api/validation_internal.h"

namespace nanokube::api::detail {

namespace {

constexpr int64_t kTotalAnnotationSizeLimit = 256 * 1024;

void validateNamespaceField(const Json& meta, bool namespaced, ErrorList& errs) {
  std::string ns = str(meta, "namespace");
  if (namespaced) {
    if (ns.empty()) {
      errs.push_back(required("metadata.namespace"));
      return;
    }
    for (const auto& m : nameIsDns1123Label(ns, false)) {
      errs.push_back(invalid("metadata.namespace", quote(ns), m));
    }
  } else if (!ns.empty()) {
    errs.push_back(forbidden("metadata.namespace", "not allowed on this type"));
  }
}

}  // namespace

void validateObjectMeta(const Json& obj, bool namespaced, NameFn nameFn, ErrorList& errs) {
  const Json& meta = object(obj, "metadata");
  std::string generateName = str(meta, "generateName");
  if (!generateName.empty()) {
    for (const auto& m : nameFn(generateName, true)) {
      errs.push_back(invalid("metadata.generateName", quote(generateName), m));
    }
  }
  // The API server turns generateName into a name before validation, so an
  // empty name here means neither was given.
  std::string name = str(meta, "name");
  if (name.empty()) {
    errs.push_back(required("metadata.name", "name or generateName is required"));
  } else {
    for (const auto& m : nameFn(name, false)) errs.push_back(invalid("metadata.name", quote(name), m));
  }
  validateNamespaceField(meta, namespaced, errs);
  validateNonnegative(meta, "generation", "metadata.generation", errs);
  validateLabels(object(meta, "labels"), "metadata.labels", errs);
  validateAnnotations(object(meta, "annotations"), "metadata.annotations", errs);
}

void validateObjectMetaUpdate(const Json& obj, const Json& old, ErrorList& errs) {
  const Json& meta = object(obj, "metadata");
  const Json& oldMeta = object(old, "metadata");
  auto gen = integer(meta, "generation");
  auto oldGen = integer(oldMeta, "generation");
  if (gen && oldGen && *gen < *oldGen) {
    errs.push_back(invalid("metadata.generation", std::to_string(*gen), "must not be decremented"));
  }
  // A field the client left out is filled from the stored object by the API
  // server, so only a present value that differs counts as a change.
  for (const char* key : {"name", "namespace", "uid", "creationTimestamp"}) {
    std::string now = str(meta, key);
    std::string before = str(oldMeta, key);
    if (!now.empty() && now != before) {
      validateImmutable(quote(now), true, std::string("metadata.") + key, errs);
    }
  }
}

void validateLabels(const Json& labels, const std::string& path, ErrorList& errs) {
  if (!labels.is_object()) return;
  for (const auto& [k, v] : labels.items()) {
    for (const auto& m : isQualifiedName(k)) errs.push_back(invalid(path, quote(k), m));
    std::string value = v.is_string() ? v.get<std::string>() : v.dump();
    for (const auto& m : isValidLabelValue(value)) errs.push_back(invalid(path, quote(value), m));
  }
}

void validateAnnotations(const Json& annotations, const std::string& path, ErrorList& errs) {
  if (!annotations.is_object()) return;
  int64_t total = 0;
  for (const auto& [k, v] : annotations.items()) {
    // Annotation keys are qualified names checked case-insensitively.
    std::string lower = k;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    for (const auto& m : isQualifiedName(lower)) errs.push_back(invalid(path, quote(k), m));
    total += static_cast<int64_t>(k.size()) + (v.is_string() ? v.get_ref<const std::string&>().size() : 0);
  }
  if (total > kTotalAnnotationSizeLimit) errs.push_back(tooLong(path, kTotalAnnotationSizeLimit));
}

void validateLabelSelector(const Json& selector, const std::string& path, ErrorList& errs) {
  if (!selector.is_object()) return;
  validateLabels(object(selector, "matchLabels"), path + ".matchLabels", errs);
  const Json& exprs = array(selector, "matchExpressions");
  for (size_t i = 0; i < exprs.size(); ++i) {
    const Json& e = exprs[i];
    std::string p = idx(path + ".matchExpressions", i);
    std::string op = str(e, "operator");
    size_t nValues = array(e, "values").size();
    if (op == "In" || op == "NotIn") {
      if (nValues == 0) {
        errs.push_back(required(p + ".values", "must be specified when `operator` is 'In' or 'NotIn'"));
      }
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (nValues > 0) {
        errs.push_back(forbidden(p + ".values",
                                 "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      }
    } else {
      errs.push_back(invalid(p + ".operator", quote(op), "not a valid selector operator"));
    }
    std::string key = str(e, "key");
    for (const auto& m : isQualifiedName(key)) errs.push_back(invalid(p + ".key", quote(key), m));
    const Json& values = array(e, "values");
    for (size_t j = 0; j < values.size(); ++j) {
      std::string v = values[j].is_string() ? values[j].get<std::string>() : values[j].dump();
      for (const auto& m : isValidLabelValue(v)) errs.push_back(invalid(idx(p + ".values", j), quote(v), m));
    }
  }
}

void validateNonnegative(const Json& obj, std::string_view key, const std::string& path,
                         ErrorList& errs) {
  auto v = integer(obj, key);
  if (v && *v < 0) errs.push_back(invalid(path, std::to_string(*v), "must be greater than or equal to 0"));
}

void validateImmutable(const std::string& renderedNew, bool changed, const std::string& path,
                       ErrorList& errs) {
  if (changed) errs.push_back(invalid(path, renderedNew, "field is immutable"));
}

bool selectorEmpty(const Json& selector) {
  return object(selector, "matchLabels").empty() && array(selector, "matchExpressions").empty();
}

bool selectorMatches(const Json& selector, const Json& labels) {
  auto label = [&](const std::string& k) -> const Json* {
    return labels.is_object() ? child(labels, k) : nullptr;
  };
  for (const auto& [k, v] : object(selector, "matchLabels").items()) {
    const Json* l = label(k);
    if (l == nullptr || *l != v) return false;
  }
  for (const auto& e : array(selector, "matchExpressions")) {
    const Json* l = label(str(e, "key"));
    const Json& values = array(e, "values");
    bool in = l != nullptr && std::find(values.begin(), values.end(), *l) != values.end();
    std::string op = str(e, "operator");
    bool ok = op == "In"             ? in
              : op == "NotIn"        ? !in
              : op == "Exists"       ? l != nullptr
              : op == "DoesNotExist" ? l == nullptr
                                     : false;
    if (!ok) return false;
  }
  return true;
}

}  // namespace nanokube::api::detail
