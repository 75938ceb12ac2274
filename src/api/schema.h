#pragma once
// The schema of every served kind: known fields with their types and descriptions.
// It feeds strict field validation (unknown fields) and the OpenAPI v3 documents
// that kubectl downloads before `create -f` / `apply -f` and reads for `explain`.

#include <string>
#include <vector>

#include "api/resources.h"
#include "common/error.h"

namespace nanokube::api {

// Paths of fields in `obj` that the kind's schema does not know, in Kubernetes'
// notation: "spec.containers[0].foo", "metadata.bogus". Empty when all are known.
std::vector<std::string> unknownFields(const ResourceInfo& r, const Json& obj);

// GET /openapi/v3: {"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=..."},...}}.
Json openapiV3Index();
// GET /openapi/v3/api/v1, /openapi/v3/apis/<group>/<version>: the OpenAPI 3.0 document of
// one group-version (paths with x-kubernetes-group-version-kind and the fieldValidation
// parameter on every PATCH, components.schemas for every kind). Null when not served.
Json openapiV3Document(const std::string& gvPath);  // gvPath: "api/v1" or "apis/apps/v1"

}  // namespace nanokube::api
