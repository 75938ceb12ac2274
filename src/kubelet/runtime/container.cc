#include "kubelet/runtime/container.h"

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <thread>

namespace nanokube::kubelet::runtime {

namespace fs = std::filesystem;

namespace {

Result<void> writeFile(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::trunc);
  out << content;
  out.close();
  if (!out) return fail(Code::kInternal, "write " + path.string() + " failed");
  return {};
}

// How long stop() waits for the exit after SIGKILL: the kernel tears a PID
// namespace down in milliseconds, so this only bounds a wedged process
// (uninterruptible sleep on a dead NFS server, say).
constexpr std::chrono::seconds kKillTimeout{10};

}  // namespace

namespace {

bool haveSysResource() {
  constexpr int kCapSysResource = 24;
  std::ifstream status("/proc/self/status");
  std::string line;
  unsigned long long effective = ~0ULL;
  while (std::getline(status, line)) {
    if (line.starts_with("CapEff:")) effective = std::stoull(line.substr(7), nullptr, 16);
  }
  return (effective & (1ULL << kCapSysResource)) != 0;
}

}  // namespace

int64_t effectiveNofile(int64_t desired) {
  if (haveSysResource()) return desired;
  rlimit own{};
  if (getrlimit(RLIMIT_NOFILE, &own) != 0 || own.rlim_max == RLIM_INFINITY) return desired;
  return std::min<int64_t>(desired, static_cast<int64_t>(own.rlim_max));
}

int effectiveOomScoreAdj(int desired) {
  if (haveSysResource()) return desired;
  int own = 0;
  std::ifstream("/proc/self/oom_score_adj") >> own;
  return std::max(desired, own);
}

std::string newContainerId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "nk-";
  uint64_t bits = rng();
  for (int i = 0; i < 12; ++i, bits >>= 4) id += kHex[bits & 0xf];
  return id;
}

Result<ContainerConfig> appContainerConfig(const Sandbox& sandbox, const ContainerSpec& spec,
                                           std::string id, std::string rootfs) {
  auto args = resolveArgs(spec.image.entrypoint, spec.image.cmd, spec.command, spec.args, spec.env);
  if (!args) {
    return fail(args.error().code, "container " + spec.name + ": " + args.error().message);
  }
  ContainerConfig c;
  c.id = std::move(id);
  c.args = std::move(*args);
  c.env = mergeEnv(spec.image.env, spec.env);
  c.cwd = resolveWorkingDir(spec.image.workingDir, spec.workingDir);
  c.rootfs = std::move(rootfs);
  c.readOnlyRootfs = spec.readOnlyRootfs;
  // Joining through the pause process's /proc entries (as containerd does)
  // rather than the netns file guarantees that an app container only ever
  // starts inside a live sandbox.
  c.networkNamespace = sandbox.namespacePath("net");
  c.ipcNamespace = sandbox.namespacePath("ipc");
  c.utsNamespace = sandbox.namespacePath("uts");
  c.mounts = podFileMounts(sandbox.podDir.string(), spec.readOnlyRootfs);
  c.resources = spec.resources;
  c.cgroupsPath = cgroupsPathFor(sandbox.cgroupParent, c.id);
  if (spec.oomScoreAdj) c.oomScoreAdj = effectiveOomScoreAdj(*spec.oomScoreAdj);
  c.nofile = effectiveNofile(kDefaultNofile);
  c.annotations = {
      {std::string(kAnnotationType), std::string(kTypeContainer)},
      {std::string(kAnnotationSandboxId), sandbox.id},
      {std::string(kAnnotationPodName), sandbox.podName},
      {std::string(kAnnotationPodNamespace), sandbox.podNamespace},
      {std::string(kAnnotationPodUid), sandbox.podUid},
      {std::string(kAnnotationContainerName), spec.name},
      {std::string(kAnnotationNetns), sandbox.netnsPath},
      {std::string(kAnnotationLogPath), spec.logPath.string()},
  };
  return c;
}

Containers::Containers(Runc& runc, Rootfs& rootfs, RuntimeOptions options)
    : runc_(runc), rootfs_(rootfs), options_(std::move(options)) {}

fs::path Containers::containerDir(std::string_view id) const {
  return options_.dataDir / "containers" / std::string(id);
}

Result<std::string> Containers::create(const Sandbox& sandbox, const ContainerSpec& spec) {
  std::string id = newContainerId();
  fs::path dir = containerDir(id);
  auto config = appContainerConfig(sandbox, spec, id, (dir / "rootfs").string());
  if (!config) return std::unexpected(config.error());
  auto rootfs = rootfs_.mount(dir, spec.image.layers);
  if (!rootfs) {
    (void)rootfs_.remove(dir);
    return std::unexpected(rootfs.error());
  }
  if (auto r = createFromConfig(*config, spec.logPath); !r) {
    (void)rootfs_.remove(dir);
    return std::unexpected(r.error());
  }
  return id;
}

Result<int> Containers::createFromConfig(const ContainerConfig& config, const fs::path& logPath) {
  auto spec = ociSpec(config);
  if (!spec) return std::unexpected(spec.error());
  fs::path dir = containerDir(config.id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!logPath.empty()) fs::create_directories(logPath.parent_path(), ec);
  if (ec) return fail(Code::kInternal, "mkdir " + dir.string() + ": " + ec.message());
  if (auto r = writeFile(dir / "config.json", spec->dump(2)); !r) return std::unexpected(r.error());
  CreateOptions options;
  options.id = config.id;
  options.bundle = dir;
  options.stdoutPath = logPath.empty() ? fs::path("/dev/null") : logPath;
  options.stderrPath = options.stdoutPath;
  auto created = runc_.create(options);
  if (!created && created.error().code != Code::kAlreadyExists) {
    // Only the bundle is ours to drop here; create() removes the rootfs.
    fs::remove(dir / "config.json", ec);
  }
  return created;
}

Result<void> Containers::start(std::string_view id) { return runc_.start(id); }

Result<ContainerStatus> Containers::status(std::string_view id) {
  auto state = runc_.state(id);
  if (!state) return std::unexpected(state.error());
  ContainerStatus s{state->id, state->status, state->pid, std::nullopt, state->annotations};
  if (s.status == Status::kStopped) {
    // A stopped container whose monitor died first has no exit status; it is
    // reported as stopped without one (the agent shows it as Unknown) rather
    // than failing the whole status call.
    auto exit = runc_.exitStatus(id);
    if (!exit && exit.error().code != Code::kUnavailable) return std::unexpected(exit.error());
    if (exit) s.exit = *exit;
  }
  return s;
}

Result<std::vector<ContainerStatus>> Containers::list() {
  auto states = runc_.list();
  if (!states) return std::unexpected(states.error());
  std::vector<ContainerStatus> out;
  for (auto& state : *states) {
    ContainerStatus s{state.id, state.status, state.pid, std::nullopt, state.annotations};
    if (s.status == Status::kStopped) {
      if (auto exit = runc_.exitStatus(s.id)) s.exit = *exit;
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::optional<ExitStatus>> Containers::wait(std::string_view id, std::chrono::milliseconds timeout) {
  // Polling the monitor's exit file with a growing interval: a few system
  // calls per container and no thread; the first checks come 1 ms apart so a
  // fast exit is seen fast.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto interval = std::chrono::milliseconds(1);
  for (;;) {
    auto exit = runc_.exitStatus(id);
    if (!exit) return std::unexpected(exit.error());
    if (*exit) return exit;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::optional<ExitStatus>();
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(interval, deadline - now));
    interval = std::min(interval * 2, std::chrono::milliseconds(50));
  }
}

Result<ExitStatus> Containers::stop(std::string_view id, std::chrono::milliseconds grace) {
  auto state = runc_.state(id);
  if (!state) return std::unexpected(state.error());
  auto waitFor = [&](std::chrono::milliseconds timeout) { return wait(id, timeout); };
  if (state->status != Status::kStopped) {
    // A container that never started is blocked in runc's init; only SIGKILL
    // is certain to end it.
    bool term = grace.count() > 0 && state->status != Status::kCreated;
    if (term) {
      auto killed = runc_.kill(id, SIGTERM);
      auto exit = waitFor(killed ? grace : std::chrono::milliseconds(0));
      if (!exit) return std::unexpected(exit.error());
      if (*exit) return **exit;
    }
    auto killed = runc_.kill(id, SIGKILL);
    if (!killed) {
      // It may have exited between the state and the kill; that is success.
      auto again = runc_.state(id);
      if (!again || again->status != Status::kStopped) return std::unexpected(killed.error());
    }
  }
  auto exit = waitFor(kKillTimeout);
  if (!exit) return std::unexpected(exit.error());
  if (!*exit) {
    return fail(Code::kTimeout, "container " + std::string(id) + " did not exit within " +
                                    std::to_string(kKillTimeout.count()) + "s of SIGKILL");
  }
  return **exit;
}

Result<void> Containers::kill(std::string_view id, int signal) { return runc_.kill(id, signal); }

Result<void> Containers::remove(std::string_view id) {
  if (auto r = runc_.remove(id, true); !r) return r;
  return rootfs_.remove(containerDir(id));
}

}  // namespace nanokube::kubelet::runtime
