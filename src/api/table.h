#pragma once
// Server-side Table output (meta.k8s.io/v1 Table), with the columns and cells that
// Kubernetes' printers compute (pkg/printers/internalversion/printers.go).

#include <chrono>
#include <string>
#include <vector>

#include "api/resources.h"
#include "common/error.h"
#include "common/time.h"

namespace nanokube::api {

enum class IncludeObject { kNone, kMetadata, kObject };  // ?includeObject=None|Metadata|Object

// Kubernetes' duration.HumanDuration: "5s", "3m20s", "2d3h", ...
std::string humanDuration(std::chrono::nanoseconds d);

// Column definitions for a resource, priority-1 columns included.
Json columnDefinitions(const ResourceInfo& r);

// One row: {"cells":[...],"object":{...}} for an object of kind r.kind.
Json tableRow(const ResourceInfo& r, const Json& obj, TimePoint now, IncludeObject include);

// A full Table for a list (or a single object: pass one element).
// `listMetadata` is copied into Table.metadata (resourceVersion, continue).
Json toTable(const ResourceInfo& r, const std::vector<const Json*>& objs, const Json& listMetadata,
             TimePoint now, IncludeObject include, bool withColumns = true);

}  // namespace nanokube::api
