#include "apiserver/request_info.h"

#include <vector>

namespace nanokube::apiserver {

namespace {

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(percentDecode(std::string_view(path).substr(i, j - i), false));
    i = j;
  }
  return parts;
}

}  // namespace



std::string queryValue(const Query& q, const std::string& key) {
  auto it = q.find(key);
  return it == q.end() ? std::string() : it->second;
}

RequestInfo parseRequestInfo(std::string_view method, const std::string& path, const Query& query) {
  RequestInfo ri;
  std::vector<std::string> parts = splitPath(path);
  size_t i = 0;
  if (parts.size() >= 2 && parts[0] == "api") {
    ri.version = parts[1];
    i = 2;
  } else if (parts.size() >= 3 && parts[0] == "apis") {
    ri.group = parts[1];
    ri.version = parts[2];
    i = 3;
  } else {
    return ri;
  }
  if (i >= parts.size()) return ri;  // discovery of a group-version
  ri.isResourceRequest = true;
  std::vector<std::string> cur(parts.begin() + i, parts.end());
  // "namespaces/{ns}/{resource}/..." is namespace scoped, except the namespace's
  // own subresources "status" and "finalize".
  if (cur[0] == "namespaces") {
    if (cur.size() > 1) {
      ri.namespace_ = cur[1];
      if (cur.size() > 2 && cur[2] != "status" && cur[2] != "finalize") {
        cur.erase(cur.begin(), cur.begin() + 2);
      }
    }
  }
  ri.resource = cur[0];
  if (cur.size() >= 2) ri.name = cur[1];
  if (cur.size() >= 3) ri.subresource = cur[2];
  if (cur.size() > 3) ri.isResourceRequest = false;  // unknown deeper path
  if (ri.resource == "namespaces") {
    ri.name = ri.namespace_;
    ri.namespace_.clear();
  }
  std::string w = queryValue(query, "watch");
  bool watch = w == "true" || w == "1";
  if (method == "GET" || method == "HEAD") {
    ri.verb = !ri.name.empty() ? "get" : (watch ? "watch" : "list");
  } else if (method == "POST") {
    ri.verb = "create";
  } else if (method == "PUT") {
    ri.verb = "update";
  } else if (method == "PATCH") {
    ri.verb = "patch";
  } else if (method == "DELETE") {
    ri.verb = ri.name.empty() ? "deletecollection" : "delete";
  } else {
    ri.verb = std::string(method);
  }
  ri.info = api::findResource(ri.group, ri.version, ri.resource);
  return ri;
}

}  // namespace nanokube::apiserver
