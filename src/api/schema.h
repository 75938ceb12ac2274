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
// to checkFieldTypes() and to validation. Maps (labels, resources.limits) accept any key, and
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

// Removes from `obj` every field that unknownFields() reports, as Kubernetes' decoder drops
// unknown fields under fieldValidation=Ignore or Warn (they are never stored). Keys of maps
// (labels, annotations, resources.limits) and the content of free-form fields are kept, and
// values of the wrong JSON type are left alone (checkFieldTypes() rejects them). Objects of a
// kind that is not in the field table are left unchanged.
void pruneUnknownFields(const ResourceInfo& r, Json& obj);

// Rejects the values that Kubernetes' decoder cannot put into the Go type of their field, with
// the BadRequest that the API server sends for a POST or PUT body it cannot decode:
//   Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go
//   struct field ObjectMeta.metadata.name of type string
// The text after the colon is Go's json.UnmarshalTypeError: the innermost Go struct, the JSON
// names of the struct fields from the top (no list indices, no map keys), and the Go type
// (named types included: v1.Protocol, types.UID, []v1.Container, map[string]string). An
// integer field takes only an integral number in range ("number 1.5 ... of type int32").
// Types with their own decoder answer as Kubernetes does: IntOrString "json: cannot
// unmarshal bool into Go value of type int32", Quantity "quantities must match the regular
// expression '...'" (also for a string that is not a quantity), Time and MicroTime "json:
// cannot unmarshal number into Go value of type string" (the time format is not checked),
// []byte "illegal base64 data at input byte N". Null is accepted everywhere, in map values
// and list elements too: Go decodes it as the zero value. Unknown fields are not looked at.
// When several values are wrong Kubernetes reports the first one in document order (an error
// of a type with its own decoder before any other); here keys are visited in sorted order, so
// with several errors another one may be named.
// A non-string apiVersion or kind fails before the object is decoded, as Kubernetes'
// SimpleMetaFactory.Interpret does: `the object provided is unrecognized (must be of type
// Pod): couldn't get version/kind; json parse error: json: cannot unmarshal number into Go
// struct field .kind of type string (<first 30 bytes of the body> ...)`. `body` is the request
// body for that summary; when empty, obj.dump() stands in for it.
// Call it before unknownFields(): Kubernetes reports a type error rather than unknown fields.
Result<void> checkFieldTypes(const ResourceInfo& r, const Json& obj, std::string_view body = {});

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
