#pragma once
// The schema of every served kind: known fields with their types and descriptions.
// It feeds strict field validation (unknown fields) and the OpenAPI v3 documents
// that kubectl downloads before `create -f` / `apply -f` and reads for `explain`.
//
// The data is Kubernetes' own published OpenAPI v3 schema (release 1.32), trimmed to the
// served resources and embedded in the binary (see src/api/README.md). Everything here is
// immutable after first use and safe to call from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/resources.h"
#include "common/error.h"

namespace nanokube::api {

// Paths of fields in `obj` that the kind's schema does not know, in Kubernetes'
// notation: "spec.containers[0].foo", "metadata.bogus". Empty when all are known.
// Only unknown names are reported: a known field holding a value of the wrong type is left
// to the decoder and to validation. Maps (labels, resources.limits) accept any key, and
// free-form fields (x-kubernetes-preserve-unknown-fields, RawExtension) accept anything.
// The paths come sorted by key within each object (nlohmann::json's order), whereas
// Kubernetes reports them in document order; the set is the same.
std::vector<std::string> unknownFields(const ResourceInfo& r, const Json& obj);

// The same for a body of any kind in the field table, e.g. ("autoscaling/v1", "Scale") for
// the scale subresource or ("v1", "DeleteOptions"). Empty when the kind is not in the table.
std::vector<std::string> unknownFieldsOfKind(std::string_view apiVersion, std::string_view kind,
                                             const Json& obj);

// `strict decoding error: unknown field "a", unknown field "b"`, the text of apimachinery's
// runtime.NewStrictDecodingError (k8s.io/apimachinery/pkg/runtime/error.go) over the
// `unknown field %q` errors of sigs.k8s.io/json.
std::string strictDecodingMessage(const std::vector<std::string>& unknownPaths);

// The answer to a create (POST) or update (PUT) with fieldValidation=Strict and unknown
// fields: BadRequest `Pod in version "v1" cannot be handled as a Pod: strict decoding
// error: unknown field "spec.containers[0].foo"`, as transformDecodeError in
// k8s.io/apiserver/pkg/endpoints/handlers/rest.go words it. (A PATCH answers differently in
// Kubernetes: 422 Invalid on the field "patch" with the same strict decoding text.)
Error strictDecodingError(const ResourceInfo& r, const std::vector<std::string>& unknownPaths);

// GET /openapi/v3: {"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=..."},...}}.
// The hash is the upper-case hex SHA-512 of the document bytes, as kube-openapi computes it.
Json openapiV3Index();

// GET /openapi/v3/api/v1, /openapi/v3/apis/<group>/<version>: the OpenAPI 3.0 document of
// one group-version (paths with x-kubernetes-group-version-kind and the fieldValidation
// parameter on every PATCH, components.schemas for every kind). Null when not served.
// This parses the document (megabytes of heap for api/v1): servers should send
// openapiV3DocumentText() instead.
Json openapiV3Document(const std::string& gvPath);  // gvPath: "api/v1" or "apis/apps/v1"

// The same document as the exact bytes to send (application/json). They live in the
// binary's read-only data, so serving them allocates nothing. nullopt when not served.
std::optional<std::string_view> openapiV3DocumentText(std::string_view gvPath);

// The hash the index advertises for gvPath; empty when not served. Kubernetes answers a
// request whose ?hash= matches with `Cache-Control: public, immutable`.
std::string_view openapiV3DocumentHash(std::string_view gvPath);

}  // namespace nanokube::api
