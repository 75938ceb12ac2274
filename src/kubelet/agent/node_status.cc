#include "kubelet/agent/node_status.h"

#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace nanokube::kubelet {

namespace {

std::string firstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string osPrettyName() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("PRETTY_NAME=")) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "Linux";
}

Json nodeCondition(const char* type, bool value, const char* reason, const char* message, const std::string& now) {
  return {{"type", type},
          {"status", value ? "True" : "False"},
          {"lastHeartbeatTime", now},
          {"lastTransitionTime", now},
          {"reason", reason},
          {"message", message}};
}

}  // namespace

NodeFacts readNodeFacts(std::string name, std::string ip, const std::string& dataDir) {
  NodeFacts f;
  f.name = std::move(name);
  f.ip = std::move(ip);
  f.hostname = f.name;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  f.cpuCores = cpus > 0 ? cpus : 1;
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (meminfo >> key >> kb >> unit) {
    if (key == "MemTotal:") {
      f.memoryBytes = kb * 1024;
      break;
    }
  }
  struct statvfs vfs {};
  if (statvfs(dataDir.c_str(), &vfs) == 0) f.ephemeralBytes = static_cast<int64_t>(vfs.f_blocks) * vfs.f_frsize;
  struct utsname u {};
  if (uname(&u) == 0) f.kernelVersion = u.release;
  f.osImage = osPrettyName();
  f.machineId = firstLine("/etc/machine-id");
  f.bootId = firstLine("/proc/sys/kernel/random/boot_id");
  f.runtimeVersion = "runc://1.1.5";
  return f;
}

Json nodeStatus(const NodeFacts& f, const std::string& now) {
  Json resources = {{"cpu", std::to_string(f.cpuCores)},
                    {"memory", fmt::format("{}Ki", f.memoryBytes / 1024)},
                    {"ephemeral-storage", fmt::format("{}Ki", f.ephemeralBytes / 1024)},
                    {"hugepages-1Gi", "0"},
                    {"hugepages-2Mi", "0"},
                    {"pods", std::to_string(f.maxPods)}};
  return {
      {"capacity", resources},
      {"allocatable", resources},
      {"conditions",
       Json::array({nodeCondition("MemoryPressure", false, "KubeletHasSufficientMemory",
                                  "kubelet has sufficient memory available", now),
                    nodeCondition("DiskPressure", false, "KubeletHasNoDiskPressure", "kubelet has no disk pressure", now),
                    nodeCondition("PIDPressure", false, "KubeletHasSufficientPID", "kubelet has sufficient PID available",
                                  now),
                    nodeCondition("Ready", true, "KubeletReady", "kubelet is posting ready status", now)})},
      {"addresses", Json::array({{{"type", "InternalIP"}, {"address", f.ip}}, {{"type", "Hostname"}, {"address", f.hostname}}})},
      {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", f.kubeletPort}}}}},
      {"nodeInfo",
       {{"machineID", f.machineId},
        {"systemUUID", f.machineId},
        {"bootID", f.bootId},
        {"kernelVersion", f.kernelVersion},
        {"osImage", f.osImage},
        {"containerRuntimeVersion", f.runtimeVersion},
        {"kubeletVersion", kKubeletVersion},
        {"kubeProxyVersion", kKubeletVersion},
        {"operatingSystem", "linux"},
        {"architecture", "amd64"}}},
  };
}

Json nodeObject(const NodeFacts& f, const std::string& now) {
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata",
           {{"name", f.name},
            {"labels",
             {{"kubernetes.io/hostname", f.name},
              {"kubernetes.io/os", "linux"},
              {"kubernetes.io/arch", "amd64"},
              {"beta.kubernetes.io/os", "linux"},
              {"beta.kubernetes.io/arch", "amd64"}}},
            {"annotations", {{"node.alpha.kubernetes.io/ttl", "0"}}}}},
          {"spec", Json::object()},
          {"status", nodeStatus(f, now)}};
}

Json leaseObject(const std::string& nodeName, const std::string& nodeUid, const std::string& nowMicro) {
  Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", nodeName}, {"namespace", "kube-node-lease"}}},
                {"spec",
                 {{"holderIdentity", nodeName},
                  {"leaseDurationSeconds", kLeaseDurationSeconds},
                  {"renewTime", nowMicro}}}};
  if (!nodeUid.empty()) {
    lease["metadata"]["ownerReferences"] =
        Json::array({{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", nodeName}, {"uid", nodeUid}}});
  }
  return lease;
}

}  // namespace nanokube::kubelet
