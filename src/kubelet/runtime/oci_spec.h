#pragma once
// Pure generation of the OCI runtime spec (config.json) that runc runs, and of
// the process arguments and environment as Kubernetes computes them from the
// image config and the pod spec. Nothing here touches the filesystem or the
// kernel, so every rule is unit-tested without root.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace nanokube::kubelet::runtime {

// A namespace field set to kOwnNamespace asks runc for a fresh namespace (the
// pause container); any other value is the path of a namespace to join.
inline constexpr std::string_view kOwnNamespace = "own";

// The PATH a container gets when its image does not set one; the value of
// runc's and containerd's default spec.
inline constexpr std::string_view kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Kubernetes' CPU conversion constants (pkg/kubelet/cm/helpers_linux.go).
inline constexpr int64_t kMinShares = 2;
inline constexpr int64_t kMaxShares = 262144;
inline constexpr int64_t kSharesPerCpu = 1024;
inline constexpr int64_t kMilliCpuToCpu = 1000;
inline constexpr int64_t kQuotaPeriod = 100000;  // microseconds
inline constexpr int64_t kMinQuotaPeriod = 1000;

// containerd raises NOFILE to what systemd gives it (LimitNOFILE=1048576) and
// every container inherits that; runc's own default of 1024 breaks servers.
inline constexpr int64_t kDefaultNofile = 1048576;

struct BindMount {
  std::string source;
  std::string destination;
  bool readOnly = false;
};

// The resources of one container as the pod spec states them. Absent values
// mean "not set" in the pod spec.
struct Resources {
  std::optional<int64_t> cpuRequestMilli;
  std::optional<int64_t> cpuLimitMilli;
  std::optional<int64_t> memoryLimitBytes;
};

struct ContainerConfig {
  std::string id;
  std::vector<std::string> args;  // already resolved, see resolveArgs()
  std::vector<std::string> env;   // "NAME=value", already merged, see mergeEnv()
  std::string cwd = "/";
  // Set only for a container with its own UTS namespace (the pause container);
  // app containers inherit the pod's hostname by joining its UTS namespace.
  std::string hostname;
  std::string rootfs;  // absolute path of the mounted root filesystem
  bool readOnlyRootfs = false;
  std::string networkNamespace;  // path to join, or kOwnNamespace; never empty
  std::string ipcNamespace;      // path to join, or kOwnNamespace
  std::string utsNamespace;      // path to join, or kOwnNamespace
  std::vector<BindMount> mounts;
  Resources resources;
  std::string cgroupsPath;  // "/nanokube/pod-<uid>/<id>", see cgroupsPathFor()
  std::optional<int> oomScoreAdj;
  int64_t nofile = kDefaultNofile;  // RLIMIT_NOFILE, soft and hard
  bool noNewPrivileges = false;  // Kubernetes' allowPrivilegeEscalation defaults to true
  std::map<std::string, std::string> annotations;
};

// The process arguments Kubernetes runs: the pod's command replaces the image's
// Entrypoint, the pod's args replace the image's Cmd, and a command without args
// drops the image's Cmd (containerd's WithProcessArgs, the rules of
// https://kubernetes.io/docs/tasks/inject-data-application/define-command-argument-container/).
// $(VAR) references in the pod's command and args expand from podEnv first, as
// the kubelet does (ExpandContainerCommandAndArgs); the image's own values are
// never expanded. Fails when nothing is left to run.
Result<std::vector<std::string>> resolveArgs(
    const std::vector<std::string>& imageEntrypoint, const std::vector<std::string>& imageCmd,
    const std::vector<std::string>& podCommand, const std::vector<std::string>& podArgs,
    const std::vector<std::pair<std::string, std::string>>& podEnv);

// Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion): $(NAME)
// becomes the value when NAME is defined and stays as written otherwise, $$
// becomes $, and any other $ is kept.
std::string expandVars(std::string_view input,
                       const std::vector<std::pair<std::string, std::string>>& env);

// The image's Env ("NAME=value") with the pod's env applied on top: a pod value
// replaces the image value of the same name in place, new names are appended in
// order, a later duplicate wins. PATH defaults to kDefaultPath when neither sets it.
std::vector<std::string> mergeEnv(const std::vector<std::string>& imageEnv,
                                  const std::vector<std::pair<std::string, std::string>>& podEnv);

// The pod's workingDir, else the image's WorkingDir, else "/".
std::string resolveWorkingDir(std::string_view imageWorkingDir, std::string_view podWorkingDir);

// The kubelet's cgroup v1 CPU values: shares from the request (the limit when
// only a limit is set), kMinShares when neither is; quota from the limit over a
// period of kQuotaPeriod, none without a limit.
int64_t milliCpuToShares(int64_t milliCpu);
int64_t milliCpuToQuota(int64_t milliCpu, int64_t period = kQuotaPeriod);

// "/<root>/pod-<podUid>/<containerId>": runc's cgroupfs driver places the
// container at this path below the root of every hierarchy.
std::string podCgroupParent(std::string_view root, std::string_view podUid);
std::string cgroupsPathFor(std::string_view podCgroupParent, std::string_view containerId);

// The pod's /etc/hosts, /etc/hostname and /etc/resolv.conf bind mounts from the
// files prepared in podDir. Kubernetes makes them read-only exactly when the
// container's root filesystem is read-only (containerd's containerMounts).
std::vector<BindMount> podFileMounts(std::string_view podDir, bool readOnlyRootfs);

// The config.json runc runs, in the shape of runc 1.1's `runc spec` (spec
// 1.0.2) with containerd's defaults for capabilities, masked paths and rlimits.
// Fails (kInvalid) on a config runc would refuse or that would leave the
// container in the host's network namespace.
Result<Json> ociSpec(const ContainerConfig& config);

}  // namespace nanokube::kubelet::runtime
