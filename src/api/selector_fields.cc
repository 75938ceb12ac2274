// Field selectors: the term syntax and escaping of k8s.io/apimachinery/pkg/fields
// (selector.go), and per kind the labels a Kubernetes API server accepts (the field
// label conversion funcs of pkg/apis/core/v1/conversion.go and batch/v1) with the
// values of the registries' *ToSelectableFields (pkg/registry/*/strategy.go).

#include <algorithm>
#include <cstdint>
#include <set>

#include "api/object.h"
#include "api/selector.h"

namespace nanokube::api {

namespace {

std::unexpected<Error> badRequest(std::string msg) { return fail(Code::kBadRequest, std::move(msg)); }

// fields.splitTerms: commas split terms unless escaped with a backslash.
std::vector<std::string> splitTerms(std::string_view s) {
  std::vector<std::string> terms;
  if (s.empty()) return terms;
  size_t start = 0;
  bool inSlash = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (inSlash) {
      inSlash = false;
    } else if (s[i] == '\\') {
      inSlash = true;
    } else if (s[i] == ',') {
      terms.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.emplace_back(s.substr(start));
  return terms;
}

// fields.splitTerm: the first position where "!=", "==" or "=" starts.
bool splitTerm(const std::string& term, std::string& lhs, std::string& op, std::string& rhs) {
  for (size_t i = 0; i < term.size(); ++i) {
    for (const char* candidate : {"!=", "==", "="}) {
      if (term.compare(i, std::char_traits<char>::length(candidate), candidate) == 0) {
        lhs = term.substr(0, i);
        op = candidate;
        rhs = term.substr(i + op.size());
        return true;
      }
    }
  }
  return false;
}

size_t utf8Length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

// fields.UnescapeValue, with its error texts (a rune prints as its code point).
Result<std::string> unescapeValue(const std::string& s) {
  if (s.find_first_of("\\,=") == std::string::npos) return s;
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\') {
      if (i + 1 >= s.size()) return badRequest("invalid field selector: invalid escape sequence: \\");
      char next = s[i + 1];
      if (next != '\\' && next != ',' && next != '=') {
        std::string seq = "\\" + s.substr(i + 1, utf8Length(static_cast<unsigned char>(next)));
        return badRequest("invalid field selector: invalid escape sequence: " + seq);
      }
      out += next;
      ++i;
    } else if (c == ',' || c == '=') {
      return badRequest("invalid field selector: unescaped character in value: " +
                        std::to_string(static_cast<int>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

enum class FieldSet { kPod, kNode, kReplicationController, kEvent, kNamespace, kService, kJob, kDefault };

FieldSet fieldSetOf(const ResourceInfo& r) {
  if (r.group.empty()) {
    if (r.kind == "Pod") return FieldSet::kPod;
    if (r.kind == "Node") return FieldSet::kNode;
    if (r.kind == "ReplicationController") return FieldSet::kReplicationController;
    if (r.kind == "Event") return FieldSet::kEvent;
    if (r.kind == "Namespace") return FieldSet::kNamespace;
    if (r.kind == "Service") return FieldSet::kService;
  }
  if (r.group == "batch" && r.kind == "Job") return FieldSet::kJob;
  return FieldSet::kDefault;
}

const std::set<std::string, std::less<>>& supportedFields(FieldSet set) {
  static const std::set<std::string, std::less<>> kPod = {
      "metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy",
      "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
      "status.podIP", "status.podIPs", "status.nominatedNodeName"};
  static const std::set<std::string, std::less<>> kNode = {"metadata.name", "spec.unschedulable"};
  static const std::set<std::string, std::less<>> kRc = {"metadata.name", "metadata.namespace",
                                                         "status.replicas"};
  static const std::set<std::string, std::less<>> kEvent = {
      "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
      "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
      "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
      "metadata.namespace", "metadata.name"};
  static const std::set<std::string, std::less<>> kNamespace = {"status.phase", "metadata.name"};
  static const std::set<std::string, std::less<>> kService = {"metadata.namespace", "metadata.name",
                                                              "spec.clusterIP", "spec.type"};
  static const std::set<std::string, std::less<>> kJob = {"metadata.name", "metadata.namespace",
                                                          "status.successful"};
  static const std::set<std::string, std::less<>> kDefault = {"metadata.name", "metadata.namespace"};
  switch (set) {
    case FieldSet::kPod: return kPod;
    case FieldSet::kNode: return kNode;
    case FieldSet::kReplicationController: return kRc;
    case FieldSet::kEvent: return kEvent;
    case FieldSet::kNamespace: return kNamespace;
    case FieldSet::kService: return kService;
    case FieldSet::kJob: return kJob;
    case FieldSet::kDefault: break;
  }
  return kDefault;
}

// The label conversion step of the API server (ConvertFieldLabel). Kinds with their
// own conversion func say "field label not supported"; the others fall back to
// runtime.DefaultMetaV1FieldSelectorConversion and its different message.
Result<std::string> convertFieldLabel(const ResourceInfo& r, const std::string& field) {
  FieldSet set = fieldSetOf(r);
  // Old v1 clients send spec.host for pods (pkg/apis/core/v1/conversion.go).
  if (set == FieldSet::kPod && field == "spec.host") return std::string("spec.nodeName");
  if (supportedFields(set).contains(field)) return field;
  if (set == FieldSet::kDefault) {
    return badRequest("\"" + field +
                      "\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"");
  }
  return badRequest("field label not supported: " + field);
}

const Json* at(const Json& obj, std::initializer_list<const char*> path) { return fieldAt(obj, path); }

std::string str(const Json& obj, std::initializer_list<const char*> path) { return stringAt(obj, path); }

std::string integer(const Json& obj, std::initializer_list<const char*> path) {
  const Json* v = at(obj, path);
  return std::to_string(v != nullptr && v->is_number_integer() ? v->get<std::int64_t>() : 0);
}

std::string boolean(const Json& obj, std::initializer_list<const char*> path) {
  const Json* v = at(obj, path);
  return v != nullptr && v->is_boolean() && v->get<bool>() ? "true" : "false";
}

// The kind-specific part of *ToSelectableFields; metadata.* is handled by the caller.
std::string kindFieldValue(FieldSet set, const Json& obj, std::string_view field) {
  if (set == FieldSet::kPod) {
    if (field == "spec.hostNetwork") return boolean(obj, {"spec", "hostNetwork"});
    if (field == "status.podIP") {
      // PodToSelectableFields reads podIPs[0]; status.podIPs itself is accepted but
      // never set in the field set, so it always compares as "".
      const Json* ips = at(obj, {"status", "podIPs"});
      if (ips != nullptr && ips->is_array() && !ips->empty()) return str((*ips)[0], {"ip"});
      return str(obj, {"status", "podIP"});
    }
    if (field == "status.podIPs") return "";
  }
  if (set == FieldSet::kNode && field == "spec.unschedulable") return boolean(obj, {"spec", "unschedulable"});
  if (set == FieldSet::kReplicationController && field == "status.replicas") {
    return integer(obj, {"status", "replicas"});
  }
  if (set == FieldSet::kJob && field == "status.successful") return integer(obj, {"status", "succeeded"});
  if (set == FieldSet::kEvent) {
    if (field == "source") return str(obj, {"source", "component"});
  }
  // Every other field is a plain string at its dotted path (spec.nodeName,
  // status.phase, involvedObject.uid, spec.clusterIP, ...).
  const Json* cur = &obj;
  size_t start = 0;
  while (start <= field.size()) {
    size_t dot = field.find('.', start);
    std::string key(field.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (!cur->is_object() || !cur->contains(key)) return "";
    cur = &(*cur)[key];
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return cur->is_string() ? cur->get<std::string>() : "";
}

}  // namespace

std::optional<std::string> fieldValue(const ResourceInfo& r, const Json& obj, std::string_view field) {
  FieldSet set = fieldSetOf(r);
  std::string f(field);
  if (set == FieldSet::kPod && f == "spec.host") f = "spec.nodeName";
  if (!supportedFields(set).contains(f)) return std::nullopt;
  if (f == "metadata.name") return str(obj, {"metadata", "name"});
  // AddObjectMetaFieldsSet adds metadata.namespace only for namespaced kinds.
  if (f == "metadata.namespace") return r.namespaced ? str(obj, {"metadata", "namespace"}) : "";
  return kindFieldValue(set, obj, f);
}

bool FieldSelector::matches(const ResourceInfo& r, const Json& obj) const {
  return std::all_of(terms_.begin(), terms_.end(), [&](const FieldTerm& t) {
    // fields.Set lookups of a missing key give "", so unknown fields compare as empty.
    std::string v = fieldValue(r, obj, t.field).value_or("");
    return t.notEquals ? v != t.value : v == t.value;
  });
}

Result<FieldSelector> parseFieldSelector(const ResourceInfo& r, std::string_view text) {
  std::vector<std::string> parts = splitTerms(text);
  // parseSelector sorts the terms, which also fixes which error is reported first.
  std::sort(parts.begin(), parts.end());
  std::vector<FieldTerm> terms;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    std::string lhs;
    std::string op;
    std::string rhs;
    if (!splitTerm(part, lhs, op, rhs)) {
      return badRequest("invalid selector: '" + std::string(text) + "'; can't understand '" + part + "'");
    }
    auto value = unescapeValue(rhs);
    if (!value) return std::unexpected(value.error());
    terms.push_back({lhs, op == "!=", std::move(*value)});
  }
  for (auto& t : terms) {
    auto converted = convertFieldLabel(r, t.field);
    if (!converted) return std::unexpected(converted.error());
    t.field = std::move(*converted);
  }
  return FieldSelector(std::move(terms));
}

}  // namespace nanokube::api
