#pragma once
// Validation with Kubernetes' messages (pkg/apis/core/validation and friends).

#include "api/resources.h"
#include "common/error.h"

namespace nanokube::api {

// Validates a defaulted object before create (old == nullptr) or update (old is the
// stored object). On failure returns Code::kInvalid with the message Kubernetes
// prints, e.g. `Pod "x" is invalid: spec.containers[0].name: Required value`, and
// details {"name","kind","causes":[{"reason":"FieldValueRequired","message":"Required value","field":"spec.containers[0].name"}]}.
Result<void> validateObject(const ResourceInfo& r, const Json& obj, const Json* old);

// DNS-1123 subdomain / label checks, exposed for the API server's name checks.
// Each returns the Kubernetes error strings (empty when valid).
std::vector<std::string> checkDns1123Subdomain(const std::string& value);
std::vector<std::string> checkDns1123Label(const std::string& value);

}  // namespace nanokube::api
