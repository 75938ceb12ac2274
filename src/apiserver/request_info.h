#pragma once
// Decodes a request path and method into what it asks for, as Kubernetes'
// RequestInfoFactory does (staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go).

#include <map>
#include <string>
#include <string_view>

#include "api/resources.h"
#include "common/error.h"
#include "common/url.h"

namespace nanokube::apiserver {

struct RequestInfo {
  bool isResourceRequest = false;
  std::string verb;  // get, list, watch, create, update, patch, delete, deletecollection
  std::string group;
  std::string version;
  std::string namespace_;
  std::string resource;
  std::string name;
  std::string subresource;
  const api::ResourceInfo* info = nullptr;  // set when the resource is served
};

using Query = std::multimap<std::string, std::string>;

// splitTarget and percentDecode: common/url.h.
using nanokube::percentDecode;
using nanokube::splitTarget;
// The first value of a query parameter, or "" when absent.
std::string queryValue(const Query& q, const std::string& key);

RequestInfo parseRequestInfo(std::string_view method, const std::string& path, const Query& query);

}  // namespace nanokube::apiserver
