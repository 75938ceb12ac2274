#pragma once
// Defaulting as the Kubernetes API server does it before validation and storage
// (pkg/apis/*/v1/defaults.go). Pure: no allocation of cluster IPs or node ports
// here; the API server's service registry does that.

#include "api/resources.h"
#include "common/error.h"

namespace nanokube::api {

// Fills in the defaults of `obj` (an object of kind `r.kind`) in place. Safe to
// call again on an already defaulted object (idempotent).
void applyDefaults(const ResourceInfo& r, Json& obj);

}  // namespace nanokube::api
