#include "kubelet/runtime/sandbox.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "kubelet/runtime/process.h"

namespace nanokube::kubelet::runtime {

namespace fs = std::filesystem;

namespace {

// Kubernetes runs the infra container at -998 so that the OOM killer takes
// any app process before the holder of the pod's namespaces (qos/policy.go).
constexpr int kPauseOomScoreAdj = -998;

Result<void> writeFile(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::trunc);
  out << content;
  out.close();
  if (!out) return fail(Code::kInternal, "write " + path.string() + " failed");
  return {};
}

std::string annotation(const std::map<std::string, std::string>& a, std::string_view key) {
  auto it = a.find(std::string(key));
  return it == a.end() ? "" : it->second;
}

// Mount points of the cgroup v1 and v2 hierarchies, from /proc/self/mountinfo
// (the filesystem type follows the " - " separator).
std::vector<fs::path> cgroupMounts() {
  std::vector<fs::path> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    auto sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    std::istringstream tail(line.substr(sep + 3));
    std::string type;
    tail >> type;
    if (type != "cgroup" && type != "cgroup2") continue;
    std::istringstream head(line.substr(0, sep));
    std::string id, parent, dev, root, mountPoint;
    head >> id >> parent >> dev >> root >> mountPoint;
    out.emplace_back(mountPoint);
  }
  return out;
}

bool hasSubdirectories(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec) && !entry.is_symlink(ec)) return true;
  }
  return false;
}

// Removes dir's sub-cgroups, deepest first, then dir itself.
Result<void> rmdirTree(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec) && !entry.is_symlink(ec)) {
      if (auto r = rmdirTree(entry.path()); !r) return r;
    }
  }
  // The kernel refuses while a task is still leaving (EBUSY) for a moment after
  // its container's init died; a short retry covers that.
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY || attempt == 50) {
      return fail(Code::kInternal, "rmdir cgroup " + dir.string() + ": " + errnoText(errno));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

std::string hostsFileFor(const std::vector<std::string>& podIps, std::string_view hostname,
                         std::string_view hostDomain) {
  std::string out =
      "# Kubernetes-managed hosts file.\n"
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "fe00::0\tip6-mcastprefix\n"
      "fe00::1\tip6-allnodes\n"
      "fe00::2\tip6-allrouters\n";
  for (const auto& ip : podIps) {
    out += ip + "\t";
    if (!hostDomain.empty()) {
      out += std::string(hostname) + "." + std::string(hostDomain) + "\t";
    }
    out += std::string(hostname) + "\n";
  }
  return out;
}

std::vector<std::string> cgroupDirs(std::string_view cgroupPath) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& mount : cgroupMounts()) {
    fs::path dir = mount.string() + std::string(cgroupPath);
    std::error_code ec;
    if (fs::is_directory(dir, ec) && seen.insert(dir.string()).second) out.push_back(dir.string());
  }
  return out;
}

Result<void> removeCgroup(std::string_view cgroupPath) {
  if (cgroupPath.empty() || cgroupPath == "/") {
    return fail(Code::kInvalid, "refusing to remove the root cgroup");
  }
  for (const auto& dir : cgroupDirs(cgroupPath)) {
    if (auto r = rmdirTree(dir); !r) return r;
  }
  return {};
}

Result<void> removeEmptyCgroup(std::string_view cgroupPath) {
  for (const auto& dir : cgroupDirs(cgroupPath)) {
    if (hasSubdirectories(dir)) continue;
    if (auto r = rmdirTree(dir); !r) return r;
  }
  return {};
}

Sandboxes::Sandboxes(Containers& containers) : containers_(containers) {}

fs::path Sandboxes::podDir(std::string_view id) const {
  return containers_.options().dataDir / "pods" / std::string(id);
}

Result<Sandbox> Sandboxes::create(const SandboxConfig& config) {
  if (config.netnsPath.empty()) {
    return fail(Code::kInvalid, "sandbox for pod " + config.podName + ": a network namespace is required");
  }
  const RuntimeOptions& options = containers_.options();
  auto pauseRoot = preparePauseRootfs(options.dataDir / "pause-rootfs", options.pauseBinary);
  if (!pauseRoot) return std::unexpected(pauseRoot.error());

  Sandbox sandbox;
  sandbox.id = newContainerId();
  sandbox.podName = config.podName;
  sandbox.podNamespace = config.podNamespace;
  sandbox.podUid = config.podUid;
  sandbox.netnsPath = config.netnsPath;
  sandbox.podDir = podDir(sandbox.id);
  sandbox.cgroupParent = podCgroupParent(options.cgroupRoot, config.podUid);
  std::string hostname = config.hostname.empty() ? config.podName : config.hostname;

  auto cleanup = [&](Error error) -> Result<Sandbox> {
    (void)remove(sandbox.id);
    (void)removeEmptyCgroup(sandbox.cgroupParent);
    return std::unexpected(std::move(error));
  };
  std::error_code ec;
  fs::create_directories(sandbox.podDir, ec);
  if (ec) return cleanup({Code::kInternal, "mkdir " + sandbox.podDir.string() + ": " + ec.message()});
  for (auto [name, content] : {std::pair{"hostname", hostname + "\n"},
                               std::pair{"hosts", config.hostsFile},
                               std::pair{"resolv.conf", config.resolvConf}}) {
    if (auto r = writeFile(sandbox.podDir / name, content); !r) return cleanup(r.error());
  }

  ContainerConfig c;
  c.id = sandbox.id;
  c.args = {"/pause"};
  c.env = {std::string(kDefaultPath)};
  c.hostname = hostname;
  c.rootfs = pauseRoot->string();
  c.readOnlyRootfs = true;
  c.networkNamespace = config.netnsPath;
  c.ipcNamespace = std::string(kOwnNamespace);
  c.utsNamespace = std::string(kOwnNamespace);
  c.cgroupsPath = cgroupsPathFor(sandbox.cgroupParent, sandbox.id);
  c.oomScoreAdj = effectiveOomScoreAdj(kPauseOomScoreAdj);
  c.nofile = effectiveNofile(kDefaultNofile);
  c.annotations = {
      {std::string(kAnnotationType), std::string(kTypeSandbox)},
      {std::string(kAnnotationSandboxId), sandbox.id},
      {std::string(kAnnotationPodName), config.podName},
      {std::string(kAnnotationPodNamespace), config.podNamespace},
      {std::string(kAnnotationPodUid), config.podUid},
      {std::string(kAnnotationNetns), config.netnsPath},
  };
  auto pid = containers_.createFromConfig(c, config.logPath);
  if (!pid) return cleanup(pid.error());
  // runc start returns once the init has passed its exec FIFO, and runc had
  // already found /pause before create returned; a state call would only cost
  // another runc start-up.
  if (auto r = containers_.start(sandbox.id); !r) return cleanup(r.error());
  sandbox.pid = *pid;
  return sandbox;
}

Result<Sandbox> Sandboxes::get(std::string_view id) {
  auto status = containers_.status(id);
  if (!status) return std::unexpected(status.error());
  if (annotation(status->annotations, kAnnotationType) != kTypeSandbox) {
    return fail(Code::kNotFound, "sandbox " + std::string(id) + " does not exist");
  }
  Sandbox s;
  s.id = status->id;
  s.pid = status->pid;
  s.podName = annotation(status->annotations, kAnnotationPodName);
  s.podNamespace = annotation(status->annotations, kAnnotationPodNamespace);
  s.podUid = annotation(status->annotations, kAnnotationPodUid);
  s.netnsPath = annotation(status->annotations, kAnnotationNetns);
  s.podDir = podDir(s.id);
  s.cgroupParent = podCgroupParent(containers_.options().cgroupRoot, s.podUid);
  return s;
}

Result<std::vector<Sandbox>> Sandboxes::list() {
  auto all = containers_.list();
  if (!all) return std::unexpected(all.error());
  std::vector<Sandbox> out;
  for (const auto& c : *all) {
    if (annotation(c.annotations, kAnnotationType) != kTypeSandbox) continue;
    if (auto s = get(c.id)) out.push_back(std::move(*s));
  }
  return out;
}

Result<std::vector<ContainerStatus>> Sandboxes::appContainers(std::string_view sandboxId) {
  auto all = containers_.list();
  if (!all) return std::unexpected(all.error());
  std::vector<ContainerStatus> out;
  for (auto& c : *all) {
    if (annotation(c.annotations, kAnnotationType) == kTypeContainer &&
        annotation(c.annotations, kAnnotationSandboxId) == sandboxId) {
      out.push_back(std::move(c));
    }
  }
  return out;
}

Result<void> Sandboxes::stop(std::string_view id, std::chrono::milliseconds grace) {
  auto apps = appContainers(id);
  if (!apps) return std::unexpected(apps.error());
  // The kubelet stops a pod's containers in parallel, each within the pod's
  // grace period: every container gets SIGTERM first, then all share one
  // deadline, then whatever still runs gets SIGKILL (through stop with no grace).
  auto deadline = std::chrono::steady_clock::now() + grace;
  if (grace.count() > 0) {
    for (const auto& c : *apps) {
      if (c.status == Status::kRunning) (void)containers_.kill(c.id, SIGTERM);
    }
    for (const auto& c : *apps) {
      if (c.status == Status::kStopped) continue;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      auto exit = containers_.wait(c.id, std::max(left, std::chrono::milliseconds(0)));
      if (!exit) return std::unexpected(exit.error());
    }
  }
  for (const auto& c : *apps) {
    if (auto r = containers_.stop(c.id, std::chrono::milliseconds(0)); !r) return std::unexpected(r.error());
  }
  auto pause = containers_.stop(id, grace);
  if (!pause && pause.error().code != Code::kNotFound) return std::unexpected(pause.error());
  return {};
}

Result<void> Sandboxes::remove(std::string_view id) {
  // The pod's identity comes from runc when it still knows the pause
  // container; without it only the directories can be found again.
  std::string cgroupParent;
  if (auto s = get(id)) cgroupParent = s->cgroupParent;
  auto apps = appContainers(id);
  if (!apps) return std::unexpected(apps.error());
  for (const auto& c : *apps) {
    if (auto r = containers_.remove(c.id); !r) return r;
  }
  if (auto r = containers_.remove(id); !r) return r;
  std::error_code ec;
  fs::remove_all(podDir(id), ec);
  if (ec) return fail(Code::kInternal, "remove " + podDir(id).string() + ": " + ec.message());
  // Another sandbox of the same pod (a recreated one) may still use the pod's
  // cgroup; it goes with the last of them.
  if (!cgroupParent.empty()) return removeEmptyCgroup(cgroupParent);
  return {};
}

}  // namespace nanokube::kubelet::runtime
