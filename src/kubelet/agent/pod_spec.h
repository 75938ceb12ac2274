#pragma once
// What the agent reads out of a Pod: pure functions over the pod's JSON, no
// side effects, unit-tested without root. The pod worker (pod_worker.h) turns
// their answers into runtime calls.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "kubelet/runtime/oci_spec.h"

namespace nanokube::kubelet {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// Where the pod runs, for the downward API (env valueFrom.fieldRef).
struct PodPlacement {
  std::string nodeName;
  std::string hostIp;
  std::string podIp;
};

// The container's env as the kubelet makes it (makeEnvironmentVariables): each
// spec.env entry in order, `value` with $(VAR) expanded from the entries
// before it, `valueFrom.fieldRef` from the pod (metadata.name, .namespace,
// .uid, .labels['k'], .annotations['k'], spec.nodeName,
// spec.serviceAccountName, status.hostIP, status.podIP, status.podIPs) and
// `valueFrom.resourceFieldRef` from the container's limits/requests.
// `serviceEnv` (the Services' variables, issue of the service proxy) comes
// first, as the kubelet puts it first. Secrets and ConfigMaps are not
// supported yet: kInvalid with a message that says so.
Result<EnvList> containerEnv(const Json& pod, const Json& container, const PodPlacement& placement,
                             const EnvList& serviceEnv = {});

// The container's CPU and memory for cgroups: requests.cpu, limits.cpu and
// limits.memory.
runtime::Resources containerResources(const Json& container);

// The pod's /etc/resolv.conf for its dnsPolicy (ClusterFirst by default:
// the cluster DNS and the search path <ns>.svc.<domain> svc.<domain> <domain>,
// ndots:5; Default: the node's own resolv.conf; None: spec.dnsConfig only),
// with spec.dnsConfig's nameservers, searches and options merged in.
std::string resolvConfFor(const Json& pod, std::string_view clusterDns, std::string_view clusterDomain,
                          std::string_view nodeResolvConf);

// The pod's hostname: spec.hostname, else its name (truncated to 63
// characters as the kubelet does).
std::string podHostname(const Json& pod);

// Whether a container that exited with exitCode runs again under the pod's
// restartPolicy (Always, OnFailure, Never).
bool shouldRestart(std::string_view restartPolicy, int exitCode);

// The kubelet's crash-loop back-off: 10 s after the first restart, doubled
// each time up to 5 minutes.
inline constexpr std::chrono::seconds kInitialBackoff{10};
inline constexpr std::chrono::seconds kMaxBackoff{300};
std::chrono::seconds nextBackoff(std::chrono::seconds current);

// "<name>_<namespace>(<uid>)", the kubelet's format.PodDesc in messages.
std::string podDesc(const Json& pod);

// A probe of spec.containers[].{readiness,liveness,startup}Probe.
struct Probe {
  enum class Kind { kHttpGet, kTcpSocket, kExec };
  Kind kind = Kind::kTcpSocket;
  std::string host;  // httpGet/tcpSocket host; empty: the pod IP
  int port = 0;
  std::string path = "/";
  std::string scheme = "HTTP";
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> command;
  int initialDelaySeconds = 0;
  int periodSeconds = 10;
  int timeoutSeconds = 1;
  int successThreshold = 1;
  int failureThreshold = 3;
};

// The probe under `field` of the container; nullopt when it has none. A named
// port is looked up in the container's ports; kInvalid when it names none or
// the probe has no handler.
Result<std::optional<Probe>> parseProbe(const Json& container, const char* field);

}  // namespace nanokube::kubelet
