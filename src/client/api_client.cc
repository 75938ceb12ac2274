#include "client/api_client.h"

#include <fmt/format.h>

#include "common/url.h"

namespace nanokube::client {

std::string apiPath(std::string_view apiVersion, std::string_view plural, std::string_view ns,
                    std::string_view name) {
  std::string path = apiVersion.find('/') == std::string_view::npos ? fmt::format("/api/{}", apiVersion)
                                                                      : fmt::format("/apis/{}", apiVersion);
  if (!ns.empty()) path += fmt::format("/namespaces/{}", ns);
  path += fmt::format("/{}", plural);
  if (!name.empty()) path += fmt::format("/{}", name);
  return path;
}

std::string objectKey(const Json& object) {
  const Json* meta = object.is_object() && object.contains("metadata") ? &object["metadata"] : nullptr;
  if (meta == nullptr || !meta->is_object()) return {};
  std::string name = meta->value("name", "");
  std::string ns = meta->value("namespace", "");
  return ns.empty() ? name : ns + "/" + name;
}

std::string encodeQuery(const Query& query) {
  std::string out;
  for (const auto& [key, value] : query) {
    out.push_back(out.empty() ? '?' : '&');
    out += percentEncode(key);
    out.push_back('=');
    out += percentEncode(value);
  }
  return out;
}

std::string_view patchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kStrategic: return "application/strategic-merge-patch+json";
    case PatchType::kJson: return "application/json-patch+json";
  }
  return "application/merge-patch+json";
}

}  // namespace nanokube::client
