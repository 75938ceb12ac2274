#pragma once
// What `cluster down` sweeps after the nodes' runtimes had their say: mounts
// left under the data directory and the cluster's cgroups with any process
// still in them (after a crash, say).

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace nanokube::cluster {

struct MountEntry {
  std::string mountPoint;  // unescaped
  std::string fsType;
};

// The entries of /proc/self/mountinfo, in its order. Pure.
std::vector<MountEntry> parseMountinfo(std::string_view text);

// Mount points at or below `dir`, deepest first (the order to unmount in). Pure.
std::vector<std::string> mountsUnder(const std::vector<MountEntry>& mounts, const std::filesystem::path& dir);

// The mount points of the cgroup hierarchies (v1 "cgroup" and v2 "cgroup2"). Pure.
std::vector<std::string> cgroupMounts(const std::vector<MountEntry>& mounts);

// Lazily unmounts every mount at or below `dir`.
Result<void> unmountUnder(const std::filesystem::path& dir);

// In every hierarchy: SIGKILL to each process left in `cgroupPath` or below it,
// then removes those cgroups, deepest first. Missing cgroups are not an error.
Result<void> removeCgroupTree(std::string_view cgroupPath);

// Mount points at or below `dir` right now (for status and tests).
std::vector<std::string> currentMountsUnder(const std::filesystem::path& dir);

}  // namespace nanokube::cluster
