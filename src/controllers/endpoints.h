#pragma once
// The endpoints and EndpointSlice controllers' desired state, as pure functions
// (pkg/controller/endpoint and pkg/controller/endpointslice in Kubernetes): from a
// Service and the pods of its namespace, the Endpoints object and the single
// EndpointSlice that name the pods behind it.

#include <optional>
#include <vector>

#include "common/error.h"

namespace nanokube::controllers {

// True when the controllers manage the Service's endpoints: it has a selector
// and is not of type ExternalName.
bool managesEndpoints(const Json& service);

// The Endpoints object the Service should have (metadata name/namespace/labels,
// subsets). Pods without an IP, pods being deleted and pods whose named target
// port does not resolve are left out; ready pods go to addresses, others to
// notReadyAddresses, sorted by IP.
Json desiredEndpoints(const Json& service, const std::vector<Json>& pods);

// The EndpointSlice's content (labels, ownerReferences, addressType, endpoints,
// ports); the caller keeps name and resourceVersion of an existing slice.
Json desiredEndpointSlice(const Json& service, const std::vector<Json>& pods);

// Whether `current` already has the desired content (labels, subsets or
// endpoints/ports), so the controller can skip a write.
bool endpointsUpToDate(const Json& current, const Json& desired);
bool sliceUpToDate(const Json& current, const Json& desired);

}  // namespace nanokube::controllers
