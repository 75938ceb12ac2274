#pragma once
// The three patch types kubectl sends: JSON merge patch (RFC 7386, `label`,
// `annotate`, `scale`), strategic merge patch (`apply`, `edit`, `set image`,
// `cordon`) and JSON patch (RFC 6902, `patch --type=json`).

#include "api/resources.h"
#include "common/error.h"

namespace nanokube::api {

Result<Json> applyMergePatch(const Json& original, const Json& patch);
Result<Json> applyJsonPatch(const Json& original, const Json& patch);
// Strategic merge patch with Kubernetes' patch strategies for the kind's fields
// (lists merged by their patchMergeKey: containers by name, ports by containerPort,
// env by name, ...), and the $patch, $retainKeys, $setElementOrder and
// $deleteFromPrimitiveList directives. BadRequest on a malformed patch.
Result<Json> applyStrategicMergePatch(const ResourceInfo& r, const Json& original, const Json& patch);

}  // namespace nanokube::api
