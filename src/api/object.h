#pragma once
// Small accessors over objects held as JSON. Objects travel through nanokube as
// nlohmann::json exactly as the API carries them; these helpers keep the field
// paths in one place.

#include <initializer_list>
#include <string>

#include "common/error.h"

namespace nanokube::api {

inline std::string strField(const Json& obj, const char* a, const char* b = nullptr) {
  auto it = obj.find(a);
  if (it == obj.end()) return {};
  if (b == nullptr) return it->is_string() ? it->get<std::string>() : std::string();
  auto jt = it->find(b);
  if (jt == it->end() || !jt->is_string()) return {};
  return jt->get<std::string>();
}

// The value at a path of object keys ({"status", "podIP"}), or nullptr when a
// step is missing or not an object.
inline const Json* fieldAt(const Json& obj, std::initializer_list<const char*> path) {
  const Json* cur = &obj;
  for (const char* key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

// The string at a path, or "" when absent or not a string.
inline std::string stringAt(const Json& obj, std::initializer_list<const char*> path) {
  const Json* v = fieldAt(obj, path);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

inline std::string nameOf(const Json& obj) { return strField(obj, "metadata", "name"); }
inline std::string namespaceOf(const Json& obj) { return strField(obj, "metadata", "namespace"); }

// metadata.labels as an object (empty object when absent).
inline const Json& labelsOf(const Json& obj) {
  static const Json kEmpty = Json::object();
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return kEmpty;
  auto l = m->find("labels");
  if (l == m->end() || !l->is_object()) return kEmpty;
  return *l;
}

}  // namespace nanokube::api
