#include "cluster/cleanup.h"

#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

namespace nanokube::cluster {

namespace fs = std::filesystem;

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view field) {
  auto isOct = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && isOct(field[i + 1]) &&
        isOct(field[i + 2]) && isOct(field[i + 3])) {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

std::string readAll(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool isUnder(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.starts_with(dir) && (dir.ends_with('/') || path[dir.size()] == '/'));
}

}  // namespace

std::vector<MountEntry> parseMountinfo(std::string_view text) {
  std::vector<MountEntry> entries;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    std::string word;
    while (fields >> word) f.push_back(word);
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || dash + 1 == f.end()) continue;
    entries.push_back({unescape(f[4]), *(dash + 1)});
  }
  return entries;
}

std::vector<std::string> mountsUnder(const std::vector<MountEntry>& mounts, const fs::path& dir) {
  std::string base = dir.lexically_normal().string();
  if (base.size() > 1 && base.ends_with('/')) base.pop_back();
  std::vector<std::string> out;
  for (const auto& m : mounts) {
    if (isUnder(m.mountPoint, base)) out.push_back(m.mountPoint);
  }
  // Later mounts may stack on earlier ones at the same point: reverse mount order,
  // then deeper paths first.
  std::reverse(out.begin(), out.end());
  std::stable_sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
  });
  return out;
}

std::vector<std::string> cgroupMounts(const std::vector<MountEntry>& mounts) {
  std::vector<std::string> out;
  for (const auto& m : mounts) {
    if ((m.fsType == "cgroup" || m.fsType == "cgroup2") &&
        std::find(out.begin(), out.end(), m.mountPoint) == out.end()) {
      out.push_back(m.mountPoint);
    }
  }
  return out;
}

std::vector<std::string> currentMountsUnder(const fs::path& dir) {
  return mountsUnder(parseMountinfo(readAll("/proc/self/mountinfo")), dir);
}

Result<void> unmountUnder(const fs::path& dir) {
  Result<void> first;
  for (const auto& point : currentMountsUnder(dir)) {
    if (::umount2(point.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT && first) {
      first = fail(Code::kInternal, fmt::format("umount {}: {} ({})", point, std::strerror(errno), errno));
    }
  }
  return first;
}

Result<void> removeCgroupTree(std::string_view cgroupPath) {
  Result<void> first;
  for (const auto& hierarchy : cgroupMounts(parseMountinfo(readAll("/proc/self/mountinfo")))) {
    fs::path top = fs::path(hierarchy) / fs::path(cgroupPath).relative_path();
    std::error_code ec;
    if (!fs::is_directory(top, ec)) continue;
    std::vector<fs::path> dirs{top};
    for (auto it = fs::recursive_directory_iterator(top, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_directory(ec)) dirs.push_back(it->path());
    }
    std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
      return a.string().size() > b.string().size();
    });
    for (const auto& dir : dirs) {
      // A process may be in the middle of exiting; a few tries cover it.
      for (int attempt = 0; attempt < 50; ++attempt) {
        std::istringstream procs(readAll(dir / "cgroup.procs"));
        pid_t pid;
        while (procs >> pid) ::kill(pid, SIGKILL);
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) break;
        if (errno != EBUSY) {
          if (first) first = fail(Code::kInternal, fmt::format("rmdir {}: {}", dir.string(), std::strerror(errno)));
          break;
        }
        if (attempt == 49 && first) first = fail(Code::kInternal, fmt::format("rmdir {}: still busy", dir.string()));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
  return first;
}

}  // namespace nanokube::cluster
