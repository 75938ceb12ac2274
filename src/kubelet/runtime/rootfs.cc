#include "kubelet/runtime/rootfs.h"

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "kubelet/runtime/process.h"

namespace nanokube::kubelet::runtime {

namespace fs = std::filesystem;

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescapeMountinfo(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

Result<void> makeDirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(Code::kInternal, "mkdir " + dir.string() + ": " + ec.message());
  return {};
}

}  // namespace

bool isMountPoint(const fs::path& path) {
  std::error_code ec;
  fs::path want = fs::weakly_canonical(path, ec);
  if (ec) want = path;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mountPoint;
    fields >> id >> parent >> dev >> root >> mountPoint;
    if (unescapeMountinfo(mountPoint) == want.string()) return true;
  }
  return false;
}

Result<std::string> overlayOptions(const std::vector<fs::path>& layers, const fs::path& upper,
                                   const fs::path& work) {
  if (layers.empty()) return fail(Code::kInvalid, "overlay: the image has no layers");
  std::string lower;
  for (const auto& layer : layers) {
    const std::string& s = layer.string();
    if (s.find_first_of(":,") != std::string::npos) {
      return fail(Code::kInvalid, "overlay: layer path holds ':' or ',': " + s);
    }
    if (!lower.empty()) lower += ':';
    lower += s;
  }
  std::string data = "lowerdir=" + lower + ",upperdir=" + upper.string() + ",workdir=" + work.string();
  // The kernel copies at most one page of mount data.
  if (data.size() >= static_cast<size_t>(sysconf(_SC_PAGESIZE))) {
    return fail(Code::kInvalid, "overlay: " + std::to_string(layers.size()) +
                                    " layers make mount options longer than a page");
  }
  return data;
}

Result<fs::path> RootfsImpl::mount(const fs::path& containerDir, const std::vector<fs::path>& layers) {
  fs::path target = containerDir / "rootfs";
  fs::path upper = containerDir / "upper";
  fs::path work = containerDir / "work";
  for (const auto& dir : {target, upper, work}) {
    if (auto r = makeDirs(dir); !r) return std::unexpected(r.error());
  }
  if (isMountPoint(target)) return target;
  auto data = overlayOptions(layers, upper, work);
  if (!data) return std::unexpected(data.error());
  if (::mount("overlay", target.c_str(), "overlay", 0, data->c_str()) != 0) {
    return fail(Code::kInternal, "mount overlay " + target.string() + " (" + *data + "): " + errnoText(errno));
  }
  return target;
}

Result<void> RootfsImpl::remove(const fs::path& containerDir) {
  fs::path target = containerDir / "rootfs";
  if (isMountPoint(target)) {
    if (umount2(target.c_str(), 0) != 0) {
      // A process still inside (a leaked exec, a shell with its cwd there)
      // keeps the overlay busy; detaching frees the path now and the kernel
      // drops the mount when the last user goes.
      int err = errno;
      if (err != EBUSY || umount2(target.c_str(), MNT_DETACH) != 0) {
        return fail(Code::kInternal, "umount " + target.string() + ": " + errnoText(errno));
      }
    }
  }
  if (isMountPoint(target)) {
    return fail(Code::kInternal, "umount " + target.string() + ": still mounted; not removing");
  }
  std::error_code ec;
  fs::remove_all(containerDir, ec);
  if (ec) return fail(Code::kInternal, "remove " + containerDir.string() + ": " + ec.message());
  return {};
}

Result<fs::path> RootfsFake::mount(const fs::path& containerDir, const std::vector<fs::path>& layers) {
  fs::path target = containerDir / "rootfs";
  if (auto r = makeDirs(target); !r) return std::unexpected(r.error());
  if (layers.empty()) return fail(Code::kInvalid, "overlay: the image has no layers");
  mounted_.insert(target);
  return target;
}

Result<void> RootfsFake::remove(const fs::path& containerDir) {
  mounted_.erase(containerDir / "rootfs");
  std::error_code ec;
  fs::remove_all(containerDir, ec);
  return {};
}

Result<fs::path> preparePauseRootfs(const fs::path& dir, const fs::path& pauseBinary) {
  std::error_code ec;
  if (!fs::exists(pauseBinary, ec)) {
    return fail(Code::kNotFound, "pause binary " + pauseBinary.string() + " does not exist");
  }
  // runc creates missing mount points inside the rootfs before making it
  // read-only; creating them here keeps the shared directory stable.
  for (const char* sub : {"proc", "dev", "sys", "etc"}) {
    if (auto r = makeDirs(dir / sub); !r) return std::unexpected(r.error());
  }
  fs::path target = dir / "pause";
  auto same = fs::exists(target, ec) && fs::file_size(target, ec) == fs::file_size(pauseBinary, ec) &&
              fs::last_write_time(target, ec) >= fs::last_write_time(pauseBinary, ec);
  if (!same) {
    // Copy aside and rename: running pause containers keep the old inode, and
    // a concurrent reader never sees half a binary.
    fs::path tmp = dir / ("pause.tmp." + std::to_string(getpid()));
    fs::copy_file(pauseBinary, tmp, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::permissions(tmp, fs::perms(0755), ec);
    if (!ec) fs::rename(tmp, target, ec);
    if (ec) return fail(Code::kInternal, "install pause binary into " + dir.string() + ": " + ec.message());
  }
  return dir;
}

}  // namespace nanokube::kubelet::runtime
