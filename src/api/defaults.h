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

// The pod's QoS class ("Guaranteed", "Burstable" or "BestEffort") computed from
// its containers' requests and limits (pkg/apis/core/helper/qos/qos.go).
std::string podQosClass(const Json& pod);

// Selector generation for a Job without spec.manualSelector: true, which the
// Kubernetes API server does in the job strategy's PrepareForCreate
// (pkg/registry/batch/job/strategy.go), after metadata.uid is set and before
// validation. Adds the controller-uid and job-name labels to the pod template
// (both the batch.kubernetes.io/ and the legacy unprefixed keys) and sets
// spec.selector to {"matchLabels":{"batch.kubernetes.io/controller-uid":uid}}.
// Does nothing when manualSelector is true or metadata.uid is empty.
void generateJobSelector(Json& job);

}  // namespace nanokube::api
