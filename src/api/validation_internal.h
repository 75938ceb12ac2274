#pragma once
// Private to the validation sources: the field-error list Kubernetes builds
// (k8s.io/apimachinery/pkg/util/validation/field/errors.go) and small JSON
// accessors that never throw on a wrongly typed field.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/validation.h"
#include "common/error.h"

namespace nanokube::api::detail {

// One field error. `value` is the bad value already rendered the way Go's
// ErrorBody prints it (a quoted string, a bare number, or %#v of a Go value);
// it is printed only for the types whose body carries a value.
struct FieldError {
  std::string type;  // "FieldValueInvalid", ...
  std::string field;
  std::string value;
  std::string detail;

  std::string body() const;  // "Invalid value: \"x\": must be ..."
  std::string str() const;   // "<field>: <body>"
};
using ErrorList = std::vector<FieldError>;

FieldError required(std::string field, std::string detail = "");
FieldError invalid(std::string field, std::string renderedValue, std::string detail);
FieldError duplicate(std::string field, std::string renderedValue);
FieldError notFound(std::string field, std::string renderedValue);
FieldError notSupported(std::string field, std::string renderedValue,
                        const std::vector<std::string>& validValues);
FieldError forbidden(std::string field, std::string detail);
FieldError tooLong(std::string field, int64_t maxBytes);

// Go's strconv.Quote / %q.
std::string quote(std::string_view s);
// The rendering of a JSON scalar as ErrorBody prints it: strings quoted, numbers bare.
std::string render(const Json& v);
// %#v of a map[string]string: map[string]string{"a":"b"} (keys sorted), or
// map[string]string(nil) when absent.
std::string goStringMap(const Json* map);
// %#v of a metav1.LabelSelector.
std::string goLabelSelector(const Json& selector);
// %#v of a []string.
std::string goStringSlice(const std::vector<std::string>& v);

// Safe accessors: a missing or wrongly typed field reads as absent.
const Json* child(const Json& obj, std::string_view key);
std::string str(const Json& obj, std::string_view key);
std::optional<int64_t> integer(const Json& obj, std::string_view key);
const Json& array(const Json& obj, std::string_view key);  // empty array when absent
const Json& object(const Json& obj, std::string_view key);  // empty object when absent
bool has(const Json& obj, std::string_view key);

// String checks returning apimachinery's messages (util/validation/validation.go).
std::vector<std::string> isDns1035Label(const std::string& v);
std::vector<std::string> isQualifiedName(const std::string& v);
std::vector<std::string> isValidLabelValue(const std::string& v);
std::vector<std::string> isValidPortName(const std::string& v);
std::vector<std::string> isValidPortNum(int64_t port);
std::vector<std::string> isConfigMapKey(const std::string& v);
std::vector<std::string> isRelaxedEnvVarName(const std::string& v);
std::vector<std::string> isValidIp(const std::string& v);

// Building blocks shared by the per-kind validators. `path` is the field path
// of the thing validated ("metadata", "spec.template", ...).
using NameFn = std::vector<std::string> (*)(const std::string&, bool prefix);
std::vector<std::string> nameIsDns1123Subdomain(const std::string& v, bool prefix);
std::vector<std::string> nameIsDns1123Label(const std::string& v, bool prefix);
std::vector<std::string> nameIsDns1035Label(const std::string& v, bool prefix);
void validateObjectMeta(const Json& obj, bool namespaced, NameFn nameFn, ErrorList& errs);
void validateObjectMetaUpdate(const Json& obj, const Json& old, ErrorList& errs);
void validateLabels(const Json& labels, const std::string& path, ErrorList& errs);
void validateAnnotations(const Json& annotations, const std::string& path, ErrorList& errs);
void validateLabelSelector(const Json& selector, const std::string& path, ErrorList& errs);
void validateNonnegative(const Json& obj, std::string_view key, const std::string& path,
                         ErrorList& errs);
void validateImmutable(const std::string& renderedNew, bool changed, const std::string& path,
                       ErrorList& errs);
// Whether a metav1.LabelSelector matches a label set; false for a malformed selector.
bool selectorMatches(const Json& selector, const Json& labels);
bool selectorEmpty(const Json& selector);

// Per-kind validators (validation_pod.cc, validation_workloads.cc, validation_misc.cc).
void validatePodSpec(const Json& spec, const std::string& path, ErrorList& errs);
void validatePodTemplate(const Json& tmpl, const std::string& path, ErrorList& errs);
void validatePod(const Json& obj, const Json* old, ErrorList& errs);
void validateReplicationController(const Json& obj, const Json* old, ErrorList& errs);
void validateReplicaSet(const Json& obj, const Json* old, ErrorList& errs);
void validateDeployment(const Json& obj, const Json* old, ErrorList& errs);
void validateDaemonSet(const Json& obj, const Json* old, ErrorList& errs);
void validateJob(const Json& obj, const Json* old, ErrorList& errs);
void validateService(const Json& obj, const Json* old, ErrorList& errs);
void validateNamespace(const Json& obj, const Json* old, ErrorList& errs);
void validateNode(const Json& obj, const Json* old, ErrorList& errs);
void validateConfigMap(const Json& obj, const Json* old, ErrorList& errs);
void validateEvent(const Json& obj, const Json* old, ErrorList& errs);
void validateEndpoints(const Json& obj, const Json* old, ErrorList& errs);
void validateEndpointSlice(const Json& obj, const Json* old, ErrorList& errs);
void validateLease(const Json& obj, const Json* old, ErrorList& errs);
void validateServiceAccount(const Json& obj, const Json* old, ErrorList& errs);

inline std::string idx(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

}  // namespace nanokube::api::detail
