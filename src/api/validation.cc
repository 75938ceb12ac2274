#include "api/validation.h"

#include <map>
#include <regex>
#include <set>

#include "api/object.h"
#include "api/validation_internal.h"

namespace nanokube::api {

namespace detail {

// Error types and their canonical text, from apimachinery's field/errors.go.
namespace {

std::string typeText(const std::string& type) {
  if (type == "FieldValueRequired") return "Required value";
  if (type == "FieldValueDuplicate") return "Duplicate value";
  if (type == "FieldValueInvalid") return "Invalid value";
  if (type == "FieldValueNotSupported") return "Unsupported value";
  if (type == "FieldValueForbidden") return "Forbidden";
  if (type == "FieldValueTooLong") return "Too long";
  if (type == "FieldValueNotFound") return "Not found";
  return "Internal error";
}

}  // namespace

std::string FieldError::body() const {
  // Required, Forbidden and TooLong print no value; the others print it (ErrorBody).
  std::string s = typeText(type);
  bool withValue = type != "FieldValueRequired" && type != "FieldValueForbidden" &&
                   type != "FieldValueTooLong";
  if (withValue) s += ": " + value;
  if (!detail.empty()) s += ": " + detail;
  return s;
}

std::string FieldError::str() const { return field + ": " + body(); }

FieldError required(std::string field, std::string detail) {
  return {"FieldValueRequired", std::move(field), "\"\"", std::move(detail)};
}
FieldError invalid(std::string field, std::string renderedValue, std::string detail) {
  return {"FieldValueInvalid", std::move(field), std::move(renderedValue), std::move(detail)};
}
FieldError duplicate(std::string field, std::string renderedValue) {
  return {"FieldValueDuplicate", std::move(field), std::move(renderedValue), ""};
}
FieldError notFound(std::string field, std::string renderedValue) {
  return {"FieldValueNotFound", std::move(field), std::move(renderedValue), ""};
}
FieldError notSupported(std::string field, std::string renderedValue,
                        const std::vector<std::string>& validValues) {
  std::string detail;
  if (!validValues.empty()) {
    detail = "supported values: ";
    for (size_t i = 0; i < validValues.size(); ++i) {
      if (i > 0) detail += ", ";
      detail += quote(validValues[i]);
    }
  }
  return {"FieldValueNotSupported", std::move(field), std::move(renderedValue), detail};
}
FieldError forbidden(std::string field, std::string detail) {
  return {"FieldValueForbidden", std::move(field), "\"\"", std::move(detail)};
}
FieldError tooLong(std::string field, int64_t maxBytes) {
  // The wording of field.TooLong since Kubernetes 1.30.
  return {"FieldValueTooLong", std::move(field), "\"\"",
          "may not be more than " + std::to_string(maxBytes) + " bytes"};
}

std::string quote(std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string render(const Json& v) {
  if (v.is_string()) return quote(v.get_ref<const std::string&>());
  if (v.is_null()) return "\"null\"";
  return v.dump();
}

std::string goStringMap(const Json* map) {
  if (map == nullptr || !map->is_object()) return "map[string]string(nil)";
  std::string out = "map[string]string{";
  bool first = true;
  for (const auto& [k, v] : map->items()) {  // nlohmann keeps keys sorted, as %#v prints them
    if (!first) out += ", ";
    first = false;
    out += quote(k) + ":" + quote(v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out + "}";
}

std::string goStringSlice(const std::vector<std::string>& v) {
  std::string out = "[]string{";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + quote(v[i]);
  return out + "}";
}

std::string goLabelSelector(const Json& selector) {
  std::string out = "v1.LabelSelector{MatchLabels:" + goStringMap(child(selector, "matchLabels"));
  const Json* exprs = child(selector, "matchExpressions");
  if (exprs == nullptr || !exprs->is_array()) {
    return out + ", MatchExpressions:[]v1.LabelSelectorRequirement(nil)}";
  }
  out += ", MatchExpressions:[]v1.LabelSelectorRequirement{";
  for (size_t i = 0; i < exprs->size(); ++i) {
    const Json& e = (*exprs)[i];
    std::vector<std::string> values;
    for (const auto& v : array(e, "values")) values.push_back(v.is_string() ? v.get<std::string>() : "");
    out += (i ? ", " : "");
    out += "v1.LabelSelectorRequirement{Key:" + quote(str(e, "key")) +
           ", Operator:" + quote(str(e, "operator")) + ", Values:" +
           (has(e, "values") ? goStringSlice(values) : "[]string(nil)") + "}";
  }
  return out + "}}";
}

const Json* child(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string str(const Json& obj, std::string_view key) {
  const Json* c = child(obj, key);
  return c != nullptr && c->is_string() ? c->get<std::string>() : std::string();
}

std::optional<int64_t> integer(const Json& obj, std::string_view key) {
  const Json* c = child(obj, key);
  if (c == nullptr || !c->is_number()) return std::nullopt;
  if (c->is_number_float()) return static_cast<int64_t>(c->get<double>());
  return c->get<int64_t>();
}

const Json& array(const Json& obj, std::string_view key) {
  static const Json kEmpty = Json::array();
  const Json* c = child(obj, key);
  return c != nullptr && c->is_array() ? *c : kEmpty;
}

const Json& object(const Json& obj, std::string_view key) {
  static const Json kEmpty = Json::object();
  const Json* c = child(obj, key);
  return c != nullptr && c->is_object() ? *c : kEmpty;
}

bool has(const Json& obj, std::string_view key) { return child(obj, key) != nullptr; }

}  // namespace detail

using namespace detail;

namespace {

// Formats and messages of k8s.io/apimachinery/pkg/util/validation/validation.go.
const char* kDns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const char* kDns1123SubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const char* kDns1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
const char* kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const char* kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const char* kConfigMapKeyFmt = "[-._a-zA-Z0-9]+";
const char* kQualifiedNameErrMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";

bool fullMatch(const std::string& value, const char* fmt) {
  // Compiled once per format; std::regex is slow to build but fine to run on names.
  static thread_local std::map<const char*, std::regex> cache;
  auto it = cache.find(fmt);
  if (it == cache.end()) it = cache.emplace(fmt, std::regex(fmt)).first;
  return std::regex_match(value, it->second);
}

std::string maxLenError(int n) { return "must be no more than " + std::to_string(n) + " characters"; }

std::string regexError(const std::string& msg, const std::string& fmt,
                       const std::vector<std::string>& examples) {
  if (examples.empty()) return msg + " (regex used for validation is '" + fmt + "')";
  std::string out = msg + " (e.g. ";
  for (size_t i = 0; i < examples.size(); ++i) {
    if (i > 0) out += " or ";
    out += "'" + examples[i] + "', ";
  }
  return out + "regex used for validation is '" + fmt + "')";
}

std::vector<std::string> chDirPrefix(const std::string& v) {
  if (v == ".") return {"must not be '.'"};
  if (v == "..") return {"must not be '..'"};
  if (v.starts_with("..")) return {"must not start with '..'"};
  return {};
}

// Generated names may end with a dash: the random suffix follows it
// (apimachinery/pkg/api/validation/generic.go, maskTrailingDash).
std::string maskTrailingDash(const std::string& v) {
  if (v.size() > 1 && v.back() == '-') return v.substr(0, v.size() - 1) + "a";
  return v;
}

}  // namespace

std::vector<std::string> checkDns1123Label(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(maxLenError(63));
  if (!fullMatch(value, kDns1123LabelFmt)) {
    if (fullMatch(value, kDns1123SubdomainFmt)) {
      errs.push_back("must not contain dots");
    } else {
      errs.push_back(regexError(
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
          "and must start and end with an alphanumeric character",
          kDns1123LabelFmt, {"my-name", "123-abc"}));
    }
  }
  return errs;
}

std::vector<std::string> checkDns1123Subdomain(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 253) errs.push_back(maxLenError(253));
  if (!fullMatch(value, kDns1123SubdomainFmt)) {
    errs.push_back(regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.', and must start and end with an alphanumeric character",
        kDns1123SubdomainFmt, {"example.com"}));
  }
  return errs;
}

namespace detail {

std::vector<std::string> isDns1035Label(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 63) errs.push_back(maxLenError(63));
  if (!fullMatch(v, kDns1035LabelFmt)) {
    errs.push_back(regexError(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
        "an alphabetic character, and end with an alphanumeric character",
        kDns1035LabelFmt, {"my-name", "abc-123"}));
  }
  return errs;
}

std::vector<std::string> isQualifiedName(const std::string& v) {
  std::vector<std::string> errs;
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t pos; (pos = v.find('/', start)) != std::string::npos; start = pos + 1) {
    parts.push_back(v.substr(start, pos - start));
  }
  parts.push_back(v.substr(start));
  std::string name;
  if (parts.size() == 1) {
    name = parts[0];
  } else if (parts.size() == 2) {
    name = parts[1];
    if (parts[0].empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      for (const auto& m : checkDns1123Subdomain(parts[0])) errs.push_back("prefix part " + m);
    }
  } else {
    return {"a qualified name " +
            regexError(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
            " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"};
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    errs.push_back("name part " + maxLenError(63));
  }
  if (!fullMatch(name, kQualifiedNameFmt)) {
    errs.push_back("name part " + regexError(kQualifiedNameErrMsg, kQualifiedNameFmt,
                                             {"MyName", "my.name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> isValidLabelValue(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 63) errs.push_back(maxLenError(63));
  if (!fullMatch(v, kLabelValueFmt)) {
    errs.push_back(regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
        "or '.', and must start and end with an alphanumeric character",
        kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  }
  return errs;
}

std::vector<std::string> isValidPortName(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 15) errs.push_back(maxLenError(15));
  if (!fullMatch(v, "[-a-z0-9]+")) {
    errs.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  }
  if (v.find_first_of("abcdefghijklmnopqrstuvwxyz") == std::string::npos) {
    errs.push_back("must contain at least one letter (a-z)");
  }
  if (v.find("--") != std::string::npos) errs.push_back("must not contain consecutive hyphens");
  if (!v.empty() && (v.front() == '-' || v.back() == '-')) {
    errs.push_back("must not begin or end with a hyphen");
  }
  return errs;
}

std::vector<std::string> isValidPortNum(int64_t port) {
  if (port >= 1 && port <= 65535) return {};
  return {"must be between 1 and 65535, inclusive"};
}

std::vector<std::string> isConfigMapKey(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 253) errs.push_back(maxLenError(253));
  if (!fullMatch(v, kConfigMapKeyFmt)) {
    errs.push_back(regexError("a valid config key must consist of alphanumeric characters, '-', "
                              "'_' or '.'",
                              kConfigMapKeyFmt, {"key.name", "KEY_NAME", "key-name"}));
  }
  for (auto& m : chDirPrefix(v)) errs.push_back(std::move(m));
  return errs;
}

// Kubernetes 1.32 enables RelaxedEnvironmentVariableValidation by default, so
// any printable ASCII name without '=' is accepted (validation.go, IsRelaxedEnvVarName).
std::vector<std::string> isRelaxedEnvVarName(const std::string& v) {
  std::vector<std::string> errs;
  if (v.empty()) errs.push_back("environment variable name must be non-empty");
  for (unsigned char c : v) {
    if (c > 0x7e || c < 0x20 || c == '=') {
      errs.push_back(
          "a valid environment variable name must consist only of printable ASCII characters "
          "other than '='");
      break;
    }
  }
  return errs;
}

std::vector<std::string> isValidIp(const std::string& v) {
  // IPv4 dotted quad or an IPv6 literal; the message of validation.IsValidIP.
  static const char* kV4 = "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}"
                           "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
  if (fullMatch(v, kV4)) return {};
  if (v.find(':') != std::string::npos && fullMatch(v, "[0-9a-fA-F:.]+") && v.size() <= 45) {
    return {};
  }
  return {"must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"};
}

std::vector<std::string> nameIsDns1123Subdomain(const std::string& v, bool prefix) {
  return checkDns1123Subdomain(prefix ? maskTrailingDash(v) : v);
}
std::vector<std::string> nameIsDns1123Label(const std::string& v, bool prefix) {
  return checkDns1123Label(prefix ? maskTrailingDash(v) : v);
}
std::vector<std::string> nameIsDns1035Label(const std::string& v, bool prefix) {
  return isDns1035Label(prefix ? maskTrailingDash(v) : v);
}

}  // namespace detail

namespace {

using Validator = void (*)(const Json&, const Json*, ErrorList&);

Validator validatorFor(const ResourceInfo& r) {
  static const std::map<std::string, Validator> kByKind = {
      {"Pod", validatePod},
      {"Service", validateService},
      {"ReplicationController", validateReplicationController},
      {"Namespace", validateNamespace},
      {"Node", validateNode},
      {"Endpoints", validateEndpoints},
      {"Event", validateEvent},
      {"ConfigMap", validateConfigMap},
      {"ServiceAccount", validateServiceAccount},
      {"DaemonSet", validateDaemonSet},
      {"ReplicaSet", validateReplicaSet},
      {"Deployment", validateDeployment},
      {"Job", validateJob},
      {"EndpointSlice", validateEndpointSlice},
      {"Lease", validateLease},
  };
  auto it = kByKind.find(r.kind);
  return it == kByKind.end() ? nullptr : it->second;
}

// errors.NewInvalid (apimachinery/pkg/api/errors/errors.go): the message names the
// qualified kind ("Pod", "Deployment.apps"); details carry the group and the kind
// (not the resource) with one cause per field error; the message aggregates the
// distinct errors, bracketed when there are several.
Error toInvalid(const ResourceInfo& r, const std::string& name, const ErrorList& errs) {
  std::string qualifiedKind = r.group.empty() ? r.kind : r.kind + "." + r.group;
  Json causes = Json::array();
  std::vector<std::string> distinct;
  std::set<std::string> seen;
  for (const auto& e : errs) {
    causes.push_back({{"reason", e.type}, {"message", e.body()}, {"field", e.field}});
    if (seen.insert(e.str()).second) distinct.push_back(e.str());
  }
  std::string agg;
  if (distinct.size() == 1) {
    agg = distinct[0];
  } else {
    agg = "[";
    for (size_t i = 0; i < distinct.size(); ++i) agg += (i ? ", " : "") + distinct[i];
    agg += "]";
  }
  Json details = {{"name", name}, {"kind", r.kind}, {"causes", causes}};
  if (!r.group.empty()) details["group"] = r.group;
  return Error{Code::kInvalid, qualifiedKind + " " + quote(name) + " is invalid: " + agg, details};
}

}  // namespace

Result<void> validateObject(const ResourceInfo& r, const Json& obj, const Json* old) {
  ErrorList errs;
  if (!obj.is_object()) {
    errs.push_back(invalid("", "\"\"", "object expected"));
  } else if (Validator v = validatorFor(r)) {
    v(obj, old, errs);
  } else {
    validateObjectMeta(obj, r.namespaced, nameIsDns1123Subdomain, errs);
    if (old != nullptr) validateObjectMetaUpdate(obj, *old, errs);
  }
  if (errs.empty()) return {};
  return std::unexpected(toInvalid(r, strField(obj, "metadata", "name"), errs));
}

}  // namespace nanokube::api
