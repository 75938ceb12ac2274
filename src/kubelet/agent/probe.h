#pragma once
// Running one probe: httpGet and tcpSocket connect from the node's network
// namespace (where the agent runs) to the pod's IP, as the kubelet does;
// exec runs the command in the container with `runc exec`.

#include <filesystem>
#include <string>

#include "kubelet/agent/pod_spec.h"

namespace nanokube::kubelet {

struct ProbeResult {
  bool success = false;
  std::string detail;  // the kubelet's words on failure: "HTTP probe failed with statuscode: 404"
};

ProbeResult runProbe(const Probe& probe, const std::string& podIp, const std::filesystem::path& runcRoot,
                     const std::string& containerId);

// The status code of an HTTP/1.x status line, or -1.
int parseHttpStatusLine(std::string_view response);

}  // namespace nanokube::kubelet
