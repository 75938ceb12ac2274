// Strict field validation over the field table that generate.py derives from Kubernetes'
// OpenAPI documents (format described there). The table is parsed on first use into
// string_views over the embedded text: about 270 structs and 2,000 fields, some tens of KiB.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include "api/schema.h"
#include "api/schema/embedded.h"

namespace nanokube::api {

namespace {

struct Field {
  std::string_view name;
  std::string_view type;    // A scalar code, '*', '@<id>', '[<type>' or '{<type>'.
  std::string_view goType;  // The Go type when the code does not imply it; else empty.
};

struct FieldTable {
  std::vector<std::vector<Field>> structs;                        // by id, fields sorted by name
  std::vector<std::string_view> definitions;                      // by id: "io.k8s.api.core.v1.Pod"
  std::vector<std::pair<std::string_view, uint32_t>> kinds;       // "<apiVersion> <Kind>" -> id
};

uint32_t parseId(std::string_view s) {
  uint32_t id = 0;
  std::from_chars(s.data(), s.data() + s.size(), id);
  return id;
}

// Splits on single spaces; the generator never writes anything else between tokens.
std::vector<std::string_view> tokens(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    const size_t sp = line.find(' ');
    out.push_back(line.substr(0, sp));
    if (sp == std::string_view::npos) break;
    line.remove_prefix(sp + 1);
  }
  return out;
}

FieldTable parseTable(std::string_view text) {
  FieldTable t;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '=') {
      const size_t last = line.rfind(' ');
      t.kinds.emplace_back(line.substr(1, last - 1), parseId(line.substr(last + 1)));
      continue;
    }
    const auto toks = tokens(line);
    const uint32_t id = parseId(toks[0]);
    if (t.structs.size() <= id) {
      t.structs.resize(id + 1);
      t.definitions.resize(id + 1);
    }
    t.definitions[id] = toks.size() > 1 ? toks[1] : std::string_view();
    auto& fields = t.structs[id];
    for (size_t i = 2; i < toks.size(); ++i) {
      const size_t colon = toks[i].find(':');
      std::string_view type = toks[i].substr(colon + 1);
      std::string_view goType;
      if (const size_t eq = type.find('='); eq != std::string_view::npos) {
        goType = type.substr(eq + 1);
        type = type.substr(0, eq);
      }
      fields.push_back({toks[i].substr(0, colon), type, goType});
    }
    // The generator sorts fields already; sorting again keeps lookups right if it ever stops.
    std::sort(fields.begin(), fields.end(),
              [](const Field& a, const Field& b) { return a.name < b.name; });
  }
  return t;
}

const FieldTable& table() {
  static const FieldTable t = parseTable(schema_data::fieldTable());
  return t;
}

const Field* findField(const std::vector<Field>& fields, std::string_view name) {
  auto it = std::lower_bound(fields.begin(), fields.end(), name,
                             [](const Field& f, std::string_view n) { return f.name < n; });
  return it != fields.end() && it->name == name ? &*it : nullptr;
}

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// Walks `value` along `type`, appending the paths of unknown fields. Values whose JSON type
// does not match the schema are skipped: the decoder reports those, not strict validation.
void walk(std::string_view type, const Json& value, const std::string& path,
          std::vector<std::string>& out) {
  if (type.empty()) return;
  switch (type.front()) {
    case '@': {
      if (!value.is_object()) return;
      const auto& fields = table().structs[parseId(type.substr(1))];
      for (const auto& [key, v] : value.items()) {
        const Field* f = findField(fields, key);
        if (f == nullptr) {
          out.push_back(child(path, key));
        } else {
          walk(f->type, v, child(path, key), out);
        }
      }
      return;
    }
    case '[': {
      if (!value.is_array()) return;
      for (size_t i = 0; i < value.size(); ++i) {
        walk(type.substr(1), value[i], path + "[" + std::to_string(i) + "]", out);
      }
      return;
    }
    case '{': {
      if (!value.is_object()) return;
      for (const auto& [key, v] : value.items()) walk(type.substr(1), v, child(path, key), out);
      return;
    }
    default:  // Scalars and '*' free-form values have no fields to check.
      return;
  }
}

// The same walk as above, erasing what it would report. It descends exactly where walk()
// does, so after pruning unknownFields() is empty.
void prune(std::string_view type, Json& value) {
  if (type.empty()) return;
  switch (type.front()) {
    case '@': {
      if (!value.is_object()) return;
      const auto& fields = table().structs[parseId(type.substr(1))];
      for (auto it = value.begin(); it != value.end();) {
        const Field* f = findField(fields, it.key());
        if (f == nullptr) {
          it = value.erase(it);
        } else {
          prune(f->type, it.value());
          ++it;
        }
      }
      return;
    }
    case '[':
      if (!value.is_array()) return;
      for (auto& v : value) prune(type.substr(1), v);
      return;
    case '{':
      if (!value.is_object()) return;
      for (auto& [key, v] : value.items()) prune(type.substr(1), v);
      return;
    default:
      return;
  }
}

std::optional<uint32_t> kindStruct(std::string_view apiVersion, std::string_view kind) {
  std::string key;
  key.reserve(apiVersion.size() + 1 + kind.size());
  key.append(apiVersion).append(" ").append(kind);
  const auto& kinds = table().kinds;
  auto it = std::find_if(kinds.begin(), kinds.end(), [&](const auto& k) { return k.first == key; });
  if (it == kinds.end()) return std::nullopt;
  return it->second;
}

// ---- Type checks, mirroring how Kubernetes' decoder (sigs.k8s.io/json, a fork of Go's
// encoding/json) fails on values of the wrong JSON type.

// "io.k8s.api.core.v1.Container" -> "v1.Container", the way Go's reflect names the type.
std::string goStructType(uint32_t id) {
  const std::string_view def = table().definitions[id];
  const size_t last = def.rfind('.');
  const size_t pkg = def.rfind('.', last - 1);
  return std::string(def.substr(pkg + 1));
}

// "io.k8s.api.core.v1.Container" -> "Container", as reflect.Type.Name() gives it.
std::string_view goStructName(uint32_t id) {
  const std::string_view def = table().definitions[id];
  return def.substr(def.rfind('.') + 1);
}

// The Go type a type code implies; the format is described in generate.py.
std::string impliedGoType(std::string_view code) {
  if (code.empty()) return {};
  switch (code.front()) {
    case '[': return "[]" + impliedGoType(code.substr(1));
    case '{': return "map[string]" + impliedGoType(code.substr(1));
    case '@': return goStructType(parseId(code.substr(1)));
    case 's': return "string";
    case 'i': return "int32";
    case 'l': return "int64";
    case 'f': return "float64";
    case 'b': return "bool";
    case 'B': return "[]uint8";
    case 'x': return "intstr.IntOrString";
    case 'q': return "resource.Quantity";
    case 't': return "v1.Time";
    case 'u': return "v1.MicroTime";
    default: return {};
  }
}

// The Go type of the elements (values) of a '[' ('{') field whose own Go type is `goType`:
// "[]v1.Capability" -> "v1.Capability", "map[string]string" -> "string". A named slice or map
// type such as v1.ResourceList does not show its element type, so the code says it.
std::string elementGoType(std::string_view code, std::string_view goType) {
  if (goType.starts_with("[]")) return std::string(goType.substr(2));
  if (goType.starts_with("map[")) {
    int depth = 0;
    for (size_t i = 3; i < goType.size(); ++i) {
      if (goType[i] == '[') ++depth;
      if (goType[i] == ']' && --depth == 0) return std::string(goType.substr(i + 1));
    }
  }
  return impliedGoType(code.substr(1));
}

// How encoding/json names a JSON value in "cannot unmarshal <value>".
std::string_view jsonKind(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "bool";
    case Json::value_t::array: return "array";
    case Json::value_t::object: return "object";
    default: return "number";
  }
}

// The number as text. Go prints the literal of the request body; the parsed value keeps no
// literal, so a float prints as nlohmann writes it ("1.5"; "1e3" becomes "1000.0").
std::string numberText(const Json& v) {
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  return v.dump();
}

// Whether a JSON number decodes into a Go integer of the range [lo, hi]: strconv.ParseInt
// rejects any literal with a fraction or an exponent, so a float never does.
bool fitsInteger(const Json& v, int64_t lo, int64_t hi) {
  if (v.is_number_integer()) {
    const int64_t n = v.get<int64_t>();
    return n >= lo && n <= hi;
  }
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= static_cast<uint64_t>(hi);
  return false;
}

constexpr int64_t kInt32Min = -2147483648LL;
constexpr int64_t kInt32Max = 2147483647LL;
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// resource.ErrFormatWrong, ErrSuffix: Quantity.UnmarshalJSON fails with these.
constexpr std::string_view kQuantityFormatWrong =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
constexpr std::string_view kQuantitySuffix = "unable to parse quantity's suffix";

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// The error resource.ParseQuantity returns for `str`, or nullopt when it parses. A port of
// parseQuantityString and the suffix lookup (k8s.io/apimachinery/pkg/api/resource); the
// ErrNumeric cases of the arbitrary-precision path are not reproduced.
std::optional<std::string_view> quantityError(std::string_view str) {
  const auto isSpace = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!str.empty() && isSpace(str.front())) str.remove_prefix(1);
  while (!str.empty() && isSpace(str.back())) str.remove_suffix(1);
  if (str.empty()) return kQuantityFormatWrong;
  size_t pos = 0;
  const size_t end = str.size();
  if (str[0] == '-' || str[0] == '+') ++pos;
  while (pos < end && str[pos] == '0') ++pos;
  if (pos >= end) return std::nullopt;
  while (pos < end && isDigit(str[pos])) ++pos;
  if (pos >= end) return std::nullopt;
  if (str[pos] == '.') {
    ++pos;
    while (pos < end && isDigit(str[pos])) ++pos;
    if (pos >= end) return std::nullopt;
  }
  const size_t suffixStart = pos;
  while (pos < end && std::string_view("eEinumkKMGTP").find(str[pos]) != std::string_view::npos) {
    ++pos;
  }
  if (pos < end && (str[pos] == '-' || str[pos] == '+')) ++pos;
  while (pos < end && isDigit(str[pos])) ++pos;
  if (pos < end) return kQuantityFormatWrong;
  const std::string_view suffix = str.substr(suffixStart);
  static constexpr std::string_view kSuffixes[] = {"",  "n",  "u",  "m",  "k",  "M",  "G",
                                                   "T", "P",  "E",  "Ki", "Mi", "Gi", "Ti",
                                                   "Pi", "Ei"};
  if (std::find(std::begin(kSuffixes), std::end(kSuffixes), suffix) != std::end(kSuffixes)) {
    return std::nullopt;
  }
  // Exponent suffixes: 'e' or 'E' and an int64 (strconv.ParseInt accepts one sign).
  if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view digits = suffix.substr(1);
    if (digits[0] == '+' || digits[0] == '-') digits.remove_prefix(1);
    int64_t n = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (!digits.empty() && ec == std::errc() && ptr == digits.data() + digits.size()) {
      return std::nullopt;
    }
  }
  return kQuantitySuffix;
}

// The offset base64.StdEncoding.Decode reports as CorruptInputError for `s`, or nullopt.
// A port of decodeQuantum (encoding/base64): padding is required and \r, \n are skipped.
std::optional<size_t> base64Error(std::string_view s) {
  const auto value = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
  };
  size_t si = 0;
  while (si < s.size()) {
    for (int j = 0; j < 4; ++j) {
      if (si == s.size()) {
        if (j == 0) return std::nullopt;
        return si - j;
      }
      const char in = s[si++];
      if (value(in)) continue;
      if (in == '\n' || in == '\r') {
        --j;
        continue;
      }
      if (in != '=') return si - 1;
      // Padding: it must come after two or three symbols and end the input.
      if (j < 2) return si - 1;
      if (j == 2) {
        while (si < s.size() && (s[si] == '\n' || s[si] == '\r')) ++si;
        if (si == s.size()) return s.size();
        if (s[si] != '=') return si - 1;
        ++si;
      }
      while (si < s.size() && (s[si] == '\n' || s[si] == '\r')) ++si;
      if (si < s.size()) return si;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// Walks an object the way the decoder fills the Go struct. Type errors of plain values are
// saved and the walk goes on (encoding/json keeps the first one); errors of types with their
// own UnmarshalJSON (IntOrString, Quantity, Time, MicroTime) stop the decoder at once and win
// over a saved error. Those custom decoders call the standard library's json.Unmarshal,
// whose errors the fork does not recognise, so they carry no struct field context.
class TypeChecker {
 public:
  // Returns true when the walk must stop.
  bool check(std::string_view code, const std::string& goType, const Json& v) {
    if (v.is_null() || code.empty()) return false;  // Go decodes null as the zero value.
    switch (code.front()) {
      case '@': {
        if (!v.is_object()) return save(jsonKind(v), goType);
        const uint32_t id = parseId(code.substr(1));
        const auto& fields = table().structs[id];
        for (const auto& [key, value] : v.items()) {
          const Field* f = findField(fields, key);
          if (f == nullptr) continue;  // Unknown fields are skipped by the decoder.
          const std::string_view outer = struct_;
          struct_ = goStructName(id);
          stack_.push_back(f->name);
          const bool stop =
              check(f->type, f->goType.empty() ? impliedGoType(f->type) : std::string(f->goType),
                    value);
          stack_.pop_back();
          struct_ = outer;
          if (stop) return true;
        }
        return false;
      }
      case '[':
        if (!v.is_array()) return save(jsonKind(v), goType);
        for (const auto& e : v) {
          if (check(code.substr(1), elementGoType(code, goType), e)) return true;
        }
        return false;
      case '{':
        if (!v.is_object()) return save(jsonKind(v), goType);
        for (const auto& [key, value] : v.items()) {
          if (check(code.substr(1), elementGoType(code, goType), value)) return true;
        }
        return false;
      case 's':
        return v.is_string() ? false : save(jsonKind(v), goType);
      case 'b':
        return v.is_boolean() ? false : save(jsonKind(v), goType);
      case 'f':
        return v.is_number() ? false : save(jsonKind(v), goType);
      case 'i':
      case 'l': {
        const bool is32 = code.front() == 'i';
        if (!v.is_number()) return save(jsonKind(v), goType);
        if (fitsInteger(v, is32 ? kInt32Min : kInt64Min, is32 ? kInt32Max : kInt64Max)) {
          return false;
        }
        return save("number " + numberText(v), goType);
      }
      case 'B':
        if (v.is_string()) {
          // A []byte takes a base64 string; a bad one fails with the plain base64 error.
          if (const auto at = base64Error(v.get_ref<const std::string&>())) {
            saveText("illegal base64 data at input byte " + std::to_string(*at));
          }
          return false;
        }
        if (v.is_array()) {  // encoding/json also fills a []byte from an array of numbers.
          for (const auto& e : v) {
            if (e.is_null() || fitsInteger(e, 0, 255)) continue;
            save(e.is_number() ? "number " + numberText(e) : std::string(jsonKind(e)), "uint8");
          }
          return false;
        }
        return save(jsonKind(v), goType);
      case 'x':  // intstr.IntOrString: a string, or else json.Unmarshal into an int32.
        if (v.is_string() || fitsInteger(v, kInt32Min, kInt32Max)) return false;
        return stop("json: cannot unmarshal " +
                    (v.is_number() ? "number " + numberText(v) : std::string(jsonKind(v))) +
                    " into Go value of type int32");
      case 'q': {  // resource.Quantity parses the text of a string or of any other literal.
        std::optional<std::string_view> err;
        if (v.is_string()) {
          err = quantityError(v.get_ref<const std::string&>());
        } else if (v.is_number()) {
          err = quantityError(numberText(v));
        } else {
          err = kQuantityFormatWrong;  // "true", "{...}" and "[...]" never match the grammar.
        }
        return err ? stop(std::string(*err)) : false;
      }
      case 't':
      case 'u':  // metav1.Time and MicroTime: json.Unmarshal into a string, then time.Parse.
        if (v.is_string()) return false;
        return stop("json: cannot unmarshal " + std::string(jsonKind(v)) +
                    " into Go value of type string");
      default:  // '*': free-form content is kept as it is.
        return false;
    }
  }

  std::optional<std::string> result() const { return stopped_ ? stopped_ : saved_; }

 private:
  // An UnmarshalTypeError with the decoder's context: the innermost Go struct and the JSON
  // names of the struct fields from the top, without list indices or map keys.
  bool save(std::string_view value, std::string_view goType) {
    std::string msg = "json: cannot unmarshal " + std::string(value);
    if (struct_.empty() && stack_.empty()) {
      msg += " into Go value of type ";
    } else {
      msg += " into Go struct field " + std::string(struct_) + ".";
      for (size_t i = 0; i < stack_.size(); ++i) {
        if (i != 0) msg += ".";
        msg += stack_[i];
      }
      msg += " of type ";
    }
    msg += goType;
    saveText(std::move(msg));
    return false;
  }
  void saveText(std::string msg) {
    if (!saved_) saved_ = std::move(msg);
  }
  bool stop(std::string msg) {
    stopped_ = std::move(msg);
    return true;
  }

  std::string_view struct_;
  std::vector<std::string_view> stack_;
  std::optional<std::string> saved_;
  std::optional<std::string> stopped_;
};

// encoding/hex.Dump, which summarizeData uses for a body that does not start with '{'.
std::string hexDump(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  std::string right;
  size_t used = 0;
  for (size_t n = 0; n < data.size(); ++n) {
    if (used == 0) {
      char offset[16];
      std::snprintf(offset, sizeof offset, "%08zx  ", n);
      out += offset;
    }
    const auto b = static_cast<unsigned char>(data[n]);
    out += kHex[b >> 4];
    out += kHex[b & 15];
    out += used == 7 ? "  " : used == 15 ? "  |" : " ";
    right += b < 32 || b > 126 ? '.' : static_cast<char>(b);
    if (++used == 16) {
      out += right + "|\n";
      right.clear();
      used = 0;
    }
  }
  if (used != 0) {
    for (size_t u = used; u < 16; ++u) out += u == 7 ? "    " : u == 15 ? "    |" : "   ";
    out += right + "|\n";
  }
  return out;
}

// summarizeData(body, 30) of k8s.io/apiserver/pkg/endpoints/handlers/rest.go.
std::string summarizeData(std::string_view data) {
  constexpr size_t kMax = 30;
  if (data.empty()) return "<empty>";
  if (data.front() == '{') {
    return data.size() > kMax ? std::string(data.substr(0, kMax)) + " ..." : std::string(data);
  }
  return hexDump(data.substr(0, kMax));
}

// SimpleMetaFactory.Interpret reads apiVersion and kind with the standard library decoder
// (case-insensitive keys) before anything else; its error is reported without the
// "<Kind> in version" prefix, because the version and kind are what it failed to find.
std::optional<std::string> interpretError(const Json& obj) {
  if (!obj.is_object()) {
    return "json: cannot unmarshal " + std::string(jsonKind(obj)) +
           " into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; "
           "Kind string \"json:\\\"kind,omitempty\\\"\" }";
  }
  for (const auto& [key, v] : obj.items()) {
    std::string lower = key;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const char* field = lower == "apiversion" ? "apiVersion" : lower == "kind" ? "kind" : nullptr;
    if (field == nullptr || v.is_null() || v.is_string()) continue;
    return "json: cannot unmarshal " + std::string(jsonKind(v)) + " into Go struct field ." +
           field + " of type string";
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string> unknownFieldsOfKind(std::string_view apiVersion, std::string_view kind,
                                             const Json& obj) {
  std::vector<std::string> out;
  const auto id = kindStruct(apiVersion, kind);
  if (!id) return out;
  walk("@" + std::to_string(*id), obj, "", out);
  return out;
}

std::vector<std::string> unknownFields(const ResourceInfo& r, const Json& obj) {
  return unknownFieldsOfKind(r.apiVersion(), r.kind, obj);
}

void pruneUnknownFields(const ResourceInfo& r, Json& obj) {
  const auto id = kindStruct(r.apiVersion(), r.kind);
  if (id) prune("@" + std::to_string(*id), obj);
}

Result<void> checkFieldTypes(const ResourceInfo& r, const Json& obj, std::string_view body) {
  if (const auto err = interpretError(obj)) {
    // Without the request bytes, the compact serialization stands in for them: it is what
    // kubectl sends for an object it read from a manifest (sorted keys, no spaces).
    const std::string dumped = body.empty() ? obj.dump() : std::string();
    return fail(Code::kBadRequest,
                "the object provided is unrecognized (must be of type " + r.kind +
                    "): couldn't get version/kind; json parse error: " + *err + " (" +
                    summarizeData(body.empty() ? std::string_view(dumped) : body) + ")");
  }
  const auto id = kindStruct(r.apiVersion(), r.kind);
  if (!id) return {};
  TypeChecker checker;
  checker.check("@" + std::to_string(*id), goStructType(*id), obj);
  if (const auto err = checker.result()) {
    return fail(Code::kBadRequest, r.kind + " in version \"" + r.version +
                                       "\" cannot be handled as a " + r.kind + ": " + *err);
  }
  return {};
}

std::string strictDecodingMessage(const std::vector<std::string>& unknownPaths) {
  std::string s = "strict decoding error: ";
  for (size_t i = 0; i < unknownPaths.size(); ++i) {
    if (i != 0) s += ", ";
    s += "unknown field \"" + unknownPaths[i] + "\"";
  }
  return s;
}

Error strictDecodingError(const ResourceInfo& r, const std::vector<std::string>& unknownPaths) {
  return Error{Code::kBadRequest, r.kind + " in version \"" + r.version +
                                      "\" cannot be handled as a " + r.kind + ": " +
                                      strictDecodingMessage(unknownPaths)};
}

}  // namespace nanokube::api
