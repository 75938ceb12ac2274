#pragma once
// Container root filesystems. An app container's root is an overlayfs whose
// lower layers are the image's read-only layer directories and whose upper and
// work directories live in the container's own directory, so the image is
// shared and never written. The pause container's root is a plain directory
// holding only the static pause binary, shared read-only by every sandbox.

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"

namespace nanokube::kubelet::runtime {

class Rootfs {
 public:
  virtual ~Rootfs() = default;

  // Mounts <containerDir>/rootfs as an overlay of layers (the top layer first,
  // as the image store lists them) over <containerDir>/upper and /work, and
  // returns the mount point. Idempotent: an existing mount is kept.
  virtual Result<std::filesystem::path> mount(const std::filesystem::path& containerDir,
                                              const std::vector<std::filesystem::path>& layers) = 0;
  // Unmounts <containerDir>/rootfs if mounted and removes containerDir with
  // the container's writes. Idempotent; refuses to remove anything while the
  // mount is still there.
  virtual Result<void> remove(const std::filesystem::path& containerDir) = 0;
};

class RootfsImpl : public Rootfs {
 public:
  Result<std::filesystem::path> mount(const std::filesystem::path& containerDir,
                                      const std::vector<std::filesystem::path>& layers) override;
  Result<void> remove(const std::filesystem::path& containerDir) override;
};

// Creates the directories without mounting anything; records what is mounted.
class RootfsFake : public Rootfs {
 public:
  Result<std::filesystem::path> mount(const std::filesystem::path& containerDir,
                                      const std::vector<std::filesystem::path>& layers) override;
  Result<void> remove(const std::filesystem::path& containerDir) override;
  const std::set<std::filesystem::path>& mounted() const { return mounted_; }

 private:
  std::set<std::filesystem::path> mounted_;
};

// The overlayfs mount data: "lowerdir=L1:L2,upperdir=U,workdir=W". Fails when
// a path holds a character overlayfs treats as a separator (':' or ','), or
// when the data exceeds the page the kernel accepts for mount options.
Result<std::string> overlayOptions(const std::vector<std::filesystem::path>& layers,
                                   const std::filesystem::path& upper,
                                   const std::filesystem::path& work);

// Whether path is a mount point in this process's mount namespace, from
// /proc/self/mountinfo.
bool isMountPoint(const std::filesystem::path& path);

// Makes dir a root filesystem holding only /pause (a copy of pauseBinary) and
// the empty mount points runc needs, and returns it. Idempotent; replaces the
// binary atomically when it changed.
Result<std::filesystem::path> preparePauseRootfs(const std::filesystem::path& dir,
                                                 const std::filesystem::path& pauseBinary);

}  // namespace nanokube::kubelet::runtime
