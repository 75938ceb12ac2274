#pragma once
// Discovery documents: /version, /api, /apis, /api/v1, /apis/<group>[/<version>],
// in the legacy form and, when the client asks for it by Accept, the aggregated
// apidiscovery.k8s.io/v2 form (KUBECTL.md §1).

#include <optional>
#include <string>

#include "apiserver/handler.h"

namespace nanokube::apiserver {

// The Kubernetes version nanokube reports. kubectl's dispatcher picks its client
// by major/minor; 1.32 selects the client nanokube is tested with.
inline constexpr const char* kKubernetesVersion = "v1.32.0";

Json versionInfo();

// The discovery answer for `path`, or nullopt when the path is not a discovery path.
std::optional<HttpResponse> discoveryResponse(const std::string& path, const std::string& accept,
                                              const std::string& serverAddress);

}  // namespace nanokube::apiserver
