#include "kubelet/runtime/oci_spec.h"

#include <algorithm>

namespace nanokube::kubelet::runtime {

namespace {

// Docker's and containerd's default capability set (containerd oci/spec.go
// defaultUnixCaps): what an unprivileged Kubernetes container gets.
const std::vector<std::string> kDefaultCapabilities = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE",     "CAP_FSETID",     "CAP_FOWNER", "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID",          "CAP_SETUID",     "CAP_SETFCAP", "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",   "CAP_AUDIT_WRITE",
};

const std::vector<std::string> kMaskedPaths = {
    "/proc/acpi",         "/proc/asound",   "/proc/kcore",       "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi",         "/sys/firmware",  "/sys/devices/virtual/powercap",
};

const std::vector<std::string> kReadonlyPaths = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

Json defaultMounts() {
  auto mount = [](std::string dst, std::string type, std::string src,
                  std::vector<std::string> options) {
    Json m = {{"destination", std::move(dst)}, {"type", std::move(type)}, {"source", std::move(src)}};
    if (!options.empty()) m["options"] = std::move(options);
    return m;
  };
  return Json::array({
      mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
  });
}

Json namespaceEntry(const char* type, const std::string& value) {
  Json ns = {{"type", type}};
  if (value != kOwnNamespace) ns["path"] = value;
  return ns;
}

bool isAbsolute(const std::string& path) { return !path.empty() && path.front() == '/'; }

Result<void> validate(const ContainerConfig& c) {
  auto invalid = [&](std::string what) {
    return fail(Code::kInvalid, "container " + c.id + ": " + what);
  };
  if (c.id.empty()) return fail(Code::kInvalid, "container id is empty");
  if (c.args.empty()) return invalid("no command specified");
  if (!isAbsolute(c.rootfs)) return invalid("rootfs must be an absolute path");
  if (!isAbsolute(c.cwd)) return invalid("working directory must be absolute: " + c.cwd);
  // An empty network namespace would silently put the container on the host's
  // network; nanokube never does that.
  if (c.networkNamespace.empty()) return invalid("a network namespace is required");
  if (c.ipcNamespace.empty()) return invalid("an IPC namespace is required");
  if (c.utsNamespace.empty()) return invalid("a UTS namespace is required");
  if (!c.hostname.empty() && c.utsNamespace != kOwnNamespace) {
    return invalid("hostname can only be set with its own UTS namespace");
  }
  if (c.nofile <= 0) return invalid("RLIMIT_NOFILE must be positive");
  if (c.cgroupsPath.empty() || !isAbsolute(c.cgroupsPath)) {
    return invalid("cgroupsPath must be an absolute path");
  }
  for (const auto& m : c.mounts) {
    if (!isAbsolute(m.source) || !isAbsolute(m.destination)) {
      return invalid("bind mount paths must be absolute: " + m.source + " -> " + m.destination);
    }
  }
  return {};
}

Json resources(const Resources& r) {
  // runc adds its default device rules (null, zero, full, tty, random, ptmx...)
  // after these; denying everything first is runc's and containerd's default.
  Json out = {{"devices", Json::array({{{"allow", false}, {"access", "rwm"}}})}};
  int64_t sharesFrom = 0;
  if (r.cpuRequestMilli && *r.cpuRequestMilli > 0) {
    sharesFrom = *r.cpuRequestMilli;
  } else if (r.cpuLimitMilli) {
    sharesFrom = *r.cpuLimitMilli;
  }
  Json cpu = {{"shares", milliCpuToShares(sharesFrom)}};
  if (r.cpuLimitMilli && *r.cpuLimitMilli > 0) {
    cpu["quota"] = milliCpuToQuota(*r.cpuLimitMilli);
    cpu["period"] = kQuotaPeriod;
  }
  out["cpu"] = std::move(cpu);
  if (r.memoryLimitBytes && *r.memoryLimitBytes > 0) {
    // Swap stays unset: runc fails to write memory.memsw.* on kernels without
    // swap accounting, and the node runs without swap as Kubernetes expects.
    out["memory"] = {{"limit", *r.memoryLimitBytes}};
  }
  return out;
}

}  // namespace

std::string expandVars(std::string_view input,
                       const std::vector<std::pair<std::string, std::string>>& env) {
  auto lookup = [&](std::string_view name) -> std::optional<std::string> {
    // The kubelet builds a map from the env list, so a later duplicate wins.
    for (auto it = env.rbegin(); it != env.rend(); ++it) {
      if (it->first == name) return it->second;
    }
    return std::nullopt;
  };
  std::string out;
  size_t i = 0;
  while (i < input.size()) {
    if (input[i] != '$' || i + 1 == input.size()) {
      out += input[i++];
      continue;
    }
    char next = input[i + 1];
    if (next == '$') {
      out += '$';
      i += 2;
    } else if (next == '(') {
      size_t close = input.find(')', i + 2);
      if (close == std::string_view::npos) {
        out += "$(";
        i += 2;
        continue;
      }
      std::string_view name = input.substr(i + 2, close - i - 2);
      if (auto value = lookup(name)) {
        out += *value;
      } else {
        out += "$(";
        out += name;
        out += ')';
      }
      i = close + 1;
    } else {
      out += '$';
      out += next;
      i += 2;
    }
  }
  return out;
}

Result<std::vector<std::string>> resolveArgs(
    const std::vector<std::string>& imageEntrypoint, const std::vector<std::string>& imageCmd,
    const std::vector<std::string>& podCommand, const std::vector<std::string>& podArgs,
    const std::vector<std::pair<std::string, std::string>>& podEnv) {
  std::vector<std::string> command;
  std::vector<std::string> args;
  for (const auto& c : podCommand) command.push_back(expandVars(c, podEnv));
  for (const auto& a : podArgs) args.push_back(expandVars(a, podEnv));
  if (command.empty()) {
    if (args.empty()) args = imageCmd;
    // Docker records `ENTRYPOINT []` as [""], which means "no entrypoint".
    bool emptyEntrypoint = imageEntrypoint.size() == 1 && imageEntrypoint[0].empty();
    if (!emptyEntrypoint) command = imageEntrypoint;
  }
  command.insert(command.end(), args.begin(), args.end());
  if (command.empty()) return fail(Code::kInvalid, "no command specified");
  return command;
}

std::vector<std::string> mergeEnv(const std::vector<std::string>& imageEnv,
                                  const std::vector<std::pair<std::string, std::string>>& podEnv) {
  std::vector<std::string> out;
  auto nameOf = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
  auto set = [&](std::string_view name, std::string entry) {
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const std::string& e) { return nameOf(e) == name; });
    if (it != out.end()) {
      *it = std::move(entry);
    } else {
      out.push_back(std::move(entry));
    }
  };
  set("PATH", std::string(kDefaultPath));
  for (const auto& e : imageEnv) set(nameOf(e), e);
  for (const auto& [name, value] : podEnv) set(name, name + "=" + value);
  return out;
}

std::string resolveWorkingDir(std::string_view imageWorkingDir, std::string_view podWorkingDir) {
  if (!podWorkingDir.empty()) return std::string(podWorkingDir);
  if (!imageWorkingDir.empty()) return std::string(imageWorkingDir);
  return "/";
}

int64_t milliCpuToShares(int64_t milliCpu) {
  if (milliCpu <= 0) return kMinShares;
  return std::clamp(milliCpu * kSharesPerCpu / kMilliCpuToCpu, kMinShares, kMaxShares);
}

int64_t milliCpuToQuota(int64_t milliCpu, int64_t period) {
  if (milliCpu <= 0) return 0;
  return std::max(milliCpu * period / kMilliCpuToCpu, kMinQuotaPeriod);
}

std::string podCgroupParent(std::string_view root, std::string_view podUid) {
  std::string out(root);
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out + "/pod-" + std::string(podUid);
}

std::string cgroupsPathFor(std::string_view podCgroupParent, std::string_view containerId) {
  return std::string(podCgroupParent) + "/" + std::string(containerId);
}

std::vector<BindMount> podFileMounts(std::string_view podDir, bool readOnlyRootfs) {
  std::string dir(podDir);
  return {
      {dir + "/hosts", "/etc/hosts", readOnlyRootfs},
      {dir + "/hostname", "/etc/hostname", readOnlyRootfs},
      {dir + "/resolv.conf", "/etc/resolv.conf", readOnlyRootfs},
  };
}

Result<Json> ociSpec(const ContainerConfig& c) {
  if (auto ok = validate(c); !ok) return std::unexpected(ok.error());

  Json caps = kDefaultCapabilities;
  Json process = {
      {"terminal", false},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", c.args},
      {"env", c.env},
      {"cwd", c.cwd},
      {"capabilities",
       {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"rlimits", Json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", c.nofile}, {"soft", c.nofile}}})},
      {"noNewPrivileges", c.noNewPrivileges},
  };
  if (c.oomScoreAdj) process["oomScoreAdj"] = *c.oomScoreAdj;

  Json mounts = defaultMounts();
  for (const auto& m : c.mounts) {
    std::vector<std::string> options = {"rbind", "rprivate"};
    if (m.readOnly) options.push_back("ro");
    mounts.push_back({{"destination", m.destination}, {"type", "bind"}, {"source", m.source},
                      {"options", options}});
  }

  Json namespaces = Json::array({
      {{"type", "pid"}},
      namespaceEntry("network", c.networkNamespace),
      namespaceEntry("ipc", c.ipcNamespace),
      namespaceEntry("uts", c.utsNamespace),
      {{"type", "mount"}},
  });

  Json spec = {
      {"ociVersion", "1.0.2-dev"},
      {"process", std::move(process)},
      {"root", {{"path", c.rootfs}, {"readonly", c.readOnlyRootfs}}},
      {"mounts", std::move(mounts)},
      {"linux",
       {{"resources", resources(c.resources)},
        {"cgroupsPath", c.cgroupsPath},
        {"namespaces", std::move(namespaces)},
        {"maskedPaths", kMaskedPaths},
        {"readonlyPaths", kReadonlyPaths}}},
  };
  if (!c.hostname.empty()) spec["hostname"] = c.hostname;
  if (!c.annotations.empty()) spec["annotations"] = c.annotations;
  return spec;
}

}  // namespace nanokube::kubelet::runtime
