#pragma once
// YAML request bodies (Content-Type application/yaml), converted to JSON the way
// Kubernetes' sigs.k8s.io/yaml does: through go-yaml v2's YAML 1.1 scalar rules.

#include <string_view>

#include "common/error.h"

namespace nanokube::apiserver {

// One YAML document to JSON; BadRequest with the parser's message when malformed.
Result<Json> yamlToJson(std::string_view text);

}  // namespace nanokube::apiserver
