#pragma once
// Containers of a pod: the bundle (config.json + root filesystem) of each one,
// and its lifecycle through runc. The agent's pod workers call Sandboxes
// (sandbox.h) for the pod's infra container and Containers for the app
// containers that join it.
//
// Every container lives in <dataDir>/containers/<id>/ (config.json, rootfs,
// upper, work) and carries its pod's identity as OCI annotations, which runc
// reports back in `state` and `list`: after an agent restart everything is
// re-derived from runc and those directories, nothing is kept in memory.
//
// Thread safety: calls for different containers may run concurrently; calls
// for one container are serialised by the caller (the pod worker).

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "kubelet/runtime/oci_spec.h"
#include "kubelet/runtime/rootfs.h"
#include "kubelet/runtime/runc.h"

namespace nanokube::kubelet::runtime {

// The annotations every nanokube container carries. The first four are the
// keys containerd's CRI plugin and the kubelet use, so tools read them alike.
inline constexpr std::string_view kAnnotationType = "io.kubernetes.cri.container-type";
inline constexpr std::string_view kAnnotationSandboxId = "io.kubernetes.cri.sandbox-id";
inline constexpr std::string_view kAnnotationPodName = "io.kubernetes.pod.name";
inline constexpr std::string_view kAnnotationPodNamespace = "io.kubernetes.pod.namespace";
inline constexpr std::string_view kAnnotationPodUid = "io.kubernetes.pod.uid";
inline constexpr std::string_view kAnnotationContainerName = "io.kubernetes.container.name";
inline constexpr std::string_view kAnnotationNetns = "nanokube.io/netns";
inline constexpr std::string_view kAnnotationLogPath = "nanokube.io/log-path";
inline constexpr std::string_view kTypeSandbox = "sandbox";
inline constexpr std::string_view kTypeContainer = "container";

struct RuntimeOptions {
  // Holds runc/ (runc's --root), monitor/, containers/, pods/, pause-rootfs/.
  std::filesystem::path dataDir;
  std::filesystem::path pauseBinary;
  // Parent of every pod's cgroup in each hierarchy; one per agent, so agents
  // of a local multi-node cluster never share pod cgroups.
  std::string cgroupRoot = "/nanokube";
};

// What the runtime needs of an image, as the image store hands it over.
struct ImageSpec {
  std::vector<std::filesystem::path> layers;  // read-only layer directories, top first
  std::vector<std::string> env;               // "NAME=value"
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string workingDir;
};

// One container of the pod spec, with its env already computed by the agent.
struct ContainerSpec {
  std::string name;
  ImageSpec image;
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string workingDir;
  Resources resources;
  bool readOnlyRootfs = false;
  std::optional<int> oomScoreAdj;
  std::filesystem::path logPath;  // stdout and stderr are appended here
};

// The pod's infra container and where its namespaces are; see sandbox.h.
struct Sandbox {
  std::string id;
  int pid = 0;  // the pause process, in the node's PID namespace
  std::string podName;
  std::string podNamespace;
  std::string podUid;
  std::string netnsPath;
  std::filesystem::path podDir;  // hosts, hostname, resolv.conf
  std::string cgroupParent;

  std::string namespacePath(std::string_view type) const {
    return "/proc/" + std::to_string(pid) + "/ns/" + std::string(type);
  }
};

struct ContainerStatus {
  std::string id;
  Status status = Status::kUnknown;
  int pid = 0;
  // Set once stopped; stays empty for a stopped container whose monitor was
  // killed before it could record the exit (exit code unknown).
  std::optional<ExitStatus> exit;
  std::map<std::string, std::string> annotations;
};

class Containers {
 public:
  Containers(Runc& runc, Rootfs& rootfs, RuntimeOptions options);

  // Mounts the root filesystem, writes the bundle and `runc create`s an app
  // container that joins the sandbox's network, IPC and UTS namespaces.
  // Returns its id. Nothing stays behind when it fails.
  Result<std::string> create(const Sandbox& sandbox, const ContainerSpec& spec);
  // Creates a container from a finished config whose rootfs the caller owns
  // (the pause container's shared read-only root).
  // Returns the pid of the container's init process.
  Result<int> createFromConfig(const ContainerConfig& config, const std::filesystem::path& logPath);
  Result<void> start(std::string_view id);
  Result<ContainerStatus> status(std::string_view id);
  Result<std::vector<ContainerStatus>> list();
  // Waits until the container has exited or timeout has passed (nullopt).
  Result<std::optional<ExitStatus>> wait(std::string_view id, std::chrono::milliseconds timeout);
  // Kubernetes' termination: SIGTERM, up to grace for the process to exit,
  // then SIGKILL. A grace of zero or a container that never started gets
  // SIGKILL at once. Returns the exit status (137 after SIGKILL).
  Result<ExitStatus> stop(std::string_view id, std::chrono::milliseconds grace);
  // Sends a signal to the container's init process (`runc kill`).
  Result<void> kill(std::string_view id, int signal);
  // Forced runc delete, then the root filesystem and bundle. Idempotent.
  Result<void> remove(std::string_view id);

  std::filesystem::path containerDir(std::string_view id) const;
  const RuntimeOptions& options() const { return options_; }

 private:
  Runc& runc_;
  Rootfs& rootfs_;
  RuntimeOptions options_;
};

// The oom_score_adj runc can give a container: desired, or the agent's own
// value when desired is lower and the agent lacks CAP_SYS_RESOURCE (the kernel
// refuses to lower it then, and runc's init fails with "Permission denied").
int effectiveOomScoreAdj(int desired);

// The RLIMIT_NOFILE runc can give a container: desired, or the agent's own
// hard limit when that is lower and the agent lacks CAP_SYS_RESOURCE (raising
// a hard limit needs it; runc's init fails with "operation not permitted").
int64_t effectiveNofile(int64_t desired);

// "nk-" and 12 random hex digits: unique per node and a valid runc id.
std::string newContainerId();

// The ContainerConfig of an app container in a sandbox: args, env and cwd as
// Kubernetes resolves them, the sandbox's namespaces, the pod's files, the
// pod's cgroup, the identifying annotations. Pure.
Result<ContainerConfig> appContainerConfig(const Sandbox& sandbox, const ContainerSpec& spec,
                                           std::string id, std::string rootfs);

}  // namespace nanokube::kubelet::runtime
