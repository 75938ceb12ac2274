#pragma once
// Tolerant JSON access for the planner: objects come from the API, but a field
// of an unexpected type must read as absent, never throw.

#include <string>

#include "common/error.h"

namespace nanokube::scheduler::detail {

inline const Json& field(const Json& obj, const char* key) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

inline std::string str(const Json& obj, const char* key) {
  const Json& v = field(obj, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

inline const Json& array(const Json& obj, const char* key) {
  static const Json kEmpty = Json::array();
  const Json& v = field(obj, key);
  return v.is_array() ? v : kEmpty;
}

}  // namespace nanokube::scheduler::detail
