#include "apiserver/yaml.h"

#include <cerrno>
#include <cstdlib>
#include <string>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace nanokube::apiserver {

namespace {

// A plain (unquoted) scalar's value under go-yaml v2's resolution: null, YAML 1.1
// booleans (yes/no/on/off too), integers, floats, else the string itself.
Json resolvePlain(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  static const char* kTrue[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static const char* kFalse[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  for (const char* t : kTrue) {
    if (s == t) return true;
  }
  for (const char* f : kFalse) {
    if (s == f) return false;
  }
  errno = 0;
  char* end = nullptr;
  long long i = std::strtoll(s.c_str(), &end, 0);
  if (errno == 0 && end == s.c_str() + s.size() && s.find_first_of("0123456789") != std::string::npos) return i;
  errno = 0;
  double d = std::strtod(s.c_str(), &end);
  if (errno == 0 && end == s.c_str() + s.size() && s.find_first_of("0123456789") != std::string::npos &&
      s.find_first_of("xXpP") == std::string::npos) {
    return d;
  }
  return s;
}

Result<Json> convert(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      // A quoted scalar carries the non-specific tag "!": always a string.
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return node.Scalar();
      return resolvePlain(node.Scalar());
    case YAML::NodeType::Sequence: {
      Json arr = Json::array();
      for (const auto& item : node) {
        auto v = convert(item);
        if (!v) return v;
        arr.push_back(std::move(*v));
      }
      return arr;
    }
    case YAML::NodeType::Map: {
      Json obj = Json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) return fail(Code::kBadRequest, "error converting YAML to JSON: non-scalar key");
        auto v = convert(kv.second);
        if (!v) return v;
        obj[kv.first.Scalar()] = std::move(*v);
      }
      return obj;
    }
  }
  return nullptr;
}

}  // namespace

Result<Json> yamlToJson(std::string_view text) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return convert(root);
  } catch (const YAML::Exception& e) {
    return fail(Code::kBadRequest, fmt::format("error converting YAML to JSON: yaml: line {}: {}", e.mark.line + 1,
                                               e.msg));
  }
}

}  // namespace nanokube::apiserver
