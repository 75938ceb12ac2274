// Strict field validation over the field table that generate.py derives from Kubernetes'
// OpenAPI documents (format described there). The table is parsed on first use into
// string_views over the embedded text: about 270 structs and 2,000 fields, some tens of KiB.

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string_view>
#include <utility>

#include "api/schema.h"
#include "api/schema/embedded.h"

namespace nanokube::api {

namespace {

struct Field {
  std::string_view name;
  std::string_view type;  // '-', '*', '@<id>', '[<type>' or '{<type>'
};

struct FieldTable {
  std::vector<std::vector<Field>> structs;                        // by id, fields sorted by name
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
    if (t.structs.size() <= id) t.structs.resize(id + 1);
    auto& fields = t.structs[id];
    for (size_t i = 2; i < toks.size(); ++i) {
      const size_t colon = toks[i].find(':');
      fields.push_back({toks[i].substr(0, colon), toks[i].substr(colon + 1)});
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
    default:  // '-' scalars and '*' free-form values have no fields to check.
      return;
  }
}

}  // namespace

std::vector<std::string> unknownFieldsOfKind(std::string_view apiVersion, std::string_view kind,
                                             const Json& obj) {
  std::string key;
  key.reserve(apiVersion.size() + 1 + kind.size());
  key.append(apiVersion).append(" ").append(kind);
  const auto& kinds = table().kinds;
  auto it = std::find_if(kinds.begin(), kinds.end(), [&](const auto& k) { return k.first == key; });
  std::vector<std::string> out;
  if (it == kinds.end()) return out;
  walk("@" + std::to_string(it->second), obj, "", out);
  return out;
}

std::vector<std::string> unknownFields(const ResourceInfo& r, const Json& obj) {
  return unknownFieldsOfKind(r.apiVersion(), r.kind, obj);
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
